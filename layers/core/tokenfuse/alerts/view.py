"""The facts every alert renderer shows, gathered once from the incident (pure: no I/O, no clock).
The words for them live in :mod:`tokenfuse.alerts.messages`."""

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from tokenfuse.alerts.sparkline import sparkline
from tokenfuse.events import Culprit, Incident, SpendSignal
from tokenfuse.teams import PlannedWindow, Policy, Route, TeamDirectory

FINOPS_LABEL = "FinOps"
LinkKind = Literal["anomaly-details", "token-metrics", "inference-profiles"]


@dataclass(frozen=True)
class Link:
    kind: LinkKind
    url: str


@dataclass(frozen=True)
class AlertView:
    """One incident's alert: the incident, the signal being reported, the owner's policy."""

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
    reported: Culprit | None = None
    """The incident's profile as the signal measured it, over the signal's own window."""
    spike_usd: float | None = None
    """The spike attributed over the signal's window."""

    @property
    def profile(self) -> str:
        """The profile's name or id; for spend no profile explains, the model called."""
        i = self.incident
        return i.profile_name or i.profile_id or i.culprit.label

    @property
    def spark(self) -> str:
        """The hourly spend as a sparkline (or baseline then now, when no series was read)."""
        c = self.incident.culprit
        series = c.hourly_cost_usd or [
            v for v in (c.baseline_cost_per_hour_usd, c.cost_per_hour_usd) if v is not None
        ]
        return sparkline(series)

    @property
    def is_cost_anomaly(self) -> bool:
        return bool(self.incident.anomaly_ids)


def default_links(incident: Incident) -> list[Link]:
    """The CAD anomaly's details (when a CAD signal named one) and the profile's token metrics."""
    links = []
    if incident.details_url:
        links.append(Link("anomaly-details", incident.details_url))
    region = incident.region
    model_id = incident.profile_id or ",".join(incident.culprit.model_ids)
    search = quote(f"{{AWS/Bedrock,ModelId}} {model_id}", safe="")
    links.append(
        Link(
            "token-metrics",
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#metricsV2?graph=~()&query=~'{search}",
        )
    )
    links.append(
        Link(
            "inference-profiles",
            f"https://{region}.console.aws.amazon.com/bedrock/home?region={region}#/inference-profiles",
        )
    )
    return links


def alert_view(
    directory: TeamDirectory,
    incident: Incident,
    route: Route,
    *,
    signal: SpendSignal | None = None,
    planned: PlannedWindow | None = None,
    test: bool = False,
    reported: Culprit | None = None,
    spike_usd: float | None = None,
) -> AlertView:
    """The incident's view under its owner's policy (the alert, a later signal, the status card)."""
    return AlertView(
        incident=incident,
        signal=signal,
        policy=directory.policy_for(route.team, incident.environment),
        owner_label=owner_label(route.team.label if route.team else None),
        route_reason=route.reason,
        planned=planned,
        test=test,
        links=default_links(incident),
        reported=reported,
        spike_usd=spike_usd,
    )


def owner_label(team_label: str | None) -> str:
    """The owning team's display name, or FinOps when no team owns the spend."""
    return team_label or FINOPS_LABEL
