"""Emulation: delivering events to functions the way the template wires them, synchronously and
deterministically (``drain``): SQS event source mappings (batches, partial batch failures,
redrive), EventBridge rules -> functions (through shadow SQS queues, async-invoke retries and
OnFailure destinations), schedules, and asynchronous ``lambda:Invoke`` calls."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tokenfuse_sandbox.emulation.moto_patches import last_history_event
from tokenfuse_sandbox.runtime import Invocation, Runtime

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeFilterType
    from mypy_boto3_sqs.type_defs import MessageTypeDef
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

    from tokenfuse_sandbox.clients import SandboxClients
    from tokenfuse_sandbox.emulation.clock import SimulatedClock
    from tokenfuse_sandbox.provision import Provisioner
    from tokenfuse_sandbox.template import Template

LOG = logging.getLogger("tokenfuse.sandbox")

_SQS_ATTRS: list[QueueAttributeFilterType] = [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
]


def _iso(ts: float | None = None) -> str:
    return (
        datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat().replace("+00:00", "Z")
    )


def _lambda_message_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in attrs.items():
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return out


class DeliveryHost(Protocol):
    """What delivery reads of the sandbox that runs it (:class:`~tokenfuse_sandbox.Sandbox`)."""

    account_id: str
    region: str
    clock_mode: Literal["advance", "block"] | None
    clock: SimulatedClock | None
    runtime: Runtime
    template: Template
    provisioner: Provisioner

    @property
    def clients(self) -> SandboxClients: ...
    @property
    def resources(self) -> dict[str, Any]: ...
    def now(self) -> datetime: ...
    def queue_url(self, queue: str) -> str: ...
    def state_machine_arns(self) -> list[str]: ...


class Delivery:
    def __init__(self, sandbox: DeliveryHost) -> None:
        self.sb = sandbox
        self.async_queue: deque[tuple[str, Any, str]] = deque()
        self.due_schedules: deque[tuple[dict[str, Any], datetime]] = deque()  # crossed by the clock
        self.log: list[dict[str, Any]] = []  # where things went, for the demo

    def has_messages(self, queue_url: str) -> bool:
        """Whether a queue holds a visible message (read from moto's state: a cheap look before a
        ReceiveMessage call, which costs a whole request)."""
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[self.sb.account_id][self.sb.region].queues.get(queue_url.rsplit("/", 1)[-1])
        return queue is None or bool(queue.messages)

    # -- SQS event source mappings -------------------------------------------------------------
    def sqs_record(self, msg: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
        return {
            "messageId": msg["MessageId"],
            "receiptHandle": msg["ReceiptHandle"],
            "body": msg["Body"],
            "attributes": msg.get("Attributes", {}),
            "messageAttributes": _lambda_message_attributes(msg.get("MessageAttributes", {})),
            "md5OfBody": msg.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": self.sb.region,
        }

    def pump_sqs(self, mapping: dict[str, Any]) -> bool:
        if not mapping.get("enabled", True) or not self.has_messages(mapping["queue_url"]):
            return False
        sqs = self.sb.clients["sqs"]
        got = sqs.receive_message(
            QueueUrl=mapping["queue_url"],
            MaxNumberOfMessages=min(10, mapping["batch_size"]),
            VisibilityTimeout=600,
            AttributeNames=_SQS_ATTRS,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return False
        event = {"Records": [self.sqs_record(m, mapping["queue_arn"]) for m in got]}
        inv = self.sb.runtime.invoke(
            mapping["function"], event, trigger=f"sqs:{mapping['queue_arn'].split(':')[-1]}"
        )
        failed: set[str] = set()
        if not inv.ok:
            failed = {m["MessageId"] for m in got}
        elif mapping["report_failures"] and isinstance(inv.result, dict):
            items = inv.result.get("batchItemFailures") or []
            ids = {m["MessageId"] for m in got}
            for item in items:
                ident = item.get("itemIdentifier") if isinstance(item, dict) else None
                if not ident or ident not in ids:  # Lambda fails the whole batch on a bad identifier
                    failed = ids
                    break
                failed.add(ident)
        for m in got:
            if m["MessageId"] in failed:
                # emulation of the visibility timeout running out: visible again at once (the redrive
                # policy moves it to the dead-letter queue on the receive after maxReceiveCount)
                sqs.change_message_visibility(
                    QueueUrl=mapping["queue_url"], ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=mapping["queue_url"], ReceiptHandle=m["ReceiptHandle"])
        self.log.append(
            {
                "via": "sqs",
                "queue": mapping["queue_arn"].split(":")[-1],
                "function": mapping["function"],
                "messages": len(got),
                "failed": len(failed),
                "request_id": inv.request_id,
            }
        )
        return True

    # -- EventBridge rules -> functions (shadow queues) ----------------------------------------
    def pump_rule(self, rule: dict[str, Any]) -> bool:
        if not self.has_messages(rule["shadow_url"]):
            return False
        sqs = self.sb.clients["sqs"]
        got = sqs.receive_message(
            QueueUrl=rule["shadow_url"], MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        for m in got:
            sqs.delete_message(QueueUrl=rule["shadow_url"], ReceiptHandle=m["ReceiptHandle"])
            event = json.loads(m["Body"])
            event.pop("ingestion-time", None)  # moto internal, not in what EventBridge delivers
            if rule.get("input") is not None:  # the event's Input replaces the event
                raw = rule["input"]
                event = json.loads(raw) if isinstance(raw, str) else raw
            elif rule.get("input_path"):
                event = _select(event, rule["input_path"])
            self.invoke_async(rule["function"], event, f"rule:{rule['rule']}")
        return bool(got)

    def invoke_async(self, function: str, event: Any, trigger: str) -> list[Invocation]:
        """Asynchronous invocation: retries per EventInvokeConfig, then the OnFailure destination."""
        spec = self.sb.runtime.functions[function]
        config = spec.event_invoke_config or {}
        retries = int(config.get("MaximumRetryAttempts", 2))
        attempts: list[Invocation] = []
        for _ in range(retries + 1):
            inv = self.sb.runtime.invoke(function, event, trigger=trigger)
            attempts.append(inv)
            if inv.ok:
                break
        last = attempts[-1]
        destinations = config.get("DestinationConfig") or {}
        condition = "Success" if last.ok else "RetriesExhausted"
        dest = (destinations.get("OnSuccess") if last.ok else destinations.get("OnFailure")) or {}
        if dest.get("Destination"):
            record = {
                "version": "1.0",
                "timestamp": _iso(),
                "requestContext": {
                    "requestId": last.request_id,
                    "functionArn": f"{spec.arn}:$LATEST",
                    "condition": condition,
                    "approximateInvokeCount": len(attempts),
                },
                "requestPayload": event,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    **({} if last.ok else {"functionError": "Unhandled"}),
                },
                "responsePayload": last.result
                if last.ok
                else {
                    k: v
                    for k, v in (last.error or {}).items()
                    if k in ("errorType", "errorMessage", "stackTrace")
                },
            }
            self.send_to_destination(dest, record, f"{function} {condition}")
        self.log.append(
            {
                "via": trigger,
                "function": function,
                "attempts": len(attempts),
                "ok": last.ok,
                "request_id": last.request_id,
            }
        )
        return attempts

    def send_to_destination(self, dest: dict[str, Any], record: dict[str, Any], what: str) -> None:
        arn = dest["Destination"]
        kind = dest.get("Type") or arn.split(":")[2].upper()
        if kind.upper() == "SQS":
            url = self.sb.queue_url(arn)
            self.sb.clients["sqs"].send_message(QueueUrl=url, MessageBody=json.dumps(record, default=str))
        elif kind.upper() == "SNS":
            self.sb.clients["sns"].publish(TopicArn=arn, Message=json.dumps(record, default=str))
        elif kind.upper() == "EVENTBRIDGE":
            self.sb.clients["events"].put_events(
                Entries=[
                    {
                        "Source": "lambda",
                        "DetailType": f"Lambda Function Invocation Result - {what}",
                        "Detail": json.dumps(record, default=str),
                        "EventBusName": arn,
                    }
                ]
            )
        elif kind.upper() == "LAMBDA":
            lid = self.sb.runtime.logical_id(arn)
            if lid:
                self.async_queue.append((lid, record, "destination"))
        else:
            LOG.warning("destination %s of type %s is not emulated", arn, kind)

    # -- schedules -----------------------------------------------------------------------------
    def schedule_event(self, schedule: dict[str, Any]) -> Any:
        if schedule["kind"] == "ScheduleV2":
            raw = schedule.get("input")
            if raw is None:
                return {}
            if not isinstance(raw, str):
                return raw
            # EventBridge Scheduler's context attributes, replaced as Scheduler replaces them
            context = {
                "<aws.scheduler.schedule-arn>": schedule["arn"],
                "<aws.scheduler.scheduled-time>": _iso(self.sb.now().timestamp()),
                "<aws.scheduler.execution-id>": uuid.uuid4().hex[:16],
                "<aws.scheduler.attempt-number>": "1",
            }
            for keyword, value in context.items():
                raw = raw.replace(keyword, value)
            return json.loads(raw)
        if schedule.get("input") is not None:
            raw = schedule["input"]
            return json.loads(raw) if isinstance(raw, str) else raw
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.sb.account_id,
            "time": _iso(self.sb.now().timestamp()),
            "region": self.sb.region,
            "resources": [schedule["arn"]],
            "detail": {},
        }

    def fire_schedule(self, schedule: dict[str, Any]) -> list[Invocation]:
        event = self.schedule_event(schedule)
        if schedule["kind"] == "ScheduleV2":
            retries = int((schedule.get("retry_policy") or {}).get("MaximumRetryAttempts", 185))
            attempts = []
            for _ in range(min(retries, 5) + 1):
                inv = self.sb.runtime.invoke(
                    schedule["function"], event, trigger=f"schedule:{schedule['name']}"
                )
                attempts.append(inv)
                if inv.ok:
                    break
            if not attempts[-1].ok and (schedule.get("dead_letter") or {}).get("Arn"):
                url = self.sb.queue_url(schedule["dead_letter"]["Arn"])
                self.sb.clients["sqs"].send_message(
                    QueueUrl=url,
                    MessageBody=json.dumps(event),
                    MessageAttributes={
                        "ERROR_CODE": {"DataType": "String", "StringValue": "AWS.Lambda.FunctionError"},
                        "ERROR_MESSAGE": {
                            "DataType": "String",
                            "StringValue": str((attempts[-1].error or {}).get("errorMessage")),
                        },
                        "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(len(attempts) - 1)},
                    },
                )
            self.log.append(
                {
                    "via": f"schedule:{schedule['name']}",
                    "function": schedule["function"],
                    "attempts": len(attempts),
                    "ok": attempts[-1].ok,
                }
            )
            return attempts
        return self.invoke_async(schedule["function"], event, f"schedule:{schedule['name']}")

    # -- Step Functions ------------------------------------------------------------------------
    def unsettled_executions(self) -> list[str]:
        """Running executions that are doing work (not parked on a task token or a Wait state).

        Read from moto's own execution state (each execution's last history event), not through
        ``ListExecutions`` / ``GetExecutionHistory``: the loop asks this between every two steps, and
        serializing a whole history each time was most of a story's run time."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[self.sb.account_id][self.sb.region]
        running = [
            (machine.arn, execution)
            for machine in backend.state_machines
            for execution in machine.executions
            if getattr(execution.status, "value", execution.status) == "RUNNING"
        ]
        if not running:
            return []  # the common case: nothing to look up in the template
        ours = set(self.sb.state_machine_arns())
        busy = []
        for machine_arn, execution in running:
            if machine_arn not in ours:
                continue
            arn = execution.execution_arn
            last = last_history_event(execution)
            if last is not None and self._parked(last) and self._clock_parked(arn):
                continue
            busy.append(arn)
        return busy

    def _parked(self, last: HistoryEventTypeDef) -> bool:
        """An execution whose last event waits on something outside it (the clock, a callback)."""
        if last["type"] == "WaitStateEntered":
            return self.sb.clock_mode != "advance"  # until someone moves the clock (or real seconds pass)
        if last["type"] == "TaskSubmitted":
            return "waitForTaskToken" in last.get("taskSubmittedEventDetails", {}).get("resource", "")
        return False

    def _clock_parked(self, execution_arn: str) -> bool:
        """On the simulated clock: none of the execution's waits can end yet (one whose deadline has
        passed or whose callback came keeps it busy until its thread moves on)."""
        waits = self.sb.clock.waits if self.sb.clock is not None else None
        return waits is None or waits.parked(execution_arn)

    # -- the loop ------------------------------------------------------------------------------
    def on_clock(self, old: datetime, new: datetime) -> None:
        """Clock listener: queue every schedule fire time the move crossed (fired in ``step``, not
        in the thread that moved the clock)."""
        for sched in self.sb.provisioner.wiring.schedules:
            if sched.get("enabled", True):
                for when in fire_times(sched["expression"], old, new):
                    self.due_schedules.append((sched, when))

    def step(self) -> bool:
        progressed = False
        while self.due_schedules:
            sched, _when = self.due_schedules.popleft()
            self.fire_schedule(sched)
            progressed = True
        while self.async_queue:
            fn, event, trigger = self.async_queue.popleft()
            self.invoke_async(fn, event, trigger)
            progressed = True
        for mapping in self.sb.provisioner.wiring.sqs:
            for _ in range(50):  # bounded: a poison message with no dead-letter queue comes back forever
                if not self.pump_sqs(mapping):
                    break
                progressed = True
        for rule in self.sb.provisioner.wiring.rules:
            if self.pump_rule(rule):
                progressed = True
        return progressed

    def drain(self, max_rounds: int = 200, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        rounds = 0
        idle_checks = 0
        while rounds < max_rounds and time.monotonic() < deadline:
            rounds += 1
            if self.step():
                idle_checks = 0
                continue
            if self.unsettled_executions():
                time.sleep(0.02)
                continue
            # One more look: an execution may have just parked after putting events on the bus.
            idle_checks += 1
            if idle_checks >= 2:
                return rounds
            time.sleep(0.01)
        raise TimeoutError(
            f"drain did not settle in {rounds} rounds / {timeout:.0f}s "
            f"(running executions: {self.unsettled_executions()})"
        )


def _select(event: Any, path: str) -> Any:
    """A target's InputPath (``$``, ``$.detail``, ``$.detail.a.b``)."""
    node = event
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


_NAMES = {
    **{
        m: i + 1
        for i, m in enumerate(
            ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        )
    },
    **{d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
}


def _cron_field(spec: str, low: int, high: int) -> set[int] | None:
    """Values of one AWS cron field; None = any (``*`` or ``?``)."""
    if spec in ("*", "?"):
        return None
    values: set[int] = set()
    for item in spec.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(_NAMES.get(a.upper(), a)), int(_NAMES.get(b.upper(), b))
        else:
            start = int(_NAMES.get(part.upper(), part))
            end = high if "/" in spec else start
        values.update(range(start, end + 1, step))
    return values


def fire_times(expression: str, after: datetime, until: datetime) -> list[datetime]:
    """The instants in (after, until] at which a ``cron(...)`` / ``rate(...)`` schedule fires (UTC).
    Supported: AWS cron's six fields with ``* ? , - /`` and names (not ``L``, ``W``, ``#``); rate in
    minutes, hours or days (counted from the epoch: the sandbox has no schedule creation time)."""
    from datetime import timedelta

    expr = expression.strip()
    if expr.startswith("rate(") and expr.endswith(")"):
        amount, unit = expr[5:-1].split()
        seconds = int(amount) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
        first = (int(after.timestamp()) // seconds + 1) * seconds
        return [datetime.fromtimestamp(t, UTC) for t in range(first, int(until.timestamp()) + 1, seconds)]
    if not (expr.startswith("cron(") and expr.endswith(")")):
        raise ValueError(f"not a schedule expression: {expression}")
    fields = expr[5:-1].split()
    if len(fields) != 6 or any(c in expr for c in "LW#"):
        raise ValueError(f"cron expression not supported by the sandbox: {expression}")
    minute, hour, dom, month, dow, year = fields
    sets = [
        _cron_field(minute, 0, 59),
        _cron_field(hour, 0, 23),
        _cron_field(dom, 1, 31),
        _cron_field(month, 1, 12),
        _cron_field(dow, 1, 7),
        _cron_field(year, 1970, 2199),
    ]
    out = []
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= until:
        aws_dow = (t.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
        values = (t.minute, t.hour, t.day, t.month, aws_dow, t.year)
        if all(s is None or v in s for s, v in zip(sets, values, strict=True)):
            out.append(t)
        t += timedelta(minutes=1)
    return out
