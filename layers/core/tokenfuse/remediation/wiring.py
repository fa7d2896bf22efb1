"""RemediateFunction's composition root: the tasks' :class:`~tokenfuse.remediation.tasks.Deps`.

The root keeps one ``Deps`` per container for its long-lived pieces (``Deps.KEPT``: the approvals
table, the bus, SES); every invocation works on ``Deps.for_invocation()``, which shares those and
builds the rest anew (the team directory, the Slack token, the member-account access, whose
assumed-role sessions the container keeps until shortly before they expire: ``kept_role_session``).
"""

from typing import Any

from tokenfuse.composition import composition_root, own_account
from tokenfuse.observability import logger
from tokenfuse.remediation import tasks
from tokenfuse.remediation.settings import RemediateSettings
from tokenfuse.remediation.tasks import Deps

CORRELATION_ID_PATH = (
    "incident.dedup_keys[0] || state.incident.dedup_keys[0] "
    "|| incident.incident_id || state.incident.incident_id || RequestId"
)
"""The execution input carries the incident (the whole state for Escalate and Audit): its first
dedup key is the spike's correlation id. A stack-deletion custom resource has its RequestId."""


@composition_root
def dependencies(settings: RemediateSettings) -> Deps:
    """RemediateFunction's composition root (:mod:`tokenfuse.composition`)."""
    return Deps(settings)


def invocation_deps(settings: RemediateSettings, context: object = None) -> Deps:
    """The ``Deps`` of one invocation, sharing the container's long-lived pieces."""
    return dependencies(settings).for_invocation(own_account(context))


OUTCOME_FIELDS = ("mode", "action", "decision", "outcome", "still_running", "restored", "escalated_to")
"""What a task's line says of its result (the fields a task's result has, among these)."""


def run_task(event: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Run the task the payload names; one line says it ran and what came of it (under the spike's
    correlation id and the incident's id, so the remediation can be followed in the logs)."""
    result = tasks.dispatch(event, deps)
    logger.info("remediation task done", **{k: result[k] for k in OUTCOME_FIELDS if k in result})
    return result


def log_keys(event: object) -> dict[str, Any]:
    """The keys every line of a task logs: the task's name and its incident's id (None where the
    payload has none, or is not what a task receives: the task itself refuses it)."""
    payload = event if isinstance(event, dict) else {}
    state = payload.get("state")
    incident = payload.get("incident") or (state.get("incident") if isinstance(state, dict) else None)
    incident_id = incident.get("incident_id") if isinstance(incident, dict) else None
    task = payload.get("task")
    return {
        "task": task if isinstance(task, str) else None,
        "incident_id": incident_id if isinstance(incident_id, str) else None,
    }


__all__ = ["CORRELATION_ID_PATH", "dependencies", "invocation_deps", "log_keys", "run_task"]
