"""The CAD feedback buttons (accurate / false positive / planned activity), for the approve endpoint.

A button's value holds only the incident id and the choice; the anomaly ids come from the incident.
"Accurate" and "false positive" only tell Cost Anomaly Detection, whoever clicks. "Planned activity"
also keeps the incident quiet from then on (no more alerts, no trip), so it is taken only from an
on-call approver of the owning team (FinOps's approvers stand in for an untagged or unknown owner)
or of FinOps; anyone else is refused and nothing is sent.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tokenfuse import incidents
from tokenfuse.adapters.anomaly_feedback import AnomalyFeedback
from tokenfuse.alerts.feedback_buttons import FEEDBACK_ACTION_PREFIX
from tokenfuse.events import Incident
from tokenfuse.incidents import IncidentLedger
from tokenfuse.teams import TeamDirectory

FeedbackOutcome = Literal["sent", "unknown-incident", "not-an-approver"]


@dataclass(frozen=True)
class FeedbackResult:
    """What a feedback click did: ``sent`` (the anomaly ids told, ``planned`` when the incident was
    also marked planned), or why nothing was done."""

    incident_id: str
    choice: str
    outcome: FeedbackOutcome
    team: str | None = None
    """The incident's owning team (None when the incident is unknown)."""
    anomaly_ids: list[str] = field(default_factory=list)
    planned: bool = False
    incident: Incident | None = None


def is_feedback_action(action_id: str) -> bool:
    return action_id.startswith(FEEDBACK_ACTION_PREFIX)


def may_mark_planned(directory: TeamDirectory, team: str | None, slack_user_id: str) -> bool:
    """Whether this Slack user is an on-call approver of the owning team (FinOps's for an untagged or
    unknown owner) or of FinOps."""
    owner = directory.owning_team(team)
    approvers = [*(owner.approvers if owner else ()), *directory.finops.approvers]
    return any(a.slack_user_id == slack_user_id for a in approvers)


def apply_feedback(
    incident_id: str,
    choice: str,
    actor: str,
    *,
    table: IncidentLedger,
    feedback: Callable[[], AnomalyFeedback],
    directory: Callable[[], TeamDirectory],
    planned_note: str,
    now: datetime,
) -> FeedbackResult:
    """Send the button's feedback for every anomaly of the incident; ``planned`` (an approver's
    click only) also marks the incident planned with ``planned_note``. ``feedback`` and
    ``directory`` are asked for only when needed (the management account's session, the deployed
    directory)."""
    found = table.get(incident_id)
    if found is None:
        return FeedbackResult(incident_id, choice, "unknown-incident")
    incident, _ = found
    if choice == "planned" and not may_mark_planned(directory(), incident.team, actor):
        return FeedbackResult(incident_id, choice, "not-an-approver", incident.team, incident=incident)
    sent = feedback().provide_choice(list(incident.anomaly_ids), choice)
    if choice == "planned":
        incident = incidents.mark_planned(table, incident_id, planned_note, now)
    return FeedbackResult(
        incident_id, choice, "sent", incident.team, sent, planned=choice == "planned", incident=incident
    )
