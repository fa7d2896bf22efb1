"""Emulation: Bedrock model invocation logs in CloudWatch Logs, and subscription-filter delivery.

**Records.** Where model invocation logging is configured in the caller's account and region
(``PutModelInvocationLoggingConfiguration``, which moto 5.2.5 stores; ``cloudWatchConfig.logGroupName``
names the group), each successful call of the emulated ``bedrock-runtime`` writes one record to the
log stream ``aws/bedrock/modelinvocations`` of that group, timestamped at the simulated now, in
AWS's format (AWS docs "Monitor model invocation using CloudWatch Logs and Amazon S3"; records
published by users of the service)::

    {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-25T14:00:05Z",
     "accountId": "...", "identity": {"arn": "arn:aws:sts::...:assumed-role/<role>/<session>"},
     "region": "us-east-1", "requestId": "...", "operation": "Converse",
     "modelId": "<the profile ARN through a profile, else the model id as called>",
     "input": {"inputContentType": "application/json", "inputBodyJson": {...}, "inputTokenCount": 12,
               "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0},
     "output": {"outputContentType": "application/json", "outputBodyJson": {...}, "outputTokenCount": 64},
     "inferenceRegion": "us-east-1", "requestMetadata": {...}}

The bodies (``inputBodyJson`` / ``outputBodyJson``) are written only with
``textDataDeliveryEnabled: true`` (absent counts as false); ids, token counts and the caller always
are. ``requestMetadata`` appears only when the call carried it. A group that does not exist, or a
configuration with no ``cloudWatchConfig`` (S3 only), writes nothing: the call still succeeds and
the miss is kept in :data:`undelivered` with a warning.

**Delivery.** moto sends a subscription filter's events to its destination at once, unfiltered.
:func:`install` replaces that: events are queued when written (if they match the filter's pattern,
:mod:`.log_filter_patterns`) and a :class:`SubscriptionDelivery` on the simulated clock delivers
them every :data:`LOG_DELIVERY_SECONDS` (at the ticks of a 5-second grid: an event waits at most
that long, exactly that long when written on a tick), batched per filter and log stream, as AWS
sends them to a Lambda function: an asynchronous invoke with ``{"awslogs": {"data":
base64(gzip(json))}}`` whose JSON is ``{"messageType": "DATA_MESSAGE", "owner", "logGroup",
"logStream", "subscriptionFilters": [name], "logEvents": [{"id", "timestamp", "message"}]}``
(ids: 56-digit strings). Other destinations (Kinesis, Firehose, Logs) get moto's own delivery,
on the same ticks. PutSubscriptionFilter refuses a pattern the emulation cannot match.

Not emulated: the account-level subscription filter policy (``PutAccountPolicy`` with
``SUBSCRIPTION_FILTER_POLICY``): moto 5.2.5 has no ``PutAccountPolicy`` for CloudWatch Logs.

What it does NOT prove: AWS's real delivery latency (sample-bedrock-cost-controls reports 5-30 s;
the 5 s here is an assumption), the 100 KB body limit and S3 overflow (``largeDataDeliveryS3Config``),
image and embedding data, the logging role's permissions, Lambda's retries of a failed async
delivery, ``ingestionTime`` (moto stamps it with the wall clock), and records of failed calls.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tokenfuse_sandbox.emulation.bedrock_bodies import Usage
from tokenfuse_sandbox.emulation.clock import SimulatedClock, boundaries
from tokenfuse_sandbox.emulation.log_filter_patterns import UnsupportedFilterPattern, compile_pattern
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = [
    "LOG_DELIVERY_SECONDS",
    "LOG_STREAM",
    "InvocationLogEntry",
    "SubscriptionDelivery",
    "install",
    "installed",
    "invocation_record",
    "log_invocation",
    "subscription_payload",
    "undelivered",
    "uninstall",
]

LOG = logging.getLogger("tokenfuse.sandbox.invocation_logs")

LOG_DELIVERY_SECONDS = 5
"""Simulated seconds between subscription deliveries (an assumption; AWS documents no figure)."""
LOG_STREAM = "aws/bedrock/modelinvocations"
MAX_BATCH_BYTES = 256 * 1024
"""A delivery's messages stay under this many bytes (Lambda's asynchronous payload limit)."""

_lock = threading.RLock()
_patches = MotoPatches()
undelivered: list[str] = []
"""One line per invocation record that had nowhere to go (logging on, its group missing...)."""


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvocationLogEntry:
    """What the runtime knows about one call, for its log record."""

    at: datetime
    account_id: str
    region: str
    identity_arn: str
    request_id: str
    operation: str
    model_id: str
    inference_region: str
    input_body: Any
    output_body: Any
    usage: Usage
    request_metadata: Mapping[str, str] | None = None


def invocation_record(entry: InvocationLogEntry, *, text_data: bool) -> dict[str, Any]:
    """The record AWS writes for the call (bodies only with text data delivery)."""
    usage = entry.usage
    model_input: dict[str, Any] = {"inputContentType": "application/json"}
    model_output: dict[str, Any] = {"outputContentType": "application/json"}
    if text_data:
        model_input["inputBodyJson"] = entry.input_body
        model_output["outputBodyJson"] = entry.output_body
    model_input |= {
        "inputTokenCount": usage.input_tokens,
        "cacheReadInputTokenCount": usage.cache_read_tokens,
        "cacheWriteInputTokenCount": usage.cache_write_tokens,
    }
    model_output["outputTokenCount"] = usage.output_tokens
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": entry.account_id,
        "identity": {"arn": entry.identity_arn},
        "region": entry.region,
        "requestId": entry.request_id,
        "operation": entry.operation,
        "modelId": entry.model_id,
        "input": model_input,
        "output": model_output,
        "inferenceRegion": entry.inference_region,
    }
    if entry.request_metadata:
        record["requestMetadata"] = dict(entry.request_metadata)
    return record


def _logging_config(account_id: str, region: str) -> Mapping[str, Any] | None:
    from moto.bedrock.models import bedrock_backends

    config = bedrock_backends[account_id][region].get_model_invocation_logging_configuration()
    return config if isinstance(config, Mapping) and config else None


def log_invocation(entry: InvocationLogEntry) -> str | None:
    """Write the call's record where logging is configured; returns the log group, or None."""
    from moto.logs.models import logs_backends

    config = _logging_config(entry.account_id, entry.region)
    if config is None:
        return None
    group_name = (config.get("cloudWatchConfig") or {}).get("logGroupName")
    where = f"{entry.account_id} {entry.region}"
    if not group_name:
        _undelivered(f"{where}: invocation logging has no cloudWatchConfig (S3 delivery is not emulated)")
        return None
    group = logs_backends[entry.account_id][entry.region].groups.get(group_name)
    if group is None:
        _undelivered(f"{where}: invocation log group {group_name} does not exist")
        return None
    record = invocation_record(entry, text_data=config.get("textDataDeliveryEnabled") is True)
    if LOG_STREAM not in group.streams:
        group.create_log_stream(LOG_STREAM)
    stamp = int(entry.at.timestamp() * 1000)
    # the group's own put (not the backend's): the backend refuses events 14 days from the wall clock
    group.put_log_events(LOG_STREAM, [{"timestamp": stamp, "message": json.dumps(record)}])
    return str(group_name)


def _undelivered(line: str) -> None:
    LOG.warning("invocation log not delivered: %s", line)
    with _lock:
        undelivered.append(line)


# --------------------------------------------------------------------------------------------------
# Subscription delivery
# --------------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    stream: Any  # moto's LogStream
    service: str
    destination_arn: str
    filter_name: str
    events: list[dict[str, Any]] = field(default_factory=list)


_pending: dict[tuple[int, str, str], _Pending] = {}


def _event_id(moto_id: Any) -> str:
    return f"{int(moto_id):056d}"


def _queue(
    stream: Any, service: str, destination_arn: str, filter_name: str, log_events: list[dict[str, Any]]
) -> None:
    """moto's LogStream._send_log_events, replaced: matching events wait for the next tick."""
    subscription = stream.log_group.subscription_filters.get(filter_name)
    pattern = compile_pattern(getattr(subscription, "filter_pattern", "") or "")
    kept = [
        {"id": _event_id(e["id"]), "timestamp": e["timestamp"], "message": e["message"]}
        for e in log_events
        if pattern(e["message"])
    ]
    if not kept:
        return
    with _lock:
        key = (id(stream), filter_name, destination_arn)
        _pending.setdefault(key, _Pending(stream, service, destination_arn, filter_name)).events.extend(kept)


def subscription_payload(
    log_group: str, log_stream: str, owner: str, filter_name: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """The event a Lambda destination receives: ``{"awslogs": {"data": base64(gzip(json))}}``."""
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [filter_name],
        "logEvents": events,
    }
    data = gzip.compress(json.dumps(message, separators=(",", ":")).encode("utf-8"))
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in events:
        length = len(event["message"].encode("utf-8")) + 26
        if out[-1] and size + length > MAX_BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(event)
        size += length
    return out


LambdaInvoker = Callable[[str, dict[str, Any]], None]
"""``invoke(function_arn, event)``: how a batch reaches a Lambda destination."""


def invoke_async(function_arn: str, event: dict[str, Any]) -> None:
    """An asynchronous invoke through moto's Lambda backend (the sandbox runs it in-process)."""
    from moto.awslambda.utils import get_backend

    parts = function_arn.split(":")
    get_backend(parts[4], parts[3]).invoke(
        function_arn, None, json.dumps(event), {"X-Amz-Invocation-Type": "Event"}, {}
    )


def _deliver(pending: _Pending, invoke: LambdaInvoker) -> int:
    stream = pending.stream
    for batch in _batches(pending.events):
        if pending.service != "lambda":
            from moto.logs.models import LogStream

            _patches.original(LogStream, "_send_log_events")(
                stream, pending.service, pending.destination_arn, pending.filter_name, batch
            )
            continue
        event = subscription_payload(
            stream.log_group.name, stream.log_stream_name, stream.account_id, pending.filter_name, batch
        )
        try:
            invoke(pending.destination_arn, event)
        except Exception as error:
            _undelivered(f"subscription {pending.filter_name} -> {pending.destination_arn}: {error}")
    return len(pending.events)


class SubscriptionDelivery:
    """Delivers queued subscription events every :data:`LOG_DELIVERY_SECONDS` of simulated time."""

    def __init__(self, invoke: LambdaInvoker = invoke_async, seconds: int = LOG_DELIVERY_SECONDS) -> None:
        self.invoke = invoke
        self.period = timedelta(seconds=seconds)
        self.deliveries: list[tuple[datetime, str, int]] = []
        """(tick, filter name, events) of every delivery made."""

    def attach(self, clock: SimulatedClock) -> Callable[[], None]:
        """Deliver as ``clock`` crosses each tick; returns a function that detaches."""
        return clock.add_listener(self.on_clock)

    def on_clock(self, old: datetime, new: datetime) -> None:
        ticks = boundaries(old, new, self.period)
        if ticks:
            self.flush(ticks[0])

    def flush(self, at: datetime) -> int:
        """Deliver everything queued now (``at``: the tick it counts as); returns the events sent."""
        with _lock:
            due = list(_pending.values())
            _pending.clear()
        sent = 0
        for pending in due:
            count = _deliver(pending, self.invoke)
            if count:
                self.deliveries.append((at, pending.filter_name, count))
            sent += count
        return sent


def _put_subscription_filter(  # noqa: PLR0917 - moto's signature
    backend: Any,
    log_group_name: str,
    filter_name: str,
    filter_pattern: str,
    destination_arn: str,
    role_arn: str,
) -> None:
    from moto.logs.exceptions import InvalidParameterException

    try:
        compile_pattern(filter_pattern or "")
    except UnsupportedFilterPattern as error:
        raise InvalidParameterException(f"Invalid filter pattern (sandbox emulation): {error}") from error
    from moto.logs.models import LogsBackend

    _patches.original(LogsBackend, "put_subscription_filter")(
        backend, log_group_name, filter_name, filter_pattern, destination_arn, role_arn
    )


def install() -> None:
    """Queue subscription events for clock-driven delivery, and refuse unsupported patterns
    (process-wide; idempotent)."""
    from moto.logs.models import LogsBackend, LogStream

    with _patches.lock:
        if _patches.installed:
            return
        _patches.replace(LogStream, "_send_log_events", _queue)
        _patches.replace(LogsBackend, "put_subscription_filter", _put_subscription_filter)


def uninstall() -> None:
    with _patches.lock:
        _patches.restore()
        with _lock:
            _pending.clear()
            undelivered.clear()


def installed() -> bool:
    return _patches.installed
