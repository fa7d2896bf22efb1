"""Drill canaries are in no figure: the inventory neither records nor alarms them (so no compliance
count and no FinOps event), attribution leaves their series out before it ranks, and the
attributable % asks Cost Explorer to leave their spend out. A team's profile tagged like a canary
stays in every figure (its name is not a canary's)."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest

from tests.support.attribution_fakes import FakeBedrock, FakeCloudWatch, baseline_hours, hours, seed
from tests.support.handlers import load_handler
from tests.support.inventory_aws import REGION, inventory_aws
from tokenfuse.adapters.cost_explorer import cost_by_tag
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients
from tokenfuse.canaries import DRILL_COST_TAGS
from tokenfuse.events import SpendSignal

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = (datetime(2026, 11, 20, 10, 0, tzinfo=UTC), NOW)
SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"
CANARY_NAME = "tokenfuse-drill-20261120t100000-abc123"
DRILL = {"tokenfuse:drill": "true"}


# -- attribution ----------------------------------------------------------------------------------


def signal() -> SpendSignal:
    return SpendSignal(
        source="cost-anomaly",
        dedup_key="anomaly-1",
        received_at=NOW,
        account_id="123456789012",
        region="us-east-1",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        raw_source="eventbridge",
        summary="test",
    )


def attribute(canary_tags: dict[str, str], canary_name: str = CANARY_NAME):
    # Given a team's steady profile and a profile that spikes from 10 to 1,000 requests an hour
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("chat00000001", SONNET, {"team": "search"})
    bedrock.add("canary000001", SONNET, canary_tags, name=canary_name)
    window, before = hours(*WINDOW), baseline_hours(*WINDOW)
    seed(cloudwatch.put, "chat00000001", before + window, 100, 3_000, 400)
    seed(cloudwatch.put, "canary000001", before, 10, 3_000, 400)
    seed(cloudwatch.put, "canary000001", window, 1_000, 3_000, 400)
    attributor = Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch),
        AttributionSettings(min_share=0),
        now=lambda: NOW,
    )
    return attributor.attribute(signal())


def test_a_drill_canarys_spend_is_in_no_figure_of_attribution():
    result = attribute(DRILL)
    assert [c.profile_id for c in result.culprits] == []
    # the steady profile alone: 2 h x 100 x (3,000 x $3 + 400 x $15) / 1M = $3.00 now and in the baseline
    assert result.window_cost_usd == pytest.approx(2 * 100 * (3_000 * 3 + 400 * 15) / 1_000_000)
    assert result.spike_usd == pytest.approx(0.0)


def test_the_same_spike_on_a_team_profile_tagged_as_a_drill_is_still_attributed():
    result = attribute(DRILL | {"team": "search"}, canary_name="support-agent")
    [culprit] = [c for c in result.culprits if c.profile_id == "canary000001"]
    # 2 h x (1,000 - 10) x $0.015 = $29.70 more than its baseline
    assert culprit.delta_usd == pytest.approx(2 * 990 * 0.015)


# -- Cost Explorer -----------------------------------------------------------------------------------


class CostExplorer:
    def __init__(self) -> None:
        self.asked: list[dict] = []

    def get_cost_and_usage(self, **kwargs):
        self.asked.append(kwargs)
        return {
            "ResultsByTime": [
                {"Groups": [{"Keys": ["team$search"], "Metrics": {"UnblendedCost": {"Amount": "4.5"}}}]}
            ]
        }


def test_the_attributable_share_asks_cost_explorer_to_leave_drill_spend_out():
    ce = CostExplorer()
    assert cost_by_tag(ce, date(2026, 11, 29), date(2026, 11, 30), "team", exclude_tags=DRILL_COST_TAGS) == {
        "team$search": 4.5
    }
    assert ce.asked[0]["Filter"] == {
        "And": [
            {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}},
            {"Not": {"Tags": {"Key": "tokenfuse:drill", "Values": ["true"]}}},
        ]
    }


def test_without_exclusions_the_filter_is_the_service_alone():
    ce = CostExplorer()
    cost_by_tag(ce, date(2026, 11, 29), date(2026, 11, 30), "team")
    assert ce.asked[0]["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}


# -- the inventory -----------------------------------------------------------------------------------

TEAMS = "teams:\n  - name: search\n    slack_channel: C0123ABCDE\nfinops:\n  slack_channel: C0FINOPS00\n"


@dataclass
class Context:
    function_name: str = "tokenfuse-inventory-dev"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:tokenfuse-inventory-dev"
    aws_request_id: str = "req-inventory"


def created_event(arn: str) -> dict:
    event = json.loads((ROOT / "events" / "cloudtrail-create-inference-profile.json").read_text())
    _, _, _, region, account, _ = arn.split(":", 5)
    event["id"] = str(uuid.uuid4())
    event["account"], event["region"] = account, region
    event["detail"]["awsRegion"], event["detail"]["recipientAccountId"] = region, account
    event["detail"]["responseElements"]["inferenceProfileArn"] = arn
    return event


def test_the_inventory_records_and_alarms_no_canary_and_tells_finops_nothing(monkeypatch):
    with inventory_aws(monkeypatch, TEAMS, REGION) as aws:
        handler = load_handler("inventory").lambda_handler
        bedrock = boto3.client("bedrock", REGION)
        model = {"copyFrom": f"arn:aws:bedrock:{REGION}::foundation-model/{SONNET}"}

        def create(name: str, tags: dict[str, str]) -> str:
            tag_list = [{"key": k, "value": v} for k, v in tags.items()]
            return bedrock.create_inference_profile(
                inferenceProfileName=name, modelSource=model, tags=tag_list
            )["inferenceProfileArn"]

        team = create("search-answers", {"team": "search", "environment": "prod"})
        canary = create(CANARY_NAME, DRILL)  # untagged otherwise: it would be non-compliant
        # When the inventory hears both creations
        assert handler(created_event(team), Context())["action"] == "upserted"
        assert handler(created_event(canary), Context())["action"] == "skipped: drill canary"
        # Then only the team's profile is recorded and alarmed
        items = boto3.client("dynamodb", REGION).scan(TableName="tokenfuse-inventory-dev")["Items"]
        assert [i["profile_arn"]["S"] for i in items] == [team]
        alarms = boto3.client("cloudwatch", REGION).describe_alarms(AlarmNamePrefix="tokenfuse-")[
            "MetricAlarms"
        ]
        canary_id = canary.rsplit("/", 1)[1]
        assert alarms and not any(canary_id in a["AlarmName"] for a in alarms)
        # And FinOps hears of no non-compliant profile
        sqs = boto3.client("sqs", REGION)
        assert not sqs.receive_message(QueueUrl=aws.bus_tap).get("Messages")
        # And the daily sweep of the account agrees: one profile, the canary nowhere
        from tokenfuse.inventory import runtime
        from tokenfuse.inventory.config import InventorySettings

        swept = runtime.build_inventory(InventorySettings.from_env()).sweep_account("123456789012", [REGION])
        assert (swept.profiles, swept.upserted) == (1, 1)
        items = boto3.client("dynamodb", REGION).scan(TableName="tokenfuse-inventory-dev")["Items"]
        assert [i["profile_arn"]["S"] for i in items] == [team]
