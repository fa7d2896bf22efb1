"""What every alert renderer shows, computed once from the incident (pure: no I/O, no clock)."""

from dataclasses import dataclass, field
from urllib.parse import quote

from tokenfuse.alerts.hints import DIRECT_MODEL_NEXT, KIND_LABELS, lever_hint, next_step
from tokenfuse.alerts.sparkline import sparkline
from tokenfuse.events import Incident, SignalSource, SpendSignal
from tokenfuse.teams import PlannedWindow, Policy

SOURCE_LABELS: dict[SignalSource, str] = {
    "token-rate-alarm": "token-rate alarm",
    "cost-anomaly": "Cost Anomaly Detection",
    "budget": "AWS Budgets",
}
TEST_PREFIX = "[TEST] "
DIRECT_MODEL_LEVER = (
    "give the callers an application inference profile tagged with their team, so tokenfuse can "
    "route the alert to them and trip the profile."
)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class AlertView:
    """The facts of one incident's alert, already worded."""

    incident: Incident
    signal: SpendSignal | None
    """The signal being reported (None when re-rendering a stored incident)."""
    policy: Policy
    owner_label: str
    """The team's display name, or FinOps."""
    route_reason: str
    planned: PlannedWindow | None = None
    test: bool = False
    links: list[Link] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return TEST_PREFIX if self.test else ""

    @property
    def profile(self) -> str:
        """The profile's name or id; for spend no profile explains, the model called."""
        i = self.incident
        return i.profile_name or i.profile_id or i.culprit.label

    @property
    def subject_field(self) -> tuple[str, str]:
        """(label, value) of what the spike is on: the profile, or the model called directly."""
        i = self.incident
        if i.is_direct_model:
            return "Model called directly", f"{', '.join(i.culprit.model_ids)} (no inference profile)"
        return "Profile", f"{self.profile} ({i.profile_id})"

    @property
    def title(self) -> str:
        return f"{self.prefix}Bedrock spend spike: {self.profile} at {rate_phrase(self.incident)}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.incident.kind]

    @property
    def tokens_line(self) -> str:
        c = self.incident.culprit
        now, base = c.tokens_per_request, c.baseline_tokens_per_request
        return (
            f"tokens/request in {_num(now.input)} (baseline {_num(base.input)}), "
            f"out {_num(now.output)} (baseline {_num(base.output)}); "
            f"{c.invocations:,} requests in the window (baseline {c.baseline_invocations:,.0f})"
        )

    @property
    def spark(self) -> str:
        c = self.incident.culprit
        series = c.hourly_cost_usd or [
            v for v in (c.baseline_cost_per_hour_usd, c.cost_per_hour_usd) if v is not None
        ]
        return sparkline(series)

    @property
    def spark_caption(self) -> str:
        c = self.incident.culprit
        hours = len(c.hourly_cost_usd[-24:])
        if not hours:
            return "$/h, baseline then now"
        if c.last_hour_minutes:
            return f"$/h, last {hours} h; the last bar is the running hour's first {c.last_hour_minutes} min"
        return f"$/h, last {hours} h"

    @property
    def rate_basis(self) -> str | None:
        """Which rate the dollars use and what was assumed (the metrics carry no tier, TTL or batch)."""
        return self.incident.culprit.rate_basis

    @property
    def next_step(self) -> str:
        if self.incident.is_direct_model and self.incident.status != "planned" and self.planned is None:
            return DIRECT_MODEL_NEXT
        return next_step(self.policy, self.incident, self.owner_label, self.planned)

    @property
    def lever(self) -> str:
        if self.incident.is_direct_model:
            return DIRECT_MODEL_LEVER
        return lever_hint(self.incident.kind)

    @property
    def sources_line(self) -> str:
        sources = ", ".join(SOURCE_LABELS[s] for s in self.incident.sources)
        count = self.incident.signal_count
        return f"{count} signal{'s' if count != 1 else ''} ({sources})"

    @property
    def place(self) -> str:
        i = self.incident
        return f"account {i.account_id} · {i.region}"

    @property
    def is_cost_anomaly(self) -> bool:
        return bool(self.incident.anomaly_ids)


def rate_phrase(incident: Incident) -> str:
    """``$142.30/h, 11.8x its $12.05/h baseline``; an unpriced model's token rate, never $0."""
    now, base = incident.cost_per_hour_usd, incident.baseline_cost_per_hour_usd
    if now is None:
        return token_rate_phrase(incident)
    if not base:
        return f"{usd(now)}/h (no baseline spend)"
    return f"{usd(now)}/h, {now / base:.1f}x its {usd(base)}/h baseline"


def token_rate_phrase(incident: Incident) -> str:
    """``unpriced (model not in the price table): 1,200,000 tokens/h, 12.0x its 100,000 tokens/h
    baseline``."""
    c = incident.culprit
    head = "unpriced (model not in the price table)"
    tokens, base = c.tokens_per_hour, c.baseline_tokens_per_hour
    if tokens is None:
        return head
    if not base:
        return f"{head}: {tokens:,.0f} tokens/h (no baseline traffic)"
    return f"{head}: {tokens:,.0f} tokens/h, {tokens / base:.1f}x its {base:,.0f} tokens/h baseline"


def usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def default_links(incident: Incident) -> list[Link]:
    """The CAD anomaly's details (when a CAD signal named one) and the profile's token metrics."""
    links = []
    if incident.details_url:
        links.append(Link("Cost Anomaly Detection details", incident.details_url))
    region = incident.region
    model_id = incident.profile_id or ",".join(incident.culprit.model_ids)
    search = quote(f"{{AWS/Bedrock,ModelId}} {model_id}", safe="")
    links.append(
        Link(
            "Token metrics (CloudWatch)",
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#metricsV2?graph=~()&query=~'{search}",
        )
    )
    links.append(
        Link(
            "Inference profiles (Bedrock)",
            f"https://{region}.console.aws.amazon.com/bedrock/home?region={region}#/inference-profiles",
        )
    )
    return links
