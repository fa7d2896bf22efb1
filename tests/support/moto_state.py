"""moto's own state, written and read directly where a test puts its world back between cases or
checks what a case left: no API call (so nothing a recorder or fault injector watches sees it, and a
case pays nothing for it)."""

from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends


def empty_table(name: str, region: str, account: str = DEFAULT_ACCOUNT_ID) -> None:
    """Every item of moto's DynamoDB table ``name`` gone (its key schema and indexes stay)."""
    dynamodb_backends[account][region].get_table(name).items.clear()


def table_items(name: str, region: str, account: str = DEFAULT_ACCOUNT_ID) -> list[dict[str, Any]]:
    """Every item of moto's DynamoDB table ``name``, in DynamoDB's JSON (as a Scan returns it)."""
    table = dynamodb_backends[account][region].get_table(name)
    return [item.to_json()["Attributes"] for item in table.all_items()]


def alarm_thresholds(region: str, account: str = DEFAULT_ACCOUNT_ID) -> list[tuple[str, float]]:
    """(name, threshold) of every CloudWatch alarm moto holds in ``region``, sorted."""
    alarms = cloudwatch_backends[account][region].alarms.values()
    return sorted((alarm.name, float(alarm.threshold)) for alarm in alarms)
