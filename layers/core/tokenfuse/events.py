"""The events on tokenfuse's bus, as pydantic models (see shared/contracts.md, "Event models").

Keys are snake_case; an optional field that is unknown is ``null``, never left out; timestamps are
UTC ISO-8601 ending in ``Z``; money is USD, with ``unit`` where a figure is not dollars.

Schema versions
---------------
Every event on the bus (each model in :data:`DETAIL_TYPES`) and the incident the remediation state
machine receives carry ``schema_version`` in their ``detail``: :data:`SCHEMA_VERSION` when written.
A consumer reads the current version and the previous one, :data:`PREVIOUS_SCHEMA_VERSION`, so a
deploy never strands an event written by the release before it, whether it was in flight (an
EventBridge retry, a dead-letter queue being redriven, a running execution) or is replayed from the
bus archive. The previous version is upgraded on read (:data:`READABLE_VERSIONS`); the model then
holds, and writes again, the current one.

- v0: the events before the field existed (no ``schema_version`` key at all; ``0`` is read the same).
- v1: ``schema_version`` added; nothing else changed, so reading v0 only sets the field.

Any other value (a newer version written by a release this code predates, say during a rollback,
or a value that is not an integer) is refused whole with one line
(:class:`~tokenfuse.errors.UnsupportedSchemaVersion`): the invocation fails and the event waits in
its dead-letter queue, to be redriven once a release that reads it is deployed. It is never half
read. The rule for the next change: adding an optional field with a default is still v1 (every
consumer of the same release accepts it; ``extra="forbid"`` refuses it only in an older release,
which is the rollback case above); renaming, removing or re-typing a field is v2, with the v1 -> v2
upgrade written in :func:`_upgraded` and v0 no longer read. The archive keeps events 400 days (prod):
replaying one older than the previous version needs the release that wrote it.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from tokenfuse.errors import UnsupportedSchemaVersion

SCHEMA_VERSION = 1
"""The schema version tokenfuse writes on every bus event (and the remediation incident)."""
PREVIOUS_SCHEMA_VERSION = 0
"""The version before it, still read: v0, the events that carry no ``schema_version``."""
READABLE_VERSIONS = (PREVIOUS_SCHEMA_VERSION, SCHEMA_VERSION)

SignalSource = Literal["cost-anomaly", "budget", "token-rate-alarm", "invocation-log"]
SpikeKind = Literal["request-storm", "output-runaway", "context-bloat", "rate-shift", "unknown"]
Action = Literal["throttle", "detach", "none"]
Decision = Literal["approve", "decline", "snooze", "timeout", "auto", "notify", "dry-run", "protected"]
Severity = Literal["low", "medium", "high", "critical"]


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise ValueError("timestamp is outside the calendar once in UTC") from None


UtcDateTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ"), return_type=str, when_used="json"),
]
"""A timezone-aware instant, normalised to UTC and written as ``2026-11-27T03:00:00Z``."""


class BusModel(BaseModel):
    """Base of every event model: immutable, strict about unknown keys, JSON with every key present."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    def to_bus(self) -> dict[str, Any]:
        """The event's ``detail`` as it goes on the bus (every key present, nulls included)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_bus(cls, detail: dict[str, Any]) -> Self:
        return cls.model_validate(detail)


def _upgraded(detail: dict[str, Any], version: int) -> dict[str, Any]:
    """``detail`` of a readable ``version`` as the current version reads it. v0 -> v1: v1 only
    added ``schema_version`` itself."""
    if version == SCHEMA_VERSION:
        return detail
    return {**detail, "schema_version": SCHEMA_VERSION}


class BusEvent(BusModel):
    """A model that travels on its own (a bus event's ``detail``, the remediation incident): it
    carries ``schema_version`` and reads the current and the previous version (see the module)."""

    schema_version: int = Field(
        default=SCHEMA_VERSION, description="the detail's schema version (absent in v0 events)"
    )

    @model_validator(mode="before")
    @classmethod
    def _readable_version(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # an instance, or not an object at all: pydantic refuses the latter itself
        version = data.get("schema_version", PREVIOUS_SCHEMA_VERSION)
        # bool is an int to Python, and 1.0 == 1: only a true integer names a version
        if type(version) is not int or version not in READABLE_VERSIONS:
            shown = repr(version)[:40]
            raise UnsupportedSchemaVersion(
                f"{cls.__name__} schema_version {shown} is not one this tokenfuse reads "
                f"({PREVIOUS_SCHEMA_VERSION} or none, and {SCHEMA_VERSION}): refused whole, redrive it "
                "after deploying a release that reads it"
            )
        return _upgraded(data, version)


# --------------------------------------------------------------------------------------------
# Signals in
# --------------------------------------------------------------------------------------------


class CallerShare(BusModel):
    """One caller (an IAM role) behind a culprit's spend, as model invocation logs name it."""

    role_arn: str
    share: float = Field(ge=0, le=1)


class RootCause(BusModel):
    """One root cause of a Cost Anomaly Detection anomaly, as it came."""

    account_id: str | None = None
    account_name: str | None = None
    region: str | None = None
    service: str | None = None
    usage_type: str | None = None
    contribution_usd: float | None = None


class SpendSignal(BusEvent):
    """Any spend signal (CAD anomaly, Budgets alert, token-rate alarm), normalised.

    ``dedup_key`` is equal for re-deliveries of one notification and differs for a re-alert with
    new facts (a CAD anomaly whose impact grew).
    """

    source: SignalSource
    dedup_key: str
    received_at: UtcDateTime
    account_id: str | None = None
    region: str | None = None
    window_start: UtcDateTime
    window_end: UtcDateTime

    # Amounts (USD unless ``unit`` says otherwise: usage budgets)
    actual_usd: float | None = None
    expected_usd: float | None = None
    impact_usd: float | None = None
    impact_percent: float | None = None
    threshold_usd: float | None = None
    threshold_percent: float | None = None
    forecasted_usd: float | None = None
    budgeted_usd: float | None = None
    actual_amount: float | None = None
    threshold_amount: float | None = None
    forecasted_amount: float | None = None
    budgeted_amount: float | None = None
    unit: str | None = None

    # Cost Anomaly Detection
    anomaly_id: str | None = None
    monitor_arn: str | None = None
    monitor_name: str | None = None
    anomaly_score: float | None = None
    details_url: str | None = None
    root_causes: list[RootCause] = Field(default_factory=list)

    # Budgets
    budget_name: str | None = None
    budget_type: Literal["cost", "usage"] | None = None
    notification_type: Literal["ACTUAL", "FORECASTED"] | None = None
    time_unit: Literal["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"] | None = None
    cost_filters: dict[str, list[str]] | None = None

    # Token-rate alarm
    alarm_name: str | None = None
    alarm_arn: str | None = None
    metric_name: str | None = None
    metric_value: float | None = None
    alarm_threshold: float | None = None
    profile_id: str | None = None
    profile_arn: str | None = None

    # Invocation-log meter (spend-rate): the burn over ``window_start`` .. ``window_end``; the
    # window's dollars are ``actual_usd``
    burn_usd_per_hour: float | None = None
    burn_threshold_usd_per_hour: float | None = None
    model_ids: list[str] = Field(default_factory=list)
    callers: list[CallerShare] | None = None

    # Where it came from (for the audit trail, never parsed again)
    raw_source: Literal["sns", "sqs-sns", "eventbridge"]
    summary: str


ThresholdBasis = Literal["policy", "baseline", "floor"]


class SpendRate(BusEvent):
    """The invocation-log meter's spend-rate event: one subject's dollar burn rate stayed above its
    armed threshold for the whole window (``burn_seconds``, 10-second buckets), measured from
    Bedrock model invocation logs priced per request. Sent once per subject per re-alert period
    (``dedup_key``: subject and window start), from the member account to tokenfuse's bus.

    ``subject`` is ``profile`` for an application inference profile (``profile_arn`` set), else
    ``direct-model`` (a foundation model or a system profile called straight: ``profile_arn``
    null, ``model_ids`` names what was called). ``callers`` are IAM role ARNs (mapped from the
    session ARNs in ``identity.arn``) with their share of the window's dollars, largest first.
    """

    source: Literal["invocation-log"] = "invocation-log"
    dedup_key: str
    measured_at: UtcDateTime
    account_id: str
    region: str
    subject: Literal["profile", "direct-model"]
    profile_arn: str | None
    profile_id: str | None
    model_ids: list[str]
    window_start: UtcDateTime
    window_end: UtcDateTime
    window_usd: float = Field(ge=0)
    burn_usd_per_hour: float = Field(ge=0)
    threshold_usd_per_hour: float = Field(ge=0)
    threshold_basis: ThresholdBasis
    bucket_seconds: int = Field(gt=0)
    invocations: int = Field(ge=0)
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cache_read_tokens: int = Field(ge=0)
    cache_write_tokens: int = Field(ge=0)
    unpriced_models: list[str] = Field(default_factory=list)
    callers: list[CallerShare]


# --------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------


class TokensPerRequest(BusModel):
    input: float | None = None
    output: float | None = None


CulpritSubject = Literal["profile", "direct-model"]
ReadMethod = Literal["metrics-insights", "metric-stat"]


class PeakHours(BusModel):
    """The spike as it ran inside a long window (CAD's day, a Budgets period): the longest run of
    hours above the baseline, at most six, where the kind and the per-hour rates are measured."""

    start: UtcDateTime
    end: UtcDateTime
    hours: float = Field(gt=0, description="the run's length; a running last hour counts for its minutes")
    cost_usd: float | None
    baseline_cost_usd: float | None
    delta_usd: float | None
    tokens: float
    baseline_tokens: float


class ArrivalRate(BusModel):
    """A culprit's rate in the last complete hour before its signal arrived, when its window ends
    earlier (CAD reports a day's anomaly hours later; a daily budget the day before): what it
    spends now, not what it spent in the window."""

    hour_start: UtcDateTime
    hour_end: UtcDateTime
    cost_per_hour_usd: float | None = Field(description="null: the model has no price")
    tokens_per_hour: float = Field(ge=0)


class Culprit(BusModel):
    """One part of a spike: an application inference profile, or spend no profile explains.

    ``subject`` is ``profile`` for an application inference profile, ``direct-model`` for calls made
    straight to a foundation model or a system inference profile: then ``profile_arn``,
    ``profile_id`` and ``profile_name`` are null and ``model_ids`` names the one model called.

    Window totals (``window_cost_usd``, ``baseline_cost_usd``, ``delta_usd``, ``share``,
    ``invocations``) cover the whole window. The rates, tokens per request and kind come from the
    ``peak`` hours when the window is long (more than six hours) and has a run above the baseline,
    from the whole window otherwise.
    """

    subject: CulpritSubject = "profile"
    profile_arn: str | None
    profile_id: str | None
    profile_name: str | None = None
    account_id: str
    region: str
    model_ids: list[str] = Field(default_factory=list)
    unpriced_models: list[str] = Field(default_factory=list)
    rate_basis: str | None = Field(
        default=None,
        description="which rate the dollars use and what was assumed: the AWS/Bedrock metrics carry no "
        "service tier, cache TTL or batch (null: unpriced, or not said)",
    )
    callers: list[CallerShare] | None = Field(
        default=None,
        description="role ARNs with their share, where invocation logs name them (null: unknown)",
    )

    team: str | None = None
    feature: str | None = None
    environment: str | None = None
    cost_center: str | None = None
    tagged: bool
    protected: bool = False

    # Dollar figures are null when the profile's model has no price (see ``unpriced_models``):
    # an unpriced model is flagged, never priced at 0.
    window_cost_usd: float | None
    baseline_cost_usd: float | None
    delta_usd: float | None
    share: float | None = Field(ge=0, le=1, description="this culprit's part of the attributed spike")
    cost_per_hour_usd: float | None
    baseline_cost_per_hour_usd: float | None
    month_end_usd: float | None = Field(
        description="month-to-date plus the rest of the month at the current rate"
    )
    tokens_per_hour: float | None = Field(
        default=None, description="every token read and written per hour (the rate an unpriced model shows)"
    )
    baseline_tokens_per_hour: float | None = None

    invocations: int
    baseline_invocations: float
    tokens_per_request: TokensPerRequest
    baseline_tokens_per_request: TokensPerRequest
    kind: SpikeKind
    peak: PeakHours | None = None
    hourly_cost_usd: list[float] = Field(
        default_factory=list,
        description="$/h of each hour, oldest first, up to the window end (sparklines); a running last "
        "hour is its rate over the minutes that passed (see last_hour_minutes)",
    )
    last_hour_minutes: int | None = Field(
        default=None,
        ge=1,
        le=59,
        description="minutes of the last hour that had passed when it was still running (null: a whole hour)",
    )
    rate_at_arrival: ArrivalRate | None = Field(
        default=None,
        description="the rate in the last complete hour before the signal arrived, read when the window "
        "ends before that hour (null: the window holds it, or it could not be read)",
    )

    @property
    def is_direct_model(self) -> bool:
        return self.subject == "direct-model"

    @property
    def subject_key(self) -> str:
        """What an incident is keyed by: the profile ARN, or account, region and model id."""
        return subject_key(self.subject, self.profile_arn, self.account_id, self.region, self.model_ids)

    @property
    def label(self) -> str:
        """How people read the culprit's name: the profile's name or id, or the model called."""
        if self.is_direct_model:
            return f"direct calls to {self.model_ids[0] if self.model_ids else 'a model'}"
        return self.profile_name or self.profile_id or "an inference profile"


def subject_key(
    subject: CulpritSubject, profile_arn: str | None, account_id: str, region: str, model_ids: list[str]
) -> str:
    if subject == "profile" and profile_arn:
        return profile_arn
    model = model_ids[0] if model_ids else "unknown-model"
    return f"direct-model/{account_id}/{region}/{model}"


class ScopeRead(BusModel):
    """How one account and region was read, and what it cost."""

    account_id: str | None
    region: str
    method: ReadMethod
    reason: str | None = Field(
        default=None, description="why MetricStat reads replaced Metrics Insights (null: they did not)"
    )
    series: int | None = Field(default=None, description="ModelId series seen or listed in the scope")
    get_metric_data_calls: int = 0


class SpikeAttributed(BusEvent):
    """A spend signal attributed, in dollars, to the inference profiles (and direct model calls) behind it.

    ``window_end`` is the attribution time when the window reaches into the hour still running (an
    alarm at 12:03 reads 12:03); ``last_hour_minutes`` then says how much of that hour had passed.
    """

    signal: SpendSignal
    attributed_at: UtcDateTime
    window_start: UtcDateTime
    window_end: UtcDateTime
    last_hour_minutes: int | None = Field(default=None, ge=1, le=59)
    baseline_days: int
    window_cost_usd: float
    baseline_cost_usd: float
    spike_usd: float
    direct_model_usd: float = Field(
        default=0.0, ge=0, description="the part of the spike direct model calls explain (in spike_usd)"
    )
    unattributed_usd: float | None = Field(
        default=None, description="the part of the signal's dollars nothing measured explains"
    )
    severity: Severity
    culprits: list[Culprit]
    reads: list[ScopeRead] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="what a reader must know about the figures")


# --------------------------------------------------------------------------------------------
# Incidents and remediation
# --------------------------------------------------------------------------------------------


IncidentStatus = Literal["open", "closed", "planned"]
CardStage = Literal[
    "detected",
    "awaiting-approval",
    "approved",
    "declined",
    "snoozed",
    "timed-out",
    "blocked",
    "verified",
    "still-running",
    "escalated",
    "restored",
    "closed",
]


class StatusCard(BusModel):
    """Where the incident stands, as its root post (a live status card, edited in place) shows it.

    ``since`` is when it reached ``stage``; ``rate_usd_per_hour`` the spend rate last measured (at
    ``rate_at``); ``who`` the approvers asked, or the person who decided; ``until`` the approval's
    deadline, a snooze's end or the automatic restore; ``blocked`` exactly what is in force;
    ``approval_channel`` / ``approval_ts`` the approval request whose buttons the decision replaces.
    """

    stage: CardStage = "detected"
    since: UtcDateTime
    action: Action = "none"
    cooldown_seconds: int | None = Field(default=None, ge=1, description="a throttle's block")
    rate_usd_per_hour: float | None = None
    rate_at: UtcDateTime | None = None
    who: list[str] = Field(default_factory=list, description="Slack user ids or email addresses")
    until: UtcDateTime | None = None
    blocked: list[str] = Field(default_factory=list)
    outcome: str | None = Field(default=None, description="what the remediation did, in words")
    approval_channel: str | None = None
    approval_ts: str | None = None


class Incident(BusEvent):
    """One culprit (a profile, or one account, region and model's direct calls) over one open
    interval: what the notify function records and the
    remediation state machine receives as ``{"incident": ...}`` (see contracts "Incidents").

    ``slack_ts`` is the thread the incident's messages go to; ``slack_message_ts`` is the
    incident's own message (the same, unless the incident was posted into a team's digest thread).
    ``team`` is null when FinOps owns the incident (untagged or unknown team).
    """

    incident_id: str
    status: IncidentStatus = "open"
    subject: CulpritSubject = "profile"
    profile_arn: str | None = Field(description="null for spend no profile explains (direct model calls)")
    profile_id: str | None
    profile_name: str | None = None
    account_id: str
    region: str
    team: str | None
    team_tag: str | None = Field(default=None, description="the profile's team tag value as it came")
    feature: str | None = None
    environment: str | None = None
    kind: SpikeKind
    severity: Severity
    protected: bool = False
    cost_per_hour_usd: float | None
    baseline_cost_per_hour_usd: float | None
    month_end_usd: float | None = None
    window_start: UtcDateTime
    window_end: UtcDateTime
    opened_at: UtcDateTime
    updated_at: UtcDateTime
    last_signal_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    signal_count: int = 1
    sources: list[SignalSource] = Field(default_factory=list)
    dedup_keys: list[str] = Field(default_factory=list)
    anomaly_ids: list[str] = Field(default_factory=list)
    details_url: str | None = None
    planned_note: str | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    slack_message_ts: str | None = None
    emails: list[str] = Field(default_factory=list)
    announced: bool = Field(default=False, description="the first alert went out (Slack or email)")
    remediation_started: bool = False
    card: StatusCard | None = Field(
        default=None, description="the live status card (null: as first posted, detected)"
    )
    culprit: Culprit

    @property
    def subject_key(self) -> str:
        """The ledger's key: the profile ARN, or account, region and model id (never tripped)."""
        return self.culprit.subject_key

    @property
    def is_direct_model(self) -> bool:
        return self.subject == "direct-model"


class IncidentOpened(BusEvent):
    incident_id: str
    profile_arn: str | None
    team: str | None
    opened_at: UtcDateTime
    kind: SpikeKind
    severity: Severity
    status: IncidentStatus = "open"


RemediationStep = Literal[
    "policy", "approval-requested", "approval-decided", "tripped", "verified", "escalated", "restored"
]


class RemediationEvent(BusEvent):
    """One audited step of a remediation (also written to the audit table)."""

    incident_id: str
    profile_arn: str
    step: RemediationStep
    action: Action
    decision: Decision | None = None
    actor: str | None = Field(
        default=None, description="who decided: a Slack user id, an email, or tokenfuse"
    )
    at: UtcDateTime
    details: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------------


class ProfileNonCompliant(BusEvent):
    """A profile first seen non-compliant (or turned non-compliant by a retag): FinOps is told."""

    profile_arn: str
    profile_id: str
    profile_name: str | None
    account_id: str
    region: str
    tags: dict[str, str]
    team_tag: str | None = Field(description="the team tag's value, when there is one (unknown team)")
    missing_tags: list[str]
    unknown_team: bool
    creator: str | None = Field(description="CloudTrail userIdentity.arn of who created it, when known")
    detected_at: UtcDateTime
    reason: str


DETAIL_TYPES: dict[type[BusModel], str] = {
    SpendRate: "Spend Rate",
    SpendSignal: "Spend Signal",
    SpikeAttributed: "Spike Attributed",
    IncidentOpened: "Incident Opened",
    RemediationEvent: "Remediation Step",
    ProfileNonCompliant: "Profile Non-Compliant",
}
"""The bus's ``detail-type`` of each model; the template's rules match on these strings."""

BUS_SOURCES: dict[type[BusModel], str] = {
    SpendRate: "tokenfuse.meter",
    SpendSignal: "tokenfuse.intake",
    SpikeAttributed: "tokenfuse.attribution",
    IncidentOpened: "tokenfuse.incidents",
    RemediationEvent: "tokenfuse.remediation",
    ProfileNonCompliant: "tokenfuse.inventory",
}
"""The bus's ``source`` of each model."""
