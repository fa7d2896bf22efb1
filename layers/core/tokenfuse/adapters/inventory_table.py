"""The inventory table (DynamoDB, key ``profile_arn``): one item per application inference profile.

Attribution reads owners from here first: :func:`get_profile_record`.
"""

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import client as aws_client
from tokenfuse.adapters.aws import translate
from tokenfuse.inventory.models import ProfileRecord

TABLE_ENV = "INVENTORY_TABLE_NAME"
ACCOUNT_INDEX_ENV = "INVENTORY_ACCOUNT_INDEX"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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


def to_item(record: ProfileRecord) -> dict[str, Any]:
    plain = _to_dynamo(record.model_dump(mode="json"))
    return {k: _serializer.serialize(v) for k, v in plain.items()}


def from_item(item: dict[str, Any]) -> ProfileRecord:
    plain = {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}
    return ProfileRecord.model_validate(plain)


class InventoryTable:
    """Reads and writes inventory records. ``account_index`` (a GSI keyed ``account_id``) is used
    when set; without it, per-account reads scan with a filter."""

    def __init__(self, table_name: str, dynamodb_client: Any | None = None, account_index: str | None = None):
        self.table_name = table_name
        self.account_index = account_index
        self._client = dynamodb_client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    def get(self, profile_arn: str) -> ProfileRecord | None:
        try:
            item = self.client.get_item(
                TableName=self.table_name, Key={"profile_arn": {"S": profile_arn}}, ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise translate(error) from error
        return from_item(item) if item else None

    def put(self, record: ProfileRecord) -> None:
        try:
            self.client.put_item(TableName=self.table_name, Item=to_item(record))
        except ClientError as error:
            raise translate(error) from error

    def delete(self, profile_arn: str) -> ProfileRecord | None:
        """Delete the record; return what it held (None when there was none)."""
        try:
            old = self.client.delete_item(
                TableName=self.table_name, Key={"profile_arn": {"S": profile_arn}}, ReturnValues="ALL_OLD"
            ).get("Attributes")
        except ClientError as error:
            raise translate(error) from error
        return from_item(old) if old else None

    def _pages(self, operation: str, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            try:
                page = getattr(self.client, operation)(**kwargs)
            except ClientError as error:
                raise translate(error) from error
            yield from page.get("Items", [])
            key = page.get("LastEvaluatedKey")
            if not key:
                return
            kwargs["ExclusiveStartKey"] = key

    def for_account(self, account_id: str) -> list[ProfileRecord]:
        """Every record of one account (all regions)."""
        if self.account_index:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": self.account_index,
                "KeyConditionExpression": "account_id = :a",
                "ExpressionAttributeValues": {":a": {"S": account_id}},
            }
            return [from_item(i) for i in self._pages("query", kwargs)]
        kwargs = {
            "TableName": self.table_name,
            "FilterExpression": "account_id = :a",
            "ExpressionAttributeValues": {":a": {"S": account_id}},
        }
        return [from_item(i) for i in self._pages("scan", kwargs)]

    def all(self) -> list[ProfileRecord]:
        return [from_item(i) for i in self._pages("scan", {"TableName": self.table_name})]


def get_profile_record(
    profile_arn: str, table_name: str | None = None, dynamodb_client: Any | None = None
) -> ProfileRecord | None:
    """The inventory's record of a profile (owner team, tags, models), or None when unknown.

    The table name defaults to ``INVENTORY_TABLE_NAME`` from the environment.
    """
    name = table_name or os.environ[TABLE_ENV]
    return InventoryTable(name, dynamodb_client).get(profile_arn)
