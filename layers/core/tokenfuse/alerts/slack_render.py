"""Slack messages: Block Kit built with ``slack_sdk.models.blocks`` (which checks Slack's limits
when the blocks are serialised) and a plain ``text`` that reads well alone. Pure: no I/O. The
words come from :mod:`tokenfuse.alerts.messages`; this module only lays them out in mrkdwn.

The CAD feedback buttons carry only the incident id and the choice in their ``value``; the
approve endpoint looks the anomaly ids up in the incident and calls ``ce:ProvideAnomalyFeedback``.
"""

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from tokenfuse.alerts import messages
from tokenfuse.alerts.feedback_buttons import FEEDBACK_BLOCK_ID, feedback_action_id, feedback_value
from tokenfuse.alerts.view import AlertView
from tokenfuse.events import StatusCard
from tokenfuse.notifications import SlackMessage

# Slack's limits (Block Kit reference): a header's text, a section's text, one section field.
HEADER_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
FIELD_LIMIT = 2000


def render_alert(view: AlertView, note: str | None = None) -> SlackMessage:
    """The incident's root message (posted once, then updated in place). ``note`` says why it is
    posted where it is (a fallback), above the alert."""
    i = view.incident
    status = messages.status_note(i)
    subject_label, _ = messages.subject_field(view)
    subject_value = (
        f"`{', '.join(i.culprit.model_ids)}`\n{messages.NO_INFERENCE_PROFILE}"
        if i.is_direct_model
        else f"{view.profile}\n`{i.profile_id}`"
    )
    fields = [
        (subject_label, subject_value),
        (messages.OWNER, f"{view.owner_label}\n_{view.route_reason}_"),
        (messages.FEATURE_ENVIRONMENT, messages.feature_environment(i)),
        (messages.ACCOUNT_REGION, messages.account_region(i)),
        (messages.SPEND_RATE, messages.rate_phrase(i)),
        (messages.MONTH_END, messages.usd(i.month_end_usd)),
        (messages.SPIKE_KIND, messages.kind_label(i.kind)),
        (messages.SEVERITY, i.severity),
    ]
    card = messages.card_of(i)
    blocks: list[Block] = [
        HeaderBlock(text=_plain(_clip(messages.header(view), HEADER_LIMIT))),
        _section(f"*{messages.title(view)}*" + (f"\n*{status}*" if status else "")),
        _section(
            f"*{messages.STATUS}:* {messages.card_status_line(card)}\n"
            f"*{messages.RATE_NOW}:* {messages.rate_now(card, i)}"
        ),
        SectionBlock(fields=[_field(f"*{label}*\n{value}") for label, value in fields]),
        _section(f"*{messages.TOKENS_PER_REQUEST}:* {messages.tokens_line(i.culprit)}"),
    ]
    if view.spark:
        blocks.append(_section(f"*{messages.spend_label(i.culprit)}:* `{view.spark}`"))
    if rate := messages.rate_line(i.culprit):
        blocks.append(_context(rate))
    if callers := messages.callers_line(i.culprit):
        blocks.append(_section(callers))
    blocks += [
        _section(f"*{messages.NEXT}:* {messages.card_next(view, card)}"),
        _context(f":bulb: *{messages.LEVER}:* {messages.lever(i)}"),
    ]
    if view.links:
        blocks.append(
            _context(" · ".join(f"<{link.url}|{messages.link_label(link.kind)}>" for link in view.links))
        )
    if view.is_cost_anomaly and i.status != "planned" and not view.test:
        blocks.append(_feedback_block(i.incident_id))
    blocks.append(_context(f"Incident `{i.incident_id}` · {messages.sources_line(i)} · {messages.PRODUCT}"))
    return _message(messages.alert_text(view), blocks, note)


def render_signal_reply(view: AlertView, note: str | None = None) -> SlackMessage:
    """A thread reply for a signal that joined the incident (a CAD re-alert, Budgets confirming)."""
    text = messages.view_signal_reply(view)
    blocks: list[Block] = [_section(text)]
    if view.signal is not None and view.signal.details_url:
        blocks.append(_context(f"<{view.signal.details_url}|Details>"))
    return _message(text, blocks, note)


def render_decision(card: StatusCard) -> SlackMessage:
    """An approval request once decided: the decision in place of its buttons."""
    text = messages.decision_in_place(card)
    return _message(text, [_section(text)], None)


def render_digest(owner: str, lines: Sequence[str], limit: int) -> SlackMessage:
    """One thread reply listing the spikes beyond the team's top-level post budget."""
    text = messages.digest(owner, lines, limit)
    return _message(text, [_section(text)], None)


def render_notice(text: str, note: str | None = None) -> SlackMessage:
    """A note to FinOps that is no incident's alert (a spike no profile explains, a profile no
    team owns): the text alone, in one section."""
    return _message(text, [_section(text)], note)


def feedback_actions(incident_id: str) -> dict[str, Any]:
    """The CAD feedback buttons as Block Kit JSON (the root message of a CAD-reported incident)."""
    return _feedback_block(incident_id).to_dict()


def _feedback_block(incident_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=FEEDBACK_BLOCK_ID,
        elements=[
            ButtonElement(
                action_id=feedback_action_id(choice),
                text=_plain(label),
                value=feedback_value(incident_id, choice),
                style="danger" if choice == "false-positive" else None,
            )
            for choice, label in messages.FEEDBACK_LABELS.items()
        ],
    )


def _message(text: str, blocks: list[Block], note: str | None) -> SlackMessage:
    """The message as Slack takes it (``to_dict`` validates every block against Slack's limits),
    with ``note`` in a context block above it and on the first line of its text."""
    if note:
        blocks = [_context(note), *blocks]
        text = f"{note}\n{text}"
    return SlackMessage(text=text, blocks=[block.to_dict() for block in blocks])


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=None)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_clip(text, SECTION_TEXT_LIMIT)))


def _field(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_clip(text, FIELD_LIMIT))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_field(text)])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
