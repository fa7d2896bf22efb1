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


HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"


def seed_hours(cloudwatch, model_id: str, hours, invocations: float, tokens_in: float, tokens_out: float):
    """Hourly AWS/Bedrock metrics for one ModelId value, 500 datapoints a PutMetricData call."""
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            "Timestamp": at,
            "Value": value,
            "Unit": "Count",
        }
        for at in hours
        for name, value in (
            ("Invocations", invocations),
            ("InputTokenCount", invocations * tokens_in),
            ("OutputTokenCount", invocations * tokens_out),
        )
    ]
    for i in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + 500])


def cad_event(sb: Sandbox, day, at, impact: float) -> dict:
    """CAD's "Anomaly Detected" for the sandbox's account and ``day``, forwarded to tokenfuse's bus."""
    event = json.loads((ROOT / "events" / "cad-eventbridge.json").read_text())
    event |= {"account": sb.account_id, "time": f"{at:%Y-%m-%dT%H:%M:%SZ}"}
    detail = event["detail"]
    day_text = f"{day:%Y-%m-%dT00:00:00Z}"
    detail |= {"accountId": sb.account_id, "anomalyStartDate": day_text, "anomalyEndDate": day_text}
    detail["impact"] = {
        "maxImpact": impact,
        "totalActualSpend": 4.32 + impact,
        "totalExpectedSpend": 4.32,
        "totalImpact": impact,
        "totalImpactPercentage": round(100 * impact / 4.32, 2),
    }
    detail["rootCauses"] = [
        {
            "linkedAccount": sb.account_id,
            "linkedAccountName": "sandbox",
            "region": "us-east-1",
            "service": "Amazon Bedrock",
            "usageType": "USE1-Claude35Haiku-input-tokens",
            "impact": {"contribution": impact},
        }
    ]
    return event


def test_direct_model_calls_in_a_cad_day_are_published_as_their_own_culprit():
    finops = {"parameters": {"FinOpsSlackChannel": "C0FINOPS01"}, "slack_channels": {"C0FINOPS01": "finops"}}
    with Sandbox(function_urls=False, fire_schedules=False, **finops) as sb:
        # Given five profiles with a flat week (100 requests an hour, 2,000 in / 300 out on Sonnet)
        bedrock, cloudwatch = boto3.client("bedrock"), boto3.client("cloudwatch")
        ids = [
            bedrock.create_inference_profile(
                inferenceProfileName=f"flat-{i}",
                modelSource={"copyFrom": SONNET},
                tags=[{"key": "team", "value": "support"}],
            )["inferenceProfileArn"].rsplit("/", 1)[1]
            for i in range(5)
        ]
        sb.clock.advance(timedelta(days=9))
        day = floor_hour(sb.clock.now()).replace(hour=0) - timedelta(days=1)
        week = [day - timedelta(days=7) + timedelta(hours=h) for h in range(8 * 24)]
        for profile_id in ids:
            seed_hours(cloudwatch, profile_id, week, 100, 2_000, 300)
        # And direct calls to Claude 3.5 Haiku with no profile behind them: 50 requests an hour at
        # 2,000 in / 500 out, 10x for four hours of the day
        storm = [day + timedelta(hours=h) for h in range(10, 14)]
        seed_hours(cloudwatch, HAIKU35, [h for h in week if h not in storm], 50, 2_000, 500)
        seed_hours(cloudwatch, HAIKU35, storm, 500, 2_000, 500)
        # When CAD reports that account's day, the next afternoon
        sb.clock.advance_to(day + timedelta(days=1, hours=14))
        sb.put_events([cad_event(sb, day, sb.clock.now(), impact=6.5)], bus="TokenfuseBus")
        sb.drain()
        # Then a Spike Attributed IS published, naming the direct calls as their own culprit
        spikes = [e["detail"] for e in sb.bus_events if e["detail-type"] == "Spike Attributed"]
        assert len(spikes) == 1
        (direct,) = spikes[0]["culprits"]
        assert (direct["subject"], direct["profile_arn"], direct["model_ids"]) == (
            "direct-model",
            None,
            [HAIKU35],
        )
        # with the dollars worked out here: $0.0036 a request ($0.8 in, $4 out per million),
        # so $0.18 an ordinary hour and $1.80 a storm hour: +$6.48 over the day
        per_request = (2_000 * 0.8 + 500 * 4.0) / 1e6
        assert direct["delta_usd"] == pytest.approx(4 * 450 * per_request)
        assert direct["window_cost_usd"] == pytest.approx((20 * 50 + 4 * 500) * per_request)
        assert direct["cost_per_hour_usd"] == pytest.approx(500 * per_request)
        assert direct["kind"] == "request-storm"
        assert spikes[0]["unattributed_usd"] == pytest.approx(6.5 - 6.48)
        assert spikes[0]["reads"][0]["method"] == "metrics-insights"
        # And its incident opens for FinOps, with no profile and no remediation started
        opened = [e["detail"] for e in sb.bus_events if e["detail-type"] == "Incident Opened"]
        assert [(o["profile_arn"], o["team"]) for o in opened] == [(None, None)]
        assert not [e for e in sb.bus_events if e["detail-type"] == "Remediation Step"]
        (post,) = sb.slack.messages("C0FINOPS01")
        assert f"direct calls to {HAIKU35}" in post["text"]
        assert "no inference profile to block" in post["text"]
