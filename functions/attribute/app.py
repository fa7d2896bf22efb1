"""Attribute: a "Spend Signal" from the bus in, a "Spike Attributed" on the bus out.

Thin wiring: parse the EventBridge event (its ``detail`` is a SpendSignal), attribute it, publish
the SpikeAttributed when there is something to act on (a culprit whose cost grew, direct model
calls included, or a profile the signal names), and return its ``to_bus()`` dict; otherwise log
"no culprit" and return a dict that says so. Settings come from the environment, validated before
the first event (not at import).
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.attribution import AttributeSettings, Attributor, AwsClientFactory, should_publish
from tokenfuse.events import SpendSignal
from tokenfuse.observability import logger, metrics, tracer


class SpendSignalEvent(EventBridgeModel):
    detail: SpendSignal


@cache
def settings() -> AttributeSettings:
    return AttributeSettings.from_env()


def build_attributor(config: AttributeSettings) -> Attributor:
    """The Attributor with real AWS clients (tests replace this function to inject fakes).

    Owners come from the inventory table first (kept current by CloudTrail events), Bedrock's tags
    otherwise."""
    known_tags = known_scopes = None
    if config.inventory_table_name:
        inventory = InventoryTable(config.inventory_table_name)

        def known_tags(arn: str) -> dict[str, str] | None:
            record = inventory.get(arn)
            return None if record is None else dict(record.tags)

        def known_scopes() -> list[tuple[str, str]]:
            return sorted({(r.account_id, r.region) for r in inventory.all()})

    return Attributor(
        AwsClientFactory(config.member_role_name),
        config,
        known_tags=known_tags,
        known_scopes=known_scopes,
    )


@cache
def _attributor() -> Attributor:
    return build_attributor(settings())


@cache
def _bus() -> EventBus:
    return EventBus(settings().event_bus_name)


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings()  # a broken environment fails here, before the event is read
    signal = parse(event=event, model=SpendSignalEvent).detail
    logger.append_keys(signal_source=signal.source, dedup_key=signal.dedup_key)
    result = _attributor().attribute(signal)
    metrics.add_metric(name="Culprits", unit=MetricUnit.Count, value=len(result.culprits))
    metrics.add_metric(name="SpikeUsd", unit=MetricUnit.Count, value=result.spike_usd)
    metrics.add_metric(name="DirectModelSpikeUsd", unit=MetricUnit.Count, value=result.direct_model_usd)
    if not should_publish(result):
        logger.info(
            "no culprit", extra={"spike_usd": result.spike_usd, "window_start": str(result.window_start)}
        )
        metrics.add_metric(name="NoCulprit", unit=MetricUnit.Count, value=1)
        return {
            "published": False,
            "reason": "no culprit",
            "dedup_key": signal.dedup_key,
            "spike_usd": result.spike_usd,
            "unattributed_usd": result.unattributed_usd,
        }
    _bus().put(result)
    top = result.culprits[0] if result.culprits else None
    logger.info(
        "spike attributed",
        extra={
            "severity": result.severity,
            "spike_usd": result.spike_usd,
            "culprit": top.subject_key if top else None,
            "team": top.team if top else None,
            "kind": top.kind if top else None,
        },
    )
    metrics.add_metric(name="SpikesAttributed", unit=MetricUnit.Count, value=1)
    return result.to_bus()
