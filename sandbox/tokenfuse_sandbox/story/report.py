"""The demo's report: incidents, messages, remediations, the timeline and the summary (contracts,
"Commands and reports"), every figure read back from the sandbox after the story ran."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tokenfuse_sandbox.story.observe import Entry, Observer, channel_label, iso
from tokenfuse_sandbox.story.org import FINOPS, Org, SeededProfile, TeamSpec, team_for_channel
from tokenfuse_sandbox.story.timeline import CAD_AFTER, LOOP_START, MINUTES_BEFORE, StoryState

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.emulation.slack_server import SlackServer
    from tokenfuse_sandbox.story.fastpath import FastCalls
    from tokenfuse_sandbox.story.meter import Meter
    from tokenfuse_sandbox.story.scenarios import Scenario
    from tokenfuse_sandbox.story.traffic import Traffic


class Story(Protocol):
    """What the report reads of the story that ran (:class:`~.driver.Story`)."""

    @property
    def sb(self) -> Sandbox: ...
    @property
    def slack(self) -> SlackServer: ...
    @property
    def org(self) -> Org: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def decision(self) -> str: ...
    @property
    def policy(self) -> str: ...
    @property
    def culprit(self) -> SeededProfile: ...
    @property
    def owner(self) -> TeamSpec: ...
    @property
    def traffic(self) -> Traffic: ...
    @property
    def meter(self) -> Meter: ...
    @property
    def state(self) -> StoryState: ...
    @property
    def observer(self) -> Observer: ...
    @property
    def now(self) -> datetime: ...
    @property
    def contained_at(self) -> datetime | None: ...
    @property
    def fast(self) -> FastCalls | None: ...


EMULATIONS = [
    "in-process Lambda, event delivery and the Function URL (the sandbox)",
    "the Bedrock inference-profile API inside moto",
    "CloudWatch alarm evaluation with the inventory's own alarm definitions",
    "the deny's effect on the traffic generator's calls (guard SCP by statement Sid, inline denies)",
    "a Slack-compatible server on loopback; clicks are signed with the sandbox's signing secret",
    "a simulated clock driving tokenfuse.clock and moto's Step Functions waits",
    "cross-account STS sessions (moto's assumed-role keys land in the role's account)",
    "the CAD and Budgets alerts, built from the shapes in events/ with the sandbox's measured numbers",
]


@dataclass
class DemoReport:
    scenario: str
    decision: str
    policy: str
    incidents: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    remediations: list[dict[str, Any]]
    timeline: list[Entry]
    summary: dict[str, Any]
    series: dict[str, Any] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    chart_path: str | None = None
    json_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "decision": self.decision,
            "policy": self.policy,
            "incidents": self.incidents,
            "messages": self.messages,
            "remediations": self.remediations,
            "timeline": [e.to_json() for e in self.timeline],
            "summary": self.summary,
            "approvals": self.approvals,
            "problems": self.problems,
            "emulations": EMULATIONS,
            "wall_seconds": self.wall_seconds,
            "chart": self.chart_path,
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, default=str) + "\n"


def render_entry(entry: Entry) -> str:
    """One timeline line: the time with seconds (the date is said by :class:`TimelineText`)."""
    where = f"  [{entry.where}]" if entry.where else ""
    usd = f"  ${entry.usd:,.2f}" if entry.usd is not None else ""
    return f"{entry.at:%H:%M:%S}  {entry.kind:<11} {entry.text}{usd}{where}"


def day_line(at: datetime) -> str:
    """The date a timeline's lines are on, said before the first and whenever the day changes."""
    return f"-- {at:%A %Y-%m-%d} (UTC) --"


class TimelineText:
    """The timeline as a person reads it, entry by entry: the date once at the top and again whenever
    the day changes (the CAD alert arrives the next day), then each entry's time with seconds."""

    def __init__(self) -> None:
        self._day: str | None = None

    def lines(self, entry: Entry) -> list[str]:
        day = f"{entry.at:%Y-%m-%d}"
        header = [] if day == self._day else [day_line(entry.at)]
        self._day = day
        return [*header, render_entry(entry)]


# --------------------------------------------------------------------------------------------------
# Building the report
# --------------------------------------------------------------------------------------------------
def _incidents(story: Story) -> list[dict[str, Any]]:
    from tokenfuse.adapters.incidents_table import IncidentsTable

    try:
        found = IncidentsTable(story.sb.resources["IncidentsTable"]).incidents()
    except Exception as error:
        story.state.problems.append(f"incidents table unreadable: {error}")
        return []
    out = []
    for incident in sorted(found, key=lambda i: i.opened_at):
        profile = story.org.profile_by_arn(incident.profile_arn) if incident.profile_arn else None
        out.append(
            {
                "incident_id": incident.incident_id,
                "profile_arn": incident.profile_arn,
                "profile": profile.key if profile else None,
                "team": incident.team or FINOPS.name,
                "signal_count": incident.signal_count,
                "sources": list(incident.sources),
                "kind": incident.kind,
                "severity": incident.severity,
                "status": incident.status,
                "opened_at": iso(incident.opened_at),
                "slack_channel": incident.slack_channel,
                "slack_ts": incident.slack_ts,
            }
        )
    return out


def _messages(story: Story, since: datetime) -> list[dict[str, Any]]:
    """Every post, thread reply and edit in place (``edited``: the full text after the edit, the
    edited message's ``ts`` and thread), then every email, in the order they happened."""
    out = []
    thread_of: dict[str, str | None] = {}
    for call in story.slack.calls:
        if not call.ok or call.method not in ("chat.postMessage", "chat.update"):
            continue
        ts = str(call.ts)
        edited = call.method == "chat.update"
        if not edited:
            thread_of[ts] = call.thread_ts
        if call.at < since:
            continue
        out.append(
            {
                "channel": call.channel,
                "team": team_for_channel(call.channel) or FINOPS.name,
                "text": call.text or "",
                "thread_of": thread_of.get(ts) if edited else call.thread_ts,
                "ts": ts,
                "edited": edited,
                "at": iso(call.at),
            }
        )
    for mail in story.observer.emails:
        if mail["at"] >= since:
            body = visible_text(str(mail.get("body") or ""))
            out.append(
                {
                    "channel": "email",
                    "team": email_team(str(mail.get("to") or "")),
                    "text": f"{mail['subject']}\n{body}".strip(),
                    "thread_of": None,
                    "edited": False,
                    "at": iso(mail["at"]),
                }
            )
    return sorted(out, key=lambda m: str(m["at"]))


def visible_text(html: str) -> str:
    """What a person reads of an HTML email body (tags dropped, entities decoded, one line per block)."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("p", "tr", "br", "h2", "pre"):
                self.parts.append("\n")

    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def email_team(addresses: str) -> str:
    """The team whose directory entry lists one of ``addresses`` (FinOps otherwise)."""
    import yaml

    from tokenfuse_sandbox.story.org import DIRECTORY_FILE

    document = yaml.safe_load(DIRECTORY_FILE.read_text())
    wanted = {a.strip().lower() for a in addresses.split(",") if a.strip()}
    for team in document.get("teams") or []:
        listed = {str(e).lower() for e in team.get("emails") or []}
        listed |= {str(a.get("email", "")).lower() for a in team.get("approvers") or []}
        if wanted & listed:
            return str(team["name"])
    return FINOPS.name


def _remediations(story: Story, incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from tokenfuse.adapters.approvals_table import ApprovalsTable

    table = ApprovalsTable(story.sb.resources["ApprovalsTable"])
    out = []
    for incident in incidents:
        try:
            trail = table.audit_trail(incident["incident_id"])
        except Exception as error:
            story.state.problems.append(f"audit trail of {incident['incident_id']} unreadable: {error}")
            continue
        if not trail:
            continue
        steps = [e.get("step") for e in trail]
        by_step = {e.get("step"): e for e in trail}
        decision = None
        for step in ("approval-decided", "policy"):
            details = (by_step.get(step) or {}).get("details") or {}
            decision = decision or details.get("decision") or (by_step.get(step) or {}).get("decision")
        trip = ((by_step.get("tripped") or {}).get("details") or {}).get("trip") or {}
        policy = ((by_step.get("policy") or {}).get("details") or {}).get("policy") or {}
        restored = by_step.get("restored") or {}
        out.append(
            {
                "incident_id": incident["incident_id"],
                "profile_arn": incident["profile_arn"],
                "action": trip.get("action") or policy.get("action") or "none",
                "decision": decision,
                "actor": (by_step.get("tripped") or by_step.get("approval-decided") or {}).get("actor"),
                "applied_at": trip.get("tripped_at") or (by_step.get("tripped") or {}).get("at"),
                "restored_at": restored.get("at") if restored else None,
                "steps": steps,
            }
        )
    return out


def _loop_window(story: Story) -> tuple[datetime | None, datetime | None]:
    """(first looping minute, end of the last minute the loop spent tokens), from what was sent."""
    looping = [
        b
        for b in story.traffic.batches
        if b.profile_key == story.culprit.key and b.looping and b.seconds <= 60
    ]
    started = min((b.start for b in looping), default=None)
    spending = [b for b in looping if b.output_tokens or b.input_tokens]
    stopped = max((b.start + timedelta(seconds=b.seconds) for b in spending), default=None)
    return started, stopped


def _summary(story: Story, messages: list[dict[str, Any]]) -> dict[str, Any]:
    meter, culprit = story.meter, story.culprit
    loop_started, loop_stopped = _loop_window(story)
    owner_channel = story.owner.channel
    top_level = [
        m for m in messages if m["channel"] == owner_channel and m["thread_of"] is None
        and not m["edited"] and loop_started and m["at"] >= iso(loop_started)
    ]  # fmt: skip
    alerted_at = top_level[0]["at"] if top_level else None
    contained = story.contained_at
    restored = story.observer.lifted_at.get(culprit.key)
    alarm = next(
        (
            e
            for e in story.observer.entries
            if e.kind == "alarm" and culprit.profile_id in e.text and "-> ALARM" in e.text
        ),
        None,
    )
    summary: dict[str, Any] = {
        "profile_arn": culprit.arn,
        "team": story.owner.name,
        "loop_started_at": iso(loop_started),
        "alarm_at": iso(alarm.at) if alarm else None,
        "alerted_at": alerted_at,
        "contained_at": iso(contained),
        "loop_stopped_at": iso(loop_stopped),
        "restored_at": iso(restored),
        "path": "invocation-log" if story.fast is not None else "token-rate-alarm",
        "latencies": _latencies(story),
        "minutes_to_contain": None,
        "seconds_to_alert": None,
        "seconds_to_contain": None,
        "oncall_reaction_seconds": None,
        "seconds_decision_to_contain": None,
        "spent_before_containment_usd": None,
        "spent_while_denied_usd": None,
        "counterfactual_usd": {"cad": None, "budgets": None},
        "counterfactual_basis": None,
        "times_less_than_cad": None,
        "what_happened": what_happened(story, contained, loop_stopped),
        "cad_alert_at": iso(story.state.signals_sent.get("cost-anomaly")),
        "budgets_alert_at": iso(story.state.signals_sent.get("budget")),
    }
    if loop_started is None:
        return summary
    end = contained or loop_stopped or loop_started
    if alerted_at:
        summary["seconds_to_alert"] = round((_at(alerted_at) - loop_started).total_seconds())
    # tokenfuse's own latency (to alert; from the decision to contained) apart from the person's
    approved = next((c for c in story.state.clicks if c["choice"] == "approve"), None)
    if approved is not None:
        summary["oncall_reaction_seconds"] = round((approved["at"] - approved["asked_at"]).total_seconds())
    auto = story.policy == "auto" and alerted_at is not None
    decided = approved["at"] if approved is not None else _at(alerted_at) if auto and alerted_at else None
    if contained:
        summary["minutes_to_contain"] = round((contained - loop_started).total_seconds() / 60, 1)
        summary["seconds_to_contain"] = round((contained - loop_started).total_seconds())
        if decided is not None:
            summary["seconds_decision_to_contain"] = round((contained - decided).total_seconds())
        lifted = restored or story.now
        summary["spent_while_denied_usd"] = round(_spent_while_denied(story, contained, lifted), 2)
    spent = meter.total(culprit, loop_started, end)
    summary["spent_before_containment_usd"] = round(spent, 2)
    # The loop's measured rate against the same hour yesterday, carried on until CAD / Budgets.
    minutes = max(1.0, (end - loop_started).total_seconds()) / 60
    day = timedelta(days=1)
    yesterday_hour = meter.total(culprit, loop_started - day, loop_started - day + timedelta(hours=1))
    ratio = spent / (yesterday_hour / 60 * minutes) if yesterday_hour else None
    if ratio is not None:
        cad = ratio * meter.total(culprit, loop_started - day, loop_started - day + timedelta(hours=24))
        budgets = ratio * meter.total(culprit, loop_started - day, loop_started - day + timedelta(hours=8))
        summary["counterfactual_usd"] = {"cad": round(cad, 2), "budgets": round(budgets, 2)}
        summary["counterfactual_basis"] = (
            f"projection: the loop's measured spend ran at {ratio:.1f}x the same hour yesterday; carried "
            "on over yesterday's measured hours until CAD (24 h after the start) or Budgets (8 h) would "
            "have caught it"
        )
        if spent > 0 and contained:  # only a loop tokenfuse contained is credited against CAD
            summary["times_less_than_cad"] = round(cad / spent, 1)
    return summary


def _spent_while_denied(story: Story, contained: datetime, lifted: datetime) -> float:
    """The culprit's dollars between the deny and its lifting: on the invocation-log path the
    runtime's answers slice by slice (CloudWatch's minutes would count the seconds before the
    refusal), else the ``AWS/Bedrock`` metrics."""
    if story.fast is None:
        return story.meter.total(story.culprit, contained, lifted)
    return sum(
        b.usd
        for b in story.traffic.batches
        if b.profile_key == story.culprit.key and contained <= b.start < lifted and b.seconds <= 60
    )


def _latencies(story: Story) -> dict[str, int] | None:
    """The emulation's assumed latencies on the invocation-log path (None on the alarm path)."""
    from tokenfuse_sandbox.story.fastpath import latencies

    return latencies() if story.fast is not None else None


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def what_happened(story: Story, contained: datetime | None, loop_stopped: datetime | None) -> str:
    """What stopped the loop, in words: tokenfuse's deny, or the decision taken and the team's fix."""
    if contained is not None:
        return f"contained by tokenfuse at {contained:%H:%M:%S} UTC (the loop's calls refused)"
    said = []
    for click in story.state.clicks:
        verb = {"decline": "declined", "snooze": "snoozed", "approve": "approved"}.get(click["choice"])
        if verb:
            said.append(f"{verb} by {_approver_name(click['user'])} at {click['at']:%H:%M:%S} UTC")
    if not story.state.clicks:
        said.append(
            "nobody decided in time" if story.policy == "approve" else f"policy {story.policy}: no block"
        )
    if loop_stopped is not None:
        said.append(f"fixed by the {story.owner.name} team at {loop_stopped:%H:%M:%S} UTC")
    return "; ".join(said)


def _approver_name(user_id: str) -> str:
    from tokenfuse_sandbox.story.org import TEAMS

    names = {t.approver: t.approver_name for t in (*TEAMS, FINOPS)}
    return f"{names[user_id]} ({user_id})" if user_id in names else user_id


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _series(story: Story, summary: dict[str, Any]) -> dict[str, Any]:

    meter, culprit = story.meter, story.culprit
    start = LOOP_START - MINUTES_BEFORE
    end = story.state.minute_phase_end or (LOOP_START + timedelta(hours=1))
    minute = [(iso(t), usd * 60) for t, usd in meter.series(culprit, start, end, 60)]
    h_start, h_end = LOOP_START - timedelta(hours=12), LOOP_START + timedelta(hours=25)
    hourly = [(iso(t), usd) for t, usd in meter.series(culprit, h_start, h_end, 3600)]
    marks = []
    summary_marks = {
        "loop": story.state.loop_start,
        "alert": _parse(summary.get("alerted_at")),
        "trip": story.observer.denied_at.get(culprit.key),
        "restore": story.observer.lifted_at.get(culprit.key),
        "fix": story.state.loop_start + story.scenario.fixed_after,
        "budgets": story.state.signals_sent.get("budget"),
        "cad": story.state.signals_sent.get("cost-anomaly"),
    }
    for kind, at in summary_marks.items():
        if at is not None:
            marks.append({"kind": kind, "at": iso(at)})
    marks += _decision_marks(story)
    return {
        "profile": culprit.key,
        "minute_usd_per_hour": minute,
        "hourly_usd": hourly,
        "marks": marks,
        "window": [iso(start), iso(end)],
        "day_window": [iso(h_start), iso(max(h_end, story.now + timedelta(hours=1)))],
        "counterfactual_usd_per_hour": _counterfactual_hours(story, summary),
    }


def _decision_marks(story: Story) -> list[dict[str, Any]]:
    """Each decision on the culprit's remediation, from the flow's own audit events: the on-call's
    (approve, decline, snooze) or the time-out's (``by`` None), else the policy's when it asked
    nobody (auto, notify, dry-run, protected)."""
    from tokenfuse.remediation.audit import SYSTEM_ACTOR

    steps = [
        e["detail"]
        for e in story.sb.bus_events
        if e.get("detail-type") == "Remediation Step"
        and (e.get("detail") or {}).get("profile_arn") == story.culprit.arn
    ]
    decided = [d for d in steps if d.get("step") == "approval-decided" and d.get("decision")]
    if not decided:
        decided = [
            d for d in steps if d.get("step") == "policy" and d.get("decision") not in (None, "approve")
        ]
    return [
        {
            "kind": "decision",
            "at": d["at"],
            "decision": d["decision"],
            "by": _approver_name(d["actor"]) if d.get("actor") and d["actor"] != SYSTEM_ACTOR else None,
        }
        for d in decided
    ]


def _counterfactual_hours(story: Story, summary: dict[str, Any]) -> list[tuple[str | None, float]]:
    """The counterfactual hour by hour ($/h) from the loop's start until CAD would have caught it:
    the same hours a day earlier as measured, scaled so they add up to the summary's CAD
    counterfactual (its first 8 hours then add up to the Budgets one: one ratio scales both)."""
    started = _parse(summary.get("loop_started_at"))
    cad = (summary.get("counterfactual_usd") or {}).get("cad")
    if started is None or not cad:
        return []
    from tokenfuse_sandbox.story.meter import floor_to

    day = timedelta(days=1)
    base = story.meter.series(story.culprit, floor_to(started - day, 3600), started - day + CAD_AFTER, 3600)
    measured = sum(usd for _, usd in base)
    return [(iso(t + day), usd * cad / measured) for t, usd in base] if measured > 0 else []


def _missing(story: Story, summary: dict[str, Any], incidents: list[dict[str, Any]]) -> list[str]:
    """What the story expected and did not see (shown, never papered over)."""
    out = []
    if story.fast is None and summary.get("alarm_at") is None:
        out.append("the token-rate alarm never fired")
    if not any(i["profile_arn"] == story.culprit.arn for i in incidents):
        out.append("no incident was opened for the runaway profile")
    if summary.get("alerted_at") is None:
        out.append(f"no alert reached the owning team's channel ({story.owner.channel})")
    trips_expected = story.policy == "auto" or (
        story.policy == "approve" and story.decision in ("approve", "snooze", "timeout")
    )
    if trips_expected and summary.get("contained_at") is None:
        out.append("the profile was never tripped (no deny came into force)")
    if trips_expected and summary.get("contained_at") and summary.get("restored_at") is None:
        out.append("the trip was never lifted after the cooldown")
    return out


def build_report(story: Story, wall_seconds: float) -> DemoReport:

    since = LOOP_START - MINUTES_BEFORE
    incidents = _incidents(story)
    messages = _messages(story, since)
    remediations = _remediations(story, incidents)
    summary = _summary(story, messages)
    problems = list(story.state.problems) + list(dict.fromkeys(story.observer.failures))
    problems += _missing(story, summary, incidents)
    return DemoReport(
        scenario=story.scenario.name,
        decision=story.decision,
        policy=story.policy,
        incidents=incidents,
        messages=messages,
        remediations=remediations,
        timeline=list(story.observer.entries),
        summary=summary,
        series=_series(story, summary),
        approvals=[
            {
                "at": iso(c["at"]),
                "user": c["user"],
                "choice": c["choice"],
                "http_status": c["status"],
                "answer": c["body"],
            }
            for c in story.state.clicks
        ],
        problems=problems,
        wall_seconds=round(wall_seconds, 1),
    )


# --------------------------------------------------------------------------------------------------
# The summary as text
# --------------------------------------------------------------------------------------------------
def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _when(value: str | None, never: str) -> str:
    return value or never


def render_summary(report: DemoReport) -> list[str]:
    """The summary as a person reads it: no ``None`` (an unknown reads as what it means), and the
    counterfactual credited ("x less than CAD") only when tokenfuse contained the loop."""
    from tokenfuse_sandbox.story.fastpath import path_line

    s = report.summary
    cf = s.get("counterfactual_usd") or {}
    contained = s.get("contained_at")
    lines = ["Summary", "-------"]
    lines.append(f"loop started        {_when(s.get('loop_started_at'), 'never')}  ({report.scenario})")
    lines.append(f"profile             {s.get('profile_arn')}")
    lines.append(f"path                {path_line(s.get('latencies'))}")
    lines.append(f"alarm               {_when(s.get('alarm_at'), 'never fired')}")
    after = f"+{s['seconds_to_alert']} s, " if s.get("seconds_to_alert") is not None else ""
    lines.append(f"alerted             {_when(s.get('alerted_at'), 'never')}  ({after}team {s.get('team')})")
    if s.get("oncall_reaction_seconds") is not None:
        lines.append(
            f"approved            {s['oncall_reaction_seconds']} s after the card (the on-call's reaction "
            "time: `--oncall-seconds`, not tokenfuse's)"
        )
    if contained:
        lines.append(
            f"contained           {contained}  (+{s.get('seconds_to_contain')} simulated "
            "seconds after the start: the loop's calls are refused)"
        )
        latency = latency_line(s)
        if latency:
            lines.append(f"tokenfuse's latency {latency}")
        lines.append(f"restored            {_when(s.get('restored_at'), 'not yet (still blocked)')}")
    else:
        lines.append(
            f"contained           not by tokenfuse (decision {report.decision}, policy {report.policy})"
        )
    lines.append(f"what happened       {s.get('what_happened') or 'the loop ran on'}")
    label = "spent before containment" if contained else "spent by the loop"
    lines.append(f"{label + ':':<35}{_usd(s.get('spent_before_containment_usd'))}")
    lines.append(f"{'had only Budgets caught it (8 h):':<35}{_usd(cf.get('budgets'))}   [counterfactual]")
    lines.append(f"{'had only CAD caught it (24 h):':<35}{_usd(cf.get('cad'))}   [counterfactual]")
    if contained and s.get("times_less_than_cad"):
        lines.append(f"{'':<35}{s['times_less_than_cad']}x less than CAD alone")
    if s.get("counterfactual_basis"):
        lines.append(f"  ({s['counterfactual_basis']})")
    lines.append("")
    for i in report.incidents:
        lines.append(
            f"incident {i['incident_id']}: team {i['team']}, {i['signal_count']} signal(s) "
            f"{'+'.join(i['sources'])}, kind {i['kind']}, {i['status']}"
        )
    by_channel: dict[str, list[int]] = {}
    for m in report.messages:
        counts = by_channel.setdefault(m["channel"], [0, 0, 0])
        counts[2 if m.get("edited") else 0 if m["thread_of"] is None else 1] += 1
    for channel, (posts, replies, edits) in by_channel.items():
        lines.append(
            f"messages in {channel_label(channel)}: {posts} post(s), {replies} thread repl(ies), "
            f"{edits} edit(s) in place"
        )
    for r in report.remediations:
        lines.append(remediation_line(r))
    for problem in report.problems:
        lines.append(f"PROBLEM: {problem}")
    lines.append(f"wall time {report.wall_seconds:.1f}s; chart {report.chart_path}")
    if report.json_path:
        lines.append(f"JSON report {report.json_path}")
    return lines


def latency_line(s: dict[str, Any]) -> str | None:
    """tokenfuse's own time, apart from the on-call's: to alert, and from the decision (the approve
    click, or the alert under ``auto``) to the loop's calls refused."""
    if s.get("seconds_to_alert") is None or s.get("seconds_decision_to_contain") is None:
        return None
    decision = "the click" if s.get("oncall_reaction_seconds") is not None else "the alert (auto)"
    return (
        f"{s['seconds_to_alert']} s to alert; {s['seconds_decision_to_contain']} s from {decision} "
        "to contained"
    )


def remediation_line(r: dict[str, Any]) -> str:
    """One remediation, every field said (nothing applied reads as such, never ``None``)."""
    by = f" (actor {r['actor']})" if r.get("actor") else ""
    head = f"remediation: {r['action']} by decision {r.get('decision') or 'none'}{by}"
    if not r.get("applied_at"):
        return f"{head}, nothing applied"
    restored = f"restored {r['restored_at']}" if r.get("restored_at") else "not restored yet"
    return f"{head}, applied {r['applied_at']}, {restored}"
