"""Round axis ticks for the inline SVG charts (the demo's spend-rate chart, the showback page):
values on a 1/2/5 x 10^n step from zero, instants on round UTC steps chosen by the span, and the
widths of monospace labels so a layout can keep them apart before a browser draws them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONO_EM = 0.62
"""Advance of one monospace character in em (DejaVu Sans Mono, Chromium's default, is 0.602)."""

TIME_STEPS: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s)
    for s in (
        1, 2, 5, 10, 15, 30,
        60, 120, 300, 600, 900, 1800,
        3600, 7200, 10800, 21600, 43200,
        86400, 2 * 86400, 7 * 86400,
    )
)  # fmt: skip
"""Round steps of a time axis: seconds, minutes, hours, days, a week (each divides the next
coarser unit, so a tick lands on the same instants whatever the window's start)."""

DAY = timedelta(days=1)


def text_width(text: str, font_px: float) -> float:
    """Width of ``text`` in a monospace font of ``font_px`` pixels."""
    return len(text) * font_px * MONO_EM


def round_step(span: float, max_ticks: int) -> float:
    """The smallest 1/2/5 x 10^n step that cuts ``span`` (> 0, finite) into at most ``max_ticks``
    intervals."""
    if not math.isfinite(span) or span <= 0:
        raise ValueError(f"a tick step needs a positive finite span, not {span!r}")
    if max_ticks < 1:
        raise ValueError("max_ticks must be at least 1")
    exponent = math.floor(math.log10(span / max_ticks))
    for _ in range(3):
        for mantissa in (1, 2, 5):
            step = float(f"{mantissa}e{exponent}")  # 5e-06, where 5 * 10.0**-6 is 4.9999999999999996e-06
            if span / step <= max_ticks + 1e-9:
                return step
        exponent += 1
    raise AssertionError("unreachable: 10^(n+1) always fits")  # pragma: no cover


@dataclass(frozen=True)
class ValueAxis:
    """A value axis from zero to ``top`` (a multiple of ``step``), ticks at every step."""

    step: float
    ticks: tuple[float, ...]

    @property
    def top(self) -> float:
        return self.ticks[-1]

    def money(self, value: float) -> str:
        """``value`` in dollars with as many decimals as the step needs: $0, $500, $1,000; $0.25."""
        decimals = 0 if self.step >= 1 else max(2, -math.floor(math.log10(self.step) + 1e-9))
        return f"${value:,.{decimals}f}"


SMALLEST, LARGEST = 1e-6, 1e15
"""The figures a value axis spans (a millionth to a quadrillion): outside, floats lose the step."""


def value_axis(highest: float, max_ticks: int = 5) -> ValueAxis:
    """Ticks from 0 up to the first round value at or above ``highest``; a figure that is not
    finite and positive gets the axis of 1, one outside [SMALLEST, LARGEST] the axis of that bound."""
    if not math.isfinite(highest) or highest <= 0:
        highest = 1.0
    highest = min(max(highest, SMALLEST), LARGEST)
    step = round_step(highest, max_ticks)
    count = math.ceil(highest / step - 1e-9)
    return ValueAxis(step, tuple(_clean(i * step) for i in range(count + 1)))


def _clean(value: float) -> float:
    """``i * step`` without the float noise (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.12g}")


@dataclass(frozen=True)
class TimeTick:
    at: datetime
    time: str
    """The tick's time of day ("14:05", "14:05:30"), or its date on a step of a day or more."""
    date: str | None
    """The date under the first tick and under each tick on a new day ("Wed 25 Nov"); None when
    the axis stays within one day or the time line is already the date."""


def time_ticks(start: datetime, end: datetime, step: timedelta) -> list[TimeTick]:
    """The instants in [start, end] (UTC) on ``step`` (one of :data:`TIME_STEPS`), dated where the
    window crosses a day."""
    if end <= start:
        raise ValueError(f"a time axis needs end after start, not {start} .. {end}")
    seconds = int(step.total_seconds())
    first = math.ceil(start.timestamp() / seconds) * seconds
    if step >= 7 * DAY:  # weeks start on Monday, not on the epoch's Thursday
        monday = datetime.combine(start.date() - timedelta(days=start.weekday()), datetime.min.time(), UTC)
        first = int((monday if monday >= start else monday + step).timestamp())
    instants = [datetime.fromtimestamp(t, UTC) for t in range(first, int(end.timestamp()) + 1, seconds)]
    crosses = start.date() != (end - timedelta(microseconds=1)).date()
    ticks = []
    for i, at in enumerate(instants):
        if step >= DAY:
            ticks.append(TimeTick(at, date_label(at), None))
            continue
        time = at.strftime("%H:%M" if seconds % 60 == 0 else "%H:%M:%S")
        new_day = i == 0 or at.date() != instants[i - 1].date()
        ticks.append(TimeTick(at, time, date_label(at) if crosses and new_day else None))
    return ticks


def fitting_time_ticks(
    start: datetime, end: datetime, width_px: float, font_px: float, gap_px: float = 12.0
) -> list[TimeTick]:
    """The finest round ticks for an axis ``width_px`` wide whose labels, centred on their ticks,
    keep ``gap_px`` apart on the time line and on the date line."""
    if end <= start:
        raise ValueError(f"a time axis needs end after start, not {start} .. {end}")
    span = (end - start).total_seconds()
    shortest = text_width("00:00", font_px) + gap_px
    for step in TIME_STEPS:
        if span / step.total_seconds() * shortest > width_px:
            continue  # more ticks than five-character labels could hold
        ticks = time_ticks(start, end, step)
        placed = [((t.at - start).total_seconds() / span * width_px, t) for t in ticks]
        if _apart([(x, t.time) for x, t in placed], font_px, gap_px) and _apart(
            [(x, t.date) for x, t in placed if t.date], font_px, gap_px
        ):
            return ticks
    return time_ticks(start, end, TIME_STEPS[-1])


def _apart(labels: Sequence[tuple[float, str]], font_px: float, gap_px: float) -> bool:
    """Labels centred at x, in order, leave ``gap_px`` between neighbours."""
    return all(
        b_x - a_x >= (text_width(a, font_px) + text_width(b, font_px)) / 2 + gap_px
        for (a_x, a), (b_x, b) in itertools.pairwise(labels)
    )


def date_label(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b}"


def widest(labels: Sequence[str], font_px: float) -> float:
    return max((text_width(label, font_px) for label in labels), default=0.0)
