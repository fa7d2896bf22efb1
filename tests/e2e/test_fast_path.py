"""The sub-minute fast path end to end in the sandbox, through the deployed wiring: a loop starts
-> invocation records -> the meter (subscription deliveries every 5 simulated seconds) -> a
spend-rate event -> intake -> attribution -> an incident and the owning team's alert naming the
caller's role -> under the ``auto`` policy, the trip; the emulated runtime refuses the loop's calls
once the guard SCP is in force (after its propagation delay). Times are simulated seconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from tokenfuse_sandbox.emulation.bedrock_access import SCP_PROPAGATION_SECONDS
from tokenfuse_sandbox.emulation.invocation_logs import LOG_DELIVERY_SECONDS
from tokenfuse_sandbox.story.fastpath import FastRun, caller_role, run_fast_path
from tokenfuse_sandbox.story.org import owner_of
from tokenfuse_sandbox.story.timeline import LOOP_START

# one worker builds the module's sandbox once for all its tests
pytestmark = pytest.mark.xdist_group("test_fast_path")


@pytest.fixture(scope="module")
def run() -> Iterator[FastRun]:
    yield from run_fast_path("runaway-loop", "auto")


def test_the_member_side_is_org_member_yaml_deployed_as_the_stack_set(run: FastRun) -> None:
    account, region = run.culprit.spec.account_id, run.culprit.spec.region
    assert "turned on to /aws/bedrock/modelinvocations" in run.wiring[(account, region)]
    assert "meter subscribed as tokenfuse-meter" in run.wiring[(account, region)]
    # the member stack's own meter counted the loop, in the member account; the main stack's did not
    ran = {i.function for i in run.sb.invocations}
    member_meter = f"MeterFunction_{account}_{region.replace('-', '_')}"
    assert member_meter in ran and "MeterFunction" not in ran
    counters = run.calls.sessions.client("dynamodb", account, region).scan(
        TableName="tokenfuse-meter-counters"
    )
    assert counters["Count"] > 0


def test_the_meter_sends_one_spend_rate_event_naming_the_caller(run: FastRun) -> None:
    rates = [e for e in run.sb.bus_events if e.get("detail-type") == "Spend Rate"]
    assert len(rates) == 1
    detail = rates[0]["detail"]
    assert detail["profile_arn"] == run.culprit.arn and detail["account_id"] == run.culprit.spec.account_id
    role = f"arn:aws:iam::{run.culprit.spec.account_id}:role/{caller_role(run.culprit)}"
    assert detail["callers"] == [{"role_arn": role, "share": 1.0}]
    # the window lies inside the loop: its first 20 s burn above the armed threshold
    assert datetime.fromisoformat(detail["window_start"].replace("Z", "+00:00")) >= LOOP_START
    assert detail["burn_usd_per_hour"] > detail["threshold_usd_per_hour"] > 0


def test_the_signal_opens_one_incident_and_the_alert_names_the_callers_role(run: FastRun) -> None:
    signals = [e for e in run.sb.bus_events if e.get("detail-type") == "Spend Signal"]
    assert [s["detail"]["source"] for s in signals] == ["invocation-log"]
    opened = [e for e in run.sb.bus_events if e.get("detail-type") == "Incident Opened"]
    assert len(opened) == 1 and opened[0]["detail"]["profile_arn"] == run.culprit.arn
    owner = owner_of(run.culprit.spec)
    texts = [json.dumps(m) for m in run.sb.slack.messages(owner.channel)]  # type: ignore[union-attr]
    assert any(caller_role(run.culprit) in text for text in texts)


def test_auto_policy_contains_the_loop_within_60_simulated_seconds(run: FastRun) -> None:
    assert run.contained_after is not None and run.alerted_after is not None
    contained, alerted = run.contained_after, run.alerted_after
    print(
        f"fast path: alert at +{alerted:.0f} s, contained at +{contained:.0f} s "
        f"(log delivery every {LOG_DELIVERY_SECONDS} s, SCP propagation {SCP_PROPAGATION_SECONDS} s, "
        f"burn window 20 s in 10-second buckets)"
    )
    assert alerted <= 30
    assert 0 < contained < 60
    # after containment the loop's calls are refused; what it spent before is priced per call
    assert run.calls.denied >= 1
    assert 0 < run.spent_usd < run.loop_usd_per_hour * 24 / 1000  # at least 1,000x less than CAD-only
