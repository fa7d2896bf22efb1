"""The approve function (``functions/approve/app.py``) run in-process under moto and fed Lambda
Function URL events (payload format 2.0), for the integration tests and the adversarial corpus.

Tables come from ``template.yaml``'s own key schemas; the signing secret and link key live in
Secrets Manager, the team directory in SSM. Every call that would act (Step Functions
SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, the Restore click's Lambda Invoke, CAD's
ProvideAnomalyFeedback) is stopped at botocore's ``before-call`` event and recorded in
:attr:`ApproveEndpoint.sent`, so "nothing was decided" is checked at the wire, whatever code path
a request took.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlencode

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto import mock_aws

from tests.support.handlers import load_handler
from tests.support.lambda_context import FakeContext
from tests.support.moto_state import empty_table
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.approvals_table import REFUSED_CLICK_PK_PREFIX, ApprovalsTable
from tokenfuse.remediation import endpoint as endpoint_module
from tokenfuse.remediation import links
from tokenfuse_sandbox.emulation.slack_server import block_actions_payload
from tokenfuse_sandbox.function_url import request_event
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
APPROVALS_TABLE = "tokenfuse-approvals-test"
INCIDENTS_TABLE = "tokenfuse-incidents-test"
DIRECTORY_PARAMETER = "/tokenfuse/test/teams"
REMEDIATE_FUNCTION = "tokenfuse-remediate-test"
SIGNING_SECRET = "sandbox-signing-secret-0123456789"
LINK_KEY = "k" * 64
APPROVAL_ID = "Abc123_-xy"
TASK_TOKEN = "TASK-TOKEN-NEVER-IN-A-BUTTON"
APPROVER = "U0ALICE001"
APPROVER_EMAIL = "alice@example.com"
OTHER_TEAMS_APPROVER = "U0BOB00001"
STRANGER = "U0MALLORY1"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"
DOMAIN = "abc.lambda-url.us-east-1.on.aws"
TEAM_DIRECTORY = {
    "teams": [
        {
            "name": "search",
            "slack_channel": "C0SEARCH01",
            "approvers": [{"slack_user_id": APPROVER, "email": APPROVER_EMAIL}],
        },
        {
            "name": "payments",
            "slack_channel": "C0PAYMENT1",
            "approvers": [{"slack_user_id": OTHER_TEAMS_APPROVER}],
        },
    ],
    "finops": {"slack_channel": "C0FINOPS01"},
}
ACTING_CALLS = {
    "sfn": ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"),
    "lambda": ("Invoke",),
    "ce": ("ProvideAnomalyFeedback",),
}
"""(botocore service id, operations) of every call through which a click would act."""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class SentCall:
    operation: str
    params: dict[str, Any]


@dataclass
class ApproveEndpoint:
    handler: ModuleType
    table: ApprovalsTable
    sent: list[SentCall] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        body: str | bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        event: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The handler's answer to one request (``event`` overrides fields of the built event)."""
        raw = body.encode() if isinstance(body, str) else body
        built = request_event(method, path, dict(headers or {}), raw, "203.0.113.9", DOMAIN)
        answer: dict[str, Any] = self.handler.lambda_handler(
            {**built, **(event or {})}, FakeContext("tokenfuse-approve")
        )
        return answer

    def slack(
        self,
        body: str,
        *,
        timestamp: int | str | None = None,
        secret: str = SIGNING_SECRET,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST /slack/interactivity with ``body`` signed as Slack signs it (``headers`` win)."""
        signed = {
            "Content-Type": "application/x-www-form-urlencoded",
            **slack_headers(body, timestamp, secret),
        }
        return self.request("POST", "/slack/interactivity", body, {**signed, **(headers or {})})

    def click(self, payload: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.slack(form(payload), **kwargs)

    def pending_approval(self, approval_id: str = APPROVAL_ID, **overrides: Any) -> str:
        now = int(time.time())
        item = {
            "approval_id": approval_id,
            "status": "pending",
            "task_token": f"{TASK_TOKEN}-{approval_id}",
            "incident_id": "inc-1",
            "team": "search",
            "approver_slack_ids": [APPROVER],
            "approver_emails": [APPROVER_EMAIL],
            "deadline": now + 900,
            "expires_at": now + 86400,
        }
        self.table.put_approval(approval_id, {**item, **overrides})
        return approval_id

    def status(self, approval_id: str = APPROVAL_ID) -> str | None:
        item = self.table.get_approval(approval_id)
        return None if item is None else str(item["status"])

    def refused(self) -> list[dict[str, Any]]:
        """Every refused-click item of today and yesterday (UTC), oldest first."""
        today = datetime.now(UTC)
        days = [f"{today - timedelta(days=1):%Y-%m-%d}", f"{today:%Y-%m-%d}"]
        return [item for day in days for item in self.table.refused_clicks(day)]

    def refused_count(self) -> int:
        """How many refused-click items today's partition holds (cheaper than reading them)."""
        day = f"{REFUSED_CLICK_PK_PREFIX}{datetime.now(UTC):%Y-%m-%d}"
        answer = self.table.client.query(
            TableName=self.table.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": day}},
            Select="COUNT",
        )
        return int(answer["Count"])

    def decided(self) -> list[SentCall]:
        return [c for c in self.sent if c.operation.startswith("SendTask")]

    def reset(self) -> None:
        """Back to the start: both tables emptied (in moto's own state: no API call, and nothing a
        case's ``sent`` could record), nothing sent, ``APPROVAL_ID`` pending again."""
        for name in (APPROVALS_TABLE, INCIDENTS_TABLE):
            empty_table(name, REGION)
        self.sent.clear()
        self.pending_approval()


def slack_headers(
    body: str | bytes, timestamp: int | str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (v0: hex HMAC-SHA256 of
    ``v0:<ts>:<body>``) over the body's bytes, as Slack computes them."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def form(payload: object) -> str:
    """Slack's interactivity body: ``payload=<json>``, form-encoded."""
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


def button_click(
    value: str = f"{APPROVAL_ID}:approve", *, user: str = APPROVER, action_id: str | None = None
) -> dict[str, Any]:
    """A real ``block_actions`` payload (the sandbox's Slack emulation builds it as Slack documents
    it) for the approval button whose choice ends ``value`` unless ``action_id`` is given."""
    return block_actions_payload(
        action_id=action_id or f"tokenfuse_approval_{value.rsplit(':', 1)[-1]}",
        value=value,
        user_id=user,
        channel_id="C0SEARCH01",
        message_ts="1700000000.000100",
        block_id=f"tokenfuse_approval_{APPROVAL_ID}",
    )


def email_token(
    choice: str = "approve",
    email: str = APPROVER_EMAIL,
    expires: int | None = None,
    approval_id: str = APPROVAL_ID,
) -> str:
    # valid for 3 h by default: corpora sign their links when the module is collected, and a
    # suite on a busy machine can reach a test more than the email's 10 minutes later
    claims = links.LinkClaims(approval_id, choice, email, expires or int(time.time()) + 3 * 3600)
    return links.sign(LINK_KEY.encode(), claims)


def _tables_from_template() -> None:
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    ddb = boto3.client("dynamodb", region_name=REGION)
    for logical_id, name in (("ApprovalsTable", APPROVALS_TABLE), ("IncidentsTable", INCIDENTS_TABLE)):
        props = resources[logical_id]["Properties"]
        ddb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )


@contextmanager
def approve_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApproveEndpoint]:
    """The approve function with a pending approval ``APPROVAL_ID`` for team search (approver
    ``APPROVER`` / ``APPROVER_EMAIL``), restore and CAD feedback configured."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "approve",
        "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "APPROVALS_TABLE_NAME": APPROVALS_TABLE,
        "INCIDENTS_TABLE_NAME": INCIDENTS_TABLE,
        "TEAM_DIRECTORY_PARAMETER": DIRECTORY_PARAMETER,
        "REMEDIATE_FUNCTION_NAME": REMEDIATE_FUNCTION,
        "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/",  # response_url posts go nowhere
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        aws_adapter.default_session.cache_clear()
        endpoint_module.dependencies.cache_clear()
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
        _tables_from_template()
        sm = boto3.client("secretsmanager", region_name=REGION)
        signing = sm.create_secret(Name="signing", SecretString=SIGNING_SECRET)["ARN"]
        monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", signing)
        link_key = sm.create_secret(Name="link", SecretString=LINK_KEY)["ARN"]
        monkeypatch.setenv("EMAIL_LINK_KEY_SECRET_ARN", link_key)
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=DIRECTORY_PARAMETER, Type="String", Value=json.dumps(TEAM_DIRECTORY)
        )
        endpoint = ApproveEndpoint(load_handler("approve"), ApprovalsTable(APPROVALS_TABLE))

        def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
            endpoint.sent.append(SentCall(event_name.rsplit(".", 1)[-1], dict(params)))

        def stop(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            return AWSResponse("https://stopped.invalid", 200, HTTPHeaders(), None), {}

        events = aws_adapter.default_session().events
        for service, operations in ACTING_CALLS.items():
            for operation in operations:
                events.register(f"before-parameter-build.{service}.{operation}", record)
                # botocore takes a before-call handler's (http, parsed) as the call's answer
                # (emit_until_response); botocore-stubs types handlers as returning None.
                events.register(f"before-call.{service}.{operation}", cast("Callable[..., None]", stop))
        endpoint.pending_approval()
        try:
            yield endpoint
        finally:
            endpoint_module.dependencies.cache_clear()
            aws_adapter.default_session.cache_clear()
