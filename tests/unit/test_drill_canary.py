"""What a drill canary is (the one predicate every figure uses), its name, its tags, its model."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.drill_fakes import PRICES, REGION
from tokenfuse.attribution.pricing import PriceTable
from tokenfuse.canaries import is_drill_profile
from tokenfuse.drill.canary import (
    CANARY_MAX_AGE,
    DrillError,
    canary_name,
    canary_tags,
    is_left_behind,
    tag_guard_statement,
)
from tokenfuse.drill.model import cheapest_text_model

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
DRILL = {"tokenfuse:drill": "true"}


@pytest.mark.parametrize(
    ("name", "tags", "expected"),
    [
        ("tokenfuse-drill-20261130t100000-abc123", DRILL, True),
        ("tokenfuse-drill-x-tag", DRILL | {"tokenfuse:drill-deny": "true"}, True),
        ("support-agent", DRILL, False),  # a team's profile tagged as a drill: still counted
        ("tokenfuse-drill-20261130t100000-abc123", {}, False),  # named like one, not tagged
        (
            "tokenfuse-drill-20261130t100000-abc123",
            {"tokenfuse:drill": "True"},
            False,
        ),  # IAM is case-sensitive
        ("tokenfuse-drill-20261130t100000-abc123", {"tokenfuse:drill": " true"}, False),
        (None, DRILL, False),
    ],
)
def test_a_drill_profile_is_tagged_and_named_as_the_drill_makes_them(name, tags, expected):
    assert is_drill_profile(name, tags) is expected


def test_a_canary_is_left_behind_only_when_older_than_any_drill_and_never_a_teams():
    name = "tokenfuse-drill-20261130t070000-abc123"
    old, young = NOW - CANARY_MAX_AGE - timedelta(seconds=1), NOW - CANARY_MAX_AGE + timedelta(seconds=1)
    assert is_left_behind(name, DRILL, old, NOW)
    assert not is_left_behind(name, DRILL, young, NOW)
    assert not is_left_behind(name, DRILL | {"team": "search"}, old, NOW)
    assert not is_left_behind("support-agent", DRILL, old, NOW)
    assert is_left_behind(name, DRILL | {"owner": "x"}, old, NOW, team_tag_key="owner") is False


def test_canary_names_fit_bedrock_and_the_tag_canary_is_marked():
    assert canary_name("20261130t100000-abc123") == "tokenfuse-drill-20261130t100000-abc123"
    assert canary_name("20261130t100000-abc123", tag_guard=True).endswith("-tag")
    with pytest.raises(DrillError, match="64 characters"):
        canary_name("x" * 60)


def test_canary_tags_name_the_caller_under_the_configured_key():
    assert canary_tags(None) == DRILL
    assert canary_tags("role-a", callers_tag_key="callers") == DRILL | {"callers": "role-a"}
    assert canary_tags(None, tag_guard=True) == DRILL | {"tokenfuse:drill-deny": "true"}


def test_the_cheapest_text_model_is_chosen_by_the_drills_request_cost():
    # Nova Micro: 16 x $0.035 + 1 x $0.14 = $0.70 per million requests' worth; Nova Lite: 16 x $0.06 + $0.24
    model = cheapest_text_model(PRICES, REGION)
    assert model.model_id == "amazon.nova-micro-v1:0"
    assert model.cost(5, 1) == pytest.approx((5 * 0.035 + 1 * 0.14) / 1_000_000)
    assert model.model_arn(REGION) == f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-micro-v1:0"


def test_the_cheapest_model_depends_on_the_output_rate_too():
    table = PriceTable.model_validate(
        {
            "models": {
                "cheap-in": {"name": "a", "source": "s", "as_of": "2026-11-27",
                             "regions": {"eu-west-1": {"input": 0.01, "output": 10.0}}},
                "cheap-out": {"name": "b", "source": "s", "as_of": "2026-11-27",
                              "regions": {"eu-west-1": {"input": 0.5, "output": 0.5}}},
            }
        }
    )  # fmt: skip
    # cheap-in: 16 x 0.01 + 10 = 10.16; cheap-out: 16 x 0.5 + 0.5 = 8.5
    assert cheapest_text_model(table, "eu-west-1").model_id == "cheap-out"


def test_a_region_without_a_price_cannot_be_drilled():
    with pytest.raises(DrillError, match="no model of the price table has a price in ap-south-2"):
        cheapest_text_model(PRICES, "ap-south-2")


def test_the_guards_drill_statement_is_the_one_in_org_guard_scp_json_and_denies_only_canaries():
    policy = json.loads((ROOT / "org" / "guard-scp.json").read_text())
    assert tag_guard_statement() in policy["Statement"]
    condition = tag_guard_statement()["Condition"]["StringEquals"]
    assert condition == {
        "aws:ResourceTag/tokenfuse:drill": "true",
        "aws:ResourceTag/tokenfuse:drill-deny": "true",
    }
    assert len(json.dumps(policy, separators=(",", ":"))) <= 5120
