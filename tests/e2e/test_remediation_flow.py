"""The remediation state machine in the sandbox: moto executes the real ASL, the real remediate and
approve handlers run in-process, Slack is the sandbox's Slack-compatible server and clicks arrive
signed at the approve function's URL. One test per path of the issue."""

import json
import time
from contextlib import contextmanager
from datetime import timedelta

import boto3
import pytest
from slack_sdk import WebClient

from tests.fault_injection.faults import FaultInjector, Plan
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import empty_document, listed_arns
from tokenfuse.remediation.contracts import TASK_RESULTS, parse_task
from tokenfuse.remediation.trip import STATE_TAG_KEY
from tokenfuse_sandbox.core import Sandbox
from tokenfuse_sandbox.emulation.slack_server import SlackServer, block_actions_payload, send_interaction

pytestmark = pytest.mark.e2e

SIGNING_SECRET = "sandbox-signing-secret-for-e2e-0001"
HAIKU = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
DIRECTORY = """
teams:
  - name: search
    slack_channel: C0SEARCH01
    approvers: [{slack_user_id: U0ALICE001}]
    policies:
      prod: {mode: approve, action: throttle, approval_timeout_minutes: 15, verify_delay_minutes: 2,
             cooldown_minutes: 30, snooze_minutes: 10}
      detach: {mode: approve, action: detach}
      timeout: {mode: approve, action: detach, on_timeout: trip}
      auto: {mode: auto, action: throttle, cooldown_minutes: 30}
      notify: {mode: notify}
finops:
  slack_channel: C0FINOPS01
  approvers: [{slack_user_id: U0FINOPS01}]
"""


@contextmanager
def sandbox(template_path=None, dry_run="false"):
    with SlackServer(channels={"C0SEARCH01": "search-alerts", "C0FINOPS01": "finops"}) as slack:
        secrets = {
            "SlackBotTokenSecret": slack.token,
            "SlackSigningSecret": SIGNING_SECRET,
            "TeamDirectoryParameter": DIRECTORY,
        }
        with Sandbox(template_path, parameters={"DryRun": dry_run}, secrets=secrets) as sb:
            sb.runtime.base_env["SLACK_API_BASE_URL"] = slack.base_url
            org = boto3.client("organizations")
            org.create_organization(FeatureSet="ALL")
            policy_id = org.create_policy(
                Name="tokenfuse-guard",
                Description="guard",
                Type="SERVICE_CONTROL_POLICY",
                Content=json.dumps(empty_document()),
            )["Policy"]["PolicySummary"]["Id"]
            sb.slack, sb.policy_id = slack, policy_id
            yield sb
            assert_contracts_held(sb)


def assert_contracts_held(sb):
    """Every payload moto's interpreter sent RemediateFunction from the real ASL was its task's input,
    and every answer its task's result model: the contracts, checked on a recorded execution."""
    # the stack's custom resource (RestoreTripsOnDelete) is CloudFormation's request, not a task
    calls = [
        i
        for i in sb.invocations
        if i.function == "RemediateFunction" and not i.trigger.startswith("cloudformation:")
    ]
    assert calls, "the remediate function never ran"
    for call in calls:
        task = parse_task(call.event)
        if call.ok:
            TASK_RESULTS[task.task].model_validate(call.result)


def profile(sb, tags=None):
    tags = {"team": "search", **(tags or {})}
    return sb.clients["bedrock"].create_inference_profile(
        inferenceProfileName=f"p-{time.monotonic_ns()}",
        modelSource={"copyFrom": HAIKU},
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )["inferenceProfileArn"]


def incident(sb, arn, environment="prod", protected=False, team="search"):
    root = WebClient(token=sb.slack.token, base_url=sb.slack.base_url).chat_postMessage(
        channel="C0SEARCH01", text="spike"
    )
    return {
        "incident": {
            "incident_id": f"inc-{time.monotonic_ns()}",
            "profile_arn": arn,
            "profile_id": arn.rsplit("/", 1)[-1],
            "profile_name": "search-answers",
            "account_id": sb.account_id,
            "region": sb.region,
            "team": team,
            "environment": environment,
            "kind": "output-runaway",
            "severity": "high",
            "protected": protected,
            "cost_per_hour_usd": 120.0,
            "baseline_cost_per_hour_usd": 6.0,
            "opened_at": "2026-11-27T03:00:00Z",
            "slack_channel": "C0SEARCH01",
            "slack_ts": root["ts"],
        }
    }


def scp_arns(sb):
    org = boto3.client("organizations")
    return listed_arns(json.loads(org.describe_policy(PolicyId=sb.policy_id)["Policy"]["Content"]))


def tags(sb, arn):
    return {
        t["key"]: t["value"] for t in sb.clients["bedrock"].list_tags_for_resource(resourceARN=arn)["tags"]
    }


def table(sb):
    return ApprovalsTable(sb.resources["ApprovalsTable"])


def steps(sb, inc):
    return [e["step"] for e in table(sb).audit_trail(inc["incident"]["incident_id"])]


def wait_for_buttons(sb, inc, count=1, timeout=20.0):
    """The approval id of the ``count``-th approval request posted in the incident's thread."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = [
            m
            for m in sb.slack.messages("C0SEARCH01")
            if m.get("thread_ts") == inc["incident"]["slack_ts"]
            and any(b["type"] == "actions" for b in m.get("blocks", []))
        ]
        if len(replies) >= count:
            actions = next(b for b in replies[count - 1]["blocks"] if b["type"] == "actions")
            return actions["elements"][0]["value"].split(":")[0], replies[count - 1]["ts"]
        sb.delivery.step()
        time.sleep(0.05)
    raise TimeoutError("no approval request in the thread")


def click(sb, approval_id, ts, choice, user="U0ALICE001"):
    payload = block_actions_payload(
        action_id=f"tokenfuse_approval_{choice}",
        value=f"{approval_id}:{choice}",
        user_id=user,
        channel_id="C0SEARCH01",
        message_ts=ts,
    )
    url = sb.function_url("ApproveFunction").rstrip("/") + "/slack/interactivity"
    status, _, body = send_interaction(url, payload, SIGNING_SECRET)
    return status, json.loads(body)


def run(sb, inc):
    return sb.start_execution("RemediationStateMachine", inc)


def test_approve_trips_verifies_and_restores_after_the_cooldown():
    with sandbox() as sb:
        arn = profile(sb)
        inc = incident(sb, arn)
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        status, answer = click(sb, approval_id, ts, "approve")
        assert status == 200 and "Approved" in answer["text"]
        assert click(sb, approval_id, ts, "approve")[1]["text"].startswith("Already decided")
        done = sb.wait_execution(execution, timeout=60)
        assert done["status"] == "SUCCEEDED", sb.execution_path(execution)
        path = sb.execution_path(execution)
        for state in ("RequestApproval", "Trip", "Verify", "Cooldown", "Restore", "Audit"):
            assert state in path
        assert scp_arns(sb) == [] and STATE_TAG_KEY not in tags(sb, arn)  # nothing left behind
        assert steps(sb, inc) == [
            "policy",
            "approval-requested",
            "approval-decided",
            "tripped",
            "verified",
            "restored",
            "closed",
        ]
        trip = next(
            e for e in table(sb).audit_trail(inc["incident"]["incident_id"]) if e["step"] == "tripped"
        )
        assert trip["actor"] == "U0ALICE001" and trip["details"]["trip"]["scp"]["added"] is True


def test_decline_changes_nothing():
    with sandbox() as sb:
        arn = profile(sb)
        inc = incident(sb, arn)
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        click(sb, approval_id, ts, "decline")
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        assert "Trip" not in sb.execution_path(execution)
        assert scp_arns(sb) == []
        assert steps(sb, inc)[-2:] == ["approval-decided", "closed"]


def test_unauthorised_click_changes_nothing_then_the_approver_decides():
    with sandbox() as sb:
        inc = incident(sb, profile(sb))
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        status, answer = click(sb, approval_id, ts, "approve", user="U0MALLORY1")
        assert status == 200 and answer["tokenfuse_status"] == 403
        click(sb, approval_id, ts, "decline")
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        assert "Trip" not in sb.execution_path(execution)


def test_snooze_asks_again_only_while_the_spike_goes_on():
    with sandbox() as sb:
        arn = profile(sb)
        inc = incident(sb, arn)
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        click(sb, approval_id, ts, "snooze")
        # no traffic during the snooze: the spike has subsided, nobody is asked again
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        path = sb.execution_path(execution)
        assert "Snooze" in path and "StillRunningAway" in path and path.count("RequestApproval") == 1
        assert scp_arns(sb) == []


def test_approval_timeout_escalates_to_finops_and_applies_on_timeout(project_factory):
    template = project_factory(
        "remediation-timeout",
        asl_replace=[
            ('"TimeoutSecondsPath": "$.decided.policy.approval_timeout_seconds"', '"TimeoutSeconds": 2')
        ],
    )
    with sandbox(template) as sb:
        arn = profile(sb)
        inc = incident(sb, arn, environment="timeout")
        execution = run(sb, inc)
        sb.drain()  # parked on the task token; the time-out counts simulated seconds
        sb.clock.advance(2)
        done = sb.wait_execution(execution, timeout=30)
        assert done["status"] == "SUCCEEDED", sb.execution_path(execution)
        path = sb.execution_path(execution)
        assert "ApprovalTimedOut" in path and "Trip" in path
        assert "No decision" in sb.slack.messages("C0FINOPS01")[-1]["text"]
        assert scp_arns(sb) == [arn]  # detach: stays until a person restores it


def test_auto_trips_without_approval():
    with sandbox() as sb:
        arn = profile(sb)
        inc = incident(sb, arn, environment="auto")
        execution = run(sb, inc)
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        path = sb.execution_path(execution)
        assert "RequestApproval" not in path and "Trip" in path and "Restore" in path


def test_notify_only_never_trips():
    with sandbox() as sb:
        inc = incident(sb, profile(sb), environment="notify")
        execution = run(sb, inc)
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        assert sb.execution_path(execution)[-4:] == ["Audit", "Closed", "EscalatedOnTheWay", "Done"]
        assert "Trip" not in sb.execution_path(execution)
        assert steps(sb, inc) == ["policy", "closed"]


def test_dry_run_plans_the_trip_and_changes_nothing():
    with sandbox(dry_run="true") as sb:
        arn = profile(sb)
        inc = incident(sb, arn, environment="auto")
        execution = run(sb, inc)
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        path = sb.execution_path(execution)
        assert "Trip" in path and "AfterTrip" in path and "Verify" not in path
        assert scp_arns(sb) == [] and STATE_TAG_KEY not in tags(sb, arn)
        trip = next(
            e for e in table(sb).audit_trail(inc["incident"]["incident_id"]) if e["step"] == "tripped"
        )
        assert trip["decision"] == "dry-run" and trip["details"]["trip"]["dry_run"] is True


def test_protected_profile_is_never_tripped():
    with sandbox() as sb:
        arn = profile(sb, {"tokenfuse:protected": "true"})
        inc = incident(sb, arn, environment="auto", protected=True)
        execution = run(sb, inc)
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        assert "Trip" not in sb.execution_path(execution)
        policy = table(sb).audit_trail(inc["incident"]["incident_id"])[0]
        assert policy["decision"] == "protected"


def test_trip_failure_escalates():
    with sandbox() as sb:
        arn = profile(sb)
        sb.runtime.base_env["GUARD_POLICY_NAME"] = "no-such-guard"
        inc = incident(sb, arn, environment="auto")
        execution = run(sb, inc)
        done = sb.wait_execution(execution, timeout=30)
        assert done["status"] == "FAILED" and done.get("error") == "RemediationEscalated"
        assert "Escalate" in sb.execution_path(execution)
        told = sb.slack.messages("C0FINOPS01")[-1]["text"]
        assert "could not trip" in told and "Nothing tokenfuse changed is in force" in told
        assert steps(sb, inc)[-1] == "escalated"


def test_verify_failure_escalates_and_the_throttle_is_still_restored():
    with sandbox() as sb:
        arn = profile(sb)
        now = sb.now()
        sb.clients["cloudwatch"].put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "OutputTokenCount",
                    "Dimensions": [{"Name": "ModelId", "Value": arn.rsplit("/", 1)[-1]}],
                    "Timestamp": now + timedelta(minutes=m),
                    "Value": 40_000.0,
                }
                for m in range(-14, 30)
            ],
        )
        inc = incident(sb, arn, environment="auto")
        execution = run(sb, inc)
        done = sb.wait_execution(execution, timeout=30)
        path = sb.execution_path(execution)
        assert done["status"] == "FAILED" and "SpendNotStopped" in path and "Escalate" in path
        told = sb.slack.messages("C0FINOPS01")[-1]["text"]
        assert "did not fall" in told and "Still in force (the profile is denied)" in told
        # the escalation kept the throttle's cooldown and automatic restore
        assert path[path.index("Escalate") :][:4] == ["Escalate", "AfterEscalate", "Cooldown", "Restore"]
        assert scp_arns(sb) == [] and STATE_TAG_KEY not in tags(sb, arn)
        assert steps(sb, inc)[-3:] == ["escalated", "restored", "closed"]


def test_a_denied_tag_is_a_partial_trip_that_is_still_restored():
    faults = FaultInjector()
    faults.install()
    try:
        with sandbox() as sb:
            arn = profile(sb)
            inc = incident(sb, arn, environment="auto")
            with faults.armed_for(Plan("access-denied", operation="bedrock.TagResource", persistent=True)):
                execution = run(sb, inc)
                done = sb.wait_execution(execution, timeout=30)
            path = sb.execution_path(execution)
            assert done["status"] == "SUCCEEDED", path
            assert faults.injected and "Escalate" not in path and "Restore" in path
            thread = [m["text"] for m in sb.slack.messages("C0SEARCH01")]
            partly = next(t for t in thread if "Partly blocked" in t)
            assert "guard SCP" in partly and "tokenfuse:state tag not set: AccessDenied" in partly
            assert any("Partly blocked" in m["text"] for m in sb.slack.messages("C0FINOPS01"))
            assert scp_arns(sb) == [] and STATE_TAG_KEY not in tags(sb, arn)  # restored
    finally:
        faults.uninstall()


def test_manual_restore_of_a_detach():
    with sandbox() as sb:
        arn = profile(sb, {STATE_TAG_KEY: "watching"})
        inc = incident(sb, arn, environment="detach")
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        click(sb, approval_id, ts, "approve")
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        assert scp_arns(sb) == [arn] and tags(sb, arn)[STATE_TAG_KEY] == "tripped"
        sb.clock.advance(timedelta(hours=2))  # a person comes back to it later
        result = sb.invoke(
            "RemediateFunction",
            {"task": "restore-profiles", "profile_arn": arn, "actor": "arn:aws:iam::1:user/op"},
        )
        assert result.ok and result.result["results"][0]["restored"] is True
        assert scp_arns(sb) == [] and tags(sb, arn)[STATE_TAG_KEY] == "watching"
        assert steps(sb, inc)[-1] == "restored"


def restore_button(sb, inc):
    """The Restore button of the detach's thread reply: (its value, the reply's ts)."""
    for message in sb.slack.messages("C0SEARCH01"):
        if message.get("thread_ts") != inc["incident"]["slack_ts"]:
            continue
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["action_id"] == "tokenfuse_restore":
                    return element["value"], message["ts"]
    raise AssertionError("no Restore button in the thread")


def test_restore_button_of_a_detach_lifts_the_trip_for_an_approver_only():
    with sandbox() as sb:
        arn = profile(sb, {STATE_TAG_KEY: "watching"})
        inc = incident(sb, arn, environment="detach")
        execution = run(sb, inc)
        approval_id, ts = wait_for_buttons(sb, inc)
        click(sb, approval_id, ts, "approve")
        assert sb.wait_execution(execution, timeout=30)["status"] == "SUCCEEDED"
        # Given the detached profile's thread reply carries a Restore button whose value is the ARN only
        value, reply_ts = restore_button(sb, inc)
        assert value == f"restore:{arn}"
        url = sb.function_url("ApproveFunction").rstrip("/") + "/slack/interactivity"

        def press(user):
            payload = block_actions_payload(
                action_id="tokenfuse_restore",
                value=value,
                user_id=user,
                channel_id="C0SEARCH01",
                message_ts=reply_ts,
            )
            status, _, body = send_interaction(url, payload, SIGNING_SECRET)
            sb.drain()
            return status, json.loads(body)

        # When someone who is not an approver of the owning team clicks it, nothing changes
        status, answer = press("U0MALLORY1")
        assert status == 200 and answer["tokenfuse_status"] == 403
        assert scp_arns(sb) == [arn] and tags(sb, arn)[STATE_TAG_KEY] == "tripped"
        # When the team's on-call clicks it, the trip is lifted: exactly the prior state comes back
        status, answer = press("U0ALICE001")
        assert status == 200 and answer["text"].startswith("Restoring")
        assert scp_arns(sb) == [] and tags(sb, arn)[STATE_TAG_KEY] == "watching"
        restored = [
            e for e in table(sb).audit_trail(inc["incident"]["incident_id"]) if e["step"] == "restored"
        ]
        assert [e["actor"] for e in restored] == ["slack:U0ALICE001"]
        # And a second click finds nothing to restore
        assert press("U0ALICE001")[1]["text"] == "This profile has no active trip: nothing to restore."
