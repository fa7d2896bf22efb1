"""The attribute function in-process under moto: real CloudWatch (metrics put with put_metric_data,
ranked with Metrics Insights queries answered by the sandbox's named emulation, read in detail with
plain MetricStat queries), a fake Bedrock client injected, a real EventBridge bus whose rule targets
an SQS queue, so the SpikeAttributed event it publishes is seen as AWS would deliver it."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.support.attribution_fakes import HAIKU3, SONNET, FakeBedrock, baseline_hours, hours, seed
from tokenfuse.adapters.aws import default_session
from tokenfuse.attribution import AttributionSettings, Attributor, AwsClientFactory, ScopeClients
from tokenfuse.events import SpendSignal, SpikeAttributed
from tokenfuse.settings import SettingsError
from tokenfuse_sandbox.emulation import metrics_insights

REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = (NOW - timedelta(hours=2), NOW)


@dataclass
class Context:
    function_name: str = "tokenfuse-attribute"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tokenfuse-attribute"
    aws_request_id: str = "req-1"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "EVENT_BUS_NAME": "tokenfuse",
        "BASELINE_DAYS": "7",
        "POWERTOOLS_SERVICE_NAME": "attribute",
        "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    metrics_insights.install()  # moto alone sums every datapoint for any SELECT
    with mock_aws():
        events, sqs = boto3.client("events", REGION), boto3.client("sqs", REGION)
        events.create_event_bus(Name="tokenfuse")
        queue = sqs.create_queue(QueueName="spikes")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        pattern = {"source": ["tokenfuse.attribution"], "detail-type": ["Spike Attributed"]}
        events.put_rule(Name="spikes", EventBusName="tokenfuse", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="spikes", EventBusName="tokenfuse", Targets=[{"Id": "q", "Arn": queue_arn}])
        yield {"sqs": sqs, "queue": queue, "cloudwatch": boto3.client("cloudwatch", REGION)}
    metrics_insights.uninstall()


class MotoMetrics:
    """Collects datapoints and puts them with put_metric_data (at most 1,000 a call)."""

    def __init__(self, cloudwatch):
        self.cloudwatch, self.points = cloudwatch, []

    def put(self, metric, model_id, at, value):
        self.points.append(
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Timestamp": at,
                "Value": value,
                "Unit": "Count",
            }
        )

    def flush(self):
        for start in range(0, len(self.points), 1000):
            self.cloudwatch.put_metric_data(
                Namespace="AWS/Bedrock", MetricData=self.points[start : start + 1000]
            )
        self.points = []


@pytest.fixture
def handler(aws, monkeypatch):
    from functions.attribute import app
    from tokenfuse import composition, observability
    from tokenfuse.attribution import wiring

    # observability's Metrics was built at import, maybe before this test's environment was set
    monkeypatch.setattr(observability.metrics.provider, "namespace", "tokenfuse")
    bedrock = FakeBedrock(account=ACCOUNT, region=REGION)

    def build(config, inventory=None, own_account=None):
        clients = ScopeClients(bedrock, aws["cloudwatch"])
        return Attributor(lambda account, region: clients, config, now=lambda: NOW)

    monkeypatch.setattr(wiring, "build_attributor", build)
    composition.reset()
    yield app, bedrock
    composition.reset()


def spend_signal_event(**overrides) -> dict:
    signal = {
        "source": "token-rate-alarm",
        "dedup_key": "alarm-1",
        "received_at": "2026-11-20T11:58:00Z",
        "account_id": ACCOUNT,
        "region": REGION,
        "window_start": WINDOW[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_end": WINDOW[1].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "raw_source": "eventbridge",
        "summary": "OutputTokenCount above 200,000 per 5 minutes",
        "alarm_name": "tokenfuse-output-chat00000001",
        "metric_name": "OutputTokenCount",
        "profile_id": "chat00000001",
    }
    signal.update(overrides)
    SpendSignal.from_bus(signal)  # the detail is a valid SpendSignal
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Spend Signal",
        "source": "tokenfuse.intake",
        "account": ACCOUNT,
        "time": "2026-11-20T11:58:30Z",
        "region": REGION,
        "resources": [],
        "detail": signal,
    }


def received(aws) -> list[dict]:
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_output_runaway_is_attributed_and_published(aws, handler):
    # Given chat (Sonnet, team search) whose answers got 10x longer, reported half under its id and
    # half under its full ARN, and a flat Haiku profile
    app, bedrock = handler
    chat = bedrock.add("chat00000001", SONNET, {"team": "search", "feature": "chat", "environment": "prod"})
    bedrock.add("flat00000001", HAIKU3, {"team": "docs"})
    metrics = MotoMetrics(aws["cloudwatch"])
    for dimension in ("chat00000001", chat):
        seed(metrics.put, dimension, baseline_hours(*WINDOW), 50, 3_000, 400)
        seed(metrics.put, dimension, hours(*WINDOW), 50, 3_000, 4_000)
    seed(metrics.put, "flat00000001", baseline_hours(*WINDOW) + hours(*WINDOW), 20, 1_000, 100)
    metrics.flush()
    # When the handler gets the Spend Signal
    out = app.lambda_handler(spend_signal_event(), Context())
    # Then it returns the SpikeAttributed, naming chat, its owner and the kind
    result = SpikeAttributed.from_bus(out)
    (culprit,) = result.culprits
    assert (culprit.profile_id, culprit.team, culprit.kind, culprit.tagged) == (
        "chat00000001",
        "search",
        "output-runaway",
        True,
    )
    # 100 requests an hour, 2 h: $0.015 -> $0.069 a request (4,000 x $15 / 1M more)
    assert culprit.invocations == 200
    assert culprit.delta_usd == pytest.approx(200 * 3_600 * 15 / 1e6)
    assert culprit.tokens_per_request.output == 4_000
    assert culprit.baseline_tokens_per_request.output == 400
    # And the same event arrived through the bus rule on the queue
    (event,) = received(aws)
    assert (event["source"], event["detail-type"]) == ("tokenfuse.attribution", "Spike Attributed")
    assert event["detail"] == out


def test_no_culprit_publishes_nothing(aws, handler):
    # Given only flat traffic and a CAD signal that names no profile
    app, bedrock = handler
    bedrock.add("flat00000001", HAIKU3, {"team": "docs"})
    metrics = MotoMetrics(aws["cloudwatch"])
    seed(metrics.put, "flat00000001", baseline_hours(*WINDOW) + hours(*WINDOW), 20, 1_000, 100)
    metrics.flush()
    event = spend_signal_event(
        source="cost-anomaly", profile_id=None, alarm_name=None, metric_name=None, impact_usd=12.5
    )
    # When handled
    out = app.lambda_handler(event, Context())
    # Then it says so and the bus carried nothing
    assert out["published"] is False
    assert out["reason"] == "no culprit"
    assert out["unattributed_usd"] == 12.5
    assert received(aws) == []


def test_settings_validated_on_first_use(monkeypatch, handler):
    from tokenfuse.attribution import AttributeSettings, wiring

    app, _ = handler
    # Given the function's knobs in its environment
    monkeypatch.setenv("BASELINE_DAYS", "3")
    monkeypatch.setenv("TEAM_TAG_KEY", "Owner")
    # When its composition root is built from them
    config = wiring.dependencies(AttributeSettings.from_env()).settings
    # Then it holds them, and an invocation under a broken environment fails before reading the event
    assert (config.event_bus_name, config.baseline_days) == ("tokenfuse", 3)
    assert config.tag_keys.team == "Owner"
    monkeypatch.setenv("BASELINE_DAYS", "not-a-number")
    with pytest.raises(SettingsError, match=r"^AttributeSettings: BASELINE_DAYS='not-a-number': "):
        app.lambda_handler({"not": "an event"}, Context())
    monkeypatch.delenv("EVENT_BUS_NAME")
    monkeypatch.setenv("BASELINE_DAYS", "7")
    with pytest.raises(SettingsError, match=r"^AttributeSettings: EVENT_BUS_NAME is required$"):
        app.lambda_handler({"not": "an event"}, Context())


def test_cross_account_scopes_go_through_the_member_role(aws):
    # Given the factory of the deployed function
    factory = AwsClientFactory("tokenfuse-member")
    # When asked for the function's own account, then for a member account
    assert factory.session(ACCOUNT) is factory.session(None) is default_session()
    member = factory.session("210987654321")
    # Then the member account is reached through an assumed role session (moto's STS)
    identity = member.client("sts", region_name=REGION).get_caller_identity()
    assert identity["Account"] == "210987654321"
    assert ":assumed-role/tokenfuse-member/" in identity["Arn"]
    clients = factory("210987654321", "us-west-2")
    assert clients.cloudwatch.meta.region_name == "us-west-2"
    assert AttributionSettings().member_role_name == "tokenfuse-member"
