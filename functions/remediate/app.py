"""RemediateFunction: the remediation state machine's tasks, and the restore-on-delete custom resource.

The correlation id is the incident's first dedup key (the spike's id since intake), read from the
execution input every task receives; ``task`` and ``incident_id`` join every line.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.observability import correlate, lambda_handler_shell
from tokenfuse.remediation import custom_resource
from tokenfuse.remediation.settings import RemediateSettings
from tokenfuse.remediation.wiring import CORRELATION_ID_PATH, invocation_deps, log_keys, run_task


@lambda_handler_shell(correlation_id_path=CORRELATION_ID_PATH)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = invocation_deps(RemediateSettings.from_env(), context)  # a broken environment fails here
    if custom_resource.is_custom_resource(event):
        return custom_resource.handle(event, deps.tripper)
    correlate(None, **log_keys(event))
    return run_task(event, deps)
