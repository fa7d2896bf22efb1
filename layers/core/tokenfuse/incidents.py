"""Incidents: one culprit over one open interval (contracts, "Incidents").

A culprit is a profile (keyed by its ARN) or spend no profile explains (keyed by account, region
and model id: ``direct-model/<account>/<region>/<model>``; such an incident goes to FinOps and is
never tripped). A culprit opens an incident only with a real increase (:func:`real_increase`); a
signal whose culprit has none may still join an incident already open.

A signal joins the current incident of its profile when its window overlaps the incident's
(with an hour of grace), else it opens a new one. The join is decided on windows, not on arrival
time, so a CAD anomaly reported 20 hours after the alarm still lands in the alarm's thread; an
incident with no new signal for the quiet period reads as closed, and a loop that comes back after
it (a window that no longer overlaps) opens a new incident that may be tripped again.

The store behind :class:`IncidentLedger` writes with conditions (a per-profile pointer and a
version per incident), so two concurrent signals cannot open two incidents for one spike.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from tokenfuse.events import Culprit, Incident, Severity, SpikeAttributed
from tokenfuse.teams import PlannedWindow, Route

JOIN_GRACE = timedelta(hours=1)
MIN_INCREASE_USD_PER_HOUR = 1.0
"""A culprit opens an incident only when its $/h grew by at least this much ..."""
MIN_INCREASE_SHARE = 0.10
"""... and it explains at least this part of the spike ..."""
MIN_UNPRICED_GROWTH = 2.0
"""... or, on an unpriced model, its token rate at least doubled."""
RETENTION = timedelta(days=90)
DEFAULT_QUIET_HOURS = 6
MAX_DEDUP_KEYS = 50
MAX_ATTEMPTS = 5
_SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}

Outcome = Literal["opened", "joined", "duplicate"]


class IncidentLedger(Protocol):
    """Where incidents live (DynamoDB in Lambda, a dict in unit tests)."""

    def current(self, profile_arn: str) -> tuple[Incident, int] | None:
        """The latest incident (open or not) of a culprit's key (a profile ARN, or a direct-model key)
        and its version."""

    def open(self, incident: Incident, previous_incident_id: str | None) -> bool:
        """Create the incident and point the profile at it, only if the pointer still names
        ``previous_incident_id`` (None: no pointer). False when another writer won."""

    def save(self, incident: Incident, version: int) -> bool:
        """Replace the incident if its version is still ``version``. False when another writer won."""

    def get(self, incident_id: str) -> tuple[Incident, int] | None: ...


class ConcurrentUpdate(Exception):
    """Other writers kept winning the incident's conditional write: let the invoke retry."""


@dataclass(frozen=True)
class Recorded:
    incident: Incident
    version: int
    outcome: Outcome
    previous: Incident | None = None
    """For ``joined``: the incident as it was before this signal."""


def real_increase(culprit: Culprit, min_usd_per_hour: float = 0.0) -> bool:
    """Whether a culprit's spike is big enough to open an incident: its $/h grew by at least $1 (and
    at least the team policy's ``min_spike_usd_per_hour``) and it explains at least 10% of the
    spike; an unpriced one, whose dollars are unknown, when its token rate at least doubled."""
    now, before = culprit.cost_per_hour_usd, culprit.baseline_cost_per_hour_usd
    if now is None:
        tokens, base = culprit.tokens_per_hour or 0.0, culprit.baseline_tokens_per_hour or 0.0
        return tokens > 0 and (base <= 0 or tokens / base >= MIN_UNPRICED_GROWTH)
    growth = now - (before or 0.0)
    return (
        growth >= max(MIN_INCREASE_USD_PER_HOUR, min_usd_per_hour)
        and (culprit.share or 0.0) >= MIN_INCREASE_SHARE
    )


def incident_id_for(culprit: Culprit, window_start: datetime) -> str:
    """``inc-<profile id>-<yyyymmddhh>-<hash>`` (``inc-model-<model>-...`` for direct calls): stable
    for one culprit and spike window start."""
    key = culprit.subject_key
    digest = hashlib.sha256(f"{key}|{window_start.isoformat()}".encode()).hexdigest()[:8]
    if culprit.is_direct_model or not culprit.profile_id:
        model = (culprit.model_ids[0] if culprit.model_ids else "unknown").lower()
        name = "model-" + "".join(ch if ch.isalnum() else "-" for ch in model)[:34]
    else:
        name = culprit.profile_id.lower()[:40]
    return f"inc-{name}-{window_start:%Y%m%d%H}-{digest}"


def overlaps(incident: Incident, start: datetime, end: datetime) -> bool:
    return start <= incident.window_end + JOIN_GRACE and incident.window_start - JOIN_GRACE <= end


def quiet_period_end(incident: Incident, quiet_hours: float = DEFAULT_QUIET_HOURS) -> datetime:
    """When the incident's quiet period ends: ``quiet_hours`` after its last signal."""
    return incident.last_signal_at + timedelta(hours=quiet_hours)


def effective_status(incident: Incident, now: datetime, quiet_hours: float = DEFAULT_QUIET_HOURS) -> str:
    """``closed`` once an open incident has been quiet for ``quiet_hours``."""
    if incident.status == "open" and now >= quiet_period_end(incident, quiet_hours):
        return "closed"
    return incident.status


def expires_at(incident: Incident) -> int:
    """DynamoDB TTL (epoch seconds): 90 days after the last signal."""
    return int((incident.last_signal_at + RETENTION).timestamp())


def new_incident(
    spike: SpikeAttributed, culprit: Culprit, route: Route, planned: PlannedWindow | None, now: datetime
) -> Incident:
    signal = spike.signal
    start, end = _culprit_window(spike)
    return Incident(
        incident_id=incident_id_for(culprit, start),
        status="planned" if planned else "open",
        subject=culprit.subject,
        profile_arn=culprit.profile_arn,
        profile_id=culprit.profile_id,
        profile_name=culprit.profile_name,
        account_id=culprit.account_id,
        region=culprit.region,
        team=route.team.name if route.team else None,
        team_tag=culprit.team,
        feature=culprit.feature,
        environment=culprit.environment,
        kind=culprit.kind,
        severity=spike.severity,
        protected=culprit.protected,
        cost_per_hour_usd=culprit.cost_per_hour_usd,
        baseline_cost_per_hour_usd=culprit.baseline_cost_per_hour_usd,
        month_end_usd=culprit.month_end_usd,
        window_start=start,
        window_end=end,
        opened_at=now,
        updated_at=now,
        last_signal_at=now,
        signal_count=1,
        sources=[signal.source],
        dedup_keys=[signal.dedup_key],
        anomaly_ids=[signal.anomaly_id] if signal.anomaly_id else [],
        details_url=signal.details_url,
        planned_note=planned.note if planned else None,
        slack_channel=route.slack_channel,
        emails=list(route.emails),
        culprit=culprit,
    )


def joined(incident: Incident, spike: SpikeAttributed, culprit: Culprit, now: datetime) -> Incident:
    """The incident with one more signal: windows merged, highest severity, and the culprit facts of
    the spike's peak; its status as it was (closed stays closed). A confirmation hours later (CAD's
    or Budgets' whole-day window) dilutes the
    rate; the headline an on-call engineer reads keeps the worst the spike reached, and the new
    signal's own figures go in its thread reply."""
    signal = spike.signal
    start, end = _culprit_window(spike)
    severity: Severity = max(incident.severity, spike.severity, key=lambda s: _SEVERITY_ORDER[s])
    newer_is_peak = (culprit.cost_per_hour_usd or 0.0) >= (incident.cost_per_hour_usd or 0.0)
    peak, other = (culprit, incident.culprit) if newer_is_peak else (incident.culprit, culprit)
    return incident.model_copy(
        update={
            # a closed incident (its remediation over, the thread said so) stays closed: a late
            # confirmation about the same spike is news in its thread, not a new incident
            "status": incident.status,
            "window_start": min(incident.window_start, start),
            "window_end": max(incident.window_end, end),
            "updated_at": now,
            "last_signal_at": now,
            "signal_count": incident.signal_count + 1,
            "sources": _union(incident.sources, [signal.source]),
            "dedup_keys": _union(incident.dedup_keys, [signal.dedup_key])[-MAX_DEDUP_KEYS:],
            "anomaly_ids": _union(incident.anomaly_ids, [signal.anomaly_id] if signal.anomaly_id else []),
            "details_url": signal.details_url or incident.details_url,
            "severity": severity,
            "kind": peak.kind if peak.kind != "unknown" else other.kind,
            "cost_per_hour_usd": _prefer(peak.cost_per_hour_usd, other.cost_per_hour_usd),
            "baseline_cost_per_hour_usd": _prefer(
                peak.baseline_cost_per_hour_usd, other.baseline_cost_per_hour_usd
            ),
            "month_end_usd": _prefer(peak.month_end_usd, other.month_end_usd),
            "protected": incident.protected or culprit.protected,
            "culprit": peak,
        }
    )


def record_signal(
    ledger: IncidentLedger,
    spike: SpikeAttributed,
    culprit: Culprit,
    route: Route,
    *,
    planned: PlannedWindow | None,
    now: datetime,
    may_open: bool = True,
) -> Recorded | None:
    """Open or join the culprit's incident for this signal (``duplicate``: its dedup key was seen).
    None when no incident overlaps and ``may_open`` is False (no real increase): none is opened."""
    start, end = _culprit_window(spike)
    for _ in range(MAX_ATTEMPTS):
        current = ledger.current(culprit.subject_key)
        if current is not None and overlaps(current[0], start, end):
            incident, version = current
            if spike.signal.dedup_key in incident.dedup_keys:
                return Recorded(incident, version, "duplicate")
            updated = joined(incident, spike, culprit, now)
            if ledger.save(updated, version):
                return Recorded(updated, version + 1, "joined", previous=incident)
            continue
        if not may_open:
            return None
        fresh = new_incident(spike, culprit, route, planned, now)
        previous_id = current[0].incident_id if current else None
        if previous_id == fresh.incident_id:  # same window start, re-opened after a miss: join it
            continue
        if ledger.open(fresh, previous_id):
            return Recorded(fresh, 1, "opened", previous=current[0] if current else None)
    raise ConcurrentUpdate(f"incident of {culprit.subject_key} kept changing under {MAX_ATTEMPTS} attempts")


def update(ledger: IncidentLedger, incident_id: str, changes: dict[str, object], now: datetime) -> Incident:
    """Apply ``changes`` (e.g. Slack ts, announced, status) with the version check, retrying."""
    for _ in range(MAX_ATTEMPTS):
        stored = ledger.get(incident_id)
        if stored is None:
            raise KeyError(incident_id)
        incident, version = stored
        changed = incident.model_copy(update={**changes, "updated_at": now})
        changed = type(incident).model_validate(changed.model_dump())
        if ledger.save(changed, version):
            return changed
    raise ConcurrentUpdate(f"incident {incident_id} kept changing under {MAX_ATTEMPTS} attempts")


def mark_planned(ledger: IncidentLedger, incident_id: str, note: str, now: datetime) -> Incident:
    """Planned activity (the CAD feedback button): the incident stays quiet from now on."""
    return update(ledger, incident_id, {"status": "planned", "planned_note": note}, now)


def _culprit_window(spike: SpikeAttributed) -> tuple[datetime, datetime]:
    return spike.window_start, spike.window_end


def _union[T](existing: list[T], more: list[T]) -> list[T]:
    return existing + [m for m in more if m not in existing]


def _prefer(new: float | None, old: float | None) -> float | None:
    return new if new is not None else old
