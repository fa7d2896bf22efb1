"""Plausibility: what every parser's SpendSignal must satisfy before it may go on the bus
(shared/contracts.md, "Bad input"). ``parse_signal`` passes every signal through
:func:`require_plausible`, so no parser can skip it.

- every figure (money, usage amounts in ``unit``, percentages, token counts, scores): finite and
  >= 0; money (every ``*_usd`` and ``*_usd_per_hour`` figure, root causes' ``contribution_usd``)
  also <= $1e9;
- the window: ends no earlier than it starts, at most an hour after ``received_at``, and starts at
  most 400 days before it;
- what goes on the bus is valid Unicode JSON, each text at most 1,024 characters (AWS's own names
  and ARNs are far shorter) and the whole detail at most 64 KiB (EventBridge takes 256 KB a call).

A signal beyond a bound raises :class:`~tokenfuse.errors.ImplausibleSignal`, whose one line names
the field and the bound. Nothing is rounded or clamped: a figure is believed as sent, or refused.
"""

import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from tokenfuse.errors import ImplausibleSignal
from tokenfuse.events import SpendSignal
from tokenfuse.signals._common import shorten

MAX_USD = 1e9
"""No single signal speaks of more than a billion dollars."""
LATEST_END = timedelta(hours=1)
"""A window may end this long after the signal was received (clocks differ a little)."""
EARLIEST_START = timedelta(days=400)
"""A window may start this long before receipt (a yearly budget's period, with room)."""
MAX_TEXT = 1024
MAX_DETAIL_BYTES = 64 * 1024


def require_plausible(signal: SpendSignal) -> SpendSignal:
    """The signal unchanged, or ImplausibleSignal naming the first field beyond its bound."""
    for name, value in _figures(signal):
        _require_figure(name, value)
    _require_window(signal.window_start, signal.window_end, signal.received_at)
    _require_wire(signal.to_bus())
    return signal


def _figures(signal: SpendSignal) -> Iterator[tuple[str, float]]:
    for name, value in signal:
        if isinstance(value, float):
            yield name, value
    for index, cause in enumerate(signal.root_causes):
        if cause.contribution_usd is not None:
            yield f"root_causes[{index}].contribution_usd", cause.contribution_usd


def _require_figure(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ImplausibleSignal(f"{name} is {value}: not a finite number")
    if value < 0:
        raise ImplausibleSignal(f"{name} {value:g} is below the bound 0")
    if (name.endswith("_usd") or "_usd_" in name) and value > MAX_USD:
        shown = f"{value:,.2f}" if value < 1e15 else f"{value:.3e}"
        raise ImplausibleSignal(f"{name} ${shown} is over the bound ${MAX_USD:,.0f}")


def _require_window(start: datetime, end: datetime, received: datetime) -> None:
    if end < start:
        raise ImplausibleSignal(f"window_end {_at(end)} is before window_start {_at(start)}")
    if end > received + LATEST_END:
        raise ImplausibleSignal(
            f"window_end {_at(end)} is more than 1 hour after received_at {_at(received)}"
        )
    if start < received - EARLIEST_START:
        raise ImplausibleSignal(
            f"window_start {_at(start)} is more than {EARLIEST_START.days} days"
            f" before received_at {_at(received)}"
        )


def _require_wire(detail: dict[str, Any]) -> None:
    for name, text in _texts(detail):
        if len(text) > MAX_TEXT:
            raise ImplausibleSignal(f"{name} is {len(text):,} characters, over the bound {MAX_TEXT:,}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ImplausibleSignal(f"{name} is not valid Unicode: {shorten(text, 60)}") from None
    size = len(json.dumps(detail, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    if size > MAX_DETAIL_BYTES:
        raise ImplausibleSignal(f"the signal is {size:,} bytes as JSON, over the bound {MAX_DETAIL_BYTES:,}")


def _texts(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{path}[{index}]")


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
