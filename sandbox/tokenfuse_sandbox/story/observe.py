"""What the story sees happen: alarms, bus events, Slack calls, emails, executions, denies and
handler failures, read from the sandbox after each delivery round and written as a timeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tokenfuse_sandbox.story.org import FINOPS, TEAMS, Org, team_for_channel
from tokenfuse_sandbox.story.traffic import Traffic

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.emulation.alarms import AlarmEvaluator
    from tokenfuse_sandbox.emulation.slack_server import SlackServer


@dataclass
class Entry:
    at: datetime
    kind: str
    text: str
    where: str | None = None
    usd: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "kind": self.kind,
            "text": self.text,
            "where": self.where,
            "usd": None if self.usd is None else round(self.usd, 2),
        }


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def channel_label(channel: str | None) -> str:
    names = {t.channel: t.channel_name for t in (*TEAMS, FINOPS)}
    if channel is None:
        return "?"
    return f"#{names[channel]} ({channel})" if channel in names else channel


def _first_line(text: str | None, limit: int = 110) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class Observer:
    sb: Sandbox
    alarms: AlarmEvaluator
    slack: SlackServer
    org: Org
    traffic: Traffic
    emit: Callable[[Entry], None]
    entries: list[Entry] = field(default_factory=list)
    executions: dict[str, str] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    denied_at: dict[str, datetime] = field(default_factory=dict)
    lifted_at: dict[str, datetime] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    _alarms: int = 0
    _bus: int = 0
    _slack: int = 0
    _inv: int = 0
    _mail: int = 0

    def note(self, kind: str, text: str, *, at: datetime | None = None, where: str | None = None,
             usd: float | None = None) -> Entry:  # fmt: skip
        entry = Entry(at or self.sb.now(), kind, text, where, usd)
        self.entries.append(entry)
        self.emit(entry)
        return entry

    def skip_to_now(self) -> None:
        """Forget what happened so far (seeding): only the story's own events are shown."""
        self._alarms = len(self.alarms.changes)
        self._bus = len(self.sb.bus_events)
        self._slack = len(self.slack.calls)
        self._inv = len(self.sb.invocations)
        self._mail = len(self._sent_emails())
        self.executions = self.sb.executions()

    # -- one round ------------------------------------------------------------------------------
    def observe(self) -> None:
        self._observe_failures()
        self._observe_alarms()
        self._observe_bus()
        self._observe_slack()
        self._observe_emails()
        self._observe_executions()
        self._observe_denials()

    def _observe_alarms(self) -> None:
        changes = self.alarms.changes
        for change in changes[self._alarms :]:
            self.note(
                "alarm",
                f"CloudWatch alarm {change.alarm_name}: {change.old_state} -> {change.new_state}",
                at=change.at,
                where=f"{self.org.account_name(change.account_id)} {change.region}",
            )
        self._alarms = len(changes)

    def _observe_bus(self) -> None:
        events = self.sb.bus_events
        for event in events[self._bus :]:
            text = describe_bus_event(event, self.org)
            if text:
                self.note("bus", text, where="bus " + str(event.get("bus")))
        self._bus = len(events)

    def _observe_slack(self) -> None:
        calls = self.slack.calls
        for call in calls[self._slack :]:
            if not call.method.startswith("chat."):
                continue
            where = channel_label(call.channel)
            if not call.ok:
                self.note("slack", f"Slack {call.method} FAILED: {call.error}", at=call.at, where=where)
            elif call.method == "chat.postMessage":
                kind = "thread reply" if call.thread_ts else "post"
                owner = team_for_channel(call.channel) or "?"
                self.note(
                    "slack", f"Slack {kind} to {owner}: {_first_line(call.text)}", at=call.at, where=where
                )
            elif call.method == "chat.update":
                self.note(
                    "slack", f"Slack message updated: {_first_line(call.text)}", at=call.at, where=where
                )
        self._slack = len(calls)

    def _sent_emails(self) -> list[Any]:
        try:
            from moto.ses.models import ses_backends

            return list(ses_backends[self.sb.account_id]["us-east-1"].sent_messages)
        except Exception:
            return []

    def _observe_emails(self) -> None:
        sent = self._sent_emails()
        for message in sent[self._mail :]:
            subject = getattr(message, "subject", None) or ""
            destinations = getattr(message, "destinations", None) or {}
            to = ", ".join(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else ""
            body = str(getattr(message, "body", None) or "")
            self.emails.append({"subject": subject, "to": to, "body": body, "at": self.sb.now()})
            self.note("email", f"email to {to or '?'}: {subject}", where="email")
        self._mail = len(sent)

    def _observe_executions(self) -> None:
        current = self.sb.executions()
        for arn, status in current.items():
            before = self.executions.get(arn)
            if before == status:
                continue
            name = arn.rsplit(":", 1)[-1]
            if before is None:
                self.note("remediation", f"remediation execution {name} started", where="Step Functions")
            if status != "RUNNING":
                path = " > ".join(self.sb.execution_path(arn))
                self.note("remediation", f"remediation execution {status}: {path}", where="Step Functions")
        self.executions = current

    def _observe_denials(self) -> None:
        before = dict(self.traffic.denials)
        after = self.traffic.refresh_denials()
        for key, reason in after.items():
            if key not in before:
                self.denied_at.setdefault(key, self.sb.now())
                arn = self.org.profiles[key].arn
                self.note("deny", f"deny in force for {key} ({arn}): {reason}", where="AWS Organizations")
        for key in before:
            if key not in after:
                self.lifted_at.setdefault(key, self.sb.now())
                self.note(
                    "deny", f"deny lifted for {key}: its calls go through again", where="AWS Organizations"
                )

    def _observe_failures(self) -> None:
        invocations = self.sb.invocations
        for inv in invocations[self._inv :]:
            if inv.ok:
                continue
            err = inv.error or {}
            text = (
                f"{inv.function} failed: {err.get('errorType')}: {_first_line(err.get('errorMessage'), 200)}"
            )
            self.failures.append(text)
            self.note("error", text, where=str(getattr(inv, "trigger", "")))
        self._inv = len(invocations)


def describe_bus_event(event: dict[str, Any], org: Org) -> str | None:  # noqa: PLR0911
    """One line for an event on tokenfuse's bus (None for the ones the story does not show)."""
    kind = event.get("detail-type")
    detail = event.get("detail") or {}
    if kind == "AWS API Call via CloudTrail":
        return None
    if kind == "CloudWatch Alarm State Change":
        return None  # shown from the alarm evaluator
    if kind == "Spend Signal":
        window = f"{detail.get('window_start')} .. {detail.get('window_end')}"
        return (
            f"spend signal from {detail.get('source')} ({window}) dedup {str(detail.get('dedup_key'))[:16]}"
        )
    if kind == "Spike Attributed":
        culprits = detail.get("culprits") or []
        if not culprits:
            return f"spike attributed: no culprit profile (unattributed ${detail.get('unattributed_usd')})"
        parts = []
        for c in culprits[:3]:
            profile = org.profile_by_arn(c.get("profile_arn") or "")
            name = profile.key if profile else c.get("profile_id") or f"direct calls to {c.get('model_ids')}"
            per_hour = c.get("cost_per_hour_usd")
            base = c.get("baseline_cost_per_hour_usd")
            rate = (
                f"${per_hour:,.2f}/h vs ${base:,.2f}/h baseline"
                if per_hour is not None and base is not None
                else ""
            )
            parts.append(f"{name} [{c.get('kind')}] {rate} team={c.get('team') or 'none'}")
        return f"spike attributed ({detail.get('severity')}): " + "; ".join(parts)
    if kind == "Remediation Step":
        extra = f", decision {detail.get('decision')}" if detail.get("decision") else ""
        actor = f" by {detail.get('actor')}" if detail.get("actor") else ""
        return f"remediation step {detail.get('step')} ({detail.get('action')}{extra}){actor}"
    if kind == "Profile Non-Compliant":
        return f"inventory: profile {detail.get('profile_name')} is not attributable: {detail.get('reason')}"
    if kind in ("Incident Opened", "Incident Updated"):
        return f"{kind.lower()}: {detail.get('incident_id')} (team {detail.get('team') or 'finops'})"
    short = json.dumps({k: v for k, v in detail.items() if isinstance(v, (str, int, float, bool))})[:160]
    return f"{event.get('source')} / {kind}: {short}"
