"""The inventory function's entry points, by trigger (the handler only wires these up).

The event's shape says which trigger it is: SQS ``Records`` (one account to sweep per record),
an EventBridge CloudTrail event (one profile changed), or anything else from the schedule
(EventBridge Scheduler delivers the schedule's ``Input``; ``{"action": "daily-sweep"}``).
"""

import json
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tokenfuse.adapters.aws import MemberSessions
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.errors import SignalError
from tokenfuse.inventory.cloudtrail import is_cloudtrail_event, profile_change
from tokenfuse.inventory.config import InventorySettings
from tokenfuse.inventory.owners import load_team_resolver
from tokenfuse.inventory.service import Inventory
from tokenfuse.observability import logger, metrics

Trigger = Literal["sweep-records", "cloudtrail", "schedule"]


def trigger_of(event: dict[str, Any]) -> Trigger:
    records = event.get("Records")
    if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
        return "sweep-records"
    if is_cloudtrail_event(event):
        return "cloudtrail"
    return "schedule"


def build_inventory(settings: InventorySettings | None = None) -> Inventory:
    """A fresh Inventory for one invocation (assumed-role sessions never outlive it)."""
    settings = settings or InventorySettings.from_env()
    return Inventory(
        settings=settings,
        table=InventoryTable(settings.table_name, account_index=settings.account_index),
        teams=load_team_resolver(settings.team_directory_parameter),
        bus=EventBus(settings.event_bus_name),
        sessions=MemberSessions(settings.member_role_name, "tokenfuse-inventory"),
    )


def handle_cloudtrail(event: dict[str, Any], inventory: Inventory) -> dict[str, Any]:
    try:
        change = profile_change(event)
    except SignalError as error:
        logger.info("CloudTrail event ignored", reason=str(error), event_id=event.get("id"))
        return {"ignored": str(error)}
    result = inventory.apply_change(change)
    logger.info(
        "profile change applied",
        event_name=change.event_name,
        profile_arn=result.profile_arn,
        action=result.action,
        compliant=result.compliant,
    )
    return {"profile_arn": result.profile_arn, "action": result.action, "compliant": result.compliant}


def handle_schedule(inventory: Inventory) -> dict[str, Any]:
    """Fan the sweep out, then publish yesterday's attributable % (a failure there is logged:
    the sweep matters more)."""
    accounts = inventory.fan_out()
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


def sweep_record(record: SQSRecord, inventory: Inventory) -> dict[str, Any]:
    """Sweep the account one SQS message names; on failure count it, log the account, re-raise
    (the batch processor reports this record alone as failed)."""
    body = json.loads(record.body)
    account_id = str(body["account_id"])
    try:
        result = inventory.sweep_account(account_id, body.get("regions"))
    except Exception as error:
        metrics.add_metric(name="InventorySweepFailures", unit=MetricUnit.Count, value=1)
        logger.error(
            f"inventory sweep of account {account_id} failed: {error}",
            account_id=account_id,
            sweep_id=body.get("sweep_id"),
            error_type=type(error).__name__,
            receive_count=record.attributes.approximate_receive_count,
        )
        raise
    metrics.add_metric(name="InventoryAccountsSwept", unit=MetricUnit.Count, value=1)
    logger.info("account swept", sweep_id=body.get("sweep_id"), **vars(result))
    return vars(result)
