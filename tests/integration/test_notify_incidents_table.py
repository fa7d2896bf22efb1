"""The incidents table's conditional writes under moto: two writers cannot open two incidents for
one spike, a stale version cannot overwrite, the per-team post budget counts atomically."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tokenfuse import incidents
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.events import SpikeAttributed
from tokenfuse.teams import TeamDirectory

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "alerts"
NOW = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)
ROUTE = TeamDirectory().route(None)


@pytest.fixture
def table(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="incidents",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield IncidentsTable("incidents", client)


def spike() -> SpikeAttributed:
    return SpikeAttributed.from_bus(json.loads((GOLDEN / "spike-alarm.json").read_text()))


def test_second_open_for_the_same_profile_loses(table):
    s = spike()
    first = incidents.new_incident(s, s.culprits[0], ROUTE, None, NOW)
    later = s.model_copy(update={"window_start": s.window_start + timedelta(minutes=2)})
    rival = incidents.new_incident(later, s.culprits[0], ROUTE, None, NOW)
    assert table.open(first, None) is True
    assert table.open(rival, None) is False  # the pointer exists now
    assert table.current(first.profile_arn)[0].incident_id == first.incident_id
    assert table.get(rival.incident_id) is None  # the transaction wrote nothing


def test_racing_writer_makes_the_loser_join(table):
    s = spike()

    class Racing:
        """The table, with another notify invoke opening the incident just before this one."""

        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, name):
            return getattr(table, name)

        def open(self, incident, previous):
            if not self.raced:
                self.raced = True
                other = s.model_copy(
                    update={"signal": s.signal.model_copy(update={"dedup_key": "other-delivery"})}
                )
                incidents.record_signal(table, other, s.culprits[0], ROUTE, planned=None, now=NOW)
            return table.open(incident, previous)

    result = incidents.record_signal(Racing(), s, s.culprits[0], ROUTE, planned=None, now=NOW)
    assert result.outcome == "joined" and result.incident.signal_count == 2
    assert len(table.incidents()) == 1


def test_stale_version_cannot_overwrite(table):
    s = spike()
    recorded = incidents.record_signal(table, s, s.culprits[0], ROUTE, planned=None, now=NOW)
    assert table.save(recorded.incident.model_copy(update={"slack_ts": "1.1"}), recorded.version) is True
    assert table.save(recorded.incident.model_copy(update={"slack_ts": "2.2"}), recorded.version) is False
    assert table.get(recorded.incident.incident_id)[0].slack_ts == "1.1"


def test_post_budget_counts_per_team_and_bucket(table):
    slots = [table.claim_post_slot("support", NOW, 2) for _ in range(3)]
    assert [s.allowed for s in slots] == [True, True, False]
    table.record_post(slots[1], "C0SUPPORT1", "1.2")
    table.record_digest(slots[2], "1.3", ["a"])
    again = table.claim_post_slot("support", NOW + timedelta(minutes=1), 2)
    assert (again.count, again.thread_ts, again.digest_ts, again.digest_lines) == (4, "1.2", "1.3", ("a",))
    assert table.claim_post_slot("support", NOW + timedelta(minutes=10), 2).allowed  # next bucket
    assert table.claim_post_slot("search", NOW, 2).allowed  # other team
