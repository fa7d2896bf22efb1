"""The inventory table (DynamoDB, key ``profile_arn``): one item per application inference profile.

Attribution reads owners from here first: :func:`get_profile_record`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters import dynamodb
from tokenfuse.adapters.aws import aws_call
from tokenfuse.inventory.models import ProfileRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

TABLE_ENV = "INVENTORY_TABLE_NAME"
ACCOUNT_INDEX_ENV = "INVENTORY_ACCOUNT_INDEX"


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(record: ProfileRecord) -> dynamodb.Item:
    return dynamodb.to_item(_to_dynamo(record.model_dump(mode="json")))


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> ProfileRecord:
    return ProfileRecord.model_validate(_from_dynamo(dynamodb.from_item(item)))


class InventoryTable(dynamodb.DynamoTable):
    """Reads and writes inventory records. ``account_index`` (a GSI keyed ``account_id``) is used
    when set; without it, per-account reads scan with a filter."""

    def __init__(
        self, table_name: str, dynamodb_client: DynamoDBClient | None = None, account_index: str | None = None
    ) -> None:
        super().__init__(table_name, dynamodb_client)
        self.account_index = account_index

    def get(self, profile_arn: str) -> ProfileRecord | None:
        with aws_call("dynamodb:GetItem", resource=self.table_name):
            item = self.client.get_item(
                TableName=self.table_name, Key={"profile_arn": {"S": profile_arn}}, ConsistentRead=True
            ).get("Item")
        return from_item(item) if item else None

    def put(self, record: ProfileRecord) -> None:
        with aws_call("dynamodb:PutItem", resource=self.table_name):
            self.client.put_item(TableName=self.table_name, Item=to_item(record))

    def delete(self, profile_arn: str) -> ProfileRecord | None:
        """Delete the record; return what it held (None when there was none)."""
        with aws_call("dynamodb:DeleteItem", resource=self.table_name):
            old = self.client.delete_item(
                TableName=self.table_name, Key={"profile_arn": {"S": profile_arn}}, ReturnValues="ALL_OLD"
            ).get("Attributes")
        return from_item(old) if old else None

    def for_account(self, account_id: str) -> list[ProfileRecord]:
        """Every record of one account (all regions)."""
        items: Iterator[dynamodb.Item]
        if self.account_index:
            items = dynamodb.query(
                self.client,
                {
                    "TableName": self.table_name,
                    "IndexName": self.account_index,
                    "KeyConditionExpression": "account_id = :a",
                    "ExpressionAttributeValues": {":a": {"S": account_id}},
                },
            )
        else:
            items = dynamodb.scan(
                self.client,
                {
                    "TableName": self.table_name,
                    "FilterExpression": "account_id = :a",
                    "ExpressionAttributeValues": {":a": {"S": account_id}},
                },
            )
        return [from_item(i) for i in items]

    def all(self) -> list[ProfileRecord]:
        return [from_item(i) for i in dynamodb.scan(self.client, {"TableName": self.table_name})]


def get_profile_record(
    profile_arn: str, table_name: str | None = None, dynamodb_client: DynamoDBClient | None = None
) -> ProfileRecord | None:
    """The inventory's record of a profile (owner team, tags, models), or None when unknown.

    The table name defaults to ``INVENTORY_TABLE_NAME`` from the environment.
    """
    name = table_name or os.environ[TABLE_ENV]
    return InventoryTable(name, dynamodb_client).get(profile_arn)
