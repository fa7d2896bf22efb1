"""The CAD feedback buttons (accurate / false positive / planned activity), for the approve endpoint.

A button's value holds only the incident id and the choice; the anomaly ids come from the incident.
"""

from dataclasses import dataclass

from tokenfuse.adapters.anomaly_feedback import CHOICES, AnomalyFeedback
from tokenfuse.alerts import messages
from tokenfuse.alerts.service import AlertService
from tokenfuse.alerts.slack_render import FEEDBACK_ACTION_PREFIX, parse_feedback_value


@dataclass(frozen=True)
class FeedbackResult:
    incident_id: str
    choice: str
    feedback: str
    anomaly_ids: list[str]
    planned: bool

    @property
    def summary(self) -> str:
        """One line for an ephemeral reply / the audit trail."""
        return messages.anomaly_feedback_thanks(
            self.choice, len(self.anomaly_ids), self.feedback, self.planned
        )


def is_feedback_action(action_id: str) -> bool:
    return action_id.startswith(FEEDBACK_ACTION_PREFIX)


def apply_feedback(
    value: str, actor: str, service: AlertService, feedback: AnomalyFeedback
) -> FeedbackResult:
    """Send the button's feedback for every anomaly of the incident; ``planned`` also marks the
    incident planned (quiet). Raises KeyError for an unknown incident, ValueError for a bad value."""
    incident_id, choice = parse_feedback_value(value)
    stored = service.table.get(incident_id)
    if stored is None:
        raise KeyError(incident_id)
    incident, _ = stored
    sent = feedback.provide_choice(incident.anomaly_ids, choice)
    if choice == "planned":
        service.mark_planned(incident_id, f"planned activity (marked by {actor})")
    return FeedbackResult(incident_id, choice, CHOICES[choice], sent, choice == "planned")
