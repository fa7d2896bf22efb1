"""Unwrap what carries a signal: a Lambda SNS event, one SNS notification as it sits in an SQS body
(raw message delivery off), an SQS event or record, or an EventBridge event.

Each unwrapped message is an :class:`Inner`: the payload the parsers read (an SNS ``Message``,
decoded when it is JSON; or an EventBridge event), when it was sent, and how it came in.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    SnsModel,
    SnsNotificationModel,
)
from pydantic import BaseModel, ValidationError

from tokenfuse.errors import MalformedSignal, UnsupportedSignal
from tokenfuse.signals._common import RawSource, condense, load_json, parse_time, require_shallow, shorten

BUDGETS_ANCHOR = "AWS Budget Notification"
"""Text every AWS Budgets SNS message starts with: how a plain-text message is recognised."""

_MAX_DEPTH = 4


@dataclass(frozen=True)
class Inner:
    """One message out of its envelope."""

    raw_source: RawSource
    sent_at: datetime | None
    """SNS ``Timestamp`` or EventBridge ``time`` (None for a bare message)."""
    message: dict[str, Any] | str | None = None
    """The SNS ``Message``: a dict when it is JSON, else the text (AWS Budgets)."""
    subject: str | None = None
    event: EventBridgeModel | None = None
    """The EventBridge event, when the signal came as one."""


def decode(payload: dict[str, Any] | str | bytes) -> dict[str, Any] | str:
    """JSON text to a dict; text that is not JSON stays text; bytes must be UTF-8. Empty text,
    and JSON nested deeper than NESTING_LIMIT (text or dict), are refused."""
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsupportedSignal("payload is neither JSON nor UTF-8 text") from None
    if isinstance(payload, dict):
        require_shallow(payload, "payload")
        return payload
    if not isinstance(payload, str):
        raise UnsupportedSignal(f"payload is a {type(payload).__name__}, not a JSON object or text")
    stripped = payload.strip()
    if not stripped:
        raise UnsupportedSignal("payload is empty")
    if stripped.startswith(("{", "[")):
        decoded = load_json(stripped, "payload")
        if not isinstance(decoded, dict):
            raise UnsupportedSignal("payload is JSON but not an object")
        return decoded
    return payload


def unwrap(payload: dict[str, Any] | str | bytes) -> list[Inner]:
    """Every message the payload carries (a Lambda SNS or SQS event may hold several)."""
    return _unwrap(decode(payload), depth=0, via_sqs=False)


def _unwrap(data: dict[str, Any] | str, depth: int, via_sqs: bool) -> list[Inner]:  # noqa: PLR0911
    if depth > _MAX_DEPTH:
        raise UnsupportedSignal("payload nests envelopes too deeply")
    if isinstance(data, str):
        if BUDGETS_ANCHOR in data:
            # A Budgets message delivered raw (raw message delivery on): only the text, no envelope.
            return [Inner(raw_source="sqs-sns" if via_sqs else "sns", sent_at=None, message=data)]
        raise UnsupportedSignal(f"text is not a known signal: {shorten(data, 80)}")

    records = data.get("Records")
    if isinstance(records, list) and records:
        sources = {_event_source(r) for r in records}
        if sources == {"aws:sns"}:
            return _from_lambda_sns(data)
        if sources == {"aws:sqs"}:
            return [inner for r in records for inner in _from_sqs_record(r, depth)]
        raise UnsupportedSignal(f"event records from {sorted(str(s) for s in sources)}, not SNS or SQS")
    if data.get("eventSource") == "aws:sqs" and "body" in data:
        return _from_sqs_record(data, depth)
    if "detail-type" in data and "source" in data:
        return [_from_eventbridge(data)]
    if "Type" in data and "TopicArn" in data:
        return _from_sns_notification(data)
    # A bare message (the SNS Message itself): let the parsers recognise it.
    return [Inner(raw_source="sqs-sns" if via_sqs else "sns", sent_at=None, message=data)]


def _event_source(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    source = record.get("EventSource") or record.get("eventSource")
    return source if isinstance(source, str) else None


def _validated[M: BaseModel](model: type[M], data: dict[str, Any], what: str) -> M:
    """Powertools' envelope model over ``data``; any refusal (theirs too) is one MalformedSignal."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise condense(error, what) from None
    except (TypeError, KeyError, AttributeError):  # a model's own "before" validator choking on a shape
        raise MalformedSignal(f"{what}: not the shape AWS sends") from None


def _from_lambda_sns(data: dict[str, Any]) -> list[Inner]:
    for index, record in enumerate(data["Records"]):
        if not isinstance(record.get("Sns"), dict):
            raise MalformedSignal(f"Lambda SNS event: Records.{index}.Sns is not an object")
    event = _validated(SnsModel, data, "Lambda SNS event")
    return [_sns_inner(record.Sns, "sns") for record in event.Records]


def _from_sns_notification(data: dict[str, Any]) -> list[Inner]:
    kind = data.get("Type")
    if kind != "Notification":
        raise UnsupportedSignal(f"SNS message of type {shorten(kind, 40)}, not a Notification")
    notification = _validated(SnsNotificationModel, data, "SNS notification")
    # An SNS notification on its own is what SNS puts in an SQS body (raw message delivery off).
    return [_sns_inner(notification, "sqs-sns")]


def _sns_inner(notification: SnsNotificationModel, raw_source: RawSource) -> Inner:
    message = notification.Message
    if not isinstance(message, str):
        raise MalformedSignal("SNS notification: Message is not a string")
    decoded = decode(message)
    if isinstance(decoded, dict) and "detail-type" in decoded and "source" in decoded:
        # An EventBridge rule with an SNS target: the event is the message.
        inner = _from_eventbridge(decoded)
        return Inner(raw_source=raw_source, sent_at=inner.sent_at, event=inner.event)
    return Inner(
        raw_source=raw_source,
        sent_at=parse_time(notification.Timestamp, "SNS Timestamp"),
        message=decoded,
        subject=notification.Subject,
    )


def _from_sqs_record(record: Any, depth: int) -> list[Inner]:
    if not isinstance(record, dict):
        raise MalformedSignal("SQS record is not an object")
    body = record.get("body")
    if not isinstance(body, str):
        raise MalformedSignal("SQS record: body is missing or not a string")
    return _unwrap(decode(body), depth=depth + 1, via_sqs=True)


def _from_eventbridge(data: dict[str, Any]) -> Inner:
    event = _validated(EventBridgeModel, data, "EventBridge event")
    if not isinstance(event.detail, dict):
        raise MalformedSignal("EventBridge event: detail is not an object")
    return Inner(raw_source="eventbridge", sent_at=parse_time(event.time, "EventBridge time"), event=event)
