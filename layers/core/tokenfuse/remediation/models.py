"""What the remediation tasks read and return: the Step Functions payloads, as pydantic models.

Field names are the ASL's: ``statemachines/remediation.asl.json`` reads ``$.decided.policy.*``
(:class:`PolicyDecision`), ``$.approval.decision`` (:class:`ApprovalOutcome`),
``$.tripped.trip`` (:class:`TripRecord`) and ``$.verified.still_running`` (:class:`VerifyResult`).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from tokenfuse.arns import ACCOUNT_PATTERN, PROFILE_ARN, PROFILE_ID_PATTERN, REGION_PATTERN
from tokenfuse.events import Action, Decision, Severity, SpikeKind, UtcDateTime
from tokenfuse.remediation.caller_scope import Scope, caller_label, role_label

Mode = Literal["notify", "approve", "auto", "dry-run"]
Choice = Literal["approve", "decline", "snooze"]
TimeoutDecision = Literal["trip", "timeout"]

ProfileArn = Annotated[str, StringConstraints(pattern=f"^{PROFILE_ARN.pattern}$")]
ProfileId = Annotated[str, StringConstraints(pattern=f"^{PROFILE_ID_PATTERN}$")]
AccountId = Annotated[str, StringConstraints(pattern=f"^{ACCOUNT_PATTERN}$")]
Region = Annotated[str, StringConstraints(pattern=f"^{REGION_PATTERN}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""An id or name tokenfuse made or a tag gave (Bedrock tag values hold at most 256 characters)."""
Label = Annotated[str, StringConstraints(max_length=256)]
"""A descriptive value as it came (it may be empty)."""
Usd = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CallerSeen(BaseModel):
    """One caller of the culprit's spend as the incident names it (``culprit.callers``: the
    invocation-log meter's role ARNs with their share)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    role_arn: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    share: float = Field(ge=0, le=1)


class CulpritCallers(BaseModel):
    """What remediation reads of the incident's culprit: its callers (null: nobody named them)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    callers: list[CallerSeen] | None = None


class RemediationIncident(BaseModel):
    """The incident as the execution input carries it (``{"incident": {...}}``).

    Unknown keys are ignored: the incidents module owns the full model, remediation reads this much.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    incident_id: Name
    profile_arn: ProfileArn
    profile_id: ProfileId
    profile_name: Label | None = None
    account_id: AccountId
    region: Region
    team: Label | None = None
    environment: Label | None = None
    kind: SpikeKind = "unknown"
    severity: Severity = "medium"
    slack_channel: Label | None = None
    slack_ts: Label | None = None
    cost_per_hour_usd: Usd | None = None
    baseline_cost_per_hour_usd: Usd | None = None
    opened_at: UtcDateTime | None = None
    protected: StrictBool = False
    drill: StrictBool = Field(
        default=False,
        description="a fire drill's incident (tokenfuse.drill): trips its canary even under DryRun, "
        "and only a profile tagged tokenfuse:drill=true",
    )
    dedup_keys: list[str] = Field(default_factory=list, description="the incident's signals, first first")
    culprit: CulpritCallers | None = None

    @property
    def callers(self) -> list[tuple[str, float]]:
        """(role or session ARN, share) of each caller the invocation logs named."""
        named = self.culprit.callers if self.culprit is not None else None
        return [(c.role_arn, c.share) for c in named or []]

    @property
    def correlation_id(self) -> str:
        """The spike's correlation id in every log line: its first signal's dedup key (the incident
        id for an incident recorded before incidents carried their keys)."""
        return self.dedup_keys[0] if self.dedup_keys else self.incident_id

    @classmethod
    def of_trip(cls, record: "TripRecord") -> "RemediationIncident":
        """What a trip record knows of its incident (no thread: the incidents table has that)."""
        return cls(
            incident_id=record.incident_id,
            profile_arn=record.profile_arn,
            profile_id=record.profile_id,
            account_id=record.account_id,
            region=record.region,
            team=record.team,
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
    team: Name = Field(description="the owning team, or finops for untagged/unknown owners")
    approver_team: Name
    environment: str | None
    approval_timeout_seconds: int = Field(ge=1)
    snooze_seconds: int = Field(ge=1)
    verify_delay_seconds: int = Field(ge=0)
    cooldown_seconds: int = Field(ge=1)
    on_timeout: Literal["none", "trip"]
    dry_run: StrictBool
    mechanism: Literal["guard-scp", "inline-deny"]
    trips_last_hour: int
    scope: Scope = Field(default="profile", description="caller: block only ``callers`` on the profile")
    callers: list[str] = Field(
        default_factory=list, description="caller scope: the role or session ARNs to block, most spend first"
    )
    callers_share: float = Field(
        default=0.0, ge=0, le=1, description="caller scope: the blocked callers' share of the spend"
    )

    @property
    def caller_labels(self) -> list[str]:
        return [caller_label(arn) for arn in self.callers]

    drill: StrictBool = Field(default=False, description="a drill incident: the trip acts on its canary only")


def audited_decision(decision: Choice | TimeoutDecision) -> Decision:
    """An approval's decision as the audit names it: a time-out (with or without the policy's trip)
    is ``timeout``."""
    if decision == "trip" or decision == "timeout":  # noqa: PLR1714 - two comparisons narrow the type
        return "timeout"
    return decision


class ApprovalOutcome(_Model):
    """What SendTaskSuccess returns to the waiting task (``$.approval``)."""

    decision: Choice | TimeoutDecision
    actor: str
    approval_id: str | None = None


ChangeStatus = Literal["pending", "applied"]
"""``pending``: written to the record *before* the AWS call, not yet read back as in force (a
Lambda that died mid-call leaves it so; :meth:`~tokenfuse.remediation.trip.Tripper.settle` reads
AWS and makes it ``applied`` or drops it). ``applied``: read back or confirmed by AWS."""


class _Change(_Model):
    status: ChangeStatus = "pending"

    def applied(self) -> Self:
        """This change, read back or confirmed by AWS as in force."""
        return self.model_copy(update={"status": "applied"})


class ScpChange(_Change):
    policy_id: str
    arns_before: list[str]
    added: bool = Field(description="false when the ARN was already listed: restore leaves it")


class TagChange(_Change):
    key: str
    previous: str | None = Field(description="the tag's value before the trip; null = it was absent")
    set_to: str


class RolePolicyChange(_Change):
    account_id: str
    role_name: str
    policy_name: str
    previous_document: dict[str, Any] | None = Field(
        description="the role's policy of that name before the trip (kept beside tokenfuse's "
        "statement); null = tokenfuse added the policy"
    )


class CallerScpChange(_Change):
    """The guard SCP's statement ``sid`` denying the profile to the listed roles
    (``ArnLike aws:PrincipalArn``)."""

    policy_id: str
    sid: str
    role_arns: list[str] = Field(description="the roles this trip denies (their ARNs with paths)")
    arns_before: list[str] = Field(description="the roles the statement denied before the trip")
    added: list[str] = Field(description="the roles this trip added (restore removes only these)")


class ConcurrencyChange(_Change):
    account_id: str
    region: str
    function_name: str
    previous: int | None = Field(description="reserved concurrency before; null = none was set")
    set_to: int


Change = ScpChange | CallerScpChange | TagChange | RolePolicyChange | ConcurrencyChange


class CallerTarget(_Model):
    """One caller a caller-scope trip blocks: its role (every session of it)."""

    named_as: str = Field(description="the ARN as the incident named it (a session or role ARN)")
    role_name: str
    role_arn: str = Field(description="the role's ARN with its path (iam:GetRole)")

    @property
    def label(self) -> str:
        return role_label(self.role_name)


class TripRecord(_Model):
    """What a trip has in force, with the prior state of each thing, so restore puts exactly that back.

    The record lists only changes that are in force (``applied``) or whose AWS call is under way
    (``pending``); a change that failed is not listed and its failure is in ``problems``.
    ``caller_roles`` / ``caller_functions`` are what the trip set out to change, so a record can
    tell a deny on some caller roles from a deny on all of them.
    """

    trip_id: str
    incident_id: str
    correlation_id: str | None = Field(
        default=None, description="the spike's correlation id (its incident's first dedup key)"
    )
    team: str | None = Field(default=None, description="the owning team, whose approvers may restore")
    profile_arn: str
    profile_id: str
    account_id: str
    region: str
    action: Action
    mechanism: Literal["guard-scp", "inline-deny"]
    dry_run: StrictBool
    actor: str
    tripped_at: UtcDateTime
    restore_after: UtcDateTime | None
    caller_roles: list[str] = Field(default_factory=list, description="inline-deny: the roles to deny")
    caller_functions: list[str] = Field(default_factory=list, description="throttle: the functions to cap")
    profile_name: str | None = None
    scope: Scope = "profile"
    callers: list[CallerTarget] = Field(default_factory=list, description="caller scope: the roles blocked")
    notes: list[str] = Field(
        default_factory=list, description="what a reader must know (a caller refused, the SCP full)"
    )
    scp: ScpChange | None = None
    caller_scp: CallerScpChange | None = None
    tag: TagChange | None = None
    role_policies: list[RolePolicyChange] = Field(default_factory=list)
    concurrency: list[ConcurrencyChange] = Field(default_factory=list)
    complete: StrictBool = Field(description="true once every change of the trip is applied")
    problems: list[str] = Field(
        default_factory=list, description="what failed (dry run: what would have failed), one line each"
    )

    @property
    def deny_in_force(self) -> bool:
        """True when the deny (what stops the spend) is applied in full: the guard SCP lists the
        ARN, or every caller role carries the inline deny."""
        applied = {c.role_name for c in self.role_policies if c.status == "applied"}
        if self.scope == "caller":
            scp = self.caller_scp
            in_scp = set(scp.role_arns) if scp is not None and scp.status == "applied" else set()
            return bool(self.callers) and all(
                t.role_arn in in_scp or t.role_name in applied for t in self.callers
            )
        if self.mechanism == "guard-scp":
            return self.scp is not None and self.scp.status == "applied"
        return bool(self.caller_roles) and set(self.caller_roles) <= applied

    @property
    def changes(self) -> list[Change]:
        """Every recorded change, in the order the trip makes them."""
        return [
            *([self.scp] if self.scp else []),
            *([self.caller_scp] if self.caller_scp else []),
            *self.role_policies,
            *([self.tag] if self.tag else []),
            *self.concurrency,
        ]

    @property
    def all_applied(self) -> bool:
        """Every change the trip set out to make is applied."""
        capped = {c.function_name for c in self.concurrency if c.status == "applied"}
        if self.scope == "caller":  # the deny only: no tag (it would block every caller), no caps
            return self.deny_in_force
        return (
            self.deny_in_force
            and self.tag is not None
            and self.tag.status == "applied"
            and (self.action != "throttle" or set(self.caller_functions) <= capped)
        )

    def with_change(self, change: Change, *, present: bool = True) -> "TripRecord":
        """The record with ``change`` in it (replacing the change of the same thing), or without it
        (``present=False``: it is no longer, or never was, in force)."""
        match change:
            case ScpChange():
                return self.model_copy(update={"scp": change if present else None})
            case CallerScpChange():
                return self.model_copy(update={"caller_scp": change if present else None})
            case TagChange():
                return self.model_copy(update={"tag": change if present else None})
            case RolePolicyChange():
                role = change.role_name
                policies = _replaced(self.role_policies, change, lambda c: c.role_name == role, present)
                return self.model_copy(update={"role_policies": policies})
            case ConcurrencyChange():
                name = change.function_name
                caps = _replaced(self.concurrency, change, lambda c: c.function_name == name, present)
                return self.model_copy(update={"concurrency": caps})

    def without_change(self, change: Change) -> "TripRecord":
        return self.with_change(change, present=False)


def _replaced[C: (RolePolicyChange, ConcurrencyChange)](
    changes: list[C], change: C, same: Callable[[C], bool], present: bool
) -> list[C]:
    """``changes`` with the one ``same`` picks replaced by ``change`` in its place (appended when
    absent), or removed (``present=False``)."""
    out: list[C] = []
    found = False
    for existing in changes:
        if not same(existing):
            out.append(existing)
            continue
        found = True
        if present:
            out.append(change)
    if present and not found:
        out.append(change)
    return out


class RestoreResult(_Model):
    profile_arn: str
    trip_id: str | None
    restored: bool
    dry_run: bool = False
    note: str
    actions: list[str] = Field(default_factory=list)


class VerifyResult(_Model):
    """``still_running`` is what the ASL reads; the rates explain it in the audit trail."""

    still_running: StrictBool
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
