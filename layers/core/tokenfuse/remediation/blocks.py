"""The remediation stage's Block Kit, built with ``slack_sdk.models.blocks``: the approval request
and its three buttons, a detached profile's reply with its Restore button, and a plain thread reply.

Slack's limits (3,000 characters a section, 75 a button label, 2,000 a value, 255 an action or
block id) are checked by slack_sdk when a block is rendered (``to_dict``); the builders keep every
text inside them (a long section is clipped and says so), so rendering never fails.

The buttons' action ids and values are a contract with the approve endpoint, which dispatches a
click on them (:mod:`tokenfuse.remediation.interactions`): an approval button carries
``<approval id>:<choice>`` (never the task token), Restore carries ``restore:<profile ARN>``.

slack_sdk is imported when a block is built: importing ``slack_sdk`` loads its WebClient, which a
path that posts nothing should not pay for at cold start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tokenfuse.arns import PROFILE_ARN
from tokenfuse.remediation import links, messages
from tokenfuse.remediation.models import PolicyDecision, RemediationIncident

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block, SectionBlock

SECTION_TEXT_LIMIT = 3000
CLIPPED = " …"
APPROVAL_ID_LENGTH = 10
APPROVAL_ACTION_PREFIX = "tokenfuse_approval_"
RESTORE_ACTION_ID = "tokenfuse_restore"
RESTORE_PREFIX = "restore:"
BUTTON_STYLES = {"approve": "danger"}


def button_value(approval_id: str, choice: str) -> str:
    return f"{approval_id}:{choice}"


def approval_action_id(choice: str) -> str:
    """The ``action_id`` of the request's button for ``choice``."""
    return f"{APPROVAL_ACTION_PREFIX}{choice}"


def parse_button_value(value: str) -> tuple[str, str] | None:
    """(approval id, choice) of a value :func:`button_value` made, else None."""
    if len(value) > APPROVAL_ID_LENGTH + 1 + max(map(len, links.CHOICES)):
        return None
    approval_id, sep, choice = value.partition(":")
    if not sep or choice not in links.CHOICES or not links.APPROVAL_ID_PATTERN.fullmatch(approval_id):
        return None
    return approval_id, choice


def parse_restore_value(value: str) -> str | None:
    """The application inference profile ARN of a Restore button's value, else None."""
    arn = value.removeprefix(RESTORE_PREFIX)
    return arn if value.startswith(RESTORE_PREFIX) and PROFILE_ARN.fullmatch(arn) else None


def section(text: str) -> SectionBlock:
    """A mrkdwn section; text past Slack's 3,000 characters is cut and ends with " …"."""
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    if len(text) > SECTION_TEXT_LIMIT:
        text = text[: SECTION_TEXT_LIMIT - len(CLIPPED)] + CLIPPED
    return SectionBlock(text=MarkdownTextObject(text=text))


def approval_blocks(
    incident: RemediationIncident,
    policy: PolicyDecision,
    approval_id: str,
    approvers: list[str],
    deadline: datetime,
) -> list[Block]:
    """The approval request: what would happen, who may decide, until when; Approve (danger),
    Decline, Snooze."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    buttons = [
        ButtonElement(
            text=label,
            action_id=approval_action_id(choice),
            value=button_value(approval_id, choice),
            style=BUTTON_STYLES.get(choice),
        )
        for choice, label in messages.approval_button_labels(policy).items()
    ]
    return [
        section(messages.approval_request(incident, policy, approvers, deadline)),
        ActionsBlock(block_id=f"{APPROVAL_ACTION_PREFIX}{approval_id}", elements=buttons),
    ]


def restore_blocks(text: str, profile_arn: str) -> list[Block]:
    """A detached profile's thread reply: what was changed, and a Restore button (value: the ARN
    only; who may click is checked against the owning team's approvers when the click arrives)."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject, MarkdownTextObject

    confirm = ConfirmObject(
        title=messages.RESTORE_CONFIRM_TITLE,
        text=MarkdownTextObject(text=messages.RESTORE_CONFIRM_TEXT),
        confirm=messages.RESTORE_BUTTON,
        deny=messages.RESTORE_CONFIRM_DENY,
    )
    button = ButtonElement(
        text=messages.RESTORE_BUTTON,
        action_id=RESTORE_ACTION_ID,
        value=f"{RESTORE_PREFIX}{profile_arn}",
        style="primary",
        confirm=confirm,
    )
    return [section(text), ActionsBlock(elements=[button])]


def rendered(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """The blocks as Slack's API takes them (slack_sdk checks every limit here)."""
    return [block.to_dict() for block in blocks]
