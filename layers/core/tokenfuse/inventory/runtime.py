"""The inventory function's entry points, by trigger (the handler only wires these up).

:func:`tokenfuse.inventory.triggers.read_trigger` says which trigger an event is: SQS records of
the sweep queue (one account each), a CloudTrail profile change, or the daily schedule; anything
else is refused here with one line, and changes nothing.
"""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from tokenfuse.adapters.aws import MemberSessions
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.composition import composition_root
from tokenfuse.inventory.cloudtrail import ProfileChange
from tokenfuse.inventory.config import InventorySettings
from tokenfuse.inventory.owners import load_team_resolver
from tokenfuse.inventory.service import Inventory, new_sweep_id
from tokenfuse.inventory.triggers import DailySweep, Refusal, SweepMessageRefused, sweep_message
from tokenfuse.observability import correlate, logger, metrics
from tokenfuse.text import one_line

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class InventoryDependencies:
    """What the inventory keeps per container: its table and the bus."""

    settings: InventorySettings
    table: InventoryTable
    bus: EventBus

    def inventory(self, own_account: str | None = None) -> Inventory:
        """A fresh Inventory for one invocation: its member-role sessions are the container's kept
        ones (:func:`tokenfuse.adapters.aws.kept_role_session`), and the team directory is re-read
        (through Powertools' max-age cache) so an edit reaches a warm container."""
        return Inventory(
            settings=self.settings,
            table=self.table,
            teams=load_team_resolver(self.settings.team_directory_parameter),
            bus=self.bus,
            sessions=MemberSessions(
                self.settings.member_role_name, "tokenfuse-inventory", own_account=own_account
            ),
        )


@composition_root
def dependencies(settings: InventorySettings) -> InventoryDependencies:
    """InventoryFunction's composition root (:mod:`tokenfuse.composition`)."""
    return InventoryDependencies(
        settings,
        InventoryTable(settings.table_name, account_index=settings.account_index),
        EventBus(settings.event_bus_name),
    )


def build_inventory(settings: InventorySettings | None = None) -> Inventory:
    """The Inventory for one invocation (see :meth:`InventoryDependencies.inventory`)."""
    return dependencies(settings or InventorySettings.from_env()).inventory()


def refuse(refusal: Refusal, event: object) -> dict[str, Any]:
    """Log why the event is ignored (one line) and say so; nothing is read, written or sent."""
    event_id = one_line(event.get("id"), 80) if isinstance(event, dict) and "id" in event else None
    label = "CloudTrail event" if refusal.trigger == "cloudtrail" else "inventory event"
    logger.warning(f"{label} ignored: {refusal.reason}", trigger=refusal.trigger, event_id=event_id)
    metrics.add_metric(name="InventoryEventsIgnored", unit=MetricUnit.Count, value=1)
    return {"ignored": refusal.reason} if refusal.trigger == "cloudtrail" else {"refused": refusal.reason}


def handle_cloudtrail(change: ProfileChange, inventory: Inventory) -> dict[str, Any]:
    result = inventory.apply_change(change)
    logger.info(
        "profile change applied",
        event_name=change.event_name,
        profile_arn=result.profile_arn,
        action=result.action,
        compliant=result.compliant,
    )
    return {"profile_arn": result.profile_arn, "action": result.action, "compliant": result.compliant}


def handle_schedule(schedule: DailySweep, inventory: Inventory) -> dict[str, Any]:
    """Fan the sweep out, then publish yesterday's attributable % (a failure there is logged:
    the sweep matters more)."""
    sweep_id = new_sweep_id()
    correlate(sweep_id)
    logger.info("daily sweep", schedule_arn=schedule.schedule_arn, scheduled_time=schedule.scheduled_time)
    accounts = inventory.fan_out(sweep_id)
    percent: float | None = None
    try:
        share = inventory.attributable()
        percent = share.percent
        logger.info(
            "attributable share of Bedrock spend",
            percent=percent,
            total_usd=share.total_usd,
            untagged_usd=share.untagged_usd,
            unknown_team_usd=share.unknown_team_usd,
        )
        if percent is not None:
            metrics.add_metric(name="AttributablePercent", unit=MetricUnit.Percent, value=percent)
    except Exception:
        logger.exception("attributable % not computed")
        metrics.add_metric(name="AttributablePercentFailures", unit=MetricUnit.Count, value=1)
    return {"accounts": accounts, "attributable_percent": percent}


@cache
def _sweep_processor() -> "BatchProcessor":
    """The sweep queue's batch processor, built at the first sweep delivery: Powertools' batch
    utility and its data classes load only on that path (a CloudTrail change or the schedule never
    pays for them). A batch whose every account fails still answers with its failures (as intake
    does): SQS retries exactly those accounts, then dead-letters them."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_sweep_records(
    event: dict[str, Any], inventory: Inventory, context: "LambdaContext"
) -> dict[str, Any]:
    """The sweep queue's records, one account each (:func:`sweep_record`), with partial batch failure."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    def record_handler(record: "SQSRecord") -> dict[str, Any]:
        return sweep_record(record, inventory)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=_sweep_processor(), context=context
        )
    )


def sweep_record(record: "SQSRecord", inventory: Inventory) -> dict[str, Any]:
    """Sweep the account one SQS message names; on failure count it, log it in one line, re-raise
    (the batch processor reports this record alone as failed: retried, then dead-lettered). A body
    that is not one account to sweep is refused before anything is read."""
    receive_count = record.attributes.approximate_receive_count
    try:
        message = sweep_message(record.raw_event)
    except SweepMessageRefused as refusal:
        metrics.add_metric(name="InventorySweepMessagesRefused", unit=MetricUnit.Count, value=1)
        logger.error(
            f"sweep message refused: {refusal}", message_id=record.message_id, receive_count=receive_count
        )
        raise
    account_id = message.account_id
    correlate(message.sweep_id or record.message_id)
    try:
        result = inventory.sweep_account(account_id, message.regions)
    except Exception as error:
        metrics.add_metric(name="InventorySweepFailures", unit=MetricUnit.Count, value=1)
        logger.error(
            f"inventory sweep of account {account_id} failed: {one_line(error)}",
            account_id=account_id,
            sweep_id=message.sweep_id,
            error_type=type(error).__name__,
            receive_count=receive_count,
        )
        raise
    metrics.add_metric(name="InventoryAccountsSwept", unit=MetricUnit.Count, value=1)
    logger.info("account swept", sweep_id=message.sweep_id, **vars(result))
    return vars(result)
