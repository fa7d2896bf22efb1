"""DrillFunction: the scheduled fire drill, and the stack delete's canary cleanup (tokenfuse.drill).

Wiring only: the schedule's input runs one drill (tokenfuse.drill.scheduled.run_scheduled), a
CloudFormation custom-resource event deletes what drills left, anything else is refused in one line.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse import clock
from tokenfuse.drill import scheduled
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.observability import logger, metrics, tracer
from tokenfuse.remediation.custom_resource import is_custom_resource


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = DrillSettings.from_env()  # a broken environment fails here, before the event is read
    if is_custom_resource(event):
        return scheduled.on_stack_event(event, settings)
    trigger = scheduled.read_trigger(event)
    if isinstance(trigger, str):
        logger.warning(f"refused: {trigger}")
        return {"refused": trigger}
    logger.append_keys(schedule=trigger.schedule_arn, scheduled_time=trigger.scheduled_time)
    report = scheduled.run_scheduled(settings, context.get_remaining_time_in_millis(), now=clock.now)
    return report.to_json()
