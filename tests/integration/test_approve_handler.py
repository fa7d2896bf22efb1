"""The approve function in-process under moto, fed Function URL events: signed Slack clicks and
signed email links resume the waiting execution once; everything else is refused unchanged."""

import importlib.util
import json
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_context import FakeContext
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.stepfunctions import TaskCallbacks
from tokenfuse.remediation import endpoint as endpoint_module
from tokenfuse.remediation import links
from tokenfuse_sandbox.emulation.slack_server import block_actions_payload, signed_interaction
from tokenfuse_sandbox.function_url import request_event
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "tokenfuse-approvals-test"
SIGNING_SECRET = "sandbox-signing-secret-0123456789"
LINK_KEY = "k" * 64
APPROVAL_ID = "Abc123_-xy"


def context() -> FakeContext:
    return FakeContext("tokenfuse-approve", "123456789012", 512, 10_000)


def load_handler():
    spec = importlib.util.spec_from_file_location(
        f"approve_app_{uuid.uuid4().hex}", ROOT / "functions/approve/app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table_from_template(ddb):
    props = load_yaml(ROOT / "template.yaml")["Resources"]["ApprovalsTable"]["Properties"]
    ddb.create_table(
        TableName=TABLE,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def approve(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "approve",
        "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "APPROVALS_TABLE_NAME": TABLE,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLACK_API_BASE_URL", "http://127.0.0.1:9/api/")  # response_url posts go nowhere
    calls = []
    monkeypatch.setattr(TaskCallbacks, "succeed", lambda self, token, output: calls.append((token, output)))
    with mock_aws():
        aws_adapter.default_session.cache_clear()
        endpoint_module.endpoint.cache_clear()
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        _table_from_template(boto3.client("dynamodb", region_name=REGION))
        sm = boto3.client("secretsmanager", region_name=REGION)
        monkeypatch.setenv(
            "SLACK_SIGNING_SECRET_ARN", sm.create_secret(Name="signing", SecretString=SIGNING_SECRET)["ARN"]
        )
        monkeypatch.setenv(
            "EMAIL_LINK_KEY_SECRET_ARN", sm.create_secret(Name="link", SecretString=LINK_KEY)["ARN"]
        )
        ApprovalsTable(TABLE).put_approval(
            APPROVAL_ID,
            {
                "approval_id": APPROVAL_ID,
                "status": "pending",
                "task_token": "TASK-TOKEN-NEVER-IN-A-BUTTON",
                "incident_id": "inc-1",
                "team": "search",
                "approver_slack_ids": ["U0ALICE001"],
                "approver_emails": ["alice@example.com"],
                "deadline": int(time.time()) + 900,
                "expires_at": int(time.time()) + 86400,
            },
        )
        handler = load_handler()

        def call(method, path, body="", headers=None):
            event = request_event(
                method, path, headers or {}, body.encode(), "203.0.113.9", "abc.lambda-url.us-east-1.on.aws"
            )
            return handler.lambda_handler(event, context())

        yield call, calls
        endpoint_module.endpoint.cache_clear()
        aws_adapter.default_session.cache_clear()


def _click(user="U0ALICE001", value=f"{APPROVAL_ID}:approve", timestamp=None, secret=SIGNING_SECRET):
    payload = block_actions_payload(
        action_id=f"tokenfuse_approval_{value.rsplit(':', 1)[-1]}",
        value=value,
        user_id=user,
        channel_id="C0SEARCH01",
        message_ts="1.2",
    )
    return signed_interaction(payload, secret, timestamp or int(time.time()))


def _status(approval_id=APPROVAL_ID):
    return ApprovalsTable(TABLE).get_approval(approval_id)["status"]


def test_valid_signed_click_sends_task_success_once(approve):
    call, calls = approve
    body, headers = _click()
    response = call("POST", "/slack/interactivity", body, headers)
    assert response["statusCode"] == 200
    assert calls == [
        (
            "TASK-TOKEN-NEVER-IN-A-BUTTON",
            {"decision": "approve", "actor": "U0ALICE001", "approval_id": APPROVAL_ID},
        )
    ]
    assert _status() == "decided"


def test_double_click_is_polite_and_sends_nothing_more(approve):
    call, calls = approve
    body, headers = _click()
    call("POST", "/slack/interactivity", body, headers)
    again = call("POST", "/slack/interactivity", *_click(value=f"{APPROVAL_ID}:decline"))
    assert again["statusCode"] == 200
    assert "Already decided" in json.loads(again["body"])["text"]
    assert len(calls) == 1


def test_forged_signature_is_401_and_nothing_changes(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(secret="forged-secret"))
    assert response["statusCode"] == 401
    assert calls == [] and _status() == "pending"


def test_replayed_request_is_401(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(timestamp=int(time.time()) - 6 * 60))
    assert response["statusCode"] == 401
    assert calls == [] and _status() == "pending"


def test_unauthorised_user_gets_a_polite_refusal_and_nothing_changes(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(user="U0MALLORY1"))
    body = json.loads(response["body"])
    assert body["tokenfuse_status"] == 403 and "only on-call approvers" in body["text"]
    assert calls == [] and _status() == "pending"


def test_unsigned_garbage_and_unknown_routes(approve):
    call, calls = approve
    assert call("POST", "/slack/interactivity", "payload=%7B%7D")["statusCode"] == 401
    assert call("GET", "/admin")["statusCode"] == 400
    assert call("POST", "/email/approve", "token=nope")["statusCode"] == 401
    assert calls == []


def _link(choice="approve", email="alice@example.com", expires=None):
    claims = links.LinkClaims(APPROVAL_ID, choice, email, expires or int(time.time()) + 600)
    return links.sign(LINK_KEY.encode(), claims)


def test_email_link_get_confirms_post_decides_once(approve):
    call, calls = approve
    token = _link()
    page = call("GET", f"/email/approve?{urlencode({'token': token})}")
    assert page["statusCode"] == 200 and "Confirm: approve" in page["body"]
    assert calls == []
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    decided = call("POST", "/email/approve", urlencode({"token": token}), headers)
    assert decided["statusCode"] == 200
    assert calls[0][1] == {"decision": "approve", "actor": "alice@example.com", "approval_id": APPROVAL_ID}
    reused = call("POST", "/email/approve", urlencode({"token": token}), headers)
    assert reused["statusCode"] == 200 and "Already decided" in reused["body"]
    assert len(calls) == 1


def test_expired_and_tampered_links_are_401(approve):
    call, calls = approve
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    expired = call(
        "POST", "/email/approve", urlencode({"token": _link(expires=int(time.time()) - 1)}), headers
    )
    tampered = call("POST", "/email/approve", urlencode({"token": _link()[:-3] + "abc"}), headers)
    assert expired["statusCode"] == 401 and tampered["statusCode"] == 401
    assert calls == [] and _status() == "pending"
