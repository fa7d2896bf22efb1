"""How each audited remediation step moves the incident's status card
(:mod:`tokenfuse.alerts.status_cards` stores and shows it).

:func:`card_changes` reads the step's :class:`~tokenfuse.events.RemediationEvent` (its details are
the task's own result models) and returns the card's new fields, or None when the step does not
change what a person should see (the policy's choice, a dry run, a snooze that found the spike
gone: the closing step says those).
"""

from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from tokenfuse.events import RemediationEvent
from tokenfuse.remediation import messages
from tokenfuse.remediation.models import RemediationIncident, RestoreResult, TripRecord, VerifyResult


class CardPort(Protocol):
    def advance(self, incident_id: str, changes: dict[str, Any], *, close: bool = False) -> object: ...


def card_changes(event: RemediationEvent, incident: RemediationIncident) -> dict[str, Any] | None:  # noqa: PLR0911
    """The card's new fields after ``event`` (see the module's docstring)."""
    details, at = event.details, event.at
    match event.step:
        case "approval-requested":
            return {
                "stage": "awaiting-approval",
                "since": at,
                "action": event.action,
                "cooldown_seconds": details.get("cooldown_seconds"),
                "who": list(details.get("approvers") or []),
                "until": details.get("deadline"),
                "approval_channel": details.get("slack_channel"),
                "approval_ts": details.get("slack_ts"),
            }
        case "approval-decided":
            return _decided(event)
        case "tripped":
            trip = _read(TripRecord, details["trip"])
            if trip.dry_run:
                return None
            return {
                "stage": "blocked",
                "since": trip.tripped_at,
                "action": trip.action,
                "cooldown_seconds": _cooldown(trip),
                "until": trip.restore_after,
                "blocked": messages.in_force(trip),
            }
        case "verified":
            return _verified(_read(VerifyResult, details), incident)
        case "restored":
            restored = _read(RestoreResult, details)  # a manual restore adds "manual"
            if not restored.restored:
                return None
            return {"stage": "restored", "since": at, "until": None, "blocked": []}
        case "escalated":
            return {
                "stage": "escalated",
                "since": at,
                "outcome": messages.said(str(details.get("error") or "a step failed")),
                "blocked": list(details.get("in_force") or []),
            }
        case "policy":
            return None


def closed_changes(summary: dict[str, Any], at: Any) -> dict[str, Any]:
    """The card once the execution's closing step has run (the incident closes with it)."""
    return {"stage": "closed", "since": at, "outcome": str(summary.get("outcome") or "no action")}


def _decided(event: RemediationEvent) -> dict[str, Any] | None:
    at, actor, details = event.at, event.actor, event.details
    match event.decision:
        case "approve":
            return {"stage": "approved", "since": at, "who": [actor] if actor else []}
        case "decline":
            return {"stage": "declined", "since": at, "who": [actor] if actor else [], "until": None}
        case "snooze":
            seconds = details.get("snooze_seconds")
            until = at + timedelta(seconds=int(seconds)) if seconds else None
            return {"stage": "snoozed", "since": at, "who": [actor] if actor else [], "until": until}
        case "timeout":
            trips = details.get("applied") == "trip"
            outcome = "blocking it as the policy says" if trips else "FinOps was told; nothing is blocked"
            return {"stage": "timed-out", "since": at, "who": [], "until": None, "outcome": outcome}
    return None


def _verified(result: VerifyResult, incident: RemediationIncident) -> dict[str, Any] | None:
    if result.expect != "stopped":  # a snooze's look: the approval request (or the close) follows
        return None
    rate = None
    before, after = result.before_tokens_per_minute, result.after_tokens_per_minute
    if incident.cost_per_hour_usd is not None and before > 0:
        rate = incident.cost_per_hour_usd * after / before
    measured = {"rate_usd_per_hour": rate, "rate_at": result.after_end}
    if result.still_running:
        return {
            "stage": "still-running",
            "since": result.after_end,
            "outcome": messages.still_running(after),
            **measured,
        }
    return {"stage": "verified", "since": result.after_end, **measured}


def _cooldown(trip: TripRecord) -> int | None:
    if trip.restore_after is None:
        return None
    return max(1, int((trip.restore_after - trip.tripped_at).total_seconds()))


def _read[M: BaseModel](model: type[M], details: dict[str, Any]) -> M:
    """The task's result model from the audit details it was written into (with their extra keys)."""
    return model.model_validate({k: v for k, v in details.items() if k in model.model_fields})
