"""Meter: a CloudWatch Logs subscription delivery of Bedrock model invocation records in; the
counters added, and a "Spend Rate" event on tokenfuse's bus when a burn rate holds above its
threshold.

Wiring only: the work is in tokenfuse.meter. The function never raises for what is in the
delivery (a record that does not parse is refused and counted; records the counters table did not
take go, without their text, to the meter's dead-letter queue), so Lambda's asynchronous retries
never add a delivery twice and its failure destinations never hold prompt or completion text.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.composition import own_account
from tokenfuse.meter.wiring import MeterSettings, dependencies, meter_delivery
from tokenfuse.observability import lambda_handler_shell


@lambda_handler_shell()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(MeterSettings.from_env())  # a broken environment fails before the event is read
    return meter_delivery(event, deps, own_account(context))
