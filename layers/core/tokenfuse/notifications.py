"""What tokenfuse sends people: the value types every renderer produces and every sender takes.

Plain data (no I/O, no SDK): the alerts and remediation stages build them, and the Slack and SES
adapters (``tokenfuse.adapters.slack`` / ``.email``) import them from here to send them.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SlackMessage:
    """A Slack message: the plain-text fallback (it reads well alone: notifications, the demo,
    email's text part) and Block Kit blocks in their JSON form (``chat.postMessage``'s ``blocks``)."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class Posted:
    """Where Slack put a message: its channel id and its ``ts`` (the message's id in the channel)."""

    channel: str
    ts: str


@dataclass(frozen=True)
class EmailMessage:
    """An email: one subject line, a plain-text part and an HTML part (rendered from templates)."""

    subject: str
    text: str
    html: str
