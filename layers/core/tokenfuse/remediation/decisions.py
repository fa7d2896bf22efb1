"""Taking an on-call decision (a Slack click or a signed email link) and answering the clicker.

:class:`ApprovalDesk` checks the clicker is one of the approvers the request listed, marks the
approval decided with a conditional write (so a double click, a second link, or a click after the
deadline changes nothing), then resumes the execution with SendTaskSuccess
``{"decision", "actor", "approval_id"}`` exactly once. Every click it turns down says why in its
:class:`DecisionReply` (``refused``), which the endpoint audits.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from tokenfuse import clock
from tokenfuse.adapters.stepfunctions import TaskNoLongerWaiting
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import correlate, logger
from tokenfuse.remediation import messages
from tokenfuse.remediation.links import CHOICES
from tokenfuse.remediation.models import ApprovalOutcome, RemediationIncident
from tokenfuse.remediation.refusals import ClickRefusal


class ApprovalRecords(Protocol):
    def get_approval(self, approval_id: str) -> dict[str, Any] | None: ...
    def mark_decided(self, approval_id: str, decision: str, actor: str, via: str, now_epoch: int) -> None: ...
    def reopen(self, approval_id: str, actor: str) -> None: ...


class CallbackPort(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class DecisionReply:
    """What the clicker is told. ``changed`` is True only for the one click that decided; ``refused``
    says why a click changed nothing (None for an answer that is no refusal); ``about`` names what
    the click was about (approval_id, incident_id, team, profile_arn), for the audit."""

    status: int
    text: str
    changed: bool = False
    refused: ClickRefusal | None = None
    about: dict[str, str] = field(default_factory=dict)


ApproverOf = Callable[[str], list[str]]
"""(Slack user id or email) -> the teams whose on-call approvers list it (the team directory)."""


class ApprovalDesk:
    def __init__(
        self,
        store: ApprovalRecords,
        callbacks: CallbackPort,
        now: Callable[[], datetime] = clock.now,
        approver_of: ApproverOf | None = None,
    ) -> None:
        self.store = store
        self.callbacks = callbacks
        self.now = now
        self.approver_of = approver_of

    def decide(  # noqa: PLR0911 - each early answer is one polite refusal
        self, approval_id: str, choice: str, *, slack_user_id: str | None = None, email: str | None = None
    ) -> DecisionReply:
        about = {"approval_id": approval_id}
        if choice not in CHOICES:
            return DecisionReply(400, messages.UNKNOWN_CHOICE, refused="bad-value", about=about)
        item = self.store.get_approval(approval_id)
        if item is None:
            return DecisionReply(200, messages.UNKNOWN_APPROVAL, refused="unknown-approval", about=about)
        about.update({k: str(item[k]) for k in ("incident_id", "team") if item.get(k)})
        correlate(correlation_id_of(item), incident_id=about.get("incident_id"))
        if slack_user_id:
            actor, via = slack_user_id, "slack"
            allowed = slack_user_id in (item.get("approver_slack_ids") or [])
        elif email:
            actor, via = email.lower(), "email"
            allowed = actor in (item.get("approver_emails") or [])
        else:
            return DecisionReply(400, messages.WHO_IS_DECIDING, refused="malformed-click", about=about)
        if not allowed:
            return self._not_an_approver(actor, item, about)
        if item.get("status") != "pending":
            return DecisionReply(200, _already(item), refused="already-decided", about=about)
        now_epoch = int(self.now().timestamp())
        if now_epoch > int(item.get("deadline", 0)):
            return DecisionReply(200, messages.TIMED_OUT, refused="expired", about=about)
        try:
            self.store.mark_decided(approval_id, choice, actor, via, now_epoch)
        except TokenfuseError:
            fresh = self.store.get_approval(approval_id) or item
            if fresh.get("status") != "pending":
                return DecisionReply(200, _already(fresh), refused="already-decided", about=about)
            return DecisionReply(200, messages.TIMED_OUT, refused="expired", about=about)
        outcome = ApprovalOutcome.model_validate(
            {"decision": choice, "actor": actor, "approval_id": approval_id}
        )
        try:
            self.callbacks.succeed(str(item["task_token"]), outcome.to_json())
        except TaskNoLongerWaiting:
            return DecisionReply(200, messages.TOO_LATE, refused="task-not-waiting", about=about)
        except TokenfuseError:
            self.store.reopen(approval_id, actor)
            return DecisionReply(503, messages.NOT_RECORDED, about=about)
        logger.info("approval decided", approval_id=approval_id, decision=choice, actor=actor, via=via)
        return DecisionReply(200, messages.decided_reply(choice, actor), changed=True, about=about)

    def _not_an_approver(self, actor: str, item: dict[str, Any], about: dict[str, str]) -> DecisionReply:
        """Refused: not one of the approvers the request listed. Naming another team the clicker is
        on call for tells the audit a mistaken channel from a stranger."""
        team = item.get("team")
        text = messages.only_team_approvers(team)
        others = [t for t in (self.approver_of(actor) if self.approver_of else []) if t != team]
        if others:
            return DecisionReply(
                403, text, refused="other-team-approver", about={**about, "approver_of": " ".join(others)}
            )
        return DecisionReply(403, text, refused="not-an-approver", about=about)


def correlation_id_of(item: dict[str, Any]) -> str | None:
    """The spike's correlation id, from the incident an approval record stores (None if it has none)."""
    try:
        return RemediationIncident.model_validate_json(str(item.get("incident") or "")).correlation_id
    except ValidationError:
        return None


def _already(item: dict[str, Any]) -> str:
    return messages.already_decided(item.get("decision"), str(item.get("actor")))
