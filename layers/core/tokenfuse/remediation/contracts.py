"""What each remediation task is given and what it returns: the Lambda payloads of
``statemachines/remediation.asl.json`` (and of ``tokenfuse restore``, the Restore button and the
restore-on-delete custom resource), as pydantic models.

Every Task state's ``Payload`` is one member of :data:`TaskInput`, told apart by ``task``;
:func:`parse_task` reads a payload once, before any task runs, so a task never meets a missing
key. A payload that is no task input is :class:`~tokenfuse.remediation.errors.InvalidTaskInput`
with one line naming the task and the field. Each task returns the model :data:`TASK_RESULTS` names;
the ASL's ``ResultSelector`` paths read those models' fields
(``tests/unit/test_remediation_asl_contracts.py`` walks the definition to check both ends).

Field names are the ASL's. The state machine's own state (what ``Escalate`` and ``Audit`` receive
whole, ``"state.$": "$"``) is :class:`ExecutionState`: each key is what one state's ``ResultPath``
put there.
"""

import json
from functools import cache
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from tokenfuse.arns import PROFILE_ARN
from tokenfuse.remediation.audit import SYSTEM_ACTOR
from tokenfuse.remediation.errors import InvalidTaskInput
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    Choice,
    Name,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    TimeoutDecision,
    TripRecord,
    VerifyResult,
)
from tokenfuse.text import one_line

TASK_TOKEN_MAX_LENGTH = 2048
"""Step Functions' limit on a task token (``SendTaskSuccess``'s ``taskToken``)."""


class _Contract(BaseModel):
    """A payload the ASL builds field by field: an unknown key is a mistake in the definition."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")


# -- pieces of the execution's state ----------------------------------------------------------------


class StatesError(BaseModel):
    """What a ``Catch`` (or the ``SpendNotStopped`` Pass state) puts at its ResultPath."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")

    def text(self) -> str:
        """``<error type>: <message>``; a Lambda error's Cause is its JSON ``errorType`` /
        ``errorMessage``, which name the failure better than the Catch's ``Error``."""
        name, message = self.error, self.cause
        try:
            parsed = json.loads(message)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            name = str(parsed.get("errorType", name))
            message = str(parsed.get("errorMessage", message))
        return f"{name}: {message}".strip(": ")


class Decided(_Contract):
    """``$.decided``: the policy task's output (DecidePolicy's ResultSelector)."""

    policy: PolicyDecision


class TripApproval(_Contract):
    """``$.approval`` when the Trip state runs: NoApprovalNeeded's Result (``decision`` null), the
    approver's SendTaskSuccess output (``approve``) or ApprovalTimedOut's (``trip``)."""

    decision: Literal["approve", "trip"] | None
    actor: Name
    approval_id: str | None = None


class StateApproval(_Contract):
    """``$.approval`` wherever the execution went: any of :class:`TripApproval`'s sources, a
    decline or snooze from an approver, or a timeout without a trip."""

    decision: Choice | TimeoutDecision | None
    actor: Name
    approval_id: str | None = None


class SpendCheck(_Contract):
    """``$.recheck`` / ``$.verified``: the verify task's ``still_running`` (its ResultSelector)."""

    still_running: StrictBool


class Tripped(_Contract):
    """``$.tripped``: the trip task's record (Trip's ResultSelector), or Escalate's answer: the trip
    still in force (null: none) and whether its automatic restore is due."""

    trip: TripRecord | None
    restore_due: StrictBool | None = None


class Restored(_Contract):
    """``$.restored``: the restore task's result (Restore's ResultSelector)."""

    restored: StrictBool
    note: str


FailedStep = Literal["restore", "other", "trip"]

FAILURE_KEYS: tuple[tuple[str, FailedStep], ...] = (
    ("restore_error", "restore"),
    ("error", "other"),
    ("trip_error", "trip"),
)
"""Where the ASL's Catches put an error, latest first: Restore's, any other step's, Trip's."""


class ExecutionState(BaseModel):
    """The state machine's state as ``Escalate`` and ``Audit`` receive it. Keys the ASL adds that
    these tasks do not read (``timed_out``, ``audit``, ...) are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    incident: RemediationIncident
    decided: Decided | None = None
    approval: StateApproval | None = None
    recheck: SpendCheck | None = None
    tripped: Tripped | None = None
    verified: SpendCheck | None = None
    restored: Restored | None = None
    error: StatesError | None = None
    trip_error: StatesError | None = None
    restore_error: StatesError | None = None

    @property
    def policy(self) -> PolicyDecision | None:
        return self.decided.policy if self.decided else None

    @property
    def trip(self) -> TripRecord | None:
        return self.tripped.trip if self.tripped else None

    def failure(self) -> tuple[FailedStep, str] | None:
        """The step that failed last (``restore`` / ``other`` / ``trip``) and its error, if any."""
        for key, where in FAILURE_KEYS:
            error: StatesError | None = getattr(self, key)
            if error is not None:
                return where, error.text()
        return None


class AuditState(ExecutionState):
    """The Audit state runs only after DecidePolicy: the policy is there."""

    decided: Decided


# -- the task inputs ---------------------------------------------------------------------------------


class PolicyTask(_Contract):
    task: Literal["policy"]
    incident: RemediationIncident


class RequestApprovalTask(_Contract):
    task: Literal["request-approval"]
    incident: RemediationIncident
    policy: PolicyDecision
    task_token: str = Field(min_length=1, max_length=TASK_TOKEN_MAX_LENGTH)


class ApprovalDecidedTask(_Contract):
    task: Literal["approval-decided"]
    incident: RemediationIncident
    policy: PolicyDecision
    approval: ApprovalOutcome


class ApprovalTimedOutTask(_Contract):
    task: Literal["approval-timed-out"]
    incident: RemediationIncident
    policy: PolicyDecision


class TripTask(_Contract):
    task: Literal["trip"]
    incident: RemediationIncident
    policy: PolicyDecision
    approval: TripApproval


class VerifyStoppedTask(_Contract):
    """After a trip: did the token rate fall since ``trip.tripped_at``?"""

    task: Literal["verify"]
    expect: Literal["stopped"]
    incident: RemediationIncident
    policy: PolicyDecision
    trip: TripRecord


class VerifyStillRunningTask(_Contract):
    """After a snooze of ``since_seconds``: does the spike go on?"""

    task: Literal["verify"]
    expect: Literal["still-running"]
    incident: RemediationIncident
    policy: PolicyDecision
    since_seconds: int = Field(ge=1)


VerifyTask = Annotated[VerifyStoppedTask | VerifyStillRunningTask, Field(discriminator="expect")]


class RestoreTask(_Contract):
    """The automatic restore after a throttle's cooldown."""

    task: Literal["restore"]
    incident: RemediationIncident
    trip: TripRecord
    actor: Name


class EscalateTask(_Contract):
    task: Literal["escalate"]
    state: ExecutionState


class AuditTask(_Contract):
    task: Literal["audit"]
    execution: str = Field(min_length=1, description="the execution's ARN ($$.Execution.Id)")
    state: AuditState


def _profile_arn(value: str) -> str:
    if not PROFILE_ARN.fullmatch(value):
        raise ValueError("not an application inference profile ARN")
    return value


class RestoreProfilesTask(_Contract):
    """``tokenfuse restore <arn>`` / ``--all`` and the Restore button: lift active trips by hand."""

    task: Literal["restore-profiles"]
    profile_arn: Annotated[str, AfterValidator(_profile_arn)] | None = None
    all: StrictBool = False
    actor: Name = SYSTEM_ACTOR

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.all == (self.profile_arn is not None):
            raise ValueError("give profile_arn or all=true (not both)")
        return self


TaskInput = Annotated[
    PolicyTask
    | RequestApprovalTask
    | ApprovalDecidedTask
    | ApprovalTimedOutTask
    | TripTask
    | VerifyTask
    | RestoreTask
    | EscalateTask
    | AuditTask
    | RestoreProfilesTask,
    Field(discriminator="task"),
]
"""Every payload RemediateFunction takes (besides CloudFormation's custom resource events)."""

TaskName = Literal[
    "policy",
    "request-approval",
    "approval-decided",
    "approval-timed-out",
    "trip",
    "verify",
    "restore",
    "escalate",
    "audit",
    "restore-profiles",
]


# -- the task results ---------------------------------------------------------------------------------


class ApprovalRequested(_Contract):
    """request-approval's answer (Step Functions waits for the token; the audit keeps the details)."""

    approval_id: str
    via: Literal["slack", "email"]
    deadline: str


class EscalationResult(_Contract):
    """escalate's answer: Escalate's ResultSelector reads ``trip`` and ``restore_due``."""

    escalated_to: list[str]
    error: str
    trip: TripRecord | None = Field(description="this incident's trip still in force, after settling")
    restore_due: bool = Field(description="a throttle in force whose automatic restore has not failed yet")


class AuditSummary(_Contract):
    """audit's answer (``$.audit.outcome``: the Closed choice reads ``failed``)."""

    execution: str
    decision: str | None
    actor: str | None
    outcome: str
    trip_id: str | None
    recheck: SpendCheck | None
    failed: bool
    failed_step: FailedStep | None


class ManualRestoreResult(_Contract):
    """restore-profiles' answer: what was restored, and one line per profile that failed."""

    results: list[RestoreResult]
    failed: list[str]


TaskResult = (
    PolicyDecision
    | ApprovalRequested
    | ApprovalOutcome
    | TripRecord
    | VerifyResult
    | RestoreResult
    | EscalationResult
    | AuditSummary
    | ManualRestoreResult
)

TASK_RESULTS: dict[TaskName, type[TaskResult]] = {
    "policy": PolicyDecision,
    "request-approval": ApprovalRequested,
    "approval-decided": ApprovalOutcome,
    "approval-timed-out": ApprovalOutcome,
    "trip": TripRecord,
    "verify": VerifyResult,
    "restore": RestoreResult,
    "escalate": EscalationResult,
    "audit": AuditSummary,
    "restore-profiles": ManualRestoreResult,
}


# -- reading a payload ---------------------------------------------------------------------------------


@cache
def _task_input() -> TypeAdapter[TaskInput]:
    """Built on first use, not at import (cold start)."""
    return TypeAdapter(TaskInput)


def parse_task(payload: object) -> TaskInput:
    """The task input ``payload`` is; else :class:`InvalidTaskInput`, one line naming the task and
    the first field that is wrong."""
    try:
        return _task_input().validate_python(payload)
    except ValidationError as error:
        raise InvalidTaskInput(invalid_input_line(payload, error.errors(include_url=False))) from error


def invalid_input_line(payload: object, errors: list[ErrorDetails], tag: str = "task") -> str:
    """``<task>: <field path>: <what is wrong>`` (and how many more fields are wrong); ``tag`` is
    the field that tells the payload's kinds apart."""
    if not isinstance(payload, dict):
        return f"the payload is {type(payload).__name__}, not a JSON object naming a {tag}"
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    if not loc:  # the discriminator itself
        if first["type"] == "union_tag_invalid":
            return f"unknown {tag} {one_line(payload.get(tag), 60)!r}"
        return f"the payload names no {tag}"
    kind, fields = loc[0], loc[1:]
    if first["type"] in {"union_tag_invalid", "union_tag_not_found"}:  # verify's own union
        what = "missing" if first["type"] == "union_tag_not_found" else "not stopped or still-running"
        return f"{kind}: expect: {what}"
    if kind == "verify" and fields and fields[0] in {"stopped", "still-running"}:
        fields = fields[1:]  # the inner union's tag: the payload's expect
    where = ".".join(fields) or "payload"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{kind}: {where}: {one_line(first['msg'], 160)}{more}"
