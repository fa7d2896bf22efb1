"""`tokenfuse demo`'s other paths (issue 7): nobody owns the profile (FinOps decides) and the on-call
declines. The auto policy's run is tests/e2e/test_demo_cli.py's (the CLI as a user runs it)."""

from datetime import datetime, timedelta

import pytest

from tests.support.demo_runs import same_run
from tokenfuse_sandbox.story.org import FINOPS

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
    # the loop ran until the team's fix: 18 minutes at ~14x, more than 3x what approving cost
    assert at(s["loop_stopped_at"]) - at(s["loop_started_at"]) == timedelta(minutes=18)
    assert s["spent_before_containment_usd"] > 3 * 20
