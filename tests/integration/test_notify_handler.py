"""The notify handler in-process: moto for DynamoDB (tables from template.yaml's key schemas), SES,
SSM, Secrets Manager, Step Functions and EventBridge; the sandbox's Slack-compatible server for
Slack. Routing by tags, dedup (re-deliveries, CAD re-alerts, alarm then CAD), Slack failures."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeContext
from tests.support.moto_state import empty_table
from tokenfuse import clock
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.remediation import execution_name
from tokenfuse.alerts.service import AlertNotDelivered
from tokenfuse.alerts.settings import NotifySettings
from tokenfuse.alerts.wiring import build_service
from tokenfuse.events import ArrivalRate, Incident, ProfileNonCompliant, SpikeAttributed
from tokenfuse_sandbox.emulation.slack_server import SlackServer

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "alerts"
REGION = "us-east-1"
TOKEN = "xoxb-notify-test"
BUS = "tokenfuse-test"
INCIDENTS, IDEMPOTENCY = "tokenfuse-incidents-test", "tokenfuse-idempotency-test"
PARAMETER = "/tokenfuse/test/teams"
SENDER, FINOPS_EMAIL = "tokenfuse@example.com", "finops@example.com"
CHANNELS = {"C0SUPPORT1": "support-alerts", "C0SEARCH01": "search-alerts", "C0FINOPS01": "finops"}
START = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)


def context() -> FakeContext:
    return FakeContext("tokenfuse-notify", "444455556666", 512, 60_000)


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def table_definition(logical_id: str, name: str) -> dict[str, Any]:
    """CreateTable arguments from template.yaml's own key schema (so a template change fails here)."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    props = template["Resources"][logical_id]["Properties"]
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
    }


def spike(name: str = "spike-alarm.json", **changes: Any) -> SpikeAttributed:
    s = SpikeAttributed.from_bus(json.loads((GOLDEN / name).read_text()))
    return s.model_copy(update=changes) if changes else s


def with_signal(s: SpikeAttributed, **changes: Any) -> SpikeAttributed:
    return s.model_copy(update={"signal": s.signal.model_copy(update=changes)})


def profile(s: SpikeAttributed, index: int, profile_id: str, **changes: Any):
    arn = f"arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/{profile_id}"
    return s.culprits[index].model_copy(
        update={"profile_id": profile_id, "profile_arn": arn, "profile_name": f"p-{profile_id}", **changes}
    )


def eventbridge(s: SpikeAttributed) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Spike Attributed",
        "source": "tokenfuse.attribution",
        "account": "444455556666",
        "time": "2026-11-26T03:00:41Z",
        "region": REGION,
        "resources": [],
        "detail": s.to_bus(),
    }


class World:
    """The handler and everything it talks to."""

    def __init__(self, slack: SlackServer, state_machine_arn: str, queue_url: str) -> None:
        self.slack = slack
        self.state_machine_arn = state_machine_arn
        self.queue_url = queue_url
        self.handler = load_handler("notify")
        self.now = START

    def invoke(self, s: SpikeAttributed, advance: timedelta = timedelta(seconds=5)) -> dict[str, Any]:
        self.now += advance
        return self.handler.lambda_handler(eventbridge(s), context())

    def posts(self, channel: str | None = None, top_level: bool | None = None):
        calls = self.slack.calls_to("chat.postMessage")
        return [
            c
            for c in calls
            if (channel is None or c.channel == channel)
            and (top_level is None or (c.thread_ts is None) == top_level)
        ]

    def updates(self):
        return self.slack.calls_to("chat.update")

    def emails(self) -> list[Any]:
        return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def execution_input(self, execution_arn: str) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return json.loads(sfn.describe_execution(executionArn=execution_arn)["input"])

    def bus_events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            found += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def incidents(self) -> list[Incident]:
        return IncidentsTable(INCIDENTS).incidents()


ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "notify",
    "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_LAMBDA_FUNCTION_NAME": "tokenfuse-notify",
    "EVENT_BUS_NAME": BUS,
    "INCIDENTS_TABLE_NAME": INCIDENTS,
    "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY,
    "TEAM_DIRECTORY_PARAMETER": PARAMETER,
    "FINOPS_SLACK_CHANNEL": "",
    "FINOPS_EMAIL": FINOPS_EMAIL,
    "SENDER_EMAIL": SENDER,
    "INCIDENT_QUIET_HOURS": "6",
}


@dataclass
class Account:
    """What moto holds for the whole module (created once; each test starts from it clean)."""

    secret_arn: str
    queue_url: str


@pytest.fixture(scope="module")
def account():
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ENV.items():
            patch.setenv(key, value)
        aws_adapter.default_session.cache_clear()
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            dynamodb.create_table(**table_definition("IncidentsTable", INCIDENTS))
            dynamodb.create_table(**table_definition("IdempotencyTable", IDEMPOTENCY))
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=PARAMETER, Type="String", Value=(ROOT / "config" / "teams.example.yaml").read_text()
            )
            secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name="tokenfuse/test/slack-bot-token", SecretString=TOKEN
            )
            boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
            events = boto3.client("events", region_name=REGION)
            events.create_event_bus(Name=BUS)
            sqs = boto3.client("sqs", region_name=REGION)
            queue = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            events.put_rule(
                Name="capture", EventBusName=BUS, EventPattern=json.dumps({"source": ["tokenfuse.incidents"]})
            )
            events.put_targets(Rule="capture", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
            yield Account(secret["ARN"], queue)
        aws_adapter.default_session.cache_clear()


@pytest.fixture
def env(account, monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLACK_BOT_TOKEN_SECRET_ARN", account.secret_arn)
    parameters.clear_caches()
    yield monkeypatch
    parameters.clear_caches()
    clock.reset()


@pytest.fixture
def world(account, env):
    # Given a clean account: empty tables and inbox, a fresh state machine, the right bot token
    empty_table(INCIDENTS, REGION)
    empty_table(IDEMPOTENCY, REGION)
    ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages.clear()
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=account.secret_arn, SecretString=TOKEN
    )
    machine = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name=f"tokenfuse-remediation-{uuid.uuid4().hex[:12]}",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    env.setenv("REMEDIATION_STATE_MACHINE_ARN", machine)
    with SlackServer(TOKEN, CHANNELS) as slack:
        env.setenv("SLACK_API_BASE_URL", slack.base_url)
        w = World(slack, machine, account.queue_url)
        w.bus_events()  # drain what earlier tests left
        clock.set_source(lambda: w.now)
        yield w


# -- routing ---------------------------------------------------------------------------------------


def test_tagged_and_untagged_profiles_of_one_spike(world):
    # Given an alarm spike on support's profile and an untagged one
    summary = world.invoke(spike())
    # Then one post in support's channel, one in FinOps's, none elsewhere
    assert [p.channel for p in world.posts()] == ["C0SUPPORT1", "C0FINOPS01"]
    assert len(summary["incidents_opened"]) == 2 and summary["messages_sent"] == 2
    support_post = world.posts("C0SUPPORT1")[0]
    assert support_post.text.startswith("Bedrock spend spike: support-chat-prod at $142.30/h")
    assert "untagged profile" in world.posts("C0FINOPS01")[0].text
    incidents = {i.profile_id: i for i in world.incidents()}
    assert incidents["x7k2p9q4m1ab"].team == "support" and incidents["q9w8e7r6t5yu"].team is None
    assert incidents["x7k2p9q4m1ab"].slack_ts == support_post.ts


def test_unknown_team_goes_to_finops_and_two_teams_get_their_own_channel(world):
    s = spike()
    search = profile(s, 0, "srch00000001", team="retrieval")
    growth = profile(s, 0, "grow00000001", team="growth")
    world.invoke(s.model_copy(update={"culprits": [s.culprits[0], search, growth]}))
    assert [p.channel for p in world.posts()] == ["C0SUPPORT1", "C0SEARCH01", "C0FINOPS01"]
    assert "unknown team 'growth'" in world.posts("C0FINOPS01")[0].text


def test_finops_comes_from_the_stack_parameters_when_the_directory_names_none(world, env):
    # Given a directory with no finops section, and the stack's FinOpsSlackChannel / FinOpsEmail
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(
        Name=PARAMETER,
        Type="String",
        Overwrite=True,
        Value="teams:\n  - {name: support, slack_channel: C0SUPPORT1}\n",
    )
    env.setenv("FINOPS_SLACK_CHANNEL", "C0FINOPS01")
    parameters.clear_caches()
    try:
        # When a spike on support's profile and an untagged one arrives
        summary = world.invoke(spike())
    finally:
        ssm.put_parameter(
            Name=PARAMETER,
            Type="String",
            Overwrite=True,
            Value=(ROOT / "config" / "teams.example.yaml").read_text(),
        )
    # Then the untagged profile's alert goes to the stack's FinOps channel, resolved at load
    assert [p.channel for p in world.posts()] == ["C0SUPPORT1", "C0FINOPS01"]
    assert walk(summary, 1) == [("slack", "C0FINOPS01", "delivered", None)]


def test_email_only_team_gets_an_email(world):
    s = spike()
    legal = profile(s, 0, "legal0000001", team="legal", environment="prod")
    world.invoke(s.model_copy(update={"culprits": [legal]}))
    assert world.posts() == []
    (email,) = world.emails()
    assert email.destinations["ToAddresses"] == ["legal-ai@example.com"]
    assert "$142.30/h" in email.subject and "p-legal0000001" in email.subject


# -- incidents, remediation, dedup -----------------------------------------------------------------


def test_new_incident_starts_remediation_and_announces_it_on_the_bus(world):
    world.invoke(spike(culprits=[spike().culprits[0]]))
    (incident,) = world.incidents()
    (execution,) = world.executions()
    assert execution["name"] == execution_name(incident.incident_id)
    payload = world.execution_input(execution["executionArn"])["incident"]
    for key in (
        "incident_id",
        "profile_arn",
        "profile_id",
        "profile_name",
        "account_id",
        "region",
        "team",
        "environment",
        "kind",
        "severity",
        "slack_channel",
        "slack_ts",
        "cost_per_hour_usd",
        "baseline_cost_per_hour_usd",
        "opened_at",
        "protected",
    ):
        assert key in payload
    assert payload["slack_ts"] == world.posts("C0SUPPORT1")[0].ts and payload["team"] == "support"
    (event,) = world.bus_events()
    assert (
        event["detail-type"] == "Incident Opened" and event["detail"]["incident_id"] == incident.incident_id
    )


def test_same_sns_message_three_times_posts_once(world):
    s = spike(culprits=[spike().culprits[0]])
    first = world.invoke(s)
    again = [world.invoke(s) for _ in range(2)]
    assert len(world.posts()) == 1 and len(world.executions()) == 1 and len(world.bus_events()) == 1
    assert all(r == first for r in again)  # idempotency returns the first result
    (incident,) = world.incidents()
    assert incident.signal_count == 1


def test_same_signal_after_idempotency_expiry_is_still_one_post(world):
    s = spike(culprits=[spike().culprits[0]])
    world.invoke(s)
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=IDEMPOTENCY)
    boto3.client("dynamodb", region_name=REGION).create_table(
        **table_definition("IdempotencyTable", IDEMPOTENCY)
    )
    summary = world.invoke(s)
    assert summary["duplicates"] and len(world.posts()) == 1


def test_alarm_then_cad_hours_later_updates_the_same_thread(world):
    world.invoke(spike(culprits=[spike().culprits[0]]))
    (root,) = world.posts()
    summary = world.invoke(spike("spike-cad.json"), advance=timedelta(hours=14))
    assert summary["incidents_updated"] and not summary["incidents_opened"]
    assert len(world.posts(top_level=True)) == 1
    (reply,) = world.posts(top_level=False)
    assert reply.thread_ts == root.ts and reply.channel == "C0SUPPORT1"
    # CAD reports $4,121 for the day; the profile explains $10.86 of it: news, not a confirmation
    assert reply.text.startswith("Cost Anomaly Detection reports $4,121 (")
    assert "this incident explains $10.86." in reply.text
    (update,) = world.updates()
    assert update.ts == root.ts and "2 signals (token-rate alarm, Cost Anomaly Detection)" in update.text
    assert any(b.get("block_id") == "tokenfuse_anomaly_feedback" for b in update.blocks)
    assert len(world.executions()) == 1


LATE_CAD_WINDOW = {
    "window_start": datetime(2026, 11, 26, 0, 0, tzinfo=UTC),
    "window_end": datetime(2026, 11, 27, 0, 0, tzinfo=UTC),
    "received_at": datetime(2026, 11, 27, 18, 4, tzinfo=UTC),  # the day's anomaly, 18 h after it
}


def late_cad(**culprit_changes: Any) -> SpikeAttributed:
    cad = with_signal(spike("spike-cad.json"), **LATE_CAD_WINDOW)
    return cad.model_copy(update={"culprits": [cad.culprits[0].model_copy(update=culprit_changes)]})


def test_a_late_cad_shows_and_carries_the_rate_read_at_its_arrival(world):
    world.invoke(spike(culprits=[spike().culprits[0]]))
    (root,) = world.posts()
    arrival = ArrivalRate(
        hour_start=datetime(2026, 11, 27, 17, tzinfo=UTC),
        hour_end=datetime(2026, 11, 27, 18, tzinfo=UTC),
        cost_per_hour_usd=17.2,
        tokens_per_hour=2_500_000.0,
    )
    world.invoke(late_cad(rate_at_arrival=arrival), advance=timedelta(hours=39))
    (reply,) = world.posts(top_level=False)
    assert "Rate at arrival: $17.20/h in the hour to 18:00 UTC;" in reply.text
    (update,) = world.updates()
    assert update.ts == root.ts and "Rate now: $17.20/h (measured 2026-11-27 18:00 UTC)" in update.text


def test_a_late_cad_without_its_arrival_hour_never_passes_the_window_off_as_now(world):
    world.invoke(spike(culprits=[spike().culprits[0]]))
    world.invoke(late_cad(), advance=timedelta(hours=39))
    (reply,) = world.posts(top_level=False)
    assert "Rate at arrival" not in reply.text and "Rate over the anomaly window: $142.30/h;" in reply.text
    (update,) = world.updates()
    assert "Rate now: $142.30/h (measured 02:58 UTC)" in update.text  # the alarm's, still the latest


def test_cad_re_alert_updates_the_root_and_replies(world):
    cad = spike("spike-cad.json")
    world.invoke(cad)
    (root,) = world.posts()
    grown = with_signal(cad, dedup_key="cad:2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c:6020.10", impact_usd=6020.1)
    world.invoke(grown, advance=timedelta(hours=8))
    assert [c.ts for c in world.updates()] == [root.ts]
    (reply,) = world.posts(top_level=False)
    assert reply.thread_ts == root.ts and "reports $6,020" in reply.text and "confirms" not in reply.text


def test_loop_back_after_quiet_period_opens_a_new_incident(world):
    s = spike(culprits=[spike().culprits[0]])
    world.invoke(s)
    later = s.model_copy(
        update={
            "window_start": s.window_start + timedelta(hours=10),
            "window_end": s.window_end + timedelta(hours=10),
            "signal": s.signal.model_copy(update={"dedup_key": "alarm:again"}),
        }
    )
    world.invoke(later, advance=timedelta(hours=10))
    assert len(world.posts(top_level=True)) == 2 and len(world.executions()) == 2
    assert sorted(i.status for i in world.incidents()) == ["closed", "open"]
    # the first closed when its quiet period (INCIDENT_QUIET_HOURS=6) ended, not 10 h later
    (first,) = [i for i in world.incidents() if i.status == "closed"]
    assert first.closed_at == first.last_signal_at + timedelta(hours=6)


# -- Slack failures --------------------------------------------------------------------------------


def test_429_honours_retry_after_and_posts_once(world):
    world.slack.inject_fault("chat.postMessage", "rate_limited", times=1, retry_after=1)
    world.invoke(spike(culprits=[spike().culprits[0]]))
    calls = world.slack.calls_to("chat.postMessage", ok=None)
    assert [c.status for c in calls] == [429, 200]
    assert (calls[1].at - calls[0].at) >= timedelta(0) and world.emails() == []


def walk(summary: dict[str, Any], index: int = 0) -> list[tuple[str, str, str, str | None]]:
    """One alert's ladder walk as the summary records it: (medium, to, outcome, problem)."""
    attempts = summary["deliveries"][index]["attempts"]
    return [(a["medium"], a["to"], a["outcome"], a["problem"]) for a in attempts]


def test_500_walks_down_to_the_owners_email_and_tells_the_finops_channel(world):
    world.slack.inject_fault("chat.postMessage", "server_error", times=2)  # the call and its one retry
    summary = world.invoke(spike(culprits=[spike().culprits[0]]))
    assert summary["fallbacks"] == ["internal_error"]  # HTTP 500, after one retry
    # Then the summary lists every rung tried and what took the alert: the team's inbox, and
    # FinOps's channel (so FinOps knows the team's Slack failed); FinOps's inbox is not needed
    assert walk(summary) == [
        ("slack", "C0SUPPORT1", "failed", "internal_error"),
        ("email", "support-oncall@example.com", "delivered", None),
        ("slack", "C0FINOPS01", "delivered", None),
    ]
    (email,) = world.emails()
    assert email.destinations["ToAddresses"] == ["support-oncall@example.com"]
    assert (
        "This alert could not reach Customer Support in Slack (internal_error): sent by email." in email.body
    )
    (finops,) = world.posts("C0FINOPS01")
    assert finops.text.startswith(
        "This alert could not reach Customer Support in Slack (internal_error): "
        "sent to Customer Support by email and to the FinOps channel.\nBedrock spend spike: support-chat-prod"
    )
    assert len(world.executions()) == 1  # remediation still starts


def test_the_finops_post_failing_too_is_never_reported_as_sent(world):
    # Given Slack fails for every channel but not for the whole workspace (HTTP 500 on both posts)
    world.slack.inject_fault("chat.postMessage", "server_error", times=4)
    summary = world.invoke(spike(culprits=[spike().culprits[0]]))
    # Then FinOps's inbox is tried once its channel failed, and its email says what really happened
    assert walk(summary) == [
        ("slack", "C0SUPPORT1", "failed", "internal_error"),
        ("email", "support-oncall@example.com", "delivered", None),
        ("slack", "C0FINOPS01", "failed", "internal_error"),
        ("email", "finops@example.com", "delivered", None),
    ]
    team_email, finops_email = world.emails()
    assert team_email.destinations["ToAddresses"] == ["support-oncall@example.com"]
    assert finops_email.destinations["ToAddresses"] == ["finops@example.com"]
    assert (
        "This alert could not reach Customer Support in Slack (internal_error) or FinOps in Slack "
        "(internal_error): sent to Customer Support by email and to FinOps by email."
    ) in finops_email.body
    assert "FinOps channel" not in finops_email.body and world.posts() == []
    (incident,) = world.incidents()
    assert incident.announced and incident.slack_ts is None  # no thread: the next signal posts again


def test_invalid_auth_falls_back_to_email_only(world, env):
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="tokenfuse/test/slack-bot-token", SecretString="xoxb-revoked"
    )
    summary = world.invoke(spike())
    assert summary["fallbacks"] == ["invalid_auth", "invalid_auth"]
    assert world.posts() == []
    assert len(world.slack.calls_to("chat.postMessage", ok=False)) == 2  # no pointless FinOps retry
    # Then support's alert reaches its inbox and FinOps's; FinOps's own (untagged) alert its inbox
    assert walk(summary, 0) == [
        ("slack", "C0SUPPORT1", "failed", "invalid_auth"),
        ("email", "support-oncall@example.com", "delivered", None),
        ("slack", "C0FINOPS01", "skipped", "invalid_auth"),
        ("email", "finops@example.com", "delivered", None),
    ]
    assert walk(summary, 1) == [
        ("slack", "C0FINOPS01", "failed", "invalid_auth"),
        ("email", "finops@example.com", "delivered", None),
    ]
    assert [e.destinations["ToAddresses"] for e in world.emails()] == [
        ["support-oncall@example.com"],
        ["finops@example.com"],
        ["finops@example.com"],
    ]
    assert "could not reach FinOps in Slack (invalid_auth): sent by email." in world.emails()[2].body


def test_channel_not_found_goes_to_finops_channel_and_later_signals_follow(world):
    world.slack._channels.pop("C0SUPPORT1")  # the team's channel was deleted
    world.invoke(spike(culprits=[spike().culprits[0]]))
    (finops,) = world.posts("C0FINOPS01")
    assert len(world.emails()) == 1
    (incident,) = world.incidents()
    assert (incident.slack_channel, incident.slack_ts) == ("C0FINOPS01", finops.ts)
    world.invoke(spike("spike-cad.json"), advance=timedelta(hours=3))
    (reply,) = world.posts(top_level=False)
    assert reply.channel == "C0FINOPS01" and reply.thread_ts == finops.ts


def test_nothing_delivered_raises_then_the_retry_delivers_once(world, env):
    env.delenv("SENDER_EMAIL")
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="tokenfuse/test/slack-bot-token", SecretString="xoxb-revoked"
    )
    s = spike(culprits=[spike().culprits[0]])
    with pytest.raises(AlertNotDelivered):
        world.invoke(s)
    assert world.executions() == []
    # Slack comes back (token fixed); the async retry delivers it, once
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="tokenfuse/test/slack-bot-token", SecretString=TOKEN
    )
    parameters.clear_caches()
    world.invoke(s)
    assert len(world.posts()) == 1 and len(world.executions()) == 1
    world.invoke(s)
    assert len(world.posts()) == 1


# -- quiet: planned activity and the per-team rate limit -------------------------------------------


def test_planned_window_keeps_the_incident_quiet(world):
    s = spike(culprits=[spike().culprits[0]])
    planned = s.model_copy(
        update={
            "window_start": datetime(2026, 12, 1, 3, tzinfo=UTC),
            "window_end": datetime(2026, 12, 1, 3, 5, tzinfo=UTC),
        }
    )
    world.invoke(planned)
    assert world.posts() == [] and world.emails() == [] and world.executions() == []
    (incident,) = world.incidents()
    assert incident.status == "planned" and incident.planned_note.startswith("load test")


def test_planned_feedback_marks_the_incident_and_later_signals_stay_quiet(world):
    cad = spike("spike-cad.json")
    world.invoke(cad)
    (incident,) = world.incidents()
    service = build_service(NotifySettings.from_env())
    service.mark_planned(incident.incident_id, "planned activity (CAD feedback)")
    (update,) = world.updates()
    assert "Planned activity: kept quiet" in update.text
    assert not any(b.get("block_id") == "tokenfuse_anomaly_feedback" for b in update.blocks)
    world.invoke(with_signal(cad, dedup_key="cad:grown"), advance=timedelta(hours=2))
    assert len(world.posts()) == 1 and len(world.updates()) == 1


def test_rate_limit_groups_extra_spikes_in_one_digest_reply(world, env):
    env.setenv("SLACK_POSTS_PER_TEAM_PER_10_MINUTES", "2")
    s = spike()
    for n in range(4):
        culprit = profile(s, 0, f"supp0000000{n}")
        world.invoke(s.model_copy(update={"culprits": [culprit]}))
    top = world.posts("C0SUPPORT1", top_level=True)
    replies = world.posts("C0SUPPORT1", top_level=False)
    assert len(top) == 2 and len(replies) == 1 and replies[0].thread_ts == top[1].ts
    (digest_update,) = world.updates()
    assert digest_update.ts == replies[0].ts and digest_update.text.count("\n- ") == 2
    assert len(world.executions()) == 4  # every incident still gets its remediation


# -- no culprit, CAD feedback ----------------------------------------------------------------------


def test_spike_no_profile_explains_still_reaches_finops(world):
    s = spike(culprits=[], unattributed_usd=11.56)
    summary = world.invoke(s)
    (post,) = world.posts()
    assert post.channel == "C0FINOPS01" and "no inference profile behind it: $11.56 unexplained" in post.text
    assert summary["messages_sent"] == 1 and world.incidents() == [] and world.executions() == []
    world.invoke(s)
    assert len(world.posts()) == 1


def direct_calls(s: SpikeAttributed, model: str = "anthropic.claude-3-5-haiku-20241022-v1:0"):
    """The spike's first culprit as direct calls to ``model`` (no profile behind them)."""
    return s.culprits[0].model_copy(
        update={
            "subject": "direct-model",
            "profile_arn": None,
            "profile_id": None,
            "profile_name": None,
            "model_ids": [model],
            "team": None,
            "feature": None,
            "environment": None,
            "cost_center": None,
            "tagged": False,
        }
    )


def test_direct_model_calls_open_a_finops_incident_that_is_never_tripped(world):
    # Given a spike whose one culprit is direct calls to a model, with a real increase
    model = "anthropic.claude-3-5-haiku-20241022-v1:0"
    s = spike(culprits=[direct_calls(spike(), model)])
    # When notified
    summary = world.invoke(s)
    # Then one incident, keyed by account, region and model id, owned by FinOps
    (incident,) = world.incidents()
    assert (incident.subject, incident.profile_arn, incident.team) == ("direct-model", None, None)
    assert incident.subject_key == f"direct-model/444455556666/us-east-1/{model}"
    assert incident.incident_id.startswith("inc-model-anthropic-claude-3-5-haiku")
    # And FinOps's channel says what was called and that nothing is tripped
    (post,) = world.posts()
    assert post.channel == "C0FINOPS01"
    assert f"direct calls to {model}" in post.text
    assert "no inference profile to block" in post.text
    # And no remediation started, though the incident is announced on the bus
    assert summary["executions_started"] == 0 and world.executions() == []
    (event,) = world.bus_events()
    assert event["detail-type"] == "Incident Opened" and event["detail"]["profile_arn"] is None
    # And a later signal about the same model joins it
    later = with_signal(s, dedup_key="cad-later", source="cost-anomaly")
    assert world.invoke(later, advance=timedelta(hours=5))["incidents_updated"] == [incident.incident_id]


def test_a_culprit_with_no_real_increase_opens_no_incident(world):
    # Given support's profile up $0.45/h (under $1/h), and another up $2/h but with 5% of the spike
    small = spike().culprits[0].model_copy(update={"cost_per_hour_usd": 12.5})
    minor = profile(spike(), 1, "minor0000001", cost_per_hour_usd=4.4, share=0.05)
    summary = world.invoke(spike(culprits=[small, minor]))
    # Then neither opens an incident, nothing is posted, and the summary says why
    assert world.incidents() == [] and world.posts() == [] and world.executions() == []
    assert summary["without_increase"] == 2 and summary["incidents_opened"] == []


def test_the_team_policy_minimum_gates_opening_an_incident(world):
    # Given support's prod policy acts from $20/h over baseline: up $15/h opens nothing
    below = spike().culprits[0].model_copy(update={"cost_per_hour_usd": 27.05})
    assert world.invoke(spike(culprits=[below]))["without_increase"] == 1
    assert world.incidents() == []
    # And up $25/h opens one
    above = spike().culprits[0].model_copy(update={"cost_per_hour_usd": 37.05})
    assert len(world.invoke(with_signal(spike(culprits=[above]), dedup_key="again"))["incidents_opened"]) == 1


class RecordingCostExplorer:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []

    def provide_anomaly_feedback(self, **kwargs: str) -> dict[str, str]:
        self.calls.append(kwargs)
        return {"AnomalyId": kwargs["AnomalyId"]}


@pytest.mark.parametrize(
    ("choice", "feedback"), [("accurate", "YES"), ("false-positive", "NO"), ("planned", "PLANNED_ACTIVITY")]
)
def test_feedback_button_sends_cad_feedback(world, choice, feedback):
    from tokenfuse.adapters.anomaly_feedback import AnomalyFeedback
    from tokenfuse.alerts.feedback import apply_feedback, is_feedback_action
    from tokenfuse.alerts.feedback_buttons import parse_feedback_value

    world.invoke(spike("spike-cad.json"))
    (root,) = world.posts()
    button = next(
        e
        for b in root.blocks
        if b.get("block_id") == "tokenfuse_anomaly_feedback"
        for e in b["elements"]
        if e["action_id"].endswith(choice)
    )
    assert is_feedback_action(button["action_id"])
    ce = RecordingCostExplorer()
    service = build_service(NotifySettings.from_env())
    incident_id, clicked = parse_feedback_value(button["value"])
    result = apply_feedback(
        incident_id,
        clicked,
        "U0SUPPORT1",  # an on-call approver of support, the owning team
        table=service.table,
        feedback=lambda: AnomalyFeedback(ce),
        directory=lambda: service.directory,
        planned_note="planned activity (<@U0SUPPORT1>)",
        now=world.now,
    )
    assert ce.calls == [{"AnomalyId": "2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c", "Feedback": feedback}]
    (incident,) = world.incidents()
    assert (incident.status == "planned") is (choice == "planned") and result.planned is (choice == "planned")
    assert result.outcome == "sent" and result.anomaly_ids == ["2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c"]


def test_non_compliant_profile_is_reported_to_finops(world):
    # Given the inventory found a profile created without a team tag
    event = ProfileNonCompliant(
        profile_arn="arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/noown0000001",
        profile_id="noown0000001",
        profile_name="batch-experiments",
        account_id="444455556666",
        region="us-east-1",
        tags={"environment": "dev"},
        team_tag=None,
        missing_tags=["team"],
        unknown_team=False,
        creator="arn:aws:sts::444455556666:assumed-role/Developer/alice",
        detected_at=world.now,
        reason="missing tags: team",
    )
    envelope = {
        **eventbridge(spike()),
        "detail-type": "Profile Non-Compliant",
        "source": "tokenfuse.inventory",
    }
    # When the notify function gets it from the bus
    summary = world.handler.lambda_handler({**envelope, "detail": event.to_bus()}, context())
    # Then FinOps's channel alone hears of it, naming the missing tag and who created the profile
    (post,) = world.posts()
    assert post.channel == "C0FINOPS01"
    assert "batch-experiments cannot be attributed to a team: missing tag(s) `team`" in post.text
    assert "Created by: arn:aws:sts::444455556666:assumed-role/Developer/alice" in post.text
    assert summary["messages_sent"] == 1 and world.incidents() == [] and world.executions() == []
