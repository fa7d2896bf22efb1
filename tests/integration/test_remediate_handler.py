"""The remediate function in-process under moto, task by task, as the state machine calls it; the
incident's Slack thread on the sandbox's Slack-compatible server; and the restore-on-delete
custom resource answering CloudFormation's pre-signed URL."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeContext
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import empty_document, listed_arns
from tokenfuse_sandbox.emulation import bedrock_profiles
from tokenfuse_sandbox.emulation.slack_server import SlackServer
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "tokenfuse-approvals-test"
BUS = "tokenfuse-test"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
DIRECTORY = """
teams:
  - name: search
    slack_channel: C0SEARCH01
    approvers: [{slack_user_id: U0ALICE001}]
    policies:
      prod: {mode: approve, action: throttle, approval_timeout_minutes: 15, cooldown_minutes: 30}
      dev: {mode: auto, action: detach}
finops:
  slack_channel: C0FINOPS01
  approvers: [{slack_user_id: U0FINOPS01}]
"""


def context() -> FakeContext:
    return FakeContext("tokenfuse-remediate", "123456789012", 512, 60_000)


@pytest.fixture
def world(monkeypatch):
    env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "remediate",
        "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "APPROVALS_TABLE_NAME": TABLE,
        "EVENT_BUS_NAME": BUS,
        "TEAM_DIRECTORY_PARAMETER": "/tokenfuse/test/teams",
        "DRY_RUN": "false",
        "TRIP_MECHANISM": "guard-scp",
        "MAX_TRIPS_PER_HOUR": "5",
        "FINOPS_SLACK_CHANNEL": "C0FINOPS01",
        "MEMBER_ROLE_NAME": "tokenfuse-member",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    bedrock_profiles.install()
    slack = SlackServer(channels={"C0SEARCH01": "search-alerts", "C0FINOPS01": "finops"}).start()
    with mock_aws():
        aws_adapter.default_session.cache_clear()
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        props = load_yaml(ROOT / "template.yaml")["Resources"]["ApprovalsTable"]["Properties"]
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("events", region_name=REGION).create_event_bus(Name=BUS)
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/tokenfuse/test/teams", Value=DIRECTORY, Type="String"
        )
        secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="bot", SecretString=slack.token
        )
        monkeypatch.setenv("SLACK_BOT_TOKEN_SECRET_ARN", secret["ARN"])
        monkeypatch.setenv("SLACK_API_BASE_URL", slack.base_url)
        org = boto3.client("organizations", region_name=REGION)
        org.create_organization(FeatureSet="ALL")
        policy_id = org.create_policy(
            Name="tokenfuse-guard",
            Description="guard",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(empty_document()),
        )["Policy"]["PolicySummary"]["Id"]
        monkeypatch.setenv("GUARD_POLICY_ID", policy_id)
        arn = boto3.client("bedrock", region_name=REGION).create_inference_profile(
            inferenceProfileName="search-answers",
            modelSource={"copyFrom": HAIKU},
            tags=[{"key": "team", "value": "search"}],
        )["inferenceProfileArn"]
        root = WebClient(token=slack.token, base_url=slack.base_url).chat_postMessage(
            channel="C0SEARCH01", text="spike"
        )
        incident = {
            "incident_id": "inc-42",
            "status": "open",
            "profile_arn": arn,
            "profile_id": arn.rsplit("/", 1)[-1],
            "profile_name": "search-answers",
            "account_id": "123456789012",
            "region": REGION,
            "team": "search",
            "environment": "prod",
            "kind": "output-runaway",
            "severity": "high",
            "protected": False,
            "cost_per_hour_usd": 120.0,
            "baseline_cost_per_hour_usd": 6.0,
            "opened_at": "2026-11-27T03:00:00Z",
            "slack_channel": "C0SEARCH01",
            "slack_ts": root["ts"],
        }
        handler = load_handler("remediate")

        def invoke(event):
            return handler.lambda_handler(event, context())

        yield {"invoke": invoke, "incident": incident, "slack": slack, "policy_id": policy_id, "arn": arn}
        aws_adapter.default_session.cache_clear()
    slack.stop()


def _thread(world):
    return [
        m
        for m in world["slack"].messages("C0SEARCH01")
        if m.get("thread_ts") == world["incident"]["slack_ts"]
    ]


def _audit_steps(incident_id="inc-42"):
    return [e["step"] for e in ApprovalsTable(TABLE).audit_trail(incident_id)]


def test_policy_task_returns_what_the_asl_reads_and_audits(world):
    policy = world["invoke"]({"task": "policy", "incident": world["incident"]})
    assert policy["mode"] == "approve" and policy["action"] == "throttle"
    assert policy["approval_timeout_seconds"] == 900 and policy["cooldown_seconds"] == 1800
    assert _audit_steps() == ["policy"]
    assert "approve" in _thread(world)[-1]["text"]


def test_request_approval_stores_the_token_and_posts_buttons_without_it(world):
    policy = world["invoke"]({"task": "policy", "incident": world["incident"]})
    out = world["invoke"](
        {
            "task": "request-approval",
            "incident": world["incident"],
            "policy": policy,
            "task_token": "SECRET-TASK-TOKEN",
        }
    )
    approval = ApprovalsTable(TABLE).get_approval(out["approval_id"])
    assert approval["task_token"] == "SECRET-TASK-TOKEN"
    assert approval["approver_slack_ids"] == ["U0ALICE001"]
    reply = _thread(world)[-1]
    values = [e["value"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == [f"{out['approval_id']}:{c}" for c in ("approve", "decline", "snooze")]
    assert "SECRET-TASK-TOKEN" not in json.dumps(world["slack"].messages("C0SEARCH01"))
    assert _audit_steps()[-1] == "approval-requested"


def test_timeout_escalates_to_finops_and_applies_the_default(world):
    policy = world["invoke"]({"task": "policy", "incident": world["incident"]})
    out = world["invoke"]({"task": "approval-timed-out", "incident": world["incident"], "policy": policy})
    assert out == {"decision": "timeout", "actor": "tokenfuse", "approval_id": None}
    assert "No decision" in world["slack"].messages("C0FINOPS01")[-1]["text"]
    out = world["invoke"](
        {
            "task": "approval-timed-out",
            "incident": world["incident"],
            "policy": policy | {"on_timeout": "trip"},
        }
    )
    assert out["decision"] == "trip"


def test_trip_verify_restore_and_audit_through_the_handler(world):
    policy = world["invoke"]({"task": "policy", "incident": world["incident"]})
    approval = {"decision": "approve", "actor": "U0ALICE001", "approval_id": "Abc123_-xy"}
    world["invoke"](
        {"task": "approval-decided", "incident": world["incident"], "policy": policy, "approval": approval}
    )
    trip = world["invoke"](
        {"task": "trip", "incident": world["incident"], "policy": policy, "approval": approval}
    )
    org = boto3.client("organizations", region_name=REGION)
    content = json.loads(org.describe_policy(PolicyId=world["policy_id"])["Policy"]["Content"])
    assert listed_arns(content) == [world["arn"]]
    assert trip["actor"] == "U0ALICE001" and trip["dry_run"] is False

    # token rate before the trip, none after: verified stopped
    cw = boto3.client("cloudwatch", region_name=REGION)
    tripped_at = datetime.fromisoformat(trip["tripped_at"].replace("Z", "+00:00"))
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "OutputTokenCount",
                "Dimensions": [{"Name": "ModelId", "Value": world["incident"]["profile_id"]}],
                "Timestamp": tripped_at - timedelta(minutes=m),
                "Value": 50_000.0,
            }
            for m in range(1, 10)
        ],
    )
    verified = world["invoke"](
        {"task": "verify", "incident": world["incident"], "policy": policy, "expect": "stopped", "trip": trip}
    )
    assert verified["still_running"] is False and verified["before_tokens_per_minute"] > 0

    restored = world["invoke"](
        {"task": "restore", "incident": world["incident"], "trip": trip, "actor": "tokenfuse"}
    )
    assert restored["restored"] is True
    content = json.loads(org.describe_policy(PolicyId=world["policy_id"])["Policy"]["Content"])
    assert listed_arns(content) == []

    state = {
        "incident": world["incident"],
        "decided": {"policy": policy},
        "approval": approval,
        "tripped": {"trip": trip},
    }
    outcome = world["invoke"]({"task": "audit", "execution": "arn:exec", "state": state})
    assert outcome["decision"] == "approve" and outcome["outcome"].startswith("blocked for")
    assert _audit_steps() == ["policy", "approval-decided", "tripped", "verified", "restored", "closed"]
    assert len(_thread(world)) == 6


def test_escalate_tells_finops_and_the_thread(world):
    error = {
        "Error": "AccessDenied",
        "Cause": json.dumps({"errorType": "AccessDenied", "errorMessage": "no UpdatePolicy"}),
    }
    out = world["invoke"]({"task": "escalate", "state": {"incident": world["incident"], "error": error}})
    assert out["error"] == "AccessDenied: no UpdatePolicy"
    assert "AccessDenied" in world["slack"].messages("C0FINOPS01")[-1]["text"]
    assert "AccessDenied" in _thread(world)[-1]["text"]
    assert _audit_steps() == ["escalated"]


def test_unknown_task_is_an_invalid_input_error(world):
    from tokenfuse.remediation.errors import InvalidTaskInput

    with pytest.raises(InvalidTaskInput):
        world["invoke"]({"task": "explode", "incident": world["incident"]})


class _Recorder(BaseHTTPRequestHandler):
    bodies: list = []

    def do_PUT(self):
        length = int(self.headers["Content-Length"])
        _Recorder.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_stack_delete_restores_every_trip_and_answers_cloudformation(world):
    policy = world["invoke"]({"task": "policy", "incident": world["incident"]})
    auto = {"decision": None, "actor": "tokenfuse", "approval_id": None}  # NoApprovalNeeded's Result
    world["invoke"]({"task": "trip", "incident": world["incident"], "policy": policy, "approval": auto})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.bodies = []
    try:
        event = {
            "RequestType": "Delete",
            "ResponseURL": f"http://127.0.0.1:{server.server_address[1]}/cfn",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tokenfuse/1",
            "RequestId": "req-1",
            "LogicalResourceId": "RestoreTripsOnDelete",
            "PhysicalResourceId": "tokenfuse-restore-on-delete",
            "ResourceType": "Custom::RestoreTrips",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tokenfuse-remediate",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tokenfuse-remediate"
            },
        }
        body = world["invoke"](event)
    finally:
        server.shutdown()
    assert body["Status"] == "SUCCESS" and body["Data"] == {"Restored": 1}
    assert _Recorder.bodies == [body]
    assert ApprovalsTable(TABLE).list_trips() == []
