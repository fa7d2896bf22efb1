"""Inventory domain, pure: compliance, attributable %, alarm thresholds, CloudTrail parsing, settings."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from tokenfuse.errors import MalformedSignal, UnsupportedSignal
from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES, ProfileNonCompliant
from tokenfuse.inventory.attributable import attributable_share, tag_value
from tokenfuse.inventory.cloudtrail import ProfileChange, profile_change
from tokenfuse.inventory.compliance import assess
from tokenfuse.inventory.config import InventorySettings, default_regions
from tokenfuse.inventory.owners import INPUT_TOKENS, OUTPUT_TOKENS, DirectoryTeams, StaticTeams
from tokenfuse.inventory.thresholds import (
    AlarmPolicy,
    alarm_definition,
    alarm_name,
    owned_alarm_profile,
    percentile,
    round_threshold,
    threshold,
)
from tokenfuse.inventory.triggers import (
    DailySweep,
    Refusal,
    SweepMessageRefused,
    SweepRecords,
    read_trigger,
    sweep_message,
)
from tokenfuse.settings import SettingsError

EVENTS = Path(__file__).resolve().parents[2] / "events"
TEAMS = StaticTeams({"search", "ranking"})


# --- compliance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "compliant", "missing", "unknown", "team"),
    [
        ({"team": "search", "environment": "prod"}, True, [], False, "search"),
        ({}, False, ["team", "environment"], False, None),
        ({"team": "ghost", "environment": "dev"}, False, [], True, None),
        ({"team": "search"}, False, ["environment"], False, "search"),
        ({"team": "  ", "environment": "prod"}, False, ["team"], False, None),
        ({"team": "ghost"}, False, ["environment"], True, None),
    ],
)
def test_compliance(tags, compliant, missing, unknown, team):
    # Given the mandatory keys team + environment and a directory knowing search and ranking
    result, owner = assess(tags, ["team", "environment"], "team", TEAMS.team_for)
    # Then
    assert (result.compliant, result.missing_tags, result.unknown_team, owner) == (
        compliant,
        missing,
        unknown,
        team,
    )


def test_compliance_needs_a_known_team_even_when_team_is_not_mandatory():
    result, owner = assess({"environment": "prod"}, ["environment"], "team", TEAMS.team_for)
    assert not result.compliant
    assert owner is None


def test_directory_resolver_maps_alias_tag_values_to_the_team():
    teams = DirectoryTeams.from_yaml(
        "teams:\n  - name: search\n    tag_values: [search-eng]\n    slack_channel: C0123ABCDE\n"
    )
    assert teams.team_for("search-eng") == "search"
    assert teams.team_for("SEARCH") == "search"
    assert teams.team_for("ghost") is None
    assert teams.alarm_threshold("search", "prod", OUTPUT_TOKENS) is None  # the policy sets none


# --- attributable % ---------------------------------------------------------------------------


def test_attributable_share_matches_a_hand_computation():
    # Given yesterday's Bedrock cost by team tag: 600 search, 250 ranking, 100 untagged, 50 ghost
    groups = {"team$search": 600.0, "team$ranking": 250.0, "team$": 100.0, "team$ghost": 50.0}
    # When
    share = attributable_share(groups, TEAMS.team_for)
    # Then (600 + 250) / 1000 = 85 %; the unknown team's 50 is not attributable
    assert share.total_usd == 1000.0
    assert share.attributable_usd == 850.0
    assert share.untagged_usd == 100.0
    assert share.unknown_team_usd == 50.0
    assert share.percent == 85.0
    assert share.by_team_usd == {"ranking": 250.0, "search": 600.0}


def test_direct_model_spend_is_split_out_of_the_untagged_and_counts_against_the_share():
    # Given the same day, of whose 100 untagged dollars attribution measured 30 as direct model calls
    groups = {"team$search": 600.0, "team$ranking": 250.0, "team$": 100.0, "team$ghost": 50.0}
    share = attributable_share(groups, TEAMS.team_for, direct_model_usd=30.0)
    # Then 70 untagged, 30 direct, still 85 % attributable
    assert (share.untagged_usd, share.direct_model_usd, share.percent) == (70.0, 30.0, 85.0)
    # And a direct figure above the untagged spend is capped at it (it cannot exceed what CE saw)
    assert attributable_share(groups, TEAMS.team_for, direct_model_usd=500.0).direct_model_usd == 100.0


def test_attributable_share_without_spend_is_none():
    assert attributable_share({}, TEAMS.team_for).percent is None
    assert attributable_share({"team$": 0.0}, TEAMS.team_for).percent is None


def test_tag_value():
    assert tag_value("team$search") == "search"
    assert tag_value("team$") == ""
    assert tag_value("team$a$b") == "a$b"


# --- thresholds -------------------------------------------------------------------------------


def test_percentile_nearest_rank():
    assert percentile([], 95) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


@pytest.mark.parametrize(
    ("value", "rounded"), [(123_456.0, 120_000.0), (0.0, 0.0), (9_940.0, 9_900.0), (87.0, 87.0)]
)
def test_round_threshold_two_significant_digits(value, rounded):
    assert round_threshold(value) == rounded


def test_threshold_sources():
    policy = AlarmPolicy(multiplier=5.0, floors=((OUTPUT_TOKENS, 20_000.0), (INPUT_TOKENS, 100_000.0)))
    # the team's policy wins
    assert threshold(OUTPUT_TOKENS, 7_000.0, [1e6], policy) == (7_000.0, "policy")
    # else 5 x p95 of the per-minute baseline, rounded
    busy = [10_000.0] * 95 + [50_000.0] * 5
    assert threshold(OUTPUT_TOKENS, None, busy, policy) == (50_000.0, "baseline")
    # never below the floor (a quiet or new profile)
    assert threshold(OUTPUT_TOKENS, None, [], policy) == (20_000.0, "floor")
    assert threshold(INPUT_TOKENS, None, [100.0], policy) == (100_000.0, "floor")


def test_alarm_definition_shape():
    policy = AlarmPolicy()
    arn = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/k2x7q9m4ab1c"
    alarm = alarm_definition("k2x7q9m4ab1c", arn, OUTPUT_TOKENS, 20_000.0, team="search", source="floor",
                             settings=policy)  # fmt: skip
    assert alarm.name == "tokenfuse-k2x7q9m4ab1c-output-tokens"
    assert (alarm.namespace, alarm.metric_name, alarm.statistic, alarm.period) == (
        "AWS/Bedrock", "OutputTokenCount", "Sum", 60,
    )  # fmt: skip
    assert alarm.dimensions == (("ModelId", "k2x7q9m4ab1c"),)
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (3, 3)
    assert alarm.treat_missing_data == "notBreaching"
    assert alarm.threshold == 20_000.0
    assert arn in alarm.description


def test_owned_alarm_names():
    assert owned_alarm_profile(alarm_name("k2x7q9m4ab1c", INPUT_TOKENS)) == "k2x7q9m4ab1c"
    assert owned_alarm_profile("tokenfuse-dev-intake-dead-letters") is None
    assert owned_alarm_profile("someone-else-output-tokens") is None


# --- CloudTrail -------------------------------------------------------------------------------


def _event(name):
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("file", "kind", "creator"),
    [
        ("cloudtrail-create-inference-profile.json", "upsert",
         "arn:aws:sts::444455556666:assumed-role/platform-deployer/jdoe"),
        ("cloudtrail-tag-inference-profile.json", "upsert", None),
        ("cloudtrail-untag-inference-profile.json", "upsert", None),
        ("cloudtrail-delete-inference-profile.json", "delete", None),
    ],
)  # fmt: skip
def test_cloudtrail_samples(file, kind, creator):
    change = profile_change(_event(file))
    assert change.kind == kind
    assert (
        change.profile_arn
        == "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/k2x7q9m4ab1c"
    )
    assert (change.account_id, change.region) == ("444455556666", "us-east-1")
    assert change.creator == creator


def test_cloudtrail_delete_by_id_builds_the_arn():
    event = _event("cloudtrail-delete-inference-profile.json")
    event["detail"]["requestParameters"]["inferenceProfileIdentifier"] = "abcabcabcabc"
    change = profile_change(event)
    assert (
        change.profile_arn
        == "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/abcabcabcabc"
    )


def test_cloudtrail_ignores_failed_calls_and_other_resources():
    failed = _event("cloudtrail-create-inference-profile.json")
    failed["detail"]["errorCode"] = "AccessDenied"
    failed["detail"]["responseElements"] = None
    with pytest.raises(UnsupportedSignal):
        profile_change(failed)
    other = _event("cloudtrail-tag-inference-profile.json")
    other["detail"]["requestParameters"]["resourceARN"] = (
        "arn:aws:bedrock:us-east-1:444455556666:guardrail/g1"
    )
    with pytest.raises(UnsupportedSignal):
        profile_change(other)
    broken = _event("cloudtrail-tag-inference-profile.json")
    broken["detail"]["requestParameters"] = {}
    with pytest.raises(MalformedSignal):
        profile_change(broken)


def test_read_trigger_tells_the_three_triggers_apart():
    sweep = read_trigger(_event("inventory-sweep-sqs.json"))
    assert isinstance(sweep, SweepRecords) and len(sweep.Records) == 1
    change = read_trigger(_event("cloudtrail-tag-inference-profile.json"))
    assert isinstance(change, ProfileChange) and change.profile_id == "k2x7q9m4ab1c"
    schedule = read_trigger(_event("inventory-schedule.json"))
    assert isinstance(schedule, DailySweep)
    assert schedule.scheduled_time == datetime(2026, 11, 27, 5, 15, tzinfo=UTC)
    rule_schedule = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert read_trigger(rule_schedule) == Refusal(
        "unknown",
        "unknown event shape (keys: source, detail-type, detail): the inventory handles its sweep "
        "queue's records, CloudTrail profile changes and its daily schedule",
    )


def test_sweep_message_is_the_fan_out_body():
    record = _event("inventory-sweep-sqs.json")["Records"][0]
    message = sweep_message(record)
    assert (message.account_id, message.regions) == ("444455556666", ["us-east-1", "us-west-2"])
    record["body"] = json.dumps({"account_id": "4444-5555-6666"})
    with pytest.raises(SweepMessageRefused, match=r"^sweep message: body.account_id: String should match"):
        sweep_message(record)


def test_a_profile_change_names_its_own_profile_only():
    arn = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/k2x7q9m4ab1c"
    fields = {"kind": "delete", "event_name": "DeleteInferenceProfile", "profile_arn": arn,
              "profile_id": "k2x7q9m4ab1c", "account_id": "444455556666", "region": "us-east-1"}  # fmt: skip
    assert ProfileChange(**fields).profile_arn == arn
    for wrong in ({"account_id": "111122223333"}, {"region": "us-west-2"}, {"profile_id": "zzzzzzzzzzzz"},
                  {"profile_arn": arn + "/../../foundation-model/x"}):  # fmt: skip
        with pytest.raises(ValidationError, match="not this account's and region's application profile"):
            ProfileChange(**{**fields, **wrong})


# --- settings and the bus model ----------------------------------------------------------------


def test_settings_from_env():
    settings = InventorySettings.from_env(
        {"INVENTORY_TABLE_NAME": "t", "MANDATORY_TAG_KEYS": "team, environment,", "BUDGETS_ROLE_ARN": ""}
    )
    assert settings.mandatory_tag_keys == ("team", "environment")
    assert settings.regions == default_regions()
    assert settings.budgets_role_arn is None
    assert InventorySettings.from_env(
        {"INVENTORY_TABLE_NAME": "t", "INVENTORY_REGIONS": "eu-west-1"}
    ).regions == ("eu-west-1",)
    with pytest.raises(SettingsError, match=r"^InventorySettings: INVENTORY_TABLE_NAME is required$"):
        InventorySettings.from_env({})


def test_profile_non_compliant_is_registered_for_the_bus():
    assert DETAIL_TYPES[ProfileNonCompliant] == "Profile Non-Compliant"
    assert BUS_SOURCES[ProfileNonCompliant] == "tokenfuse.inventory"
    event = ProfileNonCompliant(
        profile_arn="arn:aws:bedrock:us-east-1:1:application-inference-profile/x", profile_id="x",
        profile_name=None, account_id="1", region="us-east-1", tags={}, team_tag=None,
        missing_tags=["team"], unknown_team=False, creator=None,
        detected_at="2026-11-27T05:15:00Z", reason="missing tags: team",
    )  # fmt: skip
    body = event.to_bus()
    assert body["detected_at"] == "2026-11-27T05:15:00Z"
    assert body["creator"] is None and "creator" in body


def test_blank_settings_mean_the_defaults():
    settings = InventorySettings.from_env(
        {"INVENTORY_TABLE_NAME": "t", "INVENTORY_REGIONS": "", "MANDATORY_TAG_KEYS": "  "}
    )
    assert settings.regions == default_regions()
    assert settings.mandatory_tag_keys == ("team",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MANDATORY_TAG_KEYS", " , "), ("INVENTORY_REGIONS", ","), ("INVENTORY_REGIONS", "us-east-1,Mars")],
)
def test_a_list_setting_that_names_nothing_valid_is_refused(variable, value):
    with pytest.raises(SettingsError, match=f"^InventorySettings: {variable}="):
        InventorySettings.from_env({"INVENTORY_TABLE_NAME": "t", variable: value})


def test_unavailable_regions_are_recognised():
    from tokenfuse.errors import AccessDenied, AwsError, TokenfuseError, TransientAwsError
    from tokenfuse.inventory.service import _region_unavailable

    assert _region_unavailable(AccessDenied("denied by SCP"))
    assert _region_unavailable(
        AwsError("bedrock:ListInferenceProfiles: ...", code="UnrecognizedClientException")
    )
    assert _region_unavailable(AwsError("sts:...", code="OptInRequired"))
    assert not _region_unavailable(TransientAwsError("throttled", code="ThrottlingException"))
    # the code decides, never the text: a message that merely mentions one is not an unavailable region
    assert not _region_unavailable(
        TokenfuseError("An error occurred (UnrecognizedClientException) when calling")
    )
    assert not _region_unavailable(AwsError("UnrecognizedClientException", code="ValidationException"))
