"""Every word a person reads from the alerts stage, in one place: functions that take values and
return text (pure: no I/O, no clock). The renderers (``slack_render``, ``email_render`` and its
templates) only lay these words out; the delivery ladder asks here how to say what happened.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tokenfuse.alerts.view import FINOPS_LABEL, AlertView, LinkKind
from tokenfuse.events import (
    Action,
    CardStage,
    Culprit,
    Incident,
    IncidentStatus,
    ProfileNonCompliant,
    SignalSource,
    SpendSignal,
    SpikeAttributed,
    SpikeKind,
    StatusCard,
)
from tokenfuse.teams import PlannedWindow, Policy

TEST_PREFIX = "[TEST] "
NOT_AVAILABLE = "n/a"
SOURCE_LABELS: dict[SignalSource, str] = {
    "token-rate-alarm": "token-rate alarm",
    "cost-anomaly": "Cost Anomaly Detection",
    "budget": "AWS Budgets",
    "invocation-log": "invocation logs",
}
KIND_LABELS: dict[SpikeKind, str] = {
    "request-storm": "request storm",
    "output-runaway": "output runaway",
    "context-bloat": "context bloat",
    "rate-shift": "model/rate shift",
    "unknown": "unclassified",
}
LEVER_HINTS: dict[SpikeKind, str] = {
    "output-runaway": "cap max output tokens, and ask for concise answers.",
    "context-bloat": "use prompt caching, or retrieval instead of stuffing the whole context.",
    "request-storm": "look for a retry loop, and rate-limit the caller.",
    "rate-shift": "route simple requests to a smaller model.",
    "unknown": "compare requests and tokens per request with the baseline to find what changed.",
}
DIRECT_MODEL_NEXT = (
    "Direct model calls have no inference profile to block: FinOps is told, and blocking a caller "
    "needs a person (tokenfuse blocks nothing)."
)
DIRECT_MODEL_LEVER = (
    "give the callers an application inference profile tagged with their team, so tokenfuse can "
    "route the alert to them and block the profile."
)
STATUS_NOTES: dict[IncidentStatus, str] = {
    "closed": "Closed (quiet)",
    "planned": "Planned activity: kept quiet",
}
LINK_LABELS: dict[LinkKind, str] = {
    "anomaly-details": "Cost Anomaly Detection details",
    "token-metrics": "Token metrics (CloudWatch)",
    "inference-profiles": "Inference profiles (Bedrock)",
}
FEEDBACK_LABELS = {
    "accurate": "Accurate anomaly",
    "false-positive": "False positive",
    "planned": "Planned activity",
}

# The labels of an alert's facts (Slack fields, email rows, plain-text lines).
PROFILE = "Profile"
MODEL_CALLED_DIRECTLY = "Model called directly"
NO_INFERENCE_PROFILE = "no inference profile"
OWNER = "Owner"
FEATURE_ENVIRONMENT = "Feature / environment"
ACCOUNT_REGION = "Account / region"
SPEND_RATE = "Spend rate"
MONTH_END = "Month-end at this rate"
SPIKE_KIND = "Spike kind"
SEVERITY = "Severity"
TOKENS_PER_REQUEST = "Tokens per request"
NEXT = "Next"
LEVER = "Lever"
PRODUCT = "tokenfuse"


# -- figures ---------------------------------------------------------------------------------------


def usd(value: float | None) -> str:
    """``$142.30`` under a thousand dollars, ``$48,120`` from there; ``n/a`` when unknown."""
    if value is None:
        return NOT_AVAILABLE
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def count(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.0f}"


def rate_phrase(incident: Incident) -> str:
    """``$142.30/h, 11.8x its $12.05/h baseline``; an unpriced model's token rate, never $0."""
    now, base = incident.cost_per_hour_usd, incident.baseline_cost_per_hour_usd
    if now is None:
        return token_rate_phrase(incident.culprit)
    if not base:
        return f"{usd(now)}/h (no baseline spend)"
    return f"{usd(now)}/h, {now / base:.1f}x its {usd(base)}/h baseline"


def token_rate_phrase(culprit: Culprit) -> str:
    """``unpriced (model not in the price table): 1,200,000 tokens/h, 12.0x its 100,000 tokens/h
    baseline``."""
    head = "unpriced (model not in the price table)"
    tokens, base = culprit.tokens_per_hour, culprit.baseline_tokens_per_hour
    if tokens is None:
        return head
    if not base:
        return f"{head}: {tokens:,.0f} tokens/h (no baseline traffic)"
    return f"{head}: {tokens:,.0f} tokens/h, {tokens / base:.1f}x its {base:,.0f} tokens/h baseline"


def hourly_rate(incident: Incident) -> str:
    """``$142.30/h``, or ``unpriced`` (an email subject has room for no more)."""
    return f"{usd(incident.cost_per_hour_usd)}/h" if incident.cost_per_hour_usd is not None else "unpriced"


# -- the alert's facts -----------------------------------------------------------------------------


def prefix(test: bool) -> str:
    return TEST_PREFIX if test else ""


def title(view: AlertView) -> str:
    """The spike's headline: its rate when detected; once anything has moved, the peak it reached."""
    moved = view.incident.card is not None and view.incident.card.stage != "detected"
    at = "peaked at" if moved else "at"
    return f"{prefix(view.test)}Bedrock spend spike: {view.profile} {at} {rate_phrase(view.incident)}"


def header(view: AlertView) -> str:
    return f"{prefix(view.test)}{view.profile}: spend spike"


def subject_field(view: AlertView) -> tuple[str, str]:
    """(label, value) of what the spike is on: the profile, or the model called directly."""
    i = view.incident
    if i.is_direct_model:
        return MODEL_CALLED_DIRECTLY, f"{', '.join(i.culprit.model_ids)} ({NO_INFERENCE_PROFILE})"
    return PROFILE, f"{view.profile} ({i.profile_id})"


def feature_environment(incident: Incident) -> str:
    return f"{incident.feature or NOT_AVAILABLE} / {incident.environment or NOT_AVAILABLE}"


def account_region(incident: Incident) -> str:
    return f"{incident.account_id} / {incident.region}"


def place(incident: Incident) -> str:
    return f"account {incident.account_id} · {incident.region}"


def kind_label(kind: SpikeKind) -> str:
    return KIND_LABELS[kind]


def tokens_line(culprit: Culprit) -> str:
    now, base = culprit.tokens_per_request, culprit.baseline_tokens_per_request
    return (
        f"tokens/request in {count(now.input)} (baseline {count(base.input)}), "
        f"out {count(now.output)} (baseline {count(base.output)}); "
        f"{culprit.invocations:,} requests in the window (baseline {culprit.baseline_invocations:,.0f})"
    )


def spark_caption(culprit: Culprit) -> str:
    hours = len(culprit.hourly_cost_usd[-24:])
    if not hours:
        return "$/h, baseline then now"
    if culprit.last_hour_minutes:
        return (
            f"$/h, last {hours} h; the last bar is the running hour's first {culprit.last_hour_minutes} min"
        )
    return f"$/h, last {hours} h"


def spend_label(culprit: Culprit) -> str:
    return f"Spend ({spark_caption(culprit)})"


RATE = "Rate"
"""Which rate the dollars use and what was assumed (the metrics carry no tier, TTL or batch)."""


def rate_line(culprit: Culprit) -> str | None:
    return f"{RATE}: {culprit.rate_basis}" if culprit.rate_basis else None


CALLERS = "Callers"
"""Who made the calls, where model invocation logs name them (IAM roles and their share)."""
SHOWN_CALLERS = 3


def callers_line(culprit: Culprit) -> str | None:
    """The caller roles behind the spend (largest share first), where invocation logs name them."""
    if not culprit.callers:
        return None
    shown = ", ".join(f"{c.role_arn} ({c.share:.0%})" for c in culprit.callers[:SHOWN_CALLERS])
    more = len(culprit.callers) - SHOWN_CALLERS
    return f"{CALLERS}: {shown}" + (f" and {more} more" if more > 0 else "")


def sources_line(incident: Incident) -> str:
    sources = ", ".join(SOURCE_LABELS[s] for s in incident.sources)
    n = incident.signal_count
    return f"{n} signal{'s' if n != 1 else ''} ({sources})"


def status_note(incident: Incident) -> str | None:
    """Planned activity, or a quiet close; a remediation's close is the status card's to say."""
    if incident.status == "closed" and incident.card is not None:
        return None
    return STATUS_NOTES.get(incident.status)


def link_label(kind: LinkKind) -> str:
    return LINK_LABELS[kind]


def incident_footer(incident: Incident) -> str:
    return f"Incident {incident.incident_id} · {sources_line(incident)}"


# -- what happens next ----------------------------------------------------------------------------


def lever(incident: Incident) -> str:
    return DIRECT_MODEL_LEVER if incident.is_direct_model else LEVER_HINTS[incident.kind]


def duration(seconds: int) -> str:
    """``15 min``, ``2 h``; under two minutes and not whole minutes: ``45 s``."""
    if seconds < 120 and seconds % 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h" if minutes >= 120 and minutes % 60 == 0 else f"{minutes} min"


def block_words(action: Action, cooldown_seconds: int, what: str | None = None) -> str:
    """What people read for an action (the wire values stay ``throttle`` / ``detach``):
    ``block for 15 min``, ``block until restored``, with what is blocked when said (``block
    role/worker on support-bot for 15 min``); ``no action`` for ``none``, whatever the scope."""
    target = f" {what}" if what else ""
    if action == "throttle":
        return f"block{target} for {duration(cooldown_seconds)}"
    if action == "detach":
        return f"block{target} until restored"
    return "no action"


def blocked_words(action: Action, cooldown_seconds: int, what: str | None = None) -> str:
    """The same in the past: ``blocked for 15 min``, ``blocked until restored``."""
    return block_words(action, cooldown_seconds, what).replace("block ", "blocked ", 1)


def action_phrase(policy: Policy) -> str:
    """The policy's action as people read it, with what it means."""
    words = block_words(policy.action, policy.cooldown_minutes * 60)
    if policy.action == "detach":
        return f"{words} (calls denied until a person restores it)"
    return f"{words} (calls denied, then restored automatically)"


def on_timeout_words(policy: Policy) -> str:
    """What happens when nobody decides in time."""
    if policy.on_timeout == "trip":
        return "tokenfuse blocks it anyway and tells FinOps"
    return "FinOps is told and nothing is blocked"


def next_step(policy: Policy, incident: Incident, owner: str, planned: PlannedWindow | None = None) -> str:
    """What tokenfuse does next under the owner's policy, in one sentence."""
    env = incident.environment or "default"
    if incident.status == "planned" or planned is not None:
        note = planned.note if planned else incident.planned_note
        return f"Planned activity{f' ({note})' if note else ''}: tokenfuse stays quiet and takes no action."
    if incident.protected:
        return "The profile is tagged protected: tokenfuse will not block it."
    if policy.mode != "notify" and not policy.meets_thresholds(
        incident.cost_per_hour_usd, incident.baseline_cost_per_hour_usd, incident.severity
    ):
        return (
            f"Below {owner}'s {env} threshold (${policy.min_spike_usd_per_hour:,.2f}/h over baseline, "
            f"severity {policy.min_severity}+): notify only."
        )
    if policy.mode == "notify":
        return f"Notify only ({env} policy): tokenfuse will not block this profile."
    if policy.mode == "auto":
        return (
            f"tokenfuse will {action_phrase(policy)} now, then check after {policy.verify_delay_minutes} min "
            "that the spend stopped."
        )
    on_timeout = on_timeout_words(policy)
    return (
        f"tokenfuse asks {owner}'s on-call to approve: {action_phrase(policy)}; "
        f"no answer in {policy.approval_timeout_minutes} min: {on_timeout}."
    )


def view_next_step(view: AlertView) -> str:
    """The next step for the alert; spend no profile explains is never tripped (unless planned)."""
    i = view.incident
    if i.is_direct_model and i.status != "planned" and view.planned is None:
        return DIRECT_MODEL_NEXT
    return next_step(view.policy, i, view.owner_label, view.planned)


# -- the status card -------------------------------------------------------------------------------

STATUS = "Status"
RATE_NOW = "Rate now"
CARD_MARKS: dict[CardStage, str] = {
    "detected": ":rotating_light:",
    "awaiting-approval": ":hourglass_flowing_sand:",
    "approved": ":heavy_check_mark:",
    "declined": ":no_bell:",
    "snoozed": ":zzz:",
    "timed-out": ":alarm_clock:",
    "blocked": ":no_entry:",
    "verified": ":no_entry:",
    "still-running": ":warning:",
    "escalated": ":sos:",
    "restored": ":arrows_counterclockwise:",
    "closed": ":white_check_mark:",
}


def at_time(when: datetime, since: datetime | None = None) -> str:
    """``14:20 UTC``; with the date when it is another day than ``since``."""
    if since is not None and when.date() != since.date():
        return f"{when:%Y-%m-%d %H:%M} UTC"
    return f"{when:%H:%M} UTC"


def who(actor: str) -> str:
    """A person as Slack shows them: an email address as is, a Slack user id as a mention."""
    return actor if "@" in actor or actor == PRODUCT else f"<@{actor}>"


def people(actors: Sequence[str], nobody: str = "FinOps on-call") -> str:
    return ", ".join(who(a) for a in actors) or nobody


def card_of(incident: Incident) -> StatusCard:
    """The incident's status card (as first posted when no step has moved it yet)."""
    if incident.card is not None:
        return incident.card
    return StatusCard(
        since=incident.opened_at,
        rate_usd_per_hour=incident.cost_per_hour_usd,
        # the window's end is attribution's grid (whole minutes): never later than when it was read
        rate_at=min(incident.window_end, incident.opened_at),
    )


def card_blocking(card: StatusCard) -> str:
    return block_words(card.action, card.cooldown_seconds or 60)


def card_status(card: StatusCard) -> str:  # noqa: PLR0911 - one sentence per stage
    """Where the incident stands, in one sentence (after the stage's mark)."""
    t = card.since
    by, until = people(card.who), at_time(card.until, t) if card.until else None
    match card.stage:
        case "detected":
            return f"Detected at {at_time(t)}."
        case "awaiting-approval":
            return f"Awaiting approval from {by} until {until or 'a decision'}."
        case "approved":
            return f"Approved by {by} at {at_time(t)}: {card_blocking(card)}, starting now."
        case "declined":
            return f"Declined by {by} at {at_time(t)}: not blocked."
        case "snoozed":
            return f"Snoozed by {by} at {at_time(t)}" + (f" until {until}." if until else ".")
        case "timed-out":
            return f"No decision by {at_time(t)}: {card.outcome or 'the policy default applies'}."
        case "blocked" | "verified":
            head = "Blocked" if card.stage == "blocked" else "Blocked, spend stopped (verified)"
            what = "; ".join(card.blocked) or card_blocking(card)
            ends = f" until {until}" if until else " until a person restores it"
            return f"{head} since {at_time(t)} ({card_blocking(card)}){ends}: {what}."
        case "still-running":
            still = card.outcome or "the spend did not stop"
            return f"Still running at {at_time(t)} after the block: {still}."
        case "escalated":
            return f"Needs a person since {at_time(t)}: {card.outcome or 'a step failed'}."
        case "restored":
            return f"Restored at {at_time(t)}: calls go through again."
        case "closed":
            return f"Closed at {at_time(t)}: {card.outcome or 'remediation finished'}."


def card_status_line(card: StatusCard) -> str:
    return f"{CARD_MARKS[card.stage]} {card_status(card)}"


def rate_now(card: StatusCard, incident: Incident) -> str:
    """``$0.00/h (measured 14:07 UTC)``; an unpriced model's token rate, never $0."""
    if card.rate_usd_per_hour is None:
        return token_rate_phrase(incident.culprit)
    measured = f" (measured {at_time(card.rate_at, card.since)})" if card.rate_at else ""
    return f"{usd(card.rate_usd_per_hour)}/h{measured}"


def card_next(view: AlertView, card: StatusCard) -> str:  # noqa: PLR0911 - one sentence per stage
    """What happens next, true for the card's stage (the policy's plan while nothing has moved)."""
    later = "later signals are reported in this thread"
    until = at_time(card.until, card.since) if card.until else None
    policy = view.policy
    match card.stage:
        case "detected":
            return view_next_step(view)
        case "awaiting-approval":
            return (
                f"{people(card.who)} choose: {card_blocking(card)}, decline or snooze; "
                f"no decision by {until or 'the deadline'}: {on_timeout_words(policy)}."
            )
        case "approved":
            return f"tokenfuse applies the block ({card_blocking(card)}) now."
        case "declined":
            return f"Nothing from tokenfuse: {view.owner_label} handles the spend; {later}."
        case "snoozed":
            again = until or "the end of the snooze"
            return f"tokenfuse looks again at {again} and asks again if the spike goes on."
        case "timed-out":
            return f"Nothing more from tokenfuse unless it blocks; {later}."
        case "blocked":
            check = f"tokenfuse checks after {policy.verify_delay_minutes} min that the spend stopped"
            return f"{check}; {_lifts(card, until)}"
        case "verified":
            return _lifts(card, until)
        case "still-running":
            return "FinOps is told; a person must stop the caller."
        case "escalated":
            return "A person must act: the thread says what failed and what is in force."
        case "restored":
            return f"The remediation closes; {later}."
        case "closed":
            return f"Nothing: the remediation is over; {later}."


def _lifts(card: StatusCard, until: str | None) -> str:
    if card.action == "throttle" and until:
        return f"the block lifts at {until} (automatic restore)."
    return "the block stays until a person restores it (Restore button, or `tokenfuse restore`)."


def decision_in_place(card: StatusCard) -> str:
    """What an approval request says once decided (its buttons gone)."""
    return f"{CARD_MARKS[card.stage]} *Decided.* {card_status(card)}"


def card_subject(view: AlertView, card: StatusCard) -> str:
    """An email-only team's message for one state change: ``[tokenfuse] support-agent: Blocked ...``."""
    headline = card_status(card).split(": ", 1)[0].removesuffix(".")
    return one_line(f"{prefix(view.test)}[tokenfuse] {view.profile}: {headline}")


def card_text(view: AlertView, card: StatusCard) -> str:
    """The short message of one state change (email-only teams get one per change)."""
    i = view.incident
    return "\n".join(
        [
            f"{STATUS}: {card_status(card)}",
            f"{RATE_NOW}: {rate_now(card, i)}; peak {rate_phrase(i)}",
            f"{NEXT}: {card_next(view, card)}",
            incident_footer(i),
        ]
    )


# -- whole messages --------------------------------------------------------------------------------


def alert_text(view: AlertView) -> str:
    """The incident's root message as plain text (Slack's fallback text, the demo, email's text)."""
    i = view.incident
    card = card_of(i)
    lines = [title(view)]
    note = status_note(i)
    if note:
        lines.append(note)
    lines += [
        f"{STATUS}: {card_status(card)}",
        f"{RATE_NOW}: {rate_now(card, i)}",
        f"{OWNER}: {view.owner_label} ({view.route_reason}) · feature {i.feature or NOT_AVAILABLE} · "
        f"env {i.environment or NOT_AVAILABLE} · {place(i)}",
        f"{MONTH_END}: {usd(i.month_end_usd)} · severity {i.severity}",
        f"Kind: {kind_label(i.kind)}: {tokens_line(i.culprit)}",
    ]
    if view.spark:
        lines.append(f"{spend_label(i.culprit)}: {view.spark}")
    if rate := rate_line(i.culprit):
        lines.append(rate)
    if callers := callers_line(i.culprit):
        lines.append(callers)
    lines += [f"{NEXT}: {card_next(view, card)}", f"{LEVER}: {lever(i)}"]
    lines += [f"{link_label(link.kind)}: {link.url}" for link in view.links]
    lines.append(incident_footer(i))
    return "\n".join(lines)


CONFIRMS_SHARE = 0.8
"""A later signal "confirms" the incident only when the incident's profile explains at least this
part of the signal's own delta."""


def signal_delta(signal: SpendSignal, spike_usd: float) -> float:
    """What the signal itself says grew: CAD's impact, a budget's overage, else the spike tokenfuse
    attributed over the signal's window."""
    if signal.impact_usd is not None:
        return signal.impact_usd
    if signal.source == "budget" and signal.actual_usd is not None and signal.threshold_usd is not None:
        return max(0.0, signal.actual_usd - signal.threshold_usd)
    return spike_usd


def signal_window(signal: SpendSignal) -> str:
    """``2026-11-25 00:00Z to 2026-11-26 00:00Z``; ``2026-11-25 14:00-14:03Z`` within a day."""
    start, end = signal.window_start, signal.window_end
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}Z"
    return f"{start:%Y-%m-%d %H:%M}Z to {end:%Y-%m-%d %H:%M}Z"


WINDOW_NAMES: dict[SignalSource, str] = {
    "cost-anomaly": "the anomaly window",
    "budget": "the budget period",
    "token-rate-alarm": "the alarm's window",
    "invocation-log": "the meter's window",
}
PROMPT = timedelta(hours=1)
"""A signal whose window ends at most this long before it arrives holds the hour it arrives in."""


@dataclass(frozen=True)
class MeasuredRate:
    """A culprit's $/h and the end of the hour it was measured over."""

    usd_per_hour: float
    at: datetime


def rate_at_arrival(culprit: Culprit, signal: SpendSignal) -> MeasuredRate | None:
    """The culprit's $/h as the signal arrived: the hour attribution read at arrival, else the
    window's last hour when the window ends within :data:`PROMPT` of arrival. None when neither
    was measured (a late signal whose arrival hour could not be read) or the model is unpriced."""
    arrival = culprit.rate_at_arrival
    if arrival is not None:
        if arrival.cost_per_hour_usd is None:
            return None
        return MeasuredRate(arrival.cost_per_hour_usd, arrival.hour_end)
    if culprit.hourly_cost_usd and prompt(signal):
        # the window's last hour, which ends as the signal arrives (or was running then)
        return MeasuredRate(culprit.hourly_cost_usd[-1], min(signal.window_end, signal.received_at))
    return None


def prompt(signal: SpendSignal) -> bool:
    """Whether the signal's window ends at most :data:`PROMPT` before it arrived."""
    return signal.received_at - signal.window_end <= PROMPT


def arrival_rate_line(culprit: Culprit, signal: SpendSignal) -> str:
    """``Rate at arrival: $17.25/h in the hour to 18:00 UTC``, only when that hour was measured;
    otherwise what the figure is: ``Rate over the anomaly window: $46.10/h`` (its peak hours when
    a long window had them)."""
    arrival = culprit.rate_at_arrival
    if (measured := rate_at_arrival(culprit, signal)) is not None:
        return f"Rate at arrival: {usd(measured.usd_per_hour)}/h in the hour to {at_time(measured.at)}"
    if arrival is not None:  # read at arrival, but the model has no price
        return (
            f"Rate at arrival: unpriced (model not in the price table): {arrival.tokens_per_hour:,.0f} "
            f"tokens/h in the hour to {at_time(arrival.hour_end)}"
        )
    if prompt(signal) and culprit.cost_per_hour_usd is None:
        return f"Rate at arrival: {token_rate_phrase(culprit)}"
    window = WINDOW_NAMES[signal.source]
    if culprit.peak is not None:
        window = f"{window}'s peak ({culprit.peak.start:%H:%M}-{culprit.peak.end:%H:%M}Z)"
    if culprit.cost_per_hour_usd is None:
        return f"Rate over {window}: {token_rate_phrase(culprit)}"
    return f"Rate over {window}: {usd(culprit.cost_per_hour_usd)}/h"


def signal_reply(
    signal: SpendSignal,
    incident: Incident,
    culprit: Culprit,
    spike_usd: float,
    test: bool = False,
) -> str:
    """A later signal about the incident: what it reports, how much of it this incident explains,
    and the profile's rate as it arrives (``culprit``: the incident's profile over the signal's
    window; ``spike_usd``: the spike attributed over that window)."""
    source = SOURCE_LABELS[signal.source]
    facts = []
    if signal.impact_usd is not None:
        facts.append(f"impact {usd(signal.impact_usd)}")
    if signal.impact_percent is not None:
        facts.append(f"+{signal.impact_percent:,.0f}%")
    if signal.actual_usd is not None and signal.source == "budget":
        facts.append(f"actual {usd(signal.actual_usd)} vs threshold {usd(signal.threshold_usd)}")
    if signal.metric_value is not None and signal.source == "token-rate-alarm":
        facts.append(f"{signal.metric_name or 'metric'} {signal.metric_value:,.0f}")
    about = f"({signal_window(signal)}{': ' + ', '.join(facts) if facts else ''})"
    delta, explained = signal_delta(signal, spike_usd), culprit.delta_usd
    if explained is not None and delta > 0 and explained >= CONFIRMS_SHARE * delta:
        share = f"this incident explains {usd(explained)} of {usd(delta)}"
        said = f"{source} confirms this spike {about}: {share}."
    elif explained is None:
        said = f"{source} reports {usd(delta)} {about}; this incident's share is unpriced."
    else:
        said = f"{source} reports {usd(delta)} {about}; this incident explains {usd(max(0.0, explained))}."
    return (
        f"{prefix(test)}{said} {arrival_rate_line(culprit, signal)}; "
        f"{incident.signal_count} signal{'s' if incident.signal_count != 1 else ''} so far."
    )


def view_signal_reply(view: AlertView) -> str:
    """:func:`signal_reply` for the view's signal (a view without one is a programming error)."""
    if view.signal is None or view.reported is None or view.spike_usd is None:
        raise ValueError("a signal reply needs the signal, its culprit figures and its spike")
    return signal_reply(view.signal, view.incident, view.reported, view.spike_usd, view.test)


def digest(owner: str, lines: Sequence[str], limit: int) -> str:
    """One thread reply listing the spikes beyond the team's top-level post budget."""
    head = f"More spend spikes for {owner} in these 10 minutes (over {limit} new posts: grouped here):"
    return "\n".join([head, *(f"- {line}" for line in lines)])


def digest_line(view: AlertView) -> str:
    i = view.incident
    return f"{view.profile}: {rate_phrase(i)} ({kind_label(i.kind)}), incident {i.incident_id}"


def unattributed(spike: SpikeAttributed, test: bool = False) -> str:
    """FinOps's note for a spike no inference profile explains (no incident: nothing to trip)."""
    signal = spike.signal
    unexplained = spike.unattributed_usd if spike.unattributed_usd is not None else spike.spike_usd
    window = f"{spike.window_start:%Y-%m-%d %H:%M}-{spike.window_end:%H:%M}Z"
    where = f"account {signal.account_id or NOT_AVAILABLE}, {signal.region or 'all regions'}"
    lines = [
        f"{prefix(test)}Bedrock spend spike with no inference profile behind it: {usd(unexplained)} "
        f"unexplained ({window}, {where})",
        f"Signal: {SOURCE_LABELS[signal.source]}: {signal.summary}",
        "Likely direct model calls (no application inference profile): give the callers tagged "
        "profiles so tokenfuse can route and block them.",
    ]
    if signal.details_url:
        lines.append(f"Details: {signal.details_url}")
    return "\n".join(lines)


def unattributed_subject(spike: SpikeAttributed) -> str:
    return f"[tokenfuse] Bedrock spend spike with no profile behind it ({spike.signal.source})"


def non_compliant(event: ProfileNonCompliant, test: bool = False) -> str:
    """FinOps's note for a profile whose spend cannot be routed to a team (missing tags, unknown team)."""
    problems = []
    if event.missing_tags:
        problems.append("missing tag(s) " + ", ".join(f"`{key}`" for key in event.missing_tags))
    if event.unknown_team:
        problems.append(f"team '{event.team_tag}' is not in the team directory")
    why = "; ".join(problems) or event.reason
    lines = [
        f"{prefix(test)}Inference profile {profile_name(event)} cannot be attributed to a team: {why}",
        f"Profile: {event.profile_arn} (account {event.account_id}, {event.region})",
        f"Created by: {event.creator}" if event.creator else "Created by: unknown (no CloudTrail record)",
        "Its spend counts against the attributable share, and its alerts come to FinOps until it is tagged.",
    ]
    return "\n".join(lines)


def non_compliant_subject(event: ProfileNonCompliant) -> str:
    return f"[tokenfuse] Inference profile {profile_name(event)} is not attributable"


def profile_name(event: ProfileNonCompliant) -> str:
    return event.profile_name or event.profile_id


def alert_subject(view: AlertView) -> str:
    """``[tokenfuse] $142.30/h Bedrock spend spike on support-chat-prod (Customer Support, prod)``."""
    i = view.incident
    team = f"{view.owner_label}, {i.environment}" if i.environment else view.owner_label
    return one_line(
        f"{prefix(view.test)}[tokenfuse] {hourly_rate(i)} Bedrock spend spike on {view.profile} ({team})"
    )


def update_subject(alert: str) -> str:
    return one_line(f"Update: {alert}")


SUBJECT_LIMIT = 200


def one_line(text: str) -> str:
    """A subject line: whitespace runs as one space, at most :data:`SUBJECT_LIMIT` characters."""
    return " ".join(text.split())[:SUBJECT_LIMIT]


# -- delivery: what happened, said only as it happened --------------------------------------------

Medium = Literal["slack", "email"]


@dataclass(frozen=True)
class Reach:
    """One try at reaching someone: who (a team's label, or FinOps), by what, and Slack's or SES's
    answer when it failed (its error code, or why it was not tried)."""

    who: str
    medium: Medium
    problem: str | None = None


def fallback_note(failed: Sequence[Reach], sent: Sequence[Reach], here: Reach) -> str:
    """Why this message comes where it comes, saying only what already happened: where the alert
    could not go (``failed``), where it went before this message (``sent``), and this message
    (``here``), e.g. "This alert could not reach Customer Support in Slack (internal_error): sent
    to Customer Support by email and to the FinOps channel." (in FinOps's channel, after the email
    went out); "...: sent by email." when this email to the owner is all there is."""
    could_not = " or ".join(_reached(reach) for reach in failed)
    if not sent and here.medium == "email" and here.who == failed[0].who:
        return f"This alert could not reach {could_not}: sent by email."
    went = " and ".join(_sent(reach) for reach in [*sent, here])
    return f"This alert could not reach {could_not}: sent {went}."


def _reached(reach: Reach) -> str:
    how = "in Slack" if reach.medium == "slack" else "by email"
    return f"{reach.who} {how} ({reach.problem})"


def _sent(reach: Reach) -> str:
    if reach.medium == "email":
        return f"to {reach.who} by email"
    return "to the FinOps channel" if reach.who == FINOPS_LABEL else f"to {reach.who}'s channel"


def not_delivered(what: str, tried: Sequence[Reach]) -> str:
    """The one line an undelivered alert fails with (the invoke retries, then the DLQ keeps it)."""
    if not tried:
        return f"{what}: no destination to send it to (no channel or email, for the team nor for FinOps)"
    return f"{what}: nothing took the alert (tried {'; '.join(_reached(r) for r in tried)})"
