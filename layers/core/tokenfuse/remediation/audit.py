"""Every remediation step, audited three ways: a row in the audit table (pk ``incident#<id>``, sk
``<iso time>#<step>``, kept 400 days), a ``RemediationEvent`` on the bus, and a reply in the
incident's Slack thread.

The table row and the bus event are the record: their failures raise (the task is retried, then
escalated). The thread reply and the incident's status card (moved by each step, see
:mod:`tokenfuse.remediation.card_steps`) are a courtesy: a failure is logged and counted
(``SlackUpdateFailed``) but never undoes or blocks a trip that already happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from tokenfuse import clock
from tokenfuse.events import Action, BusModel, Decision, RemediationEvent, RemediationStep
from tokenfuse.remediation.card_steps import CardPort, card_changes, closed_changes
from tokenfuse.remediation.channels import ChatPort
from tokenfuse.remediation.models import RemediationIncident, utc_iso

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block

SYSTEM_ACTOR = "tokenfuse"


class BusPort(Protocol):
    def put(self, *events: BusModel) -> None: ...


class AuditStore(Protocol):
    def put_audit(
        self, incident_id: str, at_iso: str, step: str, event: dict[str, Any], now_epoch: int
    ) -> None: ...


class Auditor:
    def __init__(
        self,
        store: AuditStore,
        bus: BusPort,
        chat: ChatPort | None,
        now: Callable[[], datetime] = clock.now,
        *,
        on_chat_error: Callable[[Exception], None] | None = None,
        cards: CardPort | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.chat = chat
        self.now = now
        self.on_chat_error = on_chat_error
        self.cards = cards

    def record(
        self,
        incident: RemediationIncident,
        step: RemediationStep,
        action: Action,
        *,
        decision: Decision | None = None,
        actor: str | None = SYSTEM_ACTOR,
        details: dict[str, Any] | None = None,
        say: str | None = None,
        blocks: Sequence[Block] | None = None,
    ) -> RemediationEvent:
        at = self.now()
        event = RemediationEvent(
            incident_id=incident.incident_id,
            profile_arn=incident.profile_arn,
            step=step,
            action=action,
            decision=decision,
            actor=actor,
            at=at,
            details=details or {},
        )
        self.store.put_audit(
            incident.incident_id,
            at.isoformat(timespec="microseconds"),
            step,
            event.to_bus(),
            int(at.timestamp()),
        )
        self.bus.put(event)
        if say:
            self.say(incident, say, blocks)
        self._move_card(incident, lambda: card_changes(event, incident))
        return event

    def record_summary(self, incident: RemediationIncident, summary: dict[str, Any], say: str | None) -> None:
        """The closing row of an execution (table only: the bus already has every step)."""
        at = self.now()
        self.store.put_audit(
            incident.incident_id,
            at.isoformat(timespec="microseconds"),
            "closed",
            {"incident_id": incident.incident_id, "step": "closed", "at": utc_iso(at), **summary},
            int(at.timestamp()),
        )
        if say:
            self.say(incident, say)
        self._move_card(incident, lambda: closed_changes(summary, at), close=True)

    def _move_card(
        self,
        incident: RemediationIncident,
        changes: Callable[[], dict[str, Any] | None],
        close: bool = False,
    ) -> None:
        """The step's move of the incident's status card; a failure is logged and counted, like the
        thread reply's."""
        if self.cards is None:
            return
        try:
            moved = changes()
            if moved is not None:
                self.cards.advance(incident.incident_id, moved, close=close)
        except Exception as error:
            if self.on_chat_error:
                self.on_chat_error(error)

    def say(self, incident: RemediationIncident, text: str, blocks: Sequence[Block] | None = None) -> None:
        """A reply in the incident's thread (or a post in its channel when it has no thread yet)."""
        if self.chat is None or not incident.slack_channel:
            return
        try:
            self.chat.post(incident.slack_channel, text, thread_ts=incident.slack_ts, blocks=blocks)
        except Exception as error:
            if self.on_chat_error:
                self.on_chat_error(error)
