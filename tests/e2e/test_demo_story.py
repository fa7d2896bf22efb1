"""`make demo`'s story end to end (issue 7): the runaway loop in the sandbox, on the simulated
clock, told by the real handlers, the real ASL and a signed Slack click. One run, many checks."""

from datetime import datetime, timedelta

import pytest

from tests.support.demo_runs import same_run
from tokenfuse_sandbox.emulation.bedrock_access import SCP_PROPAGATION_SECONDS
from tokenfuse_sandbox.story.org import FINOPS, TEAMS

pytestmark = [pytest.mark.e2e, same_run()]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def story(demo_runs):
    run = demo_runs.get()  # the session's one run of the default story
    return run.report, run.lines, run.folder


def culprit_incidents(report):
    return [i for i in report.incidents if i["profile_arn"] == report.summary["profile_arn"]]


def test_one_incident_for_the_runaway_profile_with_every_signal(story):
    report, _, _ = story
    assert len(report.incidents) == 1, report.incidents
    (incident,) = culprit_incidents(report)
    assert incident["team"] == "support-bot"
    assert incident["kind"] == "output-runaway"
    assert incident["signal_count"] >= 3, incident  # the meter, then Budgets and CAD merge into it
    assert incident["sources"][0] == "invocation-log"  # the meter's spend rate opened it
    assert {"budget", "cost-anomaly"} <= set(incident["sources"])


def test_one_post_in_the_owning_team_channel_and_the_rest_in_its_thread(story):
    report, _, _ = story
    owner = next(t for t in TEAMS if t.name == "support-bot")
    top = [m for m in report.messages if m["thread_of"] is None and not m["edited"]]
    assert [m["channel"] for m in top] == [owner.channel], top
    assert top[0]["team"] == "support-bot"
    others = {t.channel for t in TEAMS if t.name != "support-bot"}
    assert not [m for m in report.messages if m["channel"] in others]
    replies = [m for m in report.messages if m["thread_of"] is not None]
    assert replies and all(m["thread_of"] == top[0]["ts"] for m in replies)
    assert any("Cost Anomaly Detection" in m["text"] for m in replies)
    assert not [m for m in report.messages if m["channel"] == FINOPS.channel]


def test_the_signed_approval_trips_and_the_cooldown_restores(story):
    report, _, _ = story
    (click,) = report.approvals
    assert click["http_status"] == 200 and click["choice"] == "approve" and "Approved" in click["answer"]
    (remediation,) = report.remediations
    assert remediation["decision"] == "approve" and remediation["action"] == "throttle"
    assert remediation["actor"] == click["user"] == "U0SUPPORT1"
    assert at(remediation["applied_at"]) >= at(click["at"])
    assert at(remediation["restored_at"]) - at(remediation["applied_at"]) >= timedelta(minutes=15)
    s = report.summary
    # the runtime refuses the loop's calls once the guard SCP has propagated (emulated: 5 s)
    refused_after = at(s["contained_at"]) - at(remediation["applied_at"])
    assert timedelta(seconds=SCP_PROPAGATION_SECONDS) <= refused_after <= timedelta(seconds=10)
    assert s["restored_at"] is not None and at(s["restored_at"]) >= at(remediation["restored_at"])


def test_the_spend_stops_while_denied_and_is_far_below_the_counterfactuals(story):
    report, _, _ = story
    s = report.summary
    assert s["spent_while_denied_usd"] == 0.0  # observed: the traffic's calls were refused
    spent = s["spent_before_containment_usd"]
    assert spent > 0
    assert s["counterfactual_usd"]["budgets"] > 20 * spent
    assert s["counterfactual_usd"]["cad"] > 100 * spent
    assert s["path"] == "invocation-log"  # the default story: the member stack's meter alerts
    assert at(s["alerted_at"]) - at(s["loop_started_at"]) <= timedelta(seconds=30)
    assert at(s["alerted_at"]) <= at(s["contained_at"])


def test_outputs_the_timeline_the_json_and_the_chart(story):
    report, lines, out = story
    text = "\n".join(lines)
    for needle in ("the loop starts", "Wed 14:00:15", "SCP propagation 5 s",
                   "clicks APPROVE", "deny in force", "deny lifted", "Summary",
                   "had only CAD caught it (24 h)"):  # fmt: skip
        assert needle in text
    data = __import__("json").loads((out / "report.json").read_text())
    assert set(data) >= {"incidents", "messages", "remediations", "timeline", "summary"}
    assert set(data["summary"]) >= {
        "loop_started_at", "alerted_at", "contained_at", "spent_before_containment_usd", "counterfactual_usd",
    }  # fmt: skip
    assert all(set(m) >= {"channel", "team", "text", "thread_of"} for m in data["messages"])
    chart = (out / "chart.html").read_text()
    assert chart.count("<svg") == 2 and "trip" in chart and "CAD" in chart
    assert not report.problems, report.problems
