"""DrillFunction: the scheduled fire drill, and the stack delete's canary cleanup (tokenfuse.drill).

Wiring only (the work is in tokenfuse.drill.scheduled): the schedule's input runs one drill, a
CloudFormation custom-resource event deletes what drills left, anything else is refused in one line.
The correlation id is the stack event's RequestId, or the drill's run id once it has one.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse import clock
from tokenfuse.drill.scheduled import CORRELATION_ID_PATH, dependencies, read_trigger
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.observability import lambda_handler_shell, logger, metrics
from tokenfuse.remediation.custom_resource import is_custom_resource


@lambda_handler_shell(correlation_id_path=CORRELATION_ID_PATH)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(DrillSettings.from_env())  # a broken environment fails here
    if is_custom_resource(event):
        return deps.stack_event(event)
    trigger = read_trigger(event)
    if isinstance(trigger, str):
        logger.warning(f"refused: {trigger}")
        metrics.add_metric(name="DrillEventsRefused", unit=MetricUnit.Count, value=1)
        return {"refused": trigger}
    logger.append_keys(schedule=trigger.schedule_arn, scheduled_time=trigger.scheduled_time)
    return deps.scheduled_drill(context.get_remaining_time_in_millis(), clock.now).to_json()
