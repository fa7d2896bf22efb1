"""moto set up for the inventory function: its environment, its table exactly as template.yaml
declares it, the team directory parameter, its sweep queue and the tokenfuse bus with a tap queue
on the inventory's events."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from tokenfuse_sandbox.emulation import bedrock_profiles
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "tokenfuse-inventory-dev"
BUS = "tokenfuse-dev"
DIRECTORY_PARAMETER = "/tokenfuse/dev/teams"


def inventory_env(regions: str) -> dict[str, str]:
    """InventoryFunction's environment as template.yaml sets it (moto credentials included)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "tokenfuse",
        "POWERTOOLS_METRICS_NAMESPACE": "Tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "EVENT_BUS_NAME": BUS,
        "MEMBER_ROLE_NAME": "tokenfuse-member",
        "TEAM_TAG_KEY": "team",
        "ENVIRONMENT_TAG_KEY": "environment",
        "INVENTORY_TABLE_NAME": TABLE,
        "TEAM_DIRECTORY_PARAMETER": DIRECTORY_PARAMETER,
        "MANDATORY_TAG_KEYS": "team,environment",
        "INVENTORY_REGIONS": regions,
    }


@dataclass(frozen=True)
class InventoryAws:
    sweep_queue: str
    """URL of the sweep queue (INVENTORY_SWEEP_QUEUE_URL)."""
    bus_tap: str
    """URL of a queue receiving every event the inventory puts on the bus that matches the tap."""


@contextmanager
def inventory_aws(
    patch: pytest.MonkeyPatch, teams_yaml: str, regions: str, tap: dict[str, Any] | None = None
) -> Iterator[InventoryAws]:
    """Inside: moto active with the inventory's environment, table, directory, queue and bus."""
    for name, value in inventory_env(regions).items():
        patch.setenv(name, value)
    patch.delenv("MOTO_ACCOUNT_ID", raising=False)
    patch.delenv("BUDGETS_ROLE_ARN", raising=False)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
    bedrock_profiles.install()
    with mock_aws():
        table = load_yaml(ROOT / "template.yaml")["Resources"]["InventoryTable"]["Properties"]
        keys = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
        schema = {key: table[key] for key in keys if key in table}
        boto3.client("dynamodb", REGION).create_table(TableName=TABLE, **schema)
        boto3.client("ssm", REGION).put_parameter(Name=DIRECTORY_PARAMETER, Value=teams_yaml, Type="String")
        sqs, events = boto3.client("sqs", REGION), boto3.client("events", REGION)
        sweep_queue = sqs.create_queue(QueueName="tokenfuse-inventory-sweep-dev")["QueueUrl"]
        patch.setenv("INVENTORY_SWEEP_QUEUE_URL", sweep_queue)
        bus_tap = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=bus_tap, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.create_event_bus(Name=BUS)
        pattern = tap or {"source": ["tokenfuse.inventory"]}
        events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps(pattern))
        events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "q", "Arn": tap_arn}])
        yield InventoryAws(sweep_queue, bus_tap)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
