"""What the remediation tasks read and return: the Step Functions payloads, as pydantic models.

Field names are the ASL's: ``statemachines/remediation.asl.json`` reads ``$.decided.policy.*``
(:class:`PolicyDecision`), ``$.approval.decision`` (:class:`ApprovalOutcome`),
``$.tripped.trip`` (:class:`TripRecord`) and ``$.verified.still_running`` (:class:`VerifyResult`).
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tokenfuse.events import Action, Decision, UtcDateTime

Mode = Literal["notify", "approve", "auto", "dry-run"]
Choice = Literal["approve", "decline", "snooze"]
TimeoutDecision = Literal["trip", "timeout"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class RemediationIncident(BaseModel):
    """The incident as the execution input carries it (``{"incident": {...}}``).

    Unknown keys are ignored: the incidents module owns the full model, remediation reads this much.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    incident_id: str
    profile_arn: str
    profile_id: str
    profile_name: str | None = None
    account_id: str
    region: str
    team: str | None = None
    environment: str | None = None
    kind: str = "unknown"
    severity: str = "medium"
    slack_channel: str | None = None
    slack_ts: str | None = None
    cost_per_hour_usd: float | None = None
    baseline_cost_per_hour_usd: float | None = None
    opened_at: UtcDateTime | None = None
    protected: bool = False
    drill: bool = Field(
        default=False,
        description="a fire drill's incident (tokenfuse.drill): trips its canary even under DryRun, "
        "and only a profile tagged tokenfuse:drill=true",
    )


class PolicyDecision(_Model):
    """The policy task's output (``$.decided.policy``): the team's policy after every override.

    ``mode`` routes the state machine (``approve`` -> ask, ``auto`` -> trip, ``dry-run`` -> plan the
    trip and change nothing, ``notify`` -> audit only). Durations are whole seconds (>= 1) because
    ``TimeoutSecondsPath`` / ``SecondsPath`` read them.
    """

    mode: Mode
    team_mode: Literal["notify", "approve", "auto"]
    action: Action
    decision: Decision | None = Field(description="null while a person still has to decide")
    reasons: list[str]
    team: str = Field(description="the owning team, or finops for untagged/unknown owners")
    approver_team: str
    environment: str | None
    approval_timeout_seconds: int = Field(ge=1)
    snooze_seconds: int = Field(ge=1)
    verify_delay_seconds: int = Field(ge=0)
    cooldown_seconds: int = Field(ge=1)
    on_timeout: Literal["none", "trip"]
    dry_run: bool
    mechanism: Literal["guard-scp", "inline-deny"]
    trips_last_hour: int
    drill: bool = Field(default=False, description="a drill incident: the trip acts on its canary only")


class ApprovalOutcome(_Model):
    """What SendTaskSuccess returns to the waiting task (``$.approval``)."""

    decision: Choice | TimeoutDecision
    actor: str
    approval_id: str | None = None


ChangeStatus = Literal["pending", "applied"]
"""``pending``: written to the record *before* the AWS call, not yet read back as in force (a
Lambda that died mid-call leaves it so; :meth:`~tokenfuse.remediation.trip.Tripper.settle` reads
AWS and makes it ``applied`` or drops it). ``applied``: read back or confirmed by AWS."""


class ScpChange(_Model):
    policy_id: str
    arns_before: list[str]
    added: bool = Field(description="false when the ARN was already listed: restore leaves it")
    status: ChangeStatus = "pending"


class TagChange(_Model):
    key: str
    previous: str | None = Field(description="the tag's value before the trip; null = it was absent")
    set_to: str
    status: ChangeStatus = "pending"


class RolePolicyChange(_Model):
    account_id: str
    role_name: str
    policy_name: str
    previous_document: dict[str, Any] | None = Field(
        description="the role's policy of that name before the trip (kept beside tokenfuse's "
        "statement); null = tokenfuse added the policy"
    )
    status: ChangeStatus = "pending"


class ConcurrencyChange(_Model):
    account_id: str
    region: str
    function_name: str
    previous: int | None = Field(description="reserved concurrency before; null = none was set")
    set_to: int
    status: ChangeStatus = "pending"


class TripRecord(_Model):
    """What a trip has in force, with the prior state of each thing, so restore puts exactly that back.

    The record lists only changes that are in force (``applied``) or whose AWS call is under way
    (``pending``); a change that failed is not listed and its failure is in ``problems``.
    ``caller_roles`` / ``caller_functions`` are what the trip set out to change, so a record can
    tell a deny on some caller roles from a deny on all of them.
    """

    trip_id: str
    incident_id: str
    team: str | None = Field(default=None, description="the owning team, whose approvers may restore")
    profile_arn: str
    profile_id: str
    account_id: str
    region: str
    action: Action
    mechanism: Literal["guard-scp", "inline-deny"]
    dry_run: bool
    actor: str
    tripped_at: UtcDateTime
    restore_after: UtcDateTime | None
    caller_roles: list[str] = Field(default_factory=list, description="inline-deny: the roles to deny")
    caller_functions: list[str] = Field(default_factory=list, description="throttle: the functions to cap")
    scp: ScpChange | None = None
    tag: TagChange | None = None
    role_policies: list[RolePolicyChange] = Field(default_factory=list)
    concurrency: list[ConcurrencyChange] = Field(default_factory=list)
    complete: bool = Field(description="true once every change of the trip is applied")
    problems: list[str] = Field(
        default_factory=list, description="what failed (dry run: what would have failed), one line each"
    )

    @property
    def deny_in_force(self) -> bool:
        """True when the deny (what stops the spend) is applied in full: the guard SCP lists the
        ARN, or every caller role carries the inline deny."""
        if self.mechanism == "guard-scp":
            return self.scp is not None and self.scp.status == "applied"
        applied = {c.role_name for c in self.role_policies if c.status == "applied"}
        return bool(self.caller_roles) and set(self.caller_roles) <= applied

    @property
    def changes(self) -> list[ScpChange | TagChange | RolePolicyChange | ConcurrencyChange]:
        """Every recorded change, in the order the trip makes them."""
        return [
            *([self.scp] if self.scp else []),
            *self.role_policies,
            *([self.tag] if self.tag else []),
            *self.concurrency,
        ]

    @property
    def all_applied(self) -> bool:
        """Every change the trip set out to make is applied."""
        capped = {c.function_name for c in self.concurrency if c.status == "applied"}
        return (
            self.deny_in_force
            and self.tag is not None
            and self.tag.status == "applied"
            and (self.action != "throttle" or set(self.caller_functions) <= capped)
        )


class RestoreResult(_Model):
    profile_arn: str
    trip_id: str | None
    restored: bool
    dry_run: bool = False
    note: str
    actions: list[str] = Field(default_factory=list)


class VerifyResult(_Model):
    """``still_running`` is what the ASL reads; the rates explain it in the audit trail."""

    still_running: bool
    expect: Literal["stopped", "still-running"]
    before_tokens_per_minute: float
    after_tokens_per_minute: float
    threshold_ratio: float
    before_start: UtcDateTime
    split_at: UtcDateTime
    after_end: UtcDateTime


def seconds(minutes: float | int | None, default_minutes: float, minimum: int = 1) -> int:
    """Whole seconds from a policy's minutes (never below ``minimum``)."""
    value = default_minutes if minutes is None else minutes
    return max(minimum, round(float(value) * 60))


def utc_iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
