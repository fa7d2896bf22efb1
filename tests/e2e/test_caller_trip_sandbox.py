"""A caller-scope trip end to end in the sandbox: the real ASL and remediate handler block one
caller's role on a profile through the guard SCP; the emulated bedrock-runtime refuses that role's
calls (every session of it) from the SCP's propagation delay on, while another caller of the same
profile keeps working; the cooldown's restore lifts it, after the same delay.

Latencies assumed by the emulation: an SCP change takes effect after
``bedrock_access.SCP_PROPAGATION_SECONDS`` (5) simulated seconds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from slack_sdk import WebClient

from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import empty_document
from tokenfuse_sandbox.core import Sandbox
from tokenfuse_sandbox.emulation import bedrock_access
from tokenfuse_sandbox.emulation.slack_server import SlackServer

pytestmark = pytest.mark.e2e

HAIKU = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
CHANNEL, FINOPS = "C0SUPPORT1", "C0FINOPS01"
DIRECTORY = f"""
teams:
  - name: support-bot
    slack_channel: {CHANNEL}
    approvers: [{{slack_user_id: U0SUPPORT1}}]
    policies:
      prod: {{mode: auto, action: throttle, scope: caller, cooldown_minutes: 15, verify_delay_minutes: 2}}
finops:
  slack_channel: {FINOPS}
"""
WORKER_SESSION = "checkout-worker/i-0worker1"
DELAY = timedelta(seconds=bedrock_access.SCP_PROPAGATION_SECONDS)


class Member:
    """A member account of the sandbox's organization (the guard SCP attached to the root) with
    two caller roles and the support-bot profile, and a session of each role."""

    def __init__(self, sb: Sandbox) -> None:
        org = boto3.client("organizations")
        org.create_organization(FeatureSet="ALL")
        self.account = org.create_account(Email="m@example.com", AccountName="genai-prod")[
            "CreateAccountStatus"
        ]["AccountId"]
        guard = org.create_policy(
            Name="tokenfuse-guard",
            Description="guard",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(empty_document()),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=guard, TargetId=org.list_roots()["Roots"][0]["Id"])
        self.org, self.guard = org, guard
        sb.enable_cross_account()  # role sessions act in their role's account, as in AWS
        admin = self.session(f"arn:aws:iam::{self.account}:role/OrganizationAccountAccessRole", "admin")
        iam = admin.client("iam")
        iam.create_role(RoleName="checkout-worker", Path="/workloads/", AssumeRolePolicyDocument="{}")
        iam.create_role(RoleName="search-indexer", AssumeRolePolicyDocument="{}")
        self.profile_arn: str = admin.client("bedrock").create_inference_profile(
            inferenceProfileName="support-bot",
            modelSource={"copyFrom": HAIKU},
            tags=[{"key": "team", "value": "support-bot"}],
        )["inferenceProfileArn"]
        worker = f"arn:aws:iam::{self.account}:role/workloads/checkout-worker"
        self.worker = self.session(worker, "i-0worker1", admin).client("bedrock-runtime")
        self.worker_again = self.session(worker, "i-0worker2", admin).client("bedrock-runtime")
        indexer = f"arn:aws:iam::{self.account}:role/search-indexer"
        self.indexer = self.session(indexer, "i-0indexer", admin).client("bedrock-runtime")

    @staticmethod
    def session(role_arn: str, name: str, via: boto3.Session | None = None) -> boto3.Session:
        creds = (via or boto3.Session()).client("sts").assume_role(RoleArn=role_arn, RoleSessionName=name)
        return boto3.Session(
            aws_access_key_id=creds["Credentials"]["AccessKeyId"],
            aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
            aws_session_token=creds["Credentials"]["SessionToken"],
            region_name="us-east-1",
        )

    def refused(self, runtime: Any) -> str | None:
        """AccessDeniedException's message for one Converse call through the profile, or None."""
        try:
            runtime.converse(
                modelId=self.profile_arn, messages=[{"role": "user", "content": [{"text": "where is it"}]}]
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException", error.response
            return str(error.response["Error"]["Message"])
        return None

    def incident(self) -> dict[str, Any]:
        return {
            "incident": {
                "incident_id": "inc-caller-e2e",
                "profile_arn": self.profile_arn,
                "profile_id": self.profile_arn.rsplit("/", 1)[-1],
                "profile_name": "support-bot",
                "account_id": self.account,
                "region": "us-east-1",
                "team": "support-bot",
                "environment": "prod",
                "kind": "request-storm",
                "severity": "high",
                "cost_per_hour_usd": 90.0,
                "baseline_cost_per_hour_usd": 3.0,
                "culprit": {
                    "callers": [
                        {
                            "role_arn": f"arn:aws:sts::{self.account}:assumed-role/{WORKER_SESSION}",
                            "share": 0.9,
                        },
                        {"role_arn": f"arn:aws:iam::{self.account}:role/search-indexer", "share": 0.1},
                    ]
                },
            }
        }


@contextmanager
def sandbox() -> Iterator[tuple[Sandbox, SlackServer]]:
    with SlackServer(channels={CHANNEL: "support-bot-oncall", FINOPS: "finops"}) as slack:
        secrets = {"SlackBotTokenSecret": slack.token, "TeamDirectoryParameter": DIRECTORY}
        # "block": a Wait state waits for the test to move the simulated clock
        with Sandbox(parameters={"DryRun": "false"}, secrets=secrets, clock_mode="block") as sb:
            sb.runtime.base_env["SLACK_API_BASE_URL"] = slack.base_url
            yield sb, slack


def _until(condition: Callable[[], Any], sb: Sandbox, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        sb.delivery.step()
        time.sleep(0.02)
    raise TimeoutError("the condition never held")


def test_the_blocked_caller_is_refused_after_the_scp_delay_while_another_caller_works() -> None:
    with sandbox() as (sb, slack):
        member = Member(sb)
        assert sb.clock is not None
        # Given both callers using the profile (the worker's loop, the indexer's ordinary calls)
        for _ in range(9):
            assert member.refused(member.worker) is None
        assert member.refused(member.indexer) is None
        sb.clock.advance(60)

        # When the remediation runs for the incident naming checkout-worker's session at 90%
        thread = WebClient(token=slack.token, base_url=slack.base_url).chat_postMessage(
            channel=CHANNEL, text="spike"
        )
        incident = member.incident()
        incident["incident"] |= {"slack_channel": CHANNEL, "slack_ts": thread["ts"]}
        execution = sb.start_execution("RemediationStateMachine", incident)
        table = ApprovalsTable(sb.resources["ApprovalsTable"])
        # (the clock stands still until the trip is complete: the guard was updated at this instant)
        trip = _until(lambda: (t := table.get_trip(member.profile_arn)) and t["complete"] and t, sb)
        assert trip["scope"] == "caller"
        tripped_at = sb.clock.now()

        # Then, until the SCP change takes effect (5 s, the emulation's assumed delay), calls go through
        sb.clock.advance_to(tripped_at + DELAY - timedelta(milliseconds=1))
        assert member.refused(member.worker) is None
        # And from then on every session of checkout-worker is refused, the indexer is not
        sb.clock.advance_to(tripped_at + DELAY)
        message = member.refused(member.worker)
        assert message == (
            f"User: arn:aws:sts::{member.account}:assumed-role/checkout-worker/i-0worker1 is not authorized "
            f"to perform: bedrock:InvokeModel on resource: {member.profile_arn} with an explicit deny in a "
            "service control policy"
        )
        assert member.refused(member.worker_again) is not None
        assert member.refused(member.indexer) is None
        # And the thread says who is blocked, on which profile, for how long
        tripped = ":no_entry: Blocked role/checkout-worker on support-bot for 15 min"
        said = _until(
            lambda: [m["text"] for m in slack.messages(CHANNEL) if m["text"].startswith(tripped)], sb
        )
        assert "denies the profile to role/checkout-worker (ArnLike aws:PrincipalArn)" in said[0]
        policy = "Policy: automatically block role/checkout-worker on support-bot for 15 min."
        assert policy in [m["text"] for m in slack.messages(CHANNEL)]

        # When the cooldown runs out (the test moves the clock through the verify delay and cooldown)
        def finished() -> dict[str, Any] | None:
            assert sb.clock is not None
            sb.clock.advance(30)
            desc = sb.clients["stepfunctions"].describe_execution(executionArn=execution)
            return None if desc["status"] == "RUNNING" else dict(desc)

        done = _until(finished, sb, timeout=60)
        assert done["status"] == "SUCCEEDED", sb.execution_path(execution)
        assert "Restore" in sb.execution_path(execution)
        restored_at = sb.clock.now()

        # Then checkout-worker works again once the restored SCP has propagated
        sb.clock.advance_to(restored_at + DELAY)
        assert member.refused(member.worker) is None and member.refused(member.indexer) is None
        statements = json.loads(member.org.describe_policy(PolicyId=member.guard)["Policy"]["Content"])
        assert statements == empty_document()
        trail = {e["step"]: e for e in table.audit_trail("inc-caller-e2e")}
        assert list(trail) == ["policy", "tripped", "verified", "restored", "closed"]
        assert trail["tripped"]["details"]["trip"]["caller_scp"]["role_arns"] == [
            f"arn:aws:iam::{member.account}:role/workloads/checkout-worker"
        ]
