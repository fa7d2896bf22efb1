"""The inventory function's three triggers, each an explicit model; any other shape is refused.

- :class:`SweepRecords`: the SQS event of ``InventorySweepQueue`` (Powertools' ``SqsModel``); each
  record's body is one :class:`SweepMessage`, read per record (:class:`SweepRecord`) so that one bad
  body fails alone.
- a CloudTrail profile change through EventBridge: :func:`tokenfuse.inventory.cloudtrail.profile_change`.
- :class:`DailySweep`: what the daily EventBridge Scheduler schedule delivers, its ``Input``
  (``template.yaml``, ``DailySweep``) with the schedule's ARN and scheduled time filled in by
  Scheduler's context attributes.

Nothing else starts the organization-wide sweep: an unknown shape is a :class:`Refusal`.
"""

from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SqsModel, SqsRecordModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Json, ValidationError

from tokenfuse.errors import SignalError
from tokenfuse.inventory.cloudtrail import (
    AccountId,
    ProfileChange,
    Region,
    is_cloudtrail_event,
    profile_change,
    validation_reason,
)
from tokenfuse.text import one_line

DAILY_SWEEP = "daily-sweep"
SCHEDULE_ARN_PATTERN = (
    r"^arn:aws(-[a-z]+)*:scheduler:[a-z]{2}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:schedule/[0-9A-Za-z_.-]{1,64}"
    r"/[0-9A-Za-z_.-]{1,64}$"
)
TriggerName = Literal["sweep-records", "cloudtrail", "schedule", "unknown"]


class SweepMessage(BaseModel):
    """One account to sweep (what :meth:`Inventory.fan_out` sends)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    account_id: AccountId
    account_name: str | None = Field(default=None, max_length=50)  # Organizations allows 1-50
    regions: list[Region] | None = Field(default=None, min_length=1, max_length=64)
    sweep_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,64}$")


class SweepRecord(SqsRecordModel):
    """One SQS record of the sweep queue, its body parsed (Powertools' typed batch record)."""

    body: Json[SweepMessage]


class SweepRecords(SqsModel):
    """The SQS event: the envelope checked here, each body on its own (one bad body fails alone)."""

    Records: list[SqsRecordModel] = Field(min_length=1)


class DailySweep(BaseModel):
    """The daily schedule's input, as EventBridge Scheduler delivers it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    action: Literal["daily-sweep"]
    schedule_arn: str = Field(pattern=SCHEDULE_ARN_PATTERN)
    scheduled_time: AwareDatetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """An event the inventory does nothing with, and why (one printable line)."""

    trigger: TriggerName
    reason: str


Trigger = SweepRecords | ProfileChange | DailySweep | Refusal


def trigger_name(event: object) -> TriggerName:
    """Which trigger an event claims to be, by the one field that tells them apart."""
    if isinstance(event, dict):
        if "Records" in event:
            return "sweep-records"
        if is_cloudtrail_event(event):
            return "cloudtrail"
        if "action" in event:
            return "schedule"
    return "unknown"


_WHAT = {"sweep-records": "SQS event", "schedule": "schedule input"}


def _unknown(event: object) -> str:
    if not isinstance(event, dict):
        return f"the event is a {type(event).__name__}, not an object"
    keys = ", ".join(one_line(key, 40) for key in list(event)[:8]) or "none"
    return one_line(
        f"unknown event shape (keys: {keys}): the inventory handles its sweep queue's records, "
        "CloudTrail profile changes and its daily schedule"
    )


def read_trigger(event: object) -> Trigger:
    """The trigger ``event`` is, validated, or the :class:`Refusal` of it. Never raises."""
    name = trigger_name(event)
    try:
        if name == "sweep-records":
            return SweepRecords.model_validate(event)
        if name == "cloudtrail":
            return profile_change(event)
        if name == "schedule":
            return DailySweep.model_validate(event)
    except ValidationError as error:
        return Refusal(name, validation_reason(error, _WHAT.get(name, name)))
    except SignalError as error:
        return Refusal(name, one_line(error))
    return Refusal("unknown", _unknown(event))


def sweep_message(raw_record: dict[str, object]) -> SweepMessage:
    """The body of one sweep-queue record, or :class:`SignalError` (one line) when it is not one."""
    try:
        return SweepRecord.model_validate(raw_record).body
    except ValidationError as error:
        raise SweepMessageRefused(validation_reason(error, "sweep message")) from None


class SweepMessageRefused(SignalError):
    """A sweep-queue record whose body is not one account to sweep: it fails alone, and dead-letters."""
