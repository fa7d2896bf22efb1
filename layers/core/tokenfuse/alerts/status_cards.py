"""The incident's root post as a live status card: each step moves the card (stored on the incident)
and shows it again where the team reads it.

- In Slack, the root post is edited in place (``chat.update``): detected -> awaiting approval ->
  blocked -> verified -> restored -> closed, with the rate now and a "Next:" true for the stage.
  Once a decision is taken, the approval request's buttons are replaced by the decision.
- A team without Slack gets one short email per state change (none for the approval request:
  its own email, with the signed links, is that change's message).
- The remediation's closing step closes the incident in the table (the thread says "Closed").

Showing the card is a courtesy: a Slack or SES failure is logged, never raised (a trip that
happened stays happened). Recording the stage on the incident is the record: its failures raise.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tokenfuse import clock, incidents
from tokenfuse.adapters.slack import SlackDeliveryError
from tokenfuse.alerts import messages
from tokenfuse.alerts.email_render import render_card_email
from tokenfuse.alerts.slack_render import render_alert, render_decision
from tokenfuse.alerts.view import alert_view
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import CardStage, Incident, StatusCard
from tokenfuse.notifications import EmailMessage, Posted, SlackMessage
from tokenfuse.observability import logger
from tokenfuse.teams import TeamDirectory
from tokenfuse.text import one_line

DECISIONS: frozenset[CardStage] = frozenset({"approved", "declined", "snoozed", "timed-out"})
"""Stages that answer an approval request: its buttons give way to the decision."""
EMAIL_SILENT: frozenset[CardStage] = frozenset({"awaiting-approval"})
"""Stages whose message is an email of their own (the approval request with its signed links)."""


class SlackUpdates(Protocol):
    def update(self, channel: str, ts: str, message: SlackMessage) -> Posted: ...


class EmailSends(Protocol):
    def send(self, to: list[str], message: EmailMessage) -> str: ...


class StatusCards:
    def __init__(
        self,
        table: incidents.IncidentLedger,
        directory: TeamDirectory,
        slack: SlackUpdates | None,
        email: EmailSends | None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        """``directory`` has FinOps's destination resolved (:func:`tokenfuse.teams.deployed_directory`)."""
        self.table = table
        self.directory = directory
        self.slack = slack
        self.email = email
        self.now = now

    def advance(self, incident_id: str, changes: dict[str, Any], *, close: bool = False) -> Incident | None:
        """Move the incident's card (``changes``: :class:`~tokenfuse.events.StatusCard` fields) and
        show it; ``close`` closes the incident too. None when the table has no such incident (a trip
        restored by hand after the incident expired)."""
        stored = self.table.get(incident_id)
        if stored is None:
            logger.warning("status card: no such incident", extra={"incident_id": incident_id})
            return None
        before = messages.card_of(stored[0])
        card = StatusCard.model_validate({**before.model_dump(), **changes})
        answered = card.stage in DECISIONS and before.approval_ts is not None
        if answered:  # the request's buttons are replaced below; later steps leave it alone
            card = card.model_copy(update={"approval_channel": None, "approval_ts": None})
        now = self.now()
        update: dict[str, object] = {"card": card}
        if close:
            update |= {"status": "closed", "closed_at": now}
        incident = incidents.update(self.table, incident_id, update, now)
        if answered and before.approval_channel and before.approval_ts:
            self._replace_buttons(before.approval_channel, before.approval_ts, card)
        self.show(incident)
        return incident

    def show(self, incident: Incident) -> None:
        """The card where the team reads it: its Slack root post, else one email."""
        view = alert_view(self.directory, incident, self.directory.route(incident.team))
        card = messages.card_of(incident)
        if incident.slack_channel and incident.slack_message_ts:
            if self.slack is None:
                return
            try:
                self.slack.update(incident.slack_channel, incident.slack_message_ts, render_alert(view))
            except SlackDeliveryError as error:
                logger.warning("status card not updated", extra={"slack_error": error.code})
            return
        if incident.emails and self.email is not None and card.stage not in EMAIL_SILENT:
            try:
                self.email.send(list(incident.emails), render_card_email(view))
            except TokenfuseError as error:
                logger.warning("status card email not sent", extra={"error": one_line(error)})

    def _replace_buttons(self, channel: str, ts: str, card: StatusCard) -> None:
        if self.slack is None:
            return
        try:
            self.slack.update(channel, ts, render_decision(card))
        except SlackDeliveryError as error:
            logger.warning("approval buttons not replaced", extra={"slack_error": error.code})
