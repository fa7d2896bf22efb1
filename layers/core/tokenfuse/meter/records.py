"""Bedrock model invocation log records, as a CloudWatch Logs subscription delivers them, reduced
to what the meter may keep: ids, token counts, the caller, the model and the region.

A delivery to Lambda is ``{"awslogs": {"data": base64(gzip(json))}}``; the JSON is Powertools'
:class:`~aws_lambda_powertools.utilities.parser.models.CloudWatchLogsDecode` (``messageType``,
``owner``, ``logGroup``, ``logStream``, ``subscriptionFilters``, ``logEvents``). It is decoded here
with a bound on its decompressed size (Powertools' own validator decompresses without one), then
validated with Powertools' model. A ``CONTROL_MESSAGE`` (CloudWatch Logs checking the destination)
carries no records.

Each log event's ``message`` is one record (AWS docs, "Monitor model invocation using CloudWatch
Logs and Amazon S3"; shared/design.md lists the fields): ``schemaType`` ``ModelInvocationLog``,
``timestamp``, ``accountId``, ``identity.arn``, ``region``, ``requestId``, ``operation``,
``modelId`` (the profile ARN through an application profile, else the model or system profile as
called), ``input.inputTokenCount``, ``output.outputTokenCount``, the cache counts
(``input.cacheReadInputTokenCount`` / ``cacheWriteInputTokenCount``; some records carry them only
in the response body's ``usage``: read there too, as numbers only), ``inferenceRegion``.

Prompt and completion text (``inputBodyJson``, ``outputBodyJson``, ``*BodyS3Path``) is never
copied: the models below name only the fields kept, and every refusal line names the field that
was wrong, never the value of a body. A record that does not parse is refused with one line and
counted; it never reaches a counter or an event.
"""

import math
import zlib
from base64 import b64decode
from binascii import Error as Base64Error
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsDecode
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from tokenfuse.arns import ACCOUNT_PATTERN, PROFILE_ARN, REGION_PATTERN, caller_role_arn
from tokenfuse.errors import MalformedSignal
from tokenfuse.signals._common import condense, load_json
from tokenfuse.text import one_line

MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024
"""A delivery decompresses to at most this much (CloudWatch Logs batches a subscription's events
up to about 1 MB; a Lambda asynchronous payload is at most 256 KB compressed): past it, refused."""
MAX_TOKENS = 100_000_000
"""No one request reads or writes more tokens than this (the largest context windows hold about 2M)."""

Count = Annotated[StrictInt, Field(ge=0, le=MAX_TOKENS)]
AccountId = Annotated[str, StringConstraints(pattern=rf"^{ACCOUNT_PATTERN}$")]
Region = Annotated[str, StringConstraints(pattern=rf"^{REGION_PATTERN}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ModelId = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class DeliveryRefused(ValueError):
    """The whole delivery is unreadable (not base64, not gzip, too big, not the CloudWatch Logs shape)."""


class RecordRefused(ValueError):
    """One log event is not a model invocation record the meter can price; the message is one line."""


class _Loose(BaseModel):
    """AWS adds fields: unknown ones are ignored (and so never kept)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class _Identity(_Loose):
    arn: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class _Usage(_Loose):
    """The usage numbers of a response body (Converse's camelCase, Anthropic's snake_case)."""

    cacheReadInputTokens: Count | None = None
    cacheWriteInputTokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None

    @property
    def cache_read(self) -> int | None:
        return (
            self.cacheReadInputTokens
            if self.cacheReadInputTokens is not None
            else self.cache_read_input_tokens
        )

    @property
    def cache_write(self) -> int | None:
        if self.cacheWriteInputTokens is not None:
            return self.cacheWriteInputTokens
        return self.cache_creation_input_tokens


class _Body(_Loose):
    usage: _Usage | None = None


class _Input(_Loose):
    inputTokenCount: Count
    cacheReadInputTokenCount: Count | None = None
    cacheWriteInputTokenCount: Count | None = None


class _Output(_Loose):
    outputTokenCount: Count
    outputBodyJson: Any = None


class _Record(_Loose):
    schemaType: Literal["ModelInvocationLog"]
    schemaVersion: ShortText | None = None
    timestamp: datetime
    accountId: AccountId
    identity: _Identity
    region: Region
    requestId: ShortText
    operation: ShortText
    modelId: ModelId
    input: _Input
    output: _Output
    inferenceRegion: Region | None = None


@dataclass(frozen=True, slots=True)
class MeteredRecord:
    """One invocation as the meter keeps it: no text, only ids, counts, the caller and the model."""

    request_id: str
    at: datetime
    account_id: str
    region: str
    inference_region: str | None
    operation: str
    model_id: str
    """As the record names it: the profile ARN through an application profile."""
    caller_arn: str
    """The IAM role (or user) behind ``identity.arn``."""
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int

    @property
    def profile_arn(self) -> str | None:
        """The application inference profile called through, or None (a model called directly)."""
        return self.model_id if PROFILE_ARN.fullmatch(self.model_id) else None

    def as_json(self) -> dict[str, Any]:
        """What a failed batch may hold of the record (still no text)."""
        return {
            "request_id": self.request_id,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "account_id": self.account_id,
            "region": self.region,
            "inference_region": self.inference_region,
            "operation": self.operation,
            "model_id": self.model_id,
            "caller_arn": self.caller_arn,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    """One log event refused: its id (CloudWatch Logs' event id, never its text) and why."""

    event_id: str
    reason: str


@dataclass(frozen=True)
class Delivery:
    """A decoded subscription delivery: where it came from, what was kept and what was refused."""

    owner: str
    log_group: str
    message_type: str
    records: tuple[MeteredRecord, ...]
    refusals: tuple[Refusal, ...]
    events: int
    decompressed_bytes: int


def decode(event: Mapping[str, Any]) -> tuple[CloudWatchLogsDecode, int]:
    """The delivery's JSON, validated with Powertools' model, and its decompressed size in bytes;
    :class:`DeliveryRefused` otherwise."""
    awslogs = event.get("awslogs") if isinstance(event, Mapping) else None
    data = awslogs.get("data") if isinstance(awslogs, Mapping) else None
    if not isinstance(data, str) or not data:
        raise DeliveryRefused("not a CloudWatch Logs subscription event: awslogs.data is missing")
    try:
        compressed = b64decode(data, validate=True)
    except (Base64Error, ValueError):
        raise DeliveryRefused("awslogs.data is not base64") from None
    text = _gunzip(compressed)
    try:
        return CloudWatchLogsDecode.model_validate_json(text), len(text)
    except ValidationError as error:
        raise DeliveryRefused(str(condense(error, "the delivery"))) from None


def _gunzip(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
    try:
        out = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error:
        raise DeliveryRefused("awslogs.data is not gzip") from None
    if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise DeliveryRefused(f"awslogs.data decompresses past {MAX_DECOMPRESSED_BYTES:,} bytes")
    if not inflater.eof:
        raise DeliveryRefused("awslogs.data is truncated gzip")
    return out


def read_delivery(event: Mapping[str, Any]) -> Delivery:
    """Decode a delivery and parse each of its log events (see :func:`parse_record`)."""
    decoded, size = decode(event)
    records: list[MeteredRecord] = []
    refusals: list[Refusal] = []
    for log_event in decoded.logEvents if decoded.messageType == "DATA_MESSAGE" else ():
        message = log_event.message if isinstance(log_event.message, str) else ""
        try:
            records.append(parse_record(message))
        except RecordRefused as error:
            refusals.append(Refusal(one_line(log_event.id, 80), str(error)))
    return Delivery(
        owner=decoded.owner,
        log_group=decoded.logGroup,
        message_type=decoded.messageType,
        records=tuple(records),
        refusals=tuple(refusals),
        events=len(decoded.logEvents),
        decompressed_bytes=size,
    )


def parse_record(message: str) -> MeteredRecord:
    """One log event's message as a :class:`MeteredRecord`, or :class:`RecordRefused` (one line
    naming the field, never a body's text)."""
    try:  # the signal parsers' bounded JSON: refused past NESTING_LIMIT levels, in one line
        document = load_json(message, "record")
    except MalformedSignal as error:
        raise RecordRefused(str(error)) from None
    if not isinstance(document, dict):
        raise RecordRefused(f"record is a JSON {type(document).__name__}, not an object")
    try:
        record = _Record.model_validate(document)
    except ValidationError as error:
        raise RecordRefused(str(condense(error, "record"))) from None
    caller = caller_role_arn(record.identity.arn)
    if caller is None:
        raise RecordRefused("record: identity.arn is not an IAM role session, role, user or root ARN")
    at = record.timestamp
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        raise RecordRefused("record: timestamp is outside the calendar once in UTC") from None
    if not math.isfinite(at.timestamp()) or not 2000 <= at.year < 3000:
        raise RecordRefused("record: timestamp is outside 2000 .. 3000")
    usage = _body_usage(record.output.outputBodyJson)
    cache_read = _first_known(record.input.cacheReadInputTokenCount, usage.cache_read if usage else None)
    cache_write = _first_known(record.input.cacheWriteInputTokenCount, usage.cache_write if usage else None)
    return MeteredRecord(
        request_id=record.requestId,
        at=at,
        account_id=record.accountId,
        region=record.region,
        inference_region=record.inferenceRegion,
        operation=record.operation,
        model_id=record.modelId,
        caller_arn=caller,
        input_tokens=record.input.inputTokenCount,
        output_tokens=record.output.outputTokenCount,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def _body_usage(body: Any) -> _Usage | None:
    """The cache counts a response body's ``usage`` carries (text delivery on), numbers only."""
    if not isinstance(body, dict):
        return None
    try:
        return _Body.model_validate(body).usage
    except ValidationError:
        return None  # the body is the model's business: a count that is not one is not counted


def _first_known(*values: int | None) -> int:
    return next((v for v in values if v is not None), 0)


__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "Delivery",
    "DeliveryRefused",
    "MeteredRecord",
    "RecordRefused",
    "Refusal",
    "decode",
    "parse_record",
    "read_delivery",
]
