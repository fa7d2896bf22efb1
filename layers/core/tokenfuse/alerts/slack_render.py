"""Slack messages (Block Kit + a plain ``text`` that reads well alone). Pure: no I/O.

The CAD feedback buttons carry only the incident id and the choice in their ``value``; the
approve endpoint looks the anomaly ids up in the incident and calls ``ce:ProvideAnomalyFeedback``.
"""

import json
import re
from typing import Any

from tokenfuse.adapters.anomaly_feedback import CHOICES
from tokenfuse.adapters.slack import SlackMessage
from tokenfuse.alerts.view import SOURCE_LABELS, AlertView, rate_phrase, usd
from tokenfuse.events import Incident, ProfileNonCompliant, SpendSignal, SpikeAttributed

FEEDBACK_BLOCK_ID = "tokenfuse_anomaly_feedback"
FEEDBACK_ACTION_PREFIX = "anomaly_feedback_"
FEEDBACK_LABELS = {
    "accurate": "Accurate anomaly",
    "false-positive": "False positive",
    "planned": "Planned activity",
}
_STATUS_NOTES = {"closed": "Closed (quiet)", "planned": "Planned activity: kept quiet"}


def render_alert(view: AlertView) -> SlackMessage:
    """The incident's root message (posted once, then updated in place)."""
    i = view.incident
    status = _STATUS_NOTES.get(i.status)
    subject_label, _ = view.subject_field
    subject_value = (
        f"`{', '.join(i.culprit.model_ids)}`\nno inference profile"
        if i.is_direct_model
        else f"{view.profile}\n`{i.profile_id}`"
    )
    fields = [
        (subject_label, subject_value),
        ("Owner", f"{view.owner_label}\n_{view.route_reason}_"),
        ("Feature / environment", f"{i.feature or 'n/a'} / {i.environment or 'n/a'}"),
        ("Account / region", f"{i.account_id} / {i.region}"),
        ("Spend rate", rate_phrase(i)),
        ("Month-end at this rate", usd(i.month_end_usd)),
        ("Spike kind", view.kind_label),
        ("Severity", i.severity),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(f"{view.prefix}{view.profile}: spend spike", 150)},
        },
        {"type": "section", "text": _md(f"*{view.title}*" + (f"\n*{status}*" if status else ""))},
        {"type": "section", "fields": [_md(f"*{label}*\n{value}") for label, value in fields]},
        {"type": "section", "text": _md(f"*Tokens per request:* {view.tokens_line}")},
    ]
    if view.spark:
        blocks.append({"type": "section", "text": _md(f"*Spend ({view.spark_caption}):* `{view.spark}`")})
    if view.rate_basis:
        blocks.append({"type": "context", "elements": [_md(_clip(f"Rate: {view.rate_basis}", 3000))]})
    blocks += [
        {"type": "section", "text": _md(f"*Next:* {view.next_step}")},
        {"type": "context", "elements": [_md(f":bulb: *Lever:* {view.lever}")]},
    ]
    if view.links:
        blocks.append(
            {"type": "context", "elements": [_md(" · ".join(f"<{lk.url}|{lk.label}>" for lk in view.links))]}
        )
    if view.is_cost_anomaly and i.status != "planned" and not view.test:
        blocks.append(feedback_actions(i.incident_id))
    blocks.append(
        {
            "type": "context",
            "elements": [_md(f"Incident `{i.incident_id}` · {view.sources_line} · tokenfuse")],
        }
    )
    return SlackMessage(text=alert_text(view), blocks=blocks)


def alert_text(view: AlertView) -> str:
    """The root message as plain text (notifications, the demo, email's text part)."""
    i = view.incident
    lines = [view.title]
    if i.status in _STATUS_NOTES:
        lines.append(_STATUS_NOTES[i.status])
    lines += [
        f"Owner: {view.owner_label} ({view.route_reason}) · feature {i.feature or 'n/a'} · "
        f"env {i.environment or 'n/a'} · {view.place}",
        f"Month-end at this rate: {usd(i.month_end_usd)} · severity {i.severity}",
        f"Kind: {view.kind_label}: {view.tokens_line}",
    ]
    if view.spark:
        lines.append(f"Spend ({view.spark_caption}): {view.spark}")
    if view.rate_basis:
        lines.append(f"Rate: {view.rate_basis}")
    lines += [f"Next: {view.next_step}", f"Lever: {view.lever}"]
    lines += [f"{link.label}: {link.url}" for link in view.links]
    lines.append(f"Incident {i.incident_id} · {view.sources_line}")
    return "\n".join(lines)


def render_signal_reply(view: AlertView, previous: Incident | None = None) -> SlackMessage:
    """A thread reply for a signal that joined the incident (a CAD re-alert, Budgets confirming)."""
    if view.signal is None:
        raise ValueError("a signal reply needs the signal")
    text = signal_reply_text(view.signal, view.incident, previous, view.prefix)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _md(text)}]
    if view.signal.details_url:
        blocks.append({"type": "context", "elements": [_md(f"<{view.signal.details_url}|Details>")]})
    return SlackMessage(text=text, blocks=blocks)


def signal_reply_text(
    signal: SpendSignal, incident: Incident, previous: Incident | None, prefix: str = ""
) -> str:
    source = SOURCE_LABELS[signal.source]
    is_new_source = previous is not None and signal.source not in previous.sources
    verb = "confirms" if is_new_source else "reports again on"
    facts = []
    if signal.impact_usd is not None:
        facts.append(f"impact {usd(signal.impact_usd)}")
    if signal.impact_percent is not None:
        facts.append(f"+{signal.impact_percent:,.0f}%")
    if signal.actual_usd is not None and signal.source == "budget":
        facts.append(f"actual {usd(signal.actual_usd)} vs threshold {usd(signal.threshold_usd)}")
    if signal.metric_value is not None and signal.source == "token-rate-alarm":
        facts.append(f"{signal.metric_name or 'metric'} {signal.metric_value:,.0f}")
    window = f"{signal.window_start:%Y-%m-%d %H:%M}-{signal.window_end:%H:%M}Z"
    return (
        f"{prefix}{source} {verb} this spike ({window}{': ' + ', '.join(facts) if facts else ''}). "
        f"Now {rate_phrase(incident)}; {incident.signal_count} signals so far."
    )


def render_digest(owner_label: str, lines: list[str], limit: int) -> SlackMessage:
    """One thread reply listing the spikes beyond the team's top-level post budget."""
    head = f"More spend spikes for {owner_label} in these 10 minutes (over {limit} new posts: grouped here):"
    text = "\n".join([head, *(f"- {line}" for line in lines)])
    return SlackMessage(text=text, blocks=[{"type": "section", "text": _md(_clip(text, 3000))}])


def digest_line(view: AlertView) -> str:
    incident = view.incident
    return f"{view.profile}: {rate_phrase(incident)} ({view.kind_label}), incident {incident.incident_id}"


def render_unattributed(spike: SpikeAttributed, prefix: str = "") -> SlackMessage:
    """FinOps's note for a spike no inference profile explains (no incident: nothing to trip)."""
    signal = spike.signal
    unexplained = spike.unattributed_usd if spike.unattributed_usd is not None else spike.spike_usd
    window = f"{spike.window_start:%Y-%m-%d %H:%M}-{spike.window_end:%H:%M}Z"
    where = f"account {signal.account_id or 'n/a'}, {signal.region or 'all regions'}"
    lines = [
        f"{prefix}Bedrock spend spike with no inference profile behind it: {usd(unexplained)} unexplained "
        f"({window}, {where})",
        f"Signal: {SOURCE_LABELS[signal.source]}: {signal.summary}",
        "Likely direct model calls (no application inference profile): give the callers tagged "
        "profiles so tokenfuse can route and trip them.",
    ]
    if signal.details_url:
        lines.append(f"Details: {signal.details_url}")
    text = "\n".join(lines)
    return SlackMessage(text=text, blocks=[{"type": "section", "text": _md(text)}])


def render_non_compliant(event: ProfileNonCompliant, prefix: str = "") -> SlackMessage:
    """FinOps's note for a profile whose spend cannot be routed to a team (missing tags, unknown team)."""
    name = event.profile_name or event.profile_id
    problems = []
    if event.missing_tags:
        problems.append("missing tag(s) " + ", ".join(f"`{key}`" for key in event.missing_tags))
    if event.unknown_team:
        problems.append(f"team '{event.team_tag}' is not in the team directory")
    why = "; ".join(problems) or event.reason
    lines = [
        f"{prefix}Inference profile {name} cannot be attributed to a team: {why}",
        f"Profile: {event.profile_arn} (account {event.account_id}, {event.region})",
        f"Created by: {event.creator}" if event.creator else "Created by: unknown (no CloudTrail record)",
        "Its spend counts against the attributable share, and its alerts come to FinOps until it is tagged.",
    ]
    text = "\n".join(lines)
    return SlackMessage(text=text, blocks=[{"type": "section", "text": _md(text)}])


def feedback_actions(incident_id: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "action_id": feedback_action_id(choice),
                "text": {"type": "plain_text", "text": label},
                "value": feedback_value(incident_id, choice),
                **({"style": "danger"} if choice == "false-positive" else {}),
            }
            for choice, label in FEEDBACK_LABELS.items()
        ],
    }


def feedback_value(incident_id: str, choice: str) -> str:
    return json.dumps({"incident_id": incident_id, "choice": choice}, separators=(",", ":"))


FEEDBACK_VALUE_MAX_LENGTH = 1024
_INCIDENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def feedback_action_id(choice: str) -> str:
    return f"{FEEDBACK_ACTION_PREFIX}{choice}"


def parse_feedback_value(value: str) -> tuple[str, str]:
    """(incident id, choice) from a feedback button's value; ValueError when it is not one (not JSON,
    nested, over 1 KB, not an object, an incident id of another shape, an unknown choice)."""
    if len(value) > FEEDBACK_VALUE_MAX_LENGTH:
        raise ValueError("not a tokenfuse feedback value: too long")
    try:
        data = json.loads(value)
    except RecursionError as error:
        raise ValueError("not a tokenfuse feedback value: nested too deep") from error
    if not isinstance(data, dict):
        raise ValueError("not a tokenfuse feedback value: not a JSON object")
    incident_id, choice = data.get("incident_id"), data.get("choice")
    if not isinstance(incident_id, str) or not _INCIDENT_ID.fullmatch(incident_id):
        raise ValueError("not a tokenfuse feedback value: no incident id")
    if not isinstance(choice, str) or choice not in CHOICES:
        raise ValueError("not a tokenfuse feedback value: unknown choice")
    return incident_id, choice


def _md(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, 2000)}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
