"""Attribute: a "Spend Signal" from the bus in, a "Spike Attributed" on the bus out.

Thin wiring: parse the EventBridge event (its ``detail`` is a SpendSignal) and hand it to
tokenfuse.attribution.wiring, which attributes and publishes it. Settings come from the
environment, validated before the first event is read (not at import). The correlation id is the
signal's ``dedup_key``.
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.attribution import AttributeSettings
from tokenfuse.attribution.wiring import attribute_signal, dependencies
from tokenfuse.composition import own_account
from tokenfuse.events import SpendSignal
from tokenfuse.observability import lambda_handler_shell


class SpendSignalEvent(EventBridgeModel):
    detail: SpendSignal


@lambda_handler_shell(correlation_id_path="detail.dedup_key")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies(AttributeSettings.from_env())  # a broken environment fails before the event is read
    return attribute_signal(parse(event=event, model=SpendSignalEvent).detail, deps, own_account(context))
