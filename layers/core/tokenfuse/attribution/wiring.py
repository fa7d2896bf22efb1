"""AttributeFunction's composition root and its one entry point (the handler only wires these up).

:func:`dependencies` holds, per container, the bus and the inventory table (owners and scopes as
the inventory recorded them, kept current by CloudTrail events). The :class:`Attributor` is built
per invocation (:meth:`AttributeDependencies.attributor`): its client factory assumes the member
role in other accounts, and those credentials must not outlive the invocation.
"""

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.attribution.service import AttributeSettings, Attributor, AwsClientFactory, should_publish
from tokenfuse.composition import composition_root
from tokenfuse.events import SpendSignal
from tokenfuse.observability import logger, metrics


def build_attributor(
    config: AttributeSettings, inventory: InventoryTable | None = None, own_account: str | None = None
) -> Attributor:
    """The Attributor with real AWS clients, for one invocation (tests replace this function to
    inject fakes). Owners come from the inventory table first, Bedrock's tags otherwise;
    ``own_account`` is the function's account (None: asked of STS when first needed)."""
    known_tags = known_scopes = None
    if inventory is not None:
        table = inventory

        def known_tags(arn: str) -> dict[str, str] | None:
            record = table.get(arn)
            return None if record is None else dict(record.tags)

        def known_scopes() -> list[tuple[str, str]]:
            return sorted({(r.account_id, r.region) for r in table.all()})

    return Attributor(
        AwsClientFactory(config.member_role_name, own_account=own_account),
        config,
        known_tags=known_tags,
        known_scopes=known_scopes,
    )


@dataclass(frozen=True)
class AttributeDependencies:
    settings: AttributeSettings
    bus: EventBus
    inventory: InventoryTable | None

    def attributor(self, own_account: str | None = None) -> Attributor:
        """A new Attributor for this invocation (its member-role sessions are the container's kept
        ones: :func:`tokenfuse.adapters.aws.kept_role_session`)."""
        return build_attributor(self.settings, self.inventory, own_account)


@composition_root
def dependencies(settings: AttributeSettings) -> AttributeDependencies:
    """AttributeFunction's composition root (:mod:`tokenfuse.composition`)."""
    inventory = InventoryTable(settings.inventory_table_name) if settings.inventory_table_name else None
    return AttributeDependencies(settings, EventBus(settings.event_bus_name), inventory)


def attribute_signal(
    signal: SpendSignal, deps: AttributeDependencies, own_account: str | None = None
) -> dict[str, Any]:
    """Attribute one signal; publish the SpikeAttributed when there is something to act on (a
    culprit whose cost grew, direct model calls included, or a profile the signal names) and return
    its ``to_bus()`` dict; otherwise log "no culprit" and return a dict that says so."""
    logger.append_keys(signal_source=signal.source)
    result = deps.attributor(own_account).attribute(signal)
    metrics.add_metric(name="Culprits", unit=MetricUnit.Count, value=len(result.culprits))
    # CloudWatch has no currency unit: dollars are unit-less figures
    metrics.add_metric(name="SpikeUsd", unit=MetricUnit.NoUnit, value=result.spike_usd)
    metrics.add_metric(name="DirectModelSpikeUsd", unit=MetricUnit.NoUnit, value=result.direct_model_usd)
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
    deps.bus.put(result)
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


__all__ = ["AttributeDependencies", "attribute_signal", "build_attributor", "dependencies"]
