"""Issue 3 end to end: a runaway seeded on one of several profiles in the sandbox is attributed to it,
with its owner and kind, through the deployed wiring: a token-rate alarm event on the default bus ->
forwarded to tokenfuse's bus -> the intake queue -> IntakeFunction -> "Spend Signal" ->
AttributeFunction -> "Spike Attributed"."""

import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from tokenfuse.attribution.usage import floor_hour
from tokenfuse_sandbox.core import Sandbox

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SONNET = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"
HAIKU = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
# (name, model, tags, invocations/h, input tokens/request, output tokens/request)
PROFILES = [
    ("support-chat", SONNET, {"team": "support", "feature": "chat", "environment": "prod"}, 600, 2_000, 300),
    ("search-rerank", HAIKU, {"team": "search", "environment": "prod"}, 2_000, 1_000, 50),
    ("batch-notes", HAIKU, {}, 100, 4_000, 400),
]


def seed_hour(cloudwatch, profile_id: str, at, invocations: float, tokens_in: float, tokens_out: float):
    dims = [{"Name": "ModelId", "Value": profile_id}]
    cloudwatch.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value, "Unit": "Count"}
            for name, value in (
                ("Invocations", invocations),
                ("InputTokenCount", invocations * tokens_in),
                ("OutputTokenCount", invocations * tokens_out),
            )
        ],
    )


def alarm_event(sb: Sandbox, profile_id: str, at) -> dict:
    event = json.loads((ROOT / "events" / "alarm-eventbridge.json").read_text())
    name = f"tokenfuse-{profile_id}-output-tokens"
    event |= {"account": sb.account_id, "time": f"{at:%Y-%m-%dT%H:%M:%SZ}"}
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:{sb.account_id}:alarm:{name}"]
    detail = event["detail"]
    detail["alarmName"] = name
    detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["ModelId"] = profile_id
    start = at - timedelta(minutes=5)
    reason = json.loads(detail["state"]["reasonData"]) | {"startDate": f"{start:%Y-%m-%dT%H:%M:%S.000+0000}"}
    detail["state"] |= {"reasonData": json.dumps(reason), "timestamp": f"{at:%Y-%m-%dT%H:%M:%S.000+0000}"}
    return event


def test_runaway_on_one_of_several_profiles_is_attributed_to_it_with_owner_and_kind():
    with Sandbox(function_urls=False, fire_schedules=False) as sb:
        # Given three tagged-or-not profiles with a week of ordinary hourly traffic in the sandbox's account
        bedrock, cloudwatch = boto3.client("bedrock"), boto3.client("cloudwatch")
        ids = {}
        for name, model, tags, *_ in PROFILES:
            created = bedrock.create_inference_profile(
                inferenceProfileName=name,
                modelSource={"copyFrom": model},
                tags=[{"key": k, "value": v} for k, v in tags.items()],
            )
            ids[name] = created["inferenceProfileArn"].rsplit("/", 1)[1]
        sb.clock.advance(timedelta(days=8))  # a baseline only counts days the profile existed
        # half past the hour, so the alarm's 5-minute window lies inside this hour whatever the wall clock
        sb.clock.advance_to(floor_hour(sb.clock.now()) + timedelta(hours=1, minutes=30))
        now = sb.clock.now()
        this_hour = floor_hour(now)
        for hours_ago in range(1, 7 * 24 + 1):
            for name, _, _, invocations, tokens_in, tokens_out in PROFILES:
                seed_hour(cloudwatch, ids[name], this_hour - timedelta(hours=hours_ago),
                          invocations, tokens_in, tokens_out)  # fmt: skip
        # And this hour, support-chat's answers run away (an agent loop: 15x the output tokens)
        for name, _, _, invocations, tokens_in, tokens_out in PROFILES:
            factor = 15 if name == "support-chat" else 1
            seed_hour(cloudwatch, ids[name], this_hour, invocations, tokens_in, tokens_out * factor)
        # When its token-rate alarm fires (on the default bus, as CloudWatch puts it)
        sb.put_events([alarm_event(sb, ids["support-chat"], now)], bus="default")
        sb.drain()
        # Then the deployed wiring carried it to one Spend Signal and one Spike Attributed
        kinds = [e["detail-type"] for e in sb.bus_events]
        assert kinds.count("Spend Signal") == 1 and kinds.count("Spike Attributed") == 1
        spike = next(e["detail"] for e in sb.bus_events if e["detail-type"] == "Spike Attributed")
        top = spike["culprits"][0]
        # naming the runaway profile, its owner from its tags, and the kind of spike
        assert (top["profile_id"], top["team"], top["feature"], top["environment"]) == (
            ids["support-chat"], "support", "chat", "prod",
        )  # fmt: skip
        assert top["kind"] == "output-runaway"
        assert top["tokens_per_request"]["output"] == pytest.approx(15 * 300)
        assert top["baseline_tokens_per_request"]["output"] == pytest.approx(300)
        # in dollars: 600 requests x (2,000 in x $3 + 4,500 out x $15) per million = $44.10 this hour,
        # against 600 x (2,000 x $3 + 300 x $15) = $6.30 an ordinary hour. The hour is still running:
        # the window and each baseline day count only its elapsed part, and $/h is per elapsed hour.
        elapsed = (now - this_hour) / timedelta(hours=1)
        assert top["window_cost_usd"] == pytest.approx(600 * (2_000 * 3 + 4_500 * 15) / 1e6)
        assert top["baseline_cost_usd"] == pytest.approx(6.3 * elapsed, rel=1e-3)
        assert top["cost_per_hour_usd"] == pytest.approx(44.1 / elapsed, rel=1e-3)
        assert top["baseline_cost_per_hour_usd"] == pytest.approx(6.3, rel=1e-3)
        assert top["share"] > 0.95
        # and the other profiles, flat, are not blamed
        assert [c["profile_id"] for c in spike["culprits"]] == [ids["support-chat"]]
