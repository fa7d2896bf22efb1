"""Every spend signal, from any source: unwrap the envelope, recognise the signal, normalise it to
a :class:`~tokenfuse.events.SpendSignal`.

    parse_signal(payload, received_at) -> list[SpendSignal]

``payload`` is what arrived: a Lambda SNS event, an SQS event or record, one SNS notification (an
SQS body with raw message delivery off), an EventBridge event, or the bare message; as a dict, JSON
text or bytes. Anything else raises :class:`~tokenfuse.errors.UnsupportedSignal`; a known kind
that does not parse raises :class:`~tokenfuse.errors.MalformedSignal`; a signal beyond the
plausibility bounds (:mod:`tokenfuse.signals.plausibility`) raises
:class:`~tokenfuse.errors.ImplausibleSignal`. Each carries one printable line.
"""

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tokenfuse.errors import UnsupportedSignal
from tokenfuse.events import SpendSignal
from tokenfuse.signals import alarms, budgets, cost_anomaly, invocation_log
from tokenfuse.signals._common import NESTING_LIMIT, condense, parse_time, shorten
from tokenfuse.signals.envelope import Inner, unwrap
from tokenfuse.signals.plausibility import require_plausible

__all__ = ["NESTING_LIMIT", "parse_inner", "parse_signal", "parse_time", "unwrap"]


def parse_signal(
    payload: dict[str, Any] | str | bytes, received_at: datetime, *, tokenfuse_account: str | None = None
) -> list[SpendSignal]:
    """The spend signals the payload carries (one per SNS/SQS record), or a SignalError.
    ``tokenfuse_account``: tokenfuse's own account, whose meter may speak for any account (see
    :mod:`tokenfuse.signals.invocation_log`)."""
    received = parse_time(received_at, "received_at")
    signals = [parse_inner(inner, received, tokenfuse_account) for inner in unwrap(payload)]
    if not signals:
        raise UnsupportedSignal("payload carries no message")
    return signals


def parse_inner(inner: Inner, received_at: datetime, tokenfuse_account: str | None = None) -> SpendSignal:
    """One unwrapped message to its SpendSignal, checked for plausibility."""
    try:
        signal = _recognise(inner, received_at, tokenfuse_account)
    except ValidationError as error:  # the normalised signal itself: a parser let a bad value through
        raise condense(error, "spend signal") from None
    return require_plausible(signal)


def _recognise(inner: Inner, received_at: datetime, tokenfuse_account: str | None) -> SpendSignal:
    if inner.event is not None:
        event = inner.event
        detail: dict[str, Any] = event.detail if isinstance(event.detail, dict) else {}
        if event.source == cost_anomaly.EVENT_SOURCE and event.detail_type == cost_anomaly.DETAIL_TYPE:
            return cost_anomaly.parse(
                detail, received_at=received_at, sent_at=inner.sent_at, raw_source=inner.raw_source
            )
        if event.source == alarms.EVENT_SOURCE and event.detail_type == alarms.DETAIL_TYPE:
            return alarms.from_eventbridge(
                event.account,
                event.region,
                event.resources,
                detail,
                received_at=received_at,
                raw_source=inner.raw_source,
            )
        if event.source == invocation_log.EVENT_SOURCE and event.detail_type == invocation_log.DETAIL_TYPE:
            return invocation_log.parse(
                event.account,
                detail,
                received_at=received_at,
                raw_source=inner.raw_source,
                tokenfuse_account=tokenfuse_account,
            )
        raise UnsupportedSignal(
            f"EventBridge event {shorten(event.source, 60)} / {shorten(event.detail_type, 60)}"
            " is not a spend signal"
        )

    message = inner.message
    if isinstance(message, str):
        if budgets.looks_like(message):
            return budgets.parse(
                message, received_at=received_at, sent_at=inner.sent_at, raw_source=inner.raw_source
            )
        raise UnsupportedSignal(f"SNS text is not a known signal: {shorten(message, 80)}")
    if isinstance(message, dict):
        if cost_anomaly.looks_like(message):
            return cost_anomaly.parse(
                message, received_at=received_at, sent_at=inner.sent_at, raw_source=inner.raw_source
            )
        if alarms.looks_like(message):
            return alarms.from_sns(message, received_at=received_at, raw_source=inner.raw_source)
        keys = ", ".join(sorted(str(k) for k in message)[:6])
        raise UnsupportedSignal(f"message is not a known signal (keys: {shorten(keys, 100)})")
    raise UnsupportedSignal("empty message")
