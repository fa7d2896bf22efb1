"""`make demo`'s story end to end (issue 7): the runaway loop in the sandbox, on the simulated
clock, told by the real handlers, the real ASL and a signed Slack click. One run, many checks."""

import json
import re
from datetime import datetime, timedelta

import pytest

from tests.support.demo_runs import same_run
from tokenfuse_sandbox.emulation.bedrock_access import SCP_PROPAGATION_SECONDS
from tokenfuse_sandbox.story import scenarios
from tokenfuse_sandbox.story.org import FINOPS, TEAMS
from tokenfuse_sandbox.story.timeline import HISTORY_START, LOOP_START, ONCALL_SECONDS

pytestmark = [pytest.mark.e2e, same_run()]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def story(demo_runs):
    run = demo_runs.get()  # the session's one run of the default story
    return run.report, run.lines, run.folder


def culprit_incidents(report):
    return [i for i in report.incidents if i["profile_arn"] == report.summary["profile_arn"]]


def test_one_incident_for_the_runaway_profile_and_cad_never_notices(story):
    report, _, _ = story
    assert len(report.incidents) == 1, report.incidents
    (incident,) = culprit_incidents(report)
    assert incident["team"] == "support-bot"
    assert incident["kind"] == "output-runaway"
    assert incident["sources"][0] == "invocation-log"  # the meter's spend rate opened it
    # contained within a minute, the loop leaves the day's spend at what CAD expects: CAD sends
    # nothing (the decline story, where the loop runs until the fix, has CAD and Budgets join)
    (cad,) = [e for e in report.timeline if e.kind == "signal" and "Cost Anomaly Detection" in e.text]
    assert "no anomaly, no alert" in cad.text and report.summary["cad_alert_at"] is None
    assert "cost-anomaly" not in incident["sources"]


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
    assert not [m for m in replies if "Cost Anomaly Detection" in m["text"]]  # it never alerted
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


def test_the_default_story_is_alerted_within_30_s_and_contained_within_60_s(story):
    """Issue 13's "Done when": the default story (invocation logs, approve) contained in under a
    simulated minute; the on-call's reaction time (a story parameter) is apart from tokenfuse's."""
    report, lines, _ = story
    s = report.summary
    started, alerted, contained = at(s["loop_started_at"]), at(s["alerted_at"]), at(s["contained_at"])
    assert started == LOOP_START
    assert alerted - started < timedelta(seconds=30)
    assert contained - started < timedelta(seconds=60)
    (click,) = report.approvals
    assert at(click["at"]) - alerted == timedelta(seconds=ONCALL_SECONDS)  # the card, then the click
    assert s["oncall_reaction_seconds"] == ONCALL_SECONDS
    assert s["seconds_decision_to_contain"] == (contained - at(click["at"])).total_seconds()
    assert f"clicks APPROVE, {ONCALL_SECONDS} s after the card" in "\n".join(lines)


def test_the_fix_ships_before_the_restore_so_the_story_ends_cleanly(story):
    """The throttle lasts the cooldown from the trip; the team's fix ships before it is lifted, so
    the restore finds the loop gone: no re-alert, and every promise of a time came true."""
    report, _, _ = story
    s = report.summary
    (remediation,) = report.remediations
    fixed = LOOP_START + scenarios.get("runaway-loop").fixed_after
    assert at(s["loop_stopped_at"]) <= fixed < at(remediation["restored_at"])
    rates = [e for e in report.timeline if e.kind == "bus" and "Spend Rate" in e.text]
    assert [e.at for e in rates] == [alerted := at(s["alerted_at"])], rates  # one alert, none after
    assert alerted < at(s["contained_at"])
    # "The block lifts at HH:MM UTC": the restore comes in that minute
    promised = {p for m in report.messages for p in re.findall(r"lifts at (\d\d:\d\d) UTC", m["text"])}
    assert promised == {f"{at(remediation['restored_at']):%H:%M}"}


def test_handler_logs_carry_the_simulated_time(story):
    """The handlers' Powertools lines in the log file are stamped on the story's clock (the week
    of history to the CAD alert the day after), not the machine's."""
    _, _, out = story
    stamps = []
    for line in (out / "lines.jsonl").read_text().splitlines():
        record = json.loads(line)
        stamps.append(datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z"))
    assert stamps
    assert all(HISTORY_START - timedelta(hours=1) <= t <= LOOP_START + timedelta(hours=25) for t in stamps)
    assert any(t == LOOP_START + timedelta(seconds=15) for t in stamps)  # the meter's alert


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
    for needle in ("the loop starts", "SCP propagation 5 s",
                   "clicks APPROVE", "deny in force", "deny lifted", "Summary",
                   "had only CAD caught it (24 h)"):  # fmt: skip
        assert needle in text
    # the date once at the top and whenever the day changes (the CAD check the next day)
    days = [line for line in lines if line.startswith("-- ")]
    assert days == [
        "-- Monday 2026-11-16 (UTC) --",
        "-- Wednesday 2026-11-25 (UTC) --",
        "-- Thursday 2026-11-26 (UTC) --",
    ]
    assert "14:00:15  bus" in text  # times with seconds
    data = json.loads((out / "report.json").read_text())
    assert set(data) >= {"incidents", "messages", "remediations", "timeline", "summary"}
    assert set(data["summary"]) >= {
        "loop_started_at", "alerted_at", "contained_at", "spent_before_containment_usd", "counterfactual_usd",
    }  # fmt: skip
    assert all(set(m) >= {"channel", "team", "text", "thread_of"} for m in data["messages"])
    chart = (out / "chart.html").read_text()
    assert chart.count("<svg") == 2 and "trip" in chart and "CAD" in chart
    assert not report.problems, report.problems
