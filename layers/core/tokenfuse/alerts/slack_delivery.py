"""The Slack channel of the alerts stage: render (:mod:`~tokenfuse.alerts.slack_render`), then send
through the Slack adapter, and say what came of it as an :class:`~tokenfuse.alerts.delivery.Attempt`.

A new incident's alert is one top-level post, within the owning team's budget of top-level posts
per 10 minutes; past it, the alert is one line of a digest reply in the team's latest post's
thread, updated in place. A later signal updates the root message and replies in the thread.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from tokenfuse import clock
from tokenfuse.adapters.incidents_table import PostSlot
from tokenfuse.adapters.slack import SlackDeliveryError, SlackSender
from tokenfuse.alerts import messages
from tokenfuse.alerts.delivery import (
    Alert,
    Attempt,
    FinOpsNotice,
    IncidentAlert,
    SentMessage,
    SlackDestination,
    Thread,
)
from tokenfuse.alerts.slack_render import render_alert, render_digest, render_notice, render_signal_reply
from tokenfuse.alerts.view import AlertView


class PostBudget(Protocol):
    """The per-team count of top-level posts (the incidents table keeps it)."""

    def claim_post_slot(self, owner: str, now: datetime, limit: int) -> PostSlot: ...

    def record_post(self, slot: PostSlot, channel: str, ts: str) -> None: ...

    def record_digest(self, slot: PostSlot, digest_ts: str, lines: list[str]) -> None: ...


class SlackDelivery:
    def __init__(
        self,
        sender: SlackSender | None,
        budget: PostBudget,
        posts_per_team_per_10_minutes: int = 5,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.sender = sender
        self.budget = budget
        self.post_limit = posts_per_team_per_10_minutes
        self.now = now

    def send(self, destination: SlackDestination, alert: Alert, note: str | None) -> Attempt:
        """Post (or update and reply); a Slack failure is a failed attempt with Slack's error code,
        ruling out every channel when the workspace refuses the token."""
        sent: list[SentMessage] = []
        try:
            thread = self._send(destination, alert, note, sent)
        except SlackDeliveryError as error:
            return Attempt(
                destination, "failed", error.code, rules_out_channel=error.workspace_wide, sent=tuple(sent)
            )
        return Attempt(destination, "delivered", sent=tuple(sent), thread=thread)

    def update_root(self, thread: Thread, view: AlertView) -> None:
        """Re-render an incident's root message in place (raises :class:`SlackDeliveryError`)."""
        if thread.message_ts:
            self._sender().update(thread.channel, thread.message_ts, render_alert(view))

    def _send(
        self, destination: SlackDestination, alert: Alert, note: str | None, sent: list[SentMessage]
    ) -> Thread | None:
        sender = self._sender()
        if isinstance(alert, FinOpsNotice):
            message = render_notice(alert.text, note)
            posted = sender.post(destination.channel, message)
            sent.append(SentMessage(posted.channel, destination.team, message.text))
            return None
        if destination.thread is not None:
            self._follow_up_in_thread(destination, destination.thread, alert, sent)
            return None
        if alert.follow_up and alert.view.incident.slack_ts:
            # The incident's thread lives elsewhere (and failed): the news of this signal, on its own.
            reply = render_signal_reply(alert.view, note)
            posted = sender.post(destination.channel, reply)
            sent.append(SentMessage(posted.channel, destination.team, reply.text))
            return None
        return self._post_root(destination, alert.view, note, sent)

    def _follow_up_in_thread(
        self, destination: SlackDestination, thread: Thread, alert: IncidentAlert, sent: list[SentMessage]
    ) -> None:
        sender = self._sender()
        if thread.message_ts:
            message = render_alert(alert.view)
            sender.update(thread.channel, thread.message_ts, message)
            sent.append(SentMessage(thread.channel, destination.team, message.text, None, "update"))
        reply = render_signal_reply(alert.view)
        sender.post(thread.channel, reply, thread_ts=thread.ts)
        sent.append(SentMessage(thread.channel, destination.team, reply.text, thread.ts, "reply"))

    def _post_root(
        self, destination: SlackDestination, view: AlertView, note: str | None, sent: list[SentMessage]
    ) -> Thread:
        sender = self._sender()
        slot = (
            self.budget.claim_post_slot(destination.team, self.now(), self.post_limit)
            if destination.post_budget
            else None
        )
        if slot is None or slot.allowed or not (slot.thread_ts and slot.thread_channel):
            message = render_alert(view, note)
            posted = sender.post(destination.channel, message)
            if slot is not None and slot.allowed:
                self.budget.record_post(slot, posted.channel, posted.ts)
            sent.append(SentMessage(posted.channel, destination.team, message.text))
            return Thread(posted.channel, posted.ts, posted.ts)
        return self._digest(destination, view, slot, Thread(slot.thread_channel, slot.thread_ts), sent)

    def _digest(
        self,
        destination: SlackDestination,
        view: AlertView,
        slot: PostSlot,
        thread: Thread,
        sent: list[SentMessage],
    ) -> Thread:
        """Over the team's budget: one digest reply in the latest post's thread, updated in place.
        The incident has no root message of its own: its thread is that post's."""
        channel, thread_ts = thread.channel, thread.ts
        sender = self._sender()
        lines = [*slot.digest_lines, messages.digest_line(view)]
        digest = render_digest(view.owner_label, lines, self.post_limit)
        if slot.digest_ts:
            sender.update(channel, slot.digest_ts, digest)
            sent.append(SentMessage(channel, destination.team, digest.text, thread_ts, "update"))
        else:
            posted = sender.post(channel, digest, thread_ts=thread_ts)
            sent.append(SentMessage(channel, destination.team, digest.text, thread_ts, "reply"))
            slot = replace(slot, digest_ts=posted.ts)
        self.budget.record_digest(slot, str(slot.digest_ts), lines)
        return thread

    def _sender(self) -> SlackSender:
        if self.sender is None:
            raise SlackDeliveryError("no_token", "Slack is not configured")
        return self.sender
