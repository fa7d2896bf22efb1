"""Where remediation speaks: the incident's Slack thread, email (SES), Slack's ``response_url``.

Ports first (what the domain calls); the implementations wrap the alerts module's Slack and SES
adapters (``SLACK_API_BASE_URL`` points Slack at the sandbox's Slack-compatible server).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from tokenfuse.adapters.email import EmailSender
from tokenfuse.adapters.slack import SlackSender
from tokenfuse.notifications import EmailMessage, SlackMessage
from tokenfuse.remediation.blocks import rendered, section

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block


class ChatPort(Protocol):
    def post(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: Sequence[Block] | None = None,
    ) -> str | None:
        """Post a message (a thread reply when ``thread_ts``); returns its ts. Without ``blocks``
        the text is the message's one section."""


class EmailPort(Protocol):
    def send(self, to: list[str], subject: str, text: str, html: str | None = None) -> None: ...


class ResponderPort(Protocol):
    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Answer a Slack interaction through its ``response_url`` (ephemeral or replacing)."""


class SlackChat:
    """The alerts module's :class:`~tokenfuse.adapters.slack.SlackSender` behind :class:`ChatPort`."""

    def __init__(self, sender: SlackSender) -> None:
        self.sender = sender

    def post(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: Sequence[Block] | None = None,
    ) -> str | None:
        message = SlackMessage(text=text, blocks=rendered(blocks or [section(text)]))
        return self.sender.post(channel, message, thread_ts).ts


class SlackResponder:
    """Posts to an interaction's ``response_url``, only under Slack's hooks host (or, in the sandbox,
    under ``SLACK_API_BASE_URL``'s origin): the URL came in a signed payload, but a request built
    from it should still never go anywhere else."""

    def __init__(self, timeout: int = 1, base_url: str | None = None) -> None:
        self.timeout = timeout
        origin = urlsplit(base_url) if base_url else None
        self.allowed = f"{origin.scheme}://{origin.netloc}/" if origin else "https://hooks.slack.com/"

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        if not response_url.startswith(self.allowed):
            return
        from slack_sdk.webhook import WebhookClient

        WebhookClient(response_url, timeout=self.timeout).send_dict(message)


class SesEmail:
    """The alerts module's :class:`~tokenfuse.adapters.email.EmailSender` behind :class:`EmailPort`."""

    def __init__(self, sender: EmailSender) -> None:
        self.sender = sender

    def send(self, to: list[str], subject: str, text: str, html: str | None = None) -> None:
        """``html`` must come from a template (autoescaped); without one the text is the HTML part."""
        from tokenfuse.html_email import render_html

        body = html or render_html("plain_text.html", text=text)
        self.sender.send(to, EmailMessage(subject=subject, text=text, html=body))
