"""Incidents: one per profile and spike window; later signals join; concurrency is safe."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tokenfuse import incidents
from tokenfuse.adapters.remediation import execution_name
from tokenfuse.events import Incident, SpikeAttributed
from tokenfuse.teams import TeamDirectory

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "alerts"
NOW = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)
ROUTE = TeamDirectory().route(None)


def spike(name: str = "spike-alarm.json") -> SpikeAttributed:
    return SpikeAttributed.from_bus(json.loads((GOLDEN / name).read_text()))


def shifted(s: SpikeAttributed, hours: float, dedup_key: str) -> SpikeAttributed:
    delta = timedelta(hours=hours)
    signal = s.signal.model_copy(
        update={
            "dedup_key": dedup_key,
            "window_start": s.window_start + delta,
            "window_end": s.window_end + delta,
        }
    )
    return s.model_copy(
        update={"signal": signal, "window_start": s.window_start + delta, "window_end": s.window_end + delta}
    )


class MemoryLedger:
    """The IncidentLedger contract in memory, with an optional lost race on the next open."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[Incident, int]] = {}
        self.pointers: dict[str, str] = {}
        self.steal_next_open: Incident | None = None

    def current(self, profile_arn):
        incident_id = self.pointers.get(profile_arn)
        return self.items.get(incident_id) if incident_id else None

    def get(self, incident_id):
        return self.items.get(incident_id)

    def open(self, incident, previous_incident_id):
        if self.steal_next_open is not None:  # another writer opens first
            rival, self.steal_next_open = self.steal_next_open, None
            self.items[rival.incident_id] = (rival, 1)
            self.pointers[rival.subject_key] = rival.incident_id
        if (
            self.pointers.get(incident.subject_key) != previous_incident_id
            or incident.incident_id in self.items
        ):
            return False
        self.items[incident.incident_id] = (incident, 1)
        self.pointers[incident.subject_key] = incident.incident_id
        return True

    def save(self, incident, version):
        if self.items[incident.incident_id][1] != version:
            return False
        self.items[incident.incident_id] = (incident, version + 1)
        return True


def record(ledger, s, now=NOW, culprit=0):
    return incidents.record_signal(ledger, s, s.culprits[culprit], ROUTE, planned=None, now=now)


def test_incident_id_is_stable_and_readable():
    s = spike()
    first = incidents.incident_id_for(s.culprits[0], s.window_start)
    assert first == incidents.incident_id_for(s.culprits[0], s.window_start)
    assert first.startswith("inc-x7k2p9q4m1ab-2026112602-")
    other = incidents.incident_id_for(s.culprits[0], s.window_start + timedelta(minutes=1))
    assert other != first


def test_execution_name_fits_step_functions():
    name = execution_name("inc-x7k2p9q4m1ab-2026112602-d5506fcb")
    assert len(name) <= 80 and ":" not in name and "/" not in name and name.startswith("inc-")
    assert name == execution_name("inc-x7k2p9q4m1ab-2026112602-d5506fcb")


def test_first_signal_opens_and_the_same_signal_is_a_duplicate():
    ledger = MemoryLedger()
    opened = record(ledger, spike())
    assert opened.outcome == "opened" and opened.incident.signal_count == 1
    assert record(ledger, spike()).outcome == "duplicate"
    assert len(ledger.items) == 1


def test_cad_hours_later_for_the_same_window_joins():
    ledger = MemoryLedger()
    opened = record(ledger, spike())
    joined = record(ledger, spike("spike-cad.json"), now=NOW + timedelta(hours=14))
    assert joined.outcome == "joined" and joined.incident.incident_id == opened.incident.incident_id
    incident = joined.incident
    assert incident.sources == ["token-rate-alarm", "cost-anomaly"]
    assert incident.anomaly_ids == ["2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c"]
    assert incident.signal_count == 2 and incident.severity == "critical"
    assert incident.details_url and incident.window_end.hour == 23
    assert joined.previous.signal_count == 1


def test_a_diluted_confirmation_keeps_the_peak_as_the_headline():
    # Given the alarm's spike at its peak, then CAD's whole-day view of it at a far lower $/h
    alarm, cad = spike(), spike("spike-cad.json")
    peak = alarm.culprits[0]
    diluted = cad.culprits[0].model_copy(
        update={"cost_per_hour_usd": peak.cost_per_hour_usd / 20, "kind": "unknown", "month_end_usd": 1.0}
    )
    cad = cad.model_copy(update={"culprits": [diluted, *cad.culprits[1:]]})
    record(ledger := MemoryLedger(), alarm)
    # When CAD joins the incident
    incident = record(ledger, cad, now=NOW + timedelta(hours=14)).incident
    # Then the headline keeps the peak's rate, kind and month-end (the reply carries CAD's figures)
    assert incident.cost_per_hour_usd == peak.cost_per_hour_usd
    assert incident.kind == peak.kind and incident.month_end_usd == peak.month_end_usd
    assert incident.culprit == peak and incident.signal_count == 2


def test_cad_re_alert_with_new_dedup_key_joins():
    ledger = MemoryLedger()
    record(ledger, spike("spike-cad.json"))
    grown = spike("spike-cad.json")
    grown = grown.model_copy(update={"signal": grown.signal.model_copy(update={"dedup_key": "cad:...:5000"})})
    result = record(ledger, grown)
    assert result.outcome == "joined" and result.incident.signal_count == 2
    assert result.incident.anomaly_ids == ["2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c"]


def test_within_grace_joins_and_beyond_opens_a_new_incident():
    ledger = MemoryLedger()
    first = record(ledger, spike()).incident
    near = record(ledger, shifted(spike(), 1, "alarm-2"), now=NOW + timedelta(hours=1))
    assert near.outcome == "joined"
    later = record(ledger, shifted(spike(), 12, "alarm-3"), now=NOW + timedelta(hours=12))
    assert later.outcome == "opened" and later.incident.incident_id != first.incident_id
    assert later.previous.incident_id == first.incident_id


def test_quiet_incident_reads_closed():
    incident = record(MemoryLedger(), spike()).incident
    assert incidents.effective_status(incident, NOW + timedelta(hours=5)) == "open"
    assert incidents.effective_status(incident, NOW + timedelta(hours=6)) == "closed"
    assert incidents.effective_status(incident, NOW + timedelta(hours=2), quiet_hours=1) == "closed"


def test_two_profiles_two_incidents():
    ledger = MemoryLedger()
    a, b = record(ledger, spike(), culprit=0), record(ledger, spike(), culprit=1)
    assert a.outcome == b.outcome == "opened" and a.incident.incident_id != b.incident.incident_id


def test_concurrent_open_loses_the_race_and_joins():
    ledger = MemoryLedger()
    rival = incidents.new_incident(shifted(spike(), 0.1, "rival"), spike().culprits[0], ROUTE, None, NOW)
    ledger.steal_next_open = rival
    result = record(ledger, spike())
    assert result.outcome == "joined" and result.incident.incident_id == rival.incident_id
    assert len(ledger.items) == 1 and result.incident.signal_count == 2


def test_update_and_mark_planned():
    ledger = MemoryLedger()
    incident = record(ledger, spike()).incident
    changed = incidents.update(ledger, incident.incident_id, {"slack_ts": "1.2", "announced": True}, NOW)
    assert changed.slack_ts == "1.2" and ledger.get(incident.incident_id)[1] == 2
    planned = incidents.mark_planned(ledger, incident.incident_id, "load test", NOW)
    assert planned.status == "planned" and planned.planned_note == "load test"
    with pytest.raises(KeyError):
        incidents.update(ledger, "inc-nope", {}, NOW)


def test_ttl_is_90_days_after_last_signal():
    incident = record(MemoryLedger(), spike()).incident
    assert incidents.expires_at(incident) == int((NOW + timedelta(days=90)).timestamp())


# -- what opens an incident -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "policy_min", "opens"),
    [
        (
            {"cost_per_hour_usd": 13.05, "baseline_cost_per_hour_usd": 12.05, "share": 0.1},
            0.0,
            True,
        ),  # $1/h, 10%
        (
            {"cost_per_hour_usd": 13.0, "baseline_cost_per_hour_usd": 12.05, "share": 0.9},
            0.0,
            False,
        ),  # $0.95/h
        ({"cost_per_hour_usd": 142.3, "baseline_cost_per_hour_usd": 12.05, "share": 0.09}, 0.0, False),  # 9%
        (
            {"cost_per_hour_usd": 30.0, "baseline_cost_per_hour_usd": 12.05, "share": 0.9},
            20.0,
            False,
        ),  # < policy
        ({"cost_per_hour_usd": 33.0, "baseline_cost_per_hour_usd": 12.05, "share": 0.9}, 20.0, True),
        # unpriced: the token rate must at least double (no baseline at all counts as growth)
        ({"cost_per_hour_usd": None, "tokens_per_hour": 200.0, "baseline_tokens_per_hour": 100.0}, 0.0, True),
        (
            {"cost_per_hour_usd": None, "tokens_per_hour": 199.0, "baseline_tokens_per_hour": 100.0},
            0.0,
            False,
        ),
        ({"cost_per_hour_usd": None, "tokens_per_hour": 5.0, "baseline_tokens_per_hour": 0.0}, 0.0, True),
        ({"cost_per_hour_usd": None, "tokens_per_hour": None}, 0.0, False),
    ],
)
def test_real_increase(changes, policy_min, opens):
    culprit = spike().culprits[0].model_copy(update=changes)
    assert incidents.real_increase(culprit, policy_min) is opens


def test_no_real_increase_opens_nothing_but_joins_what_is_open():
    ledger, s = MemoryLedger(), spike()
    culprit = s.culprits[0]
    # Given no incident: a culprit without a real increase opens none
    assert incidents.record_signal(ledger, s, culprit, ROUTE, planned=None, now=NOW, may_open=False) is None
    assert ledger.items == {}
    # And once one is open, the same kind of signal joins it
    opened = incidents.record_signal(ledger, s, culprit, ROUTE, planned=None, now=NOW)
    later = shifted(s, 0.5, "later")
    joined = incidents.record_signal(ledger, later, culprit, ROUTE, planned=None, now=NOW, may_open=False)
    assert joined is not None and opened is not None
    assert (joined.outcome, joined.incident.incident_id) == ("joined", opened.incident.incident_id)


def test_direct_model_incidents_are_keyed_by_account_region_and_model():
    s = spike()
    update = {"subject": "direct-model", "profile_arn": None, "profile_id": None, "profile_name": None}
    haiku = s.culprits[0].model_copy(
        update=update | {"model_ids": ["anthropic.claude-3-5-haiku-20241022-v1:0"]}
    )
    sonnet = haiku.model_copy(update={"model_ids": ["us.anthropic.claude-3-5-sonnet-20241022-v2:0"]})
    ledger = MemoryLedger()
    first = incidents.record_signal(ledger, s, haiku, ROUTE, planned=None, now=NOW)
    other = incidents.record_signal(ledger, s, sonnet, ROUTE, planned=None, now=NOW)
    assert first is not None and other is not None
    assert (
        first.incident.subject_key
        == "direct-model/444455556666/us-east-1/anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    # the model's id made safe and cut to fit, the window's hour, a digest of the whole key
    assert first.incident.incident_id.startswith("inc-model-anthropic-claude-3-5-haiku-2024102-2026112602-")
    assert other.incident.incident_id != first.incident.incident_id  # one incident per model
    assert (first.incident.profile_arn, first.incident.is_direct_model) == (None, True)
