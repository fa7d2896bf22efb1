"""A drill incident: it detaches its canary at once even under DryRun, nobody is asked, it stays
outside the trips-per-hour bound, and it trips nothing but a drill canary."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tokenfuse.adapters.guard_scp import GuardScp, empty_document, listed_arns
from tokenfuse.adapters.profile_tags import ProfileTags
from tokenfuse.remediation import policy
from tokenfuse.remediation.errors import NothingToTrip
from tokenfuse.remediation.models import RemediationIncident
from tokenfuse.remediation.trip import STATE_TAG_KEY, Tripper
from tokenfuse.teams import TeamDirectory

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ACCOUNT, REGION = "444455556666", "us-east-1"
CANARY_ID = "canary000001"
CANARY = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{CANARY_ID}"
DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {"name": "search", "slack_channel": "C0SEARCH01", "policies": {"prod": {"mode": "approve"}}}
        ],
        "finops": {"slack_channel": "C0FINOPS01"},
    }
)


def incident(drill: bool, name: str = "tokenfuse-drill-20261130t100000-abc123", team: str | None = None):
    return RemediationIncident(
        incident_id="drill-20261130t100000-abc123",
        profile_arn=CANARY,
        profile_id=CANARY_ID,
        profile_name=name,
        account_id=ACCOUNT,
        region=REGION,
        team=team,
        environment="prod" if team else "drill",
        drill=drill,
    )


def decide(drill: bool, dry_run: bool = True, trips_last_hour: int = 0, team: str | None = None):
    return policy.decide(
        incident(drill, team=team),
        DIRECTORY,
        dry_run=dry_run,
        max_trips_per_hour=5,
        trips_last_hour=trips_last_hour,
        mechanism="guard-scp",
    )


def test_a_drill_detaches_at_once_under_dry_run_and_nobody_is_asked():
    decided = decide(drill=True, dry_run=True, trips_last_hour=99)
    assert (decided.mode, decided.action, decided.decision) == ("auto", "detach", "auto")
    assert decided.dry_run is False and decided.drill is True
    assert decided.verify_delay_seconds == 0
    assert decided.approver_team == "finops"
    assert any("drill" in reason for reason in decided.reasons)


def test_the_same_incident_without_the_drill_flag_is_only_planned_under_dry_run():
    decided = decide(drill=False, dry_run=True, team="search")
    assert (decided.mode, decided.decision, decided.dry_run, decided.drill) == (
        "dry-run",
        "dry-run",
        True,
        False,
    )


class Store:
    def __init__(self) -> None:
        self.trips: dict[str, dict[str, Any]] = {}
        self.logged: list[str] = []

    def put_trip(self, profile_arn: str, record: dict[str, Any]) -> None:
        self.trips[profile_arn] = record

    def get_trip(self, profile_arn: str) -> dict[str, Any] | None:
        return self.trips.get(profile_arn)

    def delete_trip(self, profile_arn: str, trip_id: str) -> None:
        self.trips.pop(profile_arn, None)

    def list_trips(self) -> list[dict[str, Any]]:
        return list(self.trips.values())

    def log_trip(self, profile_arn: str, at_iso: str, now_epoch: int) -> None:
        self.logged.append(profile_arn)


class Bedrock:
    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = dict(tags)

    def list_tags_for_resource(self, resourceARN: str) -> dict[str, Any]:
        return {"tags": [{"key": k, "value": v} for k, v in self.tags.items()]}

    def tag_resource(self, resourceARN: str, tags: list[dict[str, str]]) -> None:
        self.tags.update({t["key"]: t["value"] for t in tags})

    def untag_resource(self, resourceARN: str, tagKeys: list[str]) -> None:
        for key in tagKeys:
            self.tags.pop(key, None)


class Organizations:
    def __init__(self) -> None:
        self.content = json.dumps(empty_document())

    def describe_policy(self, PolicyId: str) -> dict[str, Any]:
        return {"Policy": {"Content": self.content}}

    def update_policy(self, PolicyId: str, Content: str) -> None:
        self.content = Content


class Access:
    def __init__(self, bedrock: Bedrock) -> None:
        self.bedrock = bedrock

    def tags(self, account_id: str, region: str) -> ProfileTags:
        return ProfileTags(self.bedrock)

    def roles(self, account_id: str) -> object:
        return object()  # no caller is named: nothing is looked up

    def functions(self, account_id: str, region: str) -> object:
        return object()


def tripper(tags: dict[str, str]) -> tuple[Tripper, Store, Bedrock, Organizations]:
    store, bedrock, org = Store(), Bedrock(tags), Organizations()
    trip = Tripper(
        store,
        Access(bedrock),  # type: ignore[arg-type]
        lambda: GuardScp(org, "p-guard0001"),
        mechanism="guard-scp",
        dry_run=True,  # the stack's DryRun
        now=lambda: NOW,
    )
    return trip, store, bedrock, org


def test_under_dry_run_a_drill_trip_really_denies_its_canary_and_restore_lifts_it():
    trip, store, bedrock, org = tripper({"tokenfuse:drill": "true"})
    record = trip.trip(incident(True), decide(drill=True), "tokenfuse")
    assert record.dry_run is False and record.deny_in_force and record.complete
    assert listed_arns(json.loads(org.content)) == [CANARY]
    assert bedrock.tags[STATE_TAG_KEY] == "tripped"
    assert store.trips[CANARY]["trip_id"] == record.trip_id
    assert store.logged == []  # outside the trips-per-hour bound
    restored = trip.restore(CANARY)
    assert restored.restored and listed_arns(json.loads(org.content)) == []
    assert STATE_TAG_KEY not in bedrock.tags and store.trips == {}


@pytest.mark.parametrize(
    ("tags", "name"),
    [
        ({}, "tokenfuse-drill-20261130t100000-abc123"),  # named like a canary, not tagged
        ({"tokenfuse:drill": "true", "team": "search"}, "support-agent"),  # a team's profile, tagged
    ],
)
def test_a_drill_incident_trips_nothing_but_a_canary(tags, name):
    trip, store, bedrock, org = tripper(tags)
    with pytest.raises(NothingToTrip, match="is not a drill canary"):
        trip.trip(incident(True, name=name), decide(drill=True), "tokenfuse")
    assert listed_arns(json.loads(org.content)) == [] and store.trips == {}
    assert STATE_TAG_KEY not in bedrock.tags


def test_without_the_drill_flag_dry_run_still_changes_nothing_even_on_a_canary():
    trip, store, _, org = tripper({"tokenfuse:drill": "true"})
    record = trip.trip(incident(False), decide(drill=False, team="search"), "tokenfuse")
    assert record.dry_run is True
    assert listed_arns(json.loads(org.content)) == [] and store.trips == {}
