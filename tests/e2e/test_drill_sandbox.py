"""The fire drill and the doctor in the sandbox, end to end (tokenfuse_sandbox.proving): the real
template, handlers, state machine and org templates; the drill trips its canary through the
deployed state machine under DryRun, proves the deny and the restore, and leaves nothing; a drill
cut short is cleaned up by the next one, by ``restore --all`` and by the stack's delete."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest

from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import listed_arns
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.drill.canary import CANARY_MAX_AGE
from tokenfuse.drill.doctor import run_doctor
from tokenfuse.drill.drill import CHECKS, run_drill
from tokenfuse_sandbox.emulation import bedrock_access, bedrock_runtime
from tokenfuse_sandbox.proving import ProvingGround
from tokenfuse_sandbox.story import org as org_mod

pytestmark = pytest.mark.e2e

PROD = org_mod.ACCOUNTS[0].account_id


@pytest.fixture(scope="module")
def ground():
    with ProvingGround() as seeded:
        yield seeded


def failed(report) -> list[str]:
    return [c.name for c in report.checks if not c.passed]


def canaries(ground) -> list[str]:
    bedrock = org_mod.Sessions(ground.sb.account_id).client("bedrock", PROD, ground.sb.region)
    summaries = bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    return [
        p["inferenceProfileArn"]
        for p in summaries
        if p["inferenceProfileName"].startswith("tokenfuse-drill-")
    ]


def guard_arns(ground) -> list[str]:
    """The ARNs the guard SCP lists (the default session is the management account's)."""
    client = boto3.client("organizations", region_name=ground.sb.region)
    policies = client.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    [policy] = [p for p in policies if p["Name"] == "tokenfuse-guard"]
    return listed_arns(json.loads(client.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"]))


def through_canaries(config) -> list:
    """The emulated runtime's calls through this drill's canaries that went through."""
    return [
        c
        for c in bedrock_runtime.calls()
        if c.usage is not None and c.target and c.target.profile and config.run_id in c.target.profile.name
    ]


def trips(ground) -> list[dict]:
    return ApprovalsTable(ground.sb.resources["ApprovalsTable"]).list_trips()


def test_the_drill_passes_end_to_end_under_dry_run_and_leaves_nothing(ground):
    # Given the stack in DryRun (its default): the drill must trip its canary anyway
    assert ground.sb.template.parameters["DryRun"] == "true"
    bedrock_runtime.clear_calls()
    slack_before = len(ground.sb.slack.calls)
    # When the drill runs
    ports, config = ground.drill()
    report = run_drill(ports, config)
    # Then every check passes, in order
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert [c.name for c in report.checks] == list(CHECKS)
    # And the deny took effect after the emulation's named SCP delay; the datapoint carried the id
    assert report.seconds_to_deny == bedrock_access.SCP_PROPAGATION_SECONDS
    assert (report.denied_confirmed, report.restored_confirmed, report.model_id_form) == (
        True,
        True,
        "profile-id",
    )
    # And the cost is what the calls that went through cost: the emulation counts one token per word of
    # "Reply with one word: ok" (5 in) and answers the 1 token asked; Nova Micro $0.035 / $0.14 per 1M
    through = [
        c
        for c in bedrock_runtime.calls()
        if c.usage is not None
        and "tokenfuse-drill" in (c.target.profile.name if c.target and c.target.profile else "")
    ]
    assert through and all((c.usage.input_tokens, c.usage.output_tokens) == (5, 1) for c in through)
    assert report.cost_usd == pytest.approx(len(through) * (5 * 0.035 + 1 * 0.14) / 1_000_000)
    assert report.cost_usd < 0.01
    # And the trip went through the deployed state machine with a drill incident, audited
    trail = ApprovalsTable(ground.sb.resources["ApprovalsTable"]).audit_trail(f"drill-{config.run_id}")
    steps = [e["step"] for e in trail]
    assert steps[:2] == ["policy", "tripped"] and "restored" in steps
    assert trail[0]["details"]["mode"] == "auto"
    # And nothing is left: no canary, no ARN in the guard, no trip record, nothing in the inventory
    assert canaries(ground) == [] and guard_arns(ground) == [] and trips(ground) == []
    assert not any(
        "tokenfuse-drill" in (r.profile_name or "")
        for r in InventoryTable(ground.sb.resources["InventoryTable"]).all()
    )
    # And no team and no FinOps channel heard of it (a drill is in no alert)
    assert ground.sb.slack.calls[slack_before:] == []


def test_the_doctor_finds_the_deployment_whole(ground):
    report = run_doctor(ground.doctor())
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    by_name = {c.name: c.detail for c in report.checks}
    assert "6 inventoried profile(s)" in by_name["profiles-watched"]
    assert "2 member account(s)" in by_name["member-accounts"]


def test_the_scheduled_drill_tells_finops_and_passes(ground):
    # DrillFunction's own work, with its template environment (see ProvingGround.scheduled_drill)
    report = ground.scheduled_drill()
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert report.checks[-1].detail == "told FinOps by Slack C0FINOPS01"
    [message] = ground.sb.slack.messages(org_mod.FINOPS.channel)[-1:]
    assert message["text"].startswith(f"tokenfuse fire drill passed in {PROD} us-east-1")
    assert canaries(ground) == [] and guard_arns(ground) == []


def test_the_drill_function_refuses_what_is_not_its_schedule(ground):
    invocation = ground.sb.invoke("DrillFunction", {"action": "daily-sweep"})
    assert invocation.ok and invocation.result["refused"].startswith("not a drill trigger:")
    assert canaries(ground) == []


class Dies:
    """A drill cut short right after its trip: nothing it would do after the trip reaches AWS."""

    def __init__(self, ports) -> None:
        self.ports = ports
        self.tripped = False

        real_trip, real_call = ports.remediation.trip, ports.canaries.call

        def trip(*args, **kwargs):
            outcome = real_trip(*args, **kwargs)
            self.tripped = True
            return outcome

        def call(*args, **kwargs):
            if self.tripped:
                raise ConnectionError("the drill's process is gone")
            return real_call(*args, **kwargs)

        def gone(*args, **kwargs):
            raise ConnectionError("the drill's process is gone")

        ports.remediation.trip = trip
        ports.canaries.call = call
        ports.remediation.restore = gone
        ports.canaries.delete = gone


def interrupted_drill(ground):
    ports, config = ground.drill()
    Dies(ports)
    report = run_drill(ports, config)
    assert "cleanup" in failed(report)
    assert len(canaries(ground)) == 2 and len(guard_arns(ground)) == 1 and len(trips(ground)) == 1
    return report


def test_a_drill_cut_short_is_cleaned_up_by_restore_all_and_the_next_drill(ground):
    # Given a drill that died right after its trip: its canary stays denied, both canaries stay
    interrupted_drill(ground)
    # When an hour passes, the doctor names what it left
    ground.sb.clock.advance(CANARY_MAX_AGE + timedelta(minutes=1))
    doctor = {c.name: c for c in run_doctor(ground.doctor()).checks}
    assert not doctor["drill-canaries"].passed
    assert "canaries an interrupted drill left" in doctor["drill-canaries"].detail
    assert "drill trips still in force" in doctor["drill-canaries"].detail
    # When tokenfuse restore --all runs (the RemediateFunction's restore-profiles task)
    restored = ground.sb.invoke(
        "RemediateFunction", {"task": "restore-profiles", "all": True, "actor": "operator"}
    )
    assert restored.ok and restored.result["failed"] == []
    # Then nothing is denied any more
    assert guard_arns(ground) == [] and trips(ground) == []
    # When the next drill runs, it deletes what was left first, and passes
    report = run_drill(*ground.drill())
    leftovers = next(c for c in report.checks if c.name == "leftovers")
    assert leftovers.passed and "cleaned 2 canary(ies) an interrupted drill left" in leftovers.detail
    assert report.passed, failed(report)
    assert canaries(ground) == [] and guard_arns(ground) == []
    assert run_doctor(ground.doctor()).passed


class CloudFormation(BaseHTTPRequestHandler):
    """Where a custom resource's answer goes (its pre-signed ResponseURL)."""

    answers: list[dict] = []

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        CloudFormation.answers.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_deleting_the_stack_lifts_and_deletes_what_a_cut_short_drill_left(ground):
    interrupted_drill(ground)
    server = HTTPServer(("127.0.0.1", 0), CloudFormation)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        drill_function = ground.sb.runtime.functions["DrillFunction"].arn
        event = {  # CloudFormation's Delete request for the template's DrillCanariesOnDelete
            "RequestType": "Delete",
            "ServiceToken": drill_function,
            "ResourceType": "AWS::CloudFormation::CustomResource",
            "ResourceProperties": {"ServiceToken": drill_function},
            "ResponseURL": f"http://127.0.0.1:{server.server_port}/answer",
            "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/tokenfuse-dev/1",
            "RequestId": "delete-1",
            "LogicalResourceId": "DrillCanariesOnDelete",
            "PhysicalResourceId": "tokenfuse-drill-canaries",
        }
        invocation = ground.sb.invoke("DrillFunction", event)
    finally:
        server.shutdown()
    assert invocation.ok, invocation.error
    assert invocation.result["Status"] == "SUCCESS" and invocation.result["Data"] == {"Deleted": 2}
    assert CloudFormation.answers[-1]["Status"] == "SUCCESS"
    assert canaries(ground) == [] and guard_arns(ground) == [] and trips(ground) == []
