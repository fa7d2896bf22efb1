"""Inventory: keeps every application inference profile of the organization, its owner, its tag
compliance and its token-rate alarms; publishes the attributable share of Bedrock spend.

Wiring only: the work is in tokenfuse.inventory. Three triggers, each an explicit model
(tokenfuse.inventory.triggers): SQS records (one account each, partial batch failure), CloudTrail
profile changes, the daily schedule. Any other event is refused with one line and changes nothing.
The correlation id is the inventory's own: the CloudTrail event's id, or the sweep's id.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.composition import own_account
from tokenfuse.inventory import runtime
from tokenfuse.inventory.cloudtrail import ProfileChange
from tokenfuse.inventory.config import InventorySettings
from tokenfuse.inventory.triggers import DailySweep, Refusal, read_trigger
from tokenfuse.observability import EVENT_BRIDGE_ID, lambda_handler_shell, logger


@lambda_handler_shell(correlation_id_path=EVENT_BRIDGE_ID)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    deps = runtime.dependencies(InventorySettings.from_env())  # a broken environment fails here
    trigger = read_trigger(event)
    if isinstance(trigger, Refusal):
        return runtime.refuse(trigger, event)
    inventory = deps.inventory(own_account(context))
    if isinstance(trigger, ProfileChange):
        logger.append_keys(trigger="cloudtrail")
        return runtime.handle_cloudtrail(trigger, inventory)
    if isinstance(trigger, DailySweep):
        logger.append_keys(trigger="schedule")
        return runtime.handle_schedule(trigger, inventory)
    logger.append_keys(trigger="sweep-records")
    return runtime.handle_sweep_records(event, inventory, context)
