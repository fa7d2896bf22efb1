"""`tokenfuse demo`'s other paths (issue 7): nobody owns the profile (FinOps decides), the on-call
declines, nobody answers (the approval times out). The auto policy's run is
tests/e2e/test_demo_cli.py's (the CLI as a user runs it)."""

from datetime import datetime, timedelta

import pytest

from tests.support.demo_runs import same_run
from tokenfuse_sandbox.story import scenarios
from tokenfuse_sandbox.story.org import FINOPS
from tokenfuse_sandbox.story.timeline import TIMEOUT_APPROVAL_MINUTES

pytestmark = pytest.mark.e2e


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@same_run(scenario="untagged-spend")
def test_untagged_spend_goes_to_finops_and_finops_approves(demo_runs):
    report = demo_runs.get(scenario="untagged-spend").report
    (incident,) = report.incidents
    assert incident["team"] == "finops"
    top = [m for m in report.messages if m["thread_of"] is None and not m["edited"]]
    assert [(m["channel"], m["team"]) for m in top] == [(FINOPS.channel, "finops")]
    (click,) = report.approvals
    assert click["user"] == FINOPS.approver and click["http_status"] == 200
    (remediation,) = report.remediations
    assert remediation["applied_at"] and remediation["restored_at"]
    assert report.summary["spent_while_denied_usd"] == 0.0


@same_run(decision="decline")
def test_decline_trips_nothing_and_the_loop_spends_until_the_fix(demo_runs):
    report = demo_runs.get(decision="decline").report  # tests/unit/test_people_read.py reads it too
    s = report.summary
    assert s["contained_at"] is None and s["restored_at"] is None
    (remediation,) = report.remediations
    assert remediation["decision"] == "decline" and remediation["applied_at"] is None
    assert not [e for e in report.timeline if e.kind == "deny"]
    # the loop ran until the team's fix, and nothing credits tokenfuse with a containment
    fixed_after = scenarios.get("runaway-loop").fixed_after
    assert at(s["loop_stopped_at"]) - at(s["loop_started_at"]) == fixed_after
    assert s["spent_before_containment_usd"] > 0 and s["times_less_than_cad"] is None
    # a loop that ran its course moves the day's spend: Budgets and CAD hours later join its incident
    (incident,) = report.incidents
    assert incident["sources"][0] == "invocation-log"
    assert {"budget", "cost-anomaly"} <= set(incident["sources"])
    assert any("Cost Anomaly Detection" in m["text"] for m in report.messages if m["thread_of"])


@same_run(decision="timeout")
def test_timeout_trips_at_request_plus_timeout_on_the_simulated_clock(demo_runs):
    """Nobody answers: the remediation's callback wait times out when the simulated clock reaches the
    request's post + the approval time-out (moto's wait counts no real seconds), FinOps is told, the
    policy's ``on_timeout: trip`` blocks, and the block is lifted after its cooldown."""
    report = demo_runs.get(decision="timeout").report
    assert report.approvals == []  # nobody clicked
    (card,) = [
        m for m in report.messages if m["thread_of"] is None and not m["edited"] and m["team"] != "finops"
    ]
    asked = at(card["at"])
    timed_out = asked + timedelta(minutes=TIMEOUT_APPROVAL_MINUTES)
    finops = [m for m in report.messages if m["channel"] == FINOPS.channel and "No decision" in m["text"]]
    assert [at(m["at"]) for m in finops] == [timed_out]
    (remediation,) = report.remediations
    assert remediation["decision"] == "timeout" and at(remediation["applied_at"]) == timed_out
    s = report.summary
    assert (
        timed_out
        < at(s["contained_at"])
        < at(s["loop_started_at"]) + scenarios.get("runaway-loop").fixed_after
    )
    assert s["oncall_reaction_seconds"] is None and s["seconds_decision_to_contain"] is None
    assert at(remediation["restored_at"]) - timed_out >= timedelta(minutes=15)
    assert not report.problems, report.problems
