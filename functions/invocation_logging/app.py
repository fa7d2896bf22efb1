"""InvocationLogging: the custom resource that connects the meter to Bedrock's model invocation
logs in the stack's account and region (never overwriting a logging configuration, never taking
a subscription-filter slot silently).

Wiring only: the work is in tokenfuse.meter.logging_setup.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.adapters.invocation_logging import InvocationLogging
from tokenfuse.meter.logging_setup import InvocationLoggingSettings, handle
from tokenfuse.observability import lambda_handler_shell


@lambda_handler_shell(correlation_id_path="RequestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    InvocationLoggingSettings.from_env()  # a broken environment fails before the request is read
    return handle(event, InvocationLogging())
