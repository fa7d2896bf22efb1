"""What each function of the template receives, read from its own wiring, and one line when the
event given to ``tokenfuse local invoke`` is not of that shape.

A function's triggers in ``template.yaml`` say what Lambda hands it: an ``SQS`` event source a
batch of SQS records (``Records[]`` with ``eventSource: aws:sqs``, the message in ``body``), an
``EventBridgeRule`` the EventBridge event its pattern matches, a ``ScheduleV2`` the schedule's
``Input``, a Function URL an HTTP request (payload format 2.0); a function with none of them is a
Step Functions task (its payload as the state machine builds it). An SNS notification or an
EventBridge event meant for a queue reaches its function inside an SQS record's ``body``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfuse_sandbox.template import Template

PLACEHOLDER = "<aws.scheduler."


@dataclass(frozen=True)
class Trigger:
    """One way a function is invoked, and what that delivers."""

    kind: str
    """``sqs`` | ``eventbridge`` | ``schedule`` | ``function-url`` | ``task``."""
    name: str
    """The template's name for it: the queue, the rule's event, the schedule."""
    pattern: dict[str, Any] | None = None
    """An EventBridge rule's pattern; a schedule's input."""

    def describe(self) -> str:
        if self.kind == "sqs":
            return f"SQS events from {self.name} (Records[] with eventSource aws:sqs, the message in body)"
        if self.kind == "eventbridge":
            pattern = self.pattern or {}
            wanted = ", ".join(
                f"{key} {' | '.join(map(str, pattern[key]))}"
                for key in ("source", "detail-type")
                if key in pattern
            )
            return f"EventBridge events ({wanted})" if wanted else "EventBridge events"
        if self.kind == "schedule":
            fixed = {k: v for k, v in (self.pattern or {}).items() if not _placeholder(v)}
            return f"the {self.name} schedule's input {json.dumps(fixed)}"
        if self.kind == "function-url":
            return "Function URL requests (payload format 2.0: requestContext.http, headers, body)"
        return "a Step Functions task payload"

    def accepts(self, event: Any) -> bool:
        kind = shape_of(event)
        if self.kind == "eventbridge":
            return kind == "eventbridge" and all(
                event.get(key) in values
                for key, values in (self.pattern or {}).items()
                if key in ("source", "detail-type") and isinstance(values, list)
            )
        if self.kind == "schedule":
            fixed = {k: v for k, v in (self.pattern or {}).items() if not _placeholder(v)}
            return kind == "object" and all(event.get(k) == v for k, v in fixed.items())
        if self.kind == "task":
            return kind == "object"
        return kind == self.kind


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PLACEHOLDER)


def shape_of(event: Any) -> str:  # noqa: PLR0911 - one answer per shape
    """``sqs`` | ``sns`` | ``eventbridge`` | ``function-url`` | ``object`` | ``empty`` | the JSON
    type of anything that is no object (``array``, ``string``, ...)."""
    if not isinstance(event, dict):
        return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(event), "number")
    if not event:
        return "empty"
    records = event.get("Records")
    if isinstance(records, list) and records and all(isinstance(r, dict) for r in records):
        if all(r.get("eventSource") == "aws:sqs" for r in records):
            return "sqs"
        if all(r.get("EventSource") == "aws:sns" or "Sns" in r for r in records):
            return "sns"
    if isinstance(event.get("detail-type"), str) and "source" in event and "detail" in event:
        return "eventbridge"
    if event.get("Type") == "Notification" and "TopicArn" in event:
        return "sns-notification"
    if isinstance(event.get("requestContext"), dict) and "http" in event["requestContext"]:
        return "function-url"
    return "object"


_SHAPES = {
    "sqs": "an SQS event",
    "sns": "a Lambda SNS event (Records[].Sns)",
    "sns-notification": "one SNS notification",
    "function-url": "a Function URL request",
    "object": "a JSON object",
    "empty": "an empty object",
}


def _given(event: Any) -> str:
    kind = shape_of(event)
    if kind == "eventbridge":
        return f"an EventBridge event ({event.get('source')} / {event.get('detail-type')})"
    return _SHAPES.get(kind, f"a JSON {kind}")


def triggers(template: Template, function: str) -> list[Trigger]:
    """How the template invokes ``function`` (a Step Functions task when nothing else does)."""
    properties = template.function_properties(function)
    found: list[Trigger] = []
    for name, source in (properties.get("Events") or {}).items():
        kind, props = str(source.get("Type")), source.get("Properties") or {}
        if kind == "SQS":
            queue = props.get("Queue")
            queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) and "Fn::GetAtt" in queue else name
            found.append(Trigger("sqs", str(queue_id)))
        elif kind == "EventBridgeRule":
            found.append(Trigger("eventbridge", name, props.get("Pattern") or {}))
        elif kind in ("ScheduleV2", "Schedule"):
            raw = props.get("Input")
            found.append(Trigger("schedule", name, json.loads(raw) if isinstance(raw, str) else None))
    if properties.get("FunctionUrlConfig"):
        found.append(Trigger("function-url", "FunctionUrl"))
    return found or [Trigger("task", "state machine")]


def _hint(wanted: list[Trigger], event: Any) -> str:
    kinds = {t.kind for t in wanted}
    given = shape_of(event)
    if "sqs" in kinds and given in ("eventbridge", "sns", "sns-notification"):
        return (
            ": the queue delivers it inside an SQS record's body, as in events/intake-sqs-sns-cad.json "
            "and events/intake-sqs-eventbridge-alarm.json"
        )
    return ""


def mismatch(template: Template, function: str, event: Any, where: str) -> str | None:
    """One line saying what ``function`` expects and what ``event`` (read from ``where``) is; None
    when one of the function's triggers delivers events of that shape."""
    wanted = triggers(template, function)
    if any(trigger.accepts(event) for trigger in wanted):
        return None
    expected = "; or ".join(trigger.describe() for trigger in wanted)
    return f"{function} receives {expected}; {where} is {_given(event)}{_hint(wanted, event)}"
