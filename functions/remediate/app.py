"""RemediateFunction: the remediation state machine's tasks, and the restore-on-delete custom resource."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.observability import logger, metrics, tracer
from tokenfuse.remediation import custom_resource, tasks
from tokenfuse.remediation.settings import RemediateSettings


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = tasks.Deps(RemediateSettings.from_env())
    if custom_resource.is_custom_resource(event):
        return custom_resource.handle(event, deps.tripper)
    logger.append_keys(task=event.get("task"), incident_id=(event.get("incident") or {}).get("incident_id"))
    return tasks.dispatch(event, deps)
