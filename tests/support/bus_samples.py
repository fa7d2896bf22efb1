"""Bus events as tokenfuse's release before schema versions wrote them (v0): the golden "Spike
Attributed" details, and an incident opened from one."""

import json
from pathlib import Path

from tokenfuse.events import Incident, SpikeAttributed

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_SPIKES = sorted((ROOT / "tests/golden/alerts").glob("spike-*.json"))


def golden_spike(path: Path = GOLDEN_SPIKES[0]) -> SpikeAttributed:
    return SpikeAttributed.from_bus(json.loads(path.read_text()))


def incident_of(spike: SpikeAttributed, incident_id: str = "inc-1") -> Incident:
    """The incident notify opens for the spike's first culprit."""
    c = spike.culprits[0]
    return Incident(
        incident_id=incident_id, profile_arn=c.profile_arn, profile_id=c.profile_id,
        account_id=c.account_id, region=c.region, team=c.team, kind=c.kind, severity=spike.severity,
        cost_per_hour_usd=c.cost_per_hour_usd, baseline_cost_per_hour_usd=c.baseline_cost_per_hour_usd,
        window_start=spike.window_start, window_end=spike.window_end, opened_at=spike.attributed_at,
        updated_at=spike.attributed_at, last_signal_at=spike.attributed_at, culprit=c,
    )  # fmt: skip
