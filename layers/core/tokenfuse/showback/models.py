"""The report as it is written (``--json``; contracts.md, "Commands and reports"): every key present,
``null`` for an unknown optional figure, money in USD, timestamps UTC ISO-8601 with ``Z``."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tokenfuse.events import UtcDateTime

LeverName = Literal["output-cap", "prompt-caching", "smaller-model", "batch", "provisioned-throughput"]
UnattributedKind = Literal["untagged", "unknown-team", "direct-model"]


class ReportModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PeriodOut(ReportModel):
    start: UtcDateTime
    end: UtcDateTime
    """Exclusive: the first instant after the period."""


class ModelShare(ReportModel):
    model_id: str
    spend_usd: float
    share_percent: float | None


class Unit(ReportModel):
    """Spend and requests over the period, per request, and against the period before."""

    spend_usd: float
    requests: int
    cost_per_request_usd: float | None
    input_tokens_per_request: float | None
    output_tokens_per_request: float | None
    cache_read_tokens_per_request: float | None
    cache_write_tokens_per_request: float | None
    previous_spend_usd: float
    previous_requests: int
    change_usd: float
    change_percent: float | None
    """null when the period before had no spend."""
    models: list[ModelShare]


class FeatureFigures(Unit):
    feature: str
    environment: str
    profiles: list[str]
    """The names of the application inference profiles behind the feature."""


class TeamFigures(Unit):
    team: str
    display_name: str
    features: list[FeatureFigures]


class UnattributedItem(Unit):
    kind: UnattributedKind
    label: str
    """The profile's name (untagged), the team tag value (unknown team), or the model id (direct calls)."""
    account_id: str
    region: str


class Unattributed(ReportModel):
    untagged_usd: float
    unknown_team_usd: float
    direct_model_usd: float
    items: list[UnattributedItem]


class Mover(ReportModel):
    team: str | None
    """null for spend no team owns (``kind`` says which)."""
    feature: str | None
    environment: str | None
    kind: Literal["team", "untagged", "unknown-team", "direct-model"]
    label: str
    spend_usd: float
    previous_spend_usd: float
    change_usd: float
    change_percent: float | None


class Lever(ReportModel):
    team: str
    feature: str
    environment: str
    lever: LeverName
    saving_usd_per_month: float
    basis: str
    estimate: Literal[True] = True


class Scenarios(ReportModel):
    base: float
    optimized: float
    stress: float


class Forecast(ReportModel):
    month: str
    """``2026-12``: the month the report is made in."""
    quarter: str
    """``2027-Q1``: the calendar quarter after that month's."""
    month_to_date_usd: float
    month_end_usd: Scenarios
    next_quarter_usd: Scenarios


class FeatureForecast(Forecast):
    team: str | None
    feature: str | None
    environment: str | None
    label: str
    cost_per_request_usd: float | None
    requests_per_day_now: float
    """The trend's value today."""
    requests_trend_per_day: float
    """The trend's slope: requests per day gained (or lost) each day."""


class OrgForecast(Forecast):
    trend_model: str
    scenarios: dict[str, str]
    teams: dict[str, Forecast]
    features: list[FeatureForecast]


class Variance(ReportModel):
    team_tag: str
    """The team tag value as Cost Explorer groups it ("" for untagged spend)."""
    team: str | None
    metrics_usd: float
    cost_explorer_usd: float
    variance_usd: float
    variance_percent: float | None


class ReconciliationDay(ReportModel):
    day: str
    teams: list[Variance]
    metrics_total_usd: float
    cost_explorer_total_usd: float


class Reconciliation(ReportModel):
    source: str
    days: list[ReconciliationDay]
    note: str


class ShowbackReport(ReportModel):
    generated_at: UtcDateTime
    period: PeriodOut
    previous_period: PeriodOut
    total_spend_usd: float
    previous_total_spend_usd: float
    unattributed_usd: float
    unattributed: Unattributed
    attributable_percent: float | None
    teams: list[TeamFigures]
    movers: list[Mover]
    levers: list[Lever]
    forecast: OrgForecast
    reconciliation: Reconciliation | None = None
    unpriced_models: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    source: str = "cloudwatch"
