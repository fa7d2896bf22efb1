"""The CAD feedback buttons' contract: their block and action ids and what their ``value`` holds (the
incident id and the choice, nothing else). Kept apart from :mod:`tokenfuse.alerts.slack_render`,
which lays them out with slack-sdk's Block Kit, so the approve endpoint reads a click without
importing slack-sdk's package (its WebClient) before a Slack request needs it."""

import json
import re

from tokenfuse.adapters.anomaly_feedback import CHOICES

FEEDBACK_BLOCK_ID = "tokenfuse_anomaly_feedback"
FEEDBACK_ACTION_PREFIX = "anomaly_feedback_"
FEEDBACK_VALUE_MAX_LENGTH = 1024
_INCIDENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def feedback_value(incident_id: str, choice: str) -> str:
    return json.dumps({"incident_id": incident_id, "choice": choice}, separators=(",", ":"))


def feedback_action_id(choice: str) -> str:
    return f"{FEEDBACK_ACTION_PREFIX}{choice}"


def parse_feedback_value(value: str) -> tuple[str, str]:
    """(incident id, choice) from a feedback button's value; ValueError when it is not one (not JSON,
    nested, over 1 KB, not an object, an incident id of another shape, an unknown choice)."""
    if len(value) > FEEDBACK_VALUE_MAX_LENGTH:
        raise ValueError("not a tokenfuse feedback value: too long")
    try:
        data = json.loads(value)
    except RecursionError as error:
        raise ValueError("not a tokenfuse feedback value: nested too deep") from error
    if not isinstance(data, dict):
        raise ValueError("not a tokenfuse feedback value: not a JSON object")
    incident_id, choice = data.get("incident_id"), data.get("choice")
    if not isinstance(incident_id, str) or not _INCIDENT_ID.fullmatch(incident_id):
        raise ValueError("not a tokenfuse feedback value: no incident id")
    if not isinstance(choice, str) or choice not in CHOICES:
        raise ValueError("not a tokenfuse feedback value: unknown choice")
    return incident_id, choice
