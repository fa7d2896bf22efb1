"""The incidents table (key schema pk/sk, TTL ``expires_at``).

Items:

- ``pk=INCIDENT#<incident id>``, ``sk=INCIDENT``: the incident as JSON (``doc``), its ``version``
  (optimistic locking), and ``status``/``team``/``profile_arn``/``opened_at``/``last_signal_at``
  copied out for filters. Kept 90 days after the last signal.
- ``pk=PROFILE#<profile arn>``, ``sk=CURRENT``: the profile's current incident id (for spend no
  profile explains, ``PROFILE#direct-model/<account>/<region>/<model>``). Opening an
  incident writes both in one transaction, conditioned on the pointer still naming the incident
  the writer saw, so concurrent signals cannot open two incidents for one spike.
- ``pk=POSTS#<team or finops>``, ``sk=<10-minute bucket>``: new top-level posts in that bucket,
  the thread and digest reply that overflow goes to (per-team rate limit); kept a day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tokenfuse.adapters import dynamodb
from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import ConditionFailed
from tokenfuse.events import Incident
from tokenfuse.incidents import expires_at

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef

INCIDENT_SK = "INCIDENT"
POINTER_SK = "CURRENT"
RATE_BUCKET = timedelta(minutes=10)


@dataclass(frozen=True)
class PostSlot:
    """A claim on a team's top-level post budget for the current 10-minute bucket."""

    owner: str
    bucket: str
    allowed: bool
    count: int
    thread_channel: str | None = None
    thread_ts: str | None = None
    digest_ts: str | None = None
    digest_lines: tuple[str, ...] = ()


class IncidentsTable(dynamodb.DynamoTable):
    # -- incidents ---------------------------------------------------------------------------------

    def current(self, profile_arn: str) -> tuple[Incident, int] | None:
        pointer = self._get(f"PROFILE#{profile_arn}", POINTER_SK)
        if pointer is None:
            return None
        return self.get(pointer["incident_id"]["S"])

    def get(self, incident_id: str) -> tuple[Incident, int] | None:
        item = self._get(f"INCIDENT#{incident_id}", INCIDENT_SK)
        if item is None:
            return None
        return Incident.model_validate_json(item["doc"]["S"]), int(item["version"]["N"])

    def open(self, incident: Incident, previous_incident_id: str | None) -> bool:
        """Write the incident and point its subject at it, in one transaction; False when another
        writer got there first (the pointer no longer names ``previous_incident_id``)."""
        pointer: PutTypeDef = {
            "TableName": self.table_name,
            "Item": {
                "pk": {"S": f"PROFILE#{incident.subject_key}"},
                "sk": {"S": POINTER_SK},
                "incident_id": {"S": incident.incident_id},
                "expires_at": {"N": str(expires_at(incident))},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if previous_incident_id is not None:
            pointer["ConditionExpression"] = "incident_id = :previous"
            pointer["ExpressionAttributeValues"] = {":previous": {"S": previous_incident_id}}
        document: PutTypeDef = {
            "TableName": self.table_name,
            "Item": self._incident_item(incident, 1),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            with aws_call("dynamodb:TransactWriteItems", resource=self.table_name):
                self.client.transact_write_items(TransactItems=[{"Put": document}, {"Put": pointer}])
        except ConditionFailed:
            return False
        return True

    def save(self, incident: Incident, version: int) -> bool:
        try:
            with aws_call("dynamodb:PutItem", resource=self.table_name):
                self.client.put_item(
                    TableName=self.table_name,
                    Item=self._incident_item(incident, version + 1),
                    ConditionExpression="version = :version",
                    ExpressionAttributeValues={":version": {"N": str(version)}},
                )
        except ConditionFailed:
            return False
        # Keep the pointer alive as long as its incident.
        self._update_pointer_ttl(incident)
        return True

    def incidents(self, limit: int = 500) -> list[Incident]:
        """Every incident still kept (newest first): a scan, fine for a 90-day table of spikes."""
        found = [Incident.model_validate_json(item["doc"]["S"]) for item in self._scan_incidents()]
        found.sort(key=lambda i: i.opened_at, reverse=True)
        return found[:limit]

    def _scan_incidents(self) -> Iterator[dynamodb.Item]:
        return dynamodb.scan(
            self.client,
            {
                "TableName": self.table_name,
                "FilterExpression": "sk = :sk",
                "ExpressionAttributeValues": {":sk": {"S": INCIDENT_SK}},
            },
        )

    # -- per-team post budget ----------------------------------------------------------------------

    def claim_post_slot(self, owner: str, now: datetime, limit: int) -> PostSlot:
        """Count one more top-level post for ``owner`` in the current bucket (allowed while <= limit)."""
        bucket = _bucket(now)
        with aws_call("dynamodb:UpdateItem", resource=self.table_name):
            item = self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"POSTS#{owner}"}, "sk": {"S": bucket}},
                UpdateExpression="ADD posts :one SET expires_at = :ttl",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(int((now + timedelta(days=1)).timestamp()))},
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        count = int(item["posts"]["N"])
        return PostSlot(
            owner=owner,
            bucket=bucket,
            allowed=count <= limit,
            count=count,
            thread_channel=item.get("thread_channel", {}).get("S"),
            thread_ts=item.get("thread_ts", {}).get("S"),
            digest_ts=item.get("digest_ts", {}).get("S"),
            digest_lines=tuple(v["S"] for v in item.get("digest_lines", {}).get("L", [])),
        )

    def record_post(self, slot: PostSlot, channel: str, ts: str) -> None:
        """The latest allowed top-level post: where this bucket's overflow goes as a digest."""
        self._update_slot(
            slot, "SET thread_channel = :c, thread_ts = :t", {":c": {"S": channel}, ":t": {"S": ts}}
        )

    def record_digest(self, slot: PostSlot, digest_ts: str, lines: list[str]) -> None:
        self._update_slot(
            slot,
            "SET digest_ts = :d, digest_lines = :l",
            {":d": {"S": digest_ts}, ":l": {"L": [{"S": line} for line in lines]}},
        )

    def _update_slot(self, slot: PostSlot, expression: str, values: dynamodb.Item) -> None:
        with aws_call("dynamodb:UpdateItem", resource=self.table_name):
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"POSTS#{slot.owner}"}, "sk": {"S": slot.bucket}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
            )

    # -- helpers -----------------------------------------------------------------------------------

    def _get(self, pk: str, sk: str) -> dict[str, AttributeValueTypeDef] | None:
        with aws_call("dynamodb:GetItem", resource=self.table_name):
            response = self.client.get_item(
                TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            )
        return response.get("Item")

    def _incident_item(self, incident: Incident, version: int) -> dynamodb.Item:
        item: dynamodb.Item = {
            "pk": {"S": f"INCIDENT#{incident.incident_id}"},
            "sk": {"S": INCIDENT_SK},
            "doc": {"S": json.dumps(incident.to_bus(), separators=(",", ":"))},
            "version": {"N": str(version)},
            "status": {"S": incident.status},
            "profile_arn": {"S": incident.subject_key},
            "opened_at": {"S": incident.to_bus()["opened_at"]},
            "last_signal_at": {"S": incident.to_bus()["last_signal_at"]},
            "expires_at": {"N": str(expires_at(incident))},
        }
        if incident.team:
            item["team"] = {"S": incident.team}
        return item

    def _update_pointer_ttl(self, incident: Incident) -> None:
        try:
            with aws_call("dynamodb:UpdateItem", resource=self.table_name):
                self.client.update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": f"PROFILE#{incident.subject_key}"}, "sk": {"S": POINTER_SK}},
                    UpdateExpression="SET expires_at = :ttl",
                    ConditionExpression="incident_id = :id",
                    ExpressionAttributeValues={
                        ":ttl": {"N": str(expires_at(incident))},
                        ":id": {"S": incident.incident_id},
                    },
                )
        except ConditionFailed:
            return  # the pointer names a newer incident now: that one keeps it alive


def _bucket(now: datetime) -> str:
    minute = now.minute - now.minute % 10
    return now.replace(minute=minute, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%MZ")
