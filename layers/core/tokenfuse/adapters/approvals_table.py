"""The approvals/audit table (``APPROVALS_TABLE_NAME``; keys ``pk``/``sk``; TTL ``expires_at``).

Item kinds, by key:

===========================  =======================  ===============================================
pk                           sk                       what
===========================  =======================  ===============================================
``approval#<approval id>``   ``approval``             a pending approval: task token, approvers, deadline
``incident#<incident id>``   ``<iso time>#<step>``    one audited remediation step (TTL 400 days)
``trips``                    ``<profile arn>``        the active trip record of a profile (restore reads it)
``trip-log``                 ``<iso time>#<arn>``     one trip, for the trips-per-hour bound (TTL 1 day)
``refused-click#<utc day>``  ``<iso time>#<nonce>``   one refused signed click: who, what, why (TTL 400 days)
===========================  =======================  ===============================================

No other item's ``pk`` starts with ``refused-click#`` (approvals and incidents have their own
prefixes, trips and the trip log fixed keys), and the nonce keeps two refusals in the same
microsecond (a simulated clock stands still) apart.

Structured values (the incident, the trip record, the event) are stored as JSON strings, so no
float ever meets DynamoDB's Decimal.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters import dynamodb
from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import ConditionFailed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputPaginateTypeDef

__all__ = ["ApprovalsTable", "ConditionFailed"]

AUDIT_TTL_SECONDS = 400 * 86400
TRIP_LOG_TTL_SECONDS = 86400
TRIPS_PK = "trips"
TRIP_LOG_PK = "trip-log"
REFUSED_CLICK_PK_PREFIX = "refused-click#"
STEP_ORDER = {
    step: rank
    for rank, step in enumerate(
        [
            "policy",
            "approval-requested",
            "approval-decided",
            "tripped",
            "verified",
            "escalated",
            "restored",
            "closed",
        ]
    )
}
_NEW_KEY = "attribute_not_exists(pk)"


class ApprovalsTable(dynamodb.DynamoTable):
    """The table through DynamoDB's client (see :mod:`tokenfuse.adapters.dynamodb`); a failed
    condition raises :class:`~tokenfuse.errors.ConditionFailed` where the caller must know."""

    def _key(self, pk: str, sk: str) -> dynamodb.Item:
        return dynamodb.to_item({"pk": pk, "sk": sk})

    # -- approvals ---------------------------------------------------------------------------

    def put_approval(self, approval_id: str, item: dict[str, Any]) -> None:
        try:
            self._put({"pk": f"approval#{approval_id}", "sk": "approval", **item}, condition=_NEW_KEY)
        except ConditionFailed as error:
            raise ConditionFailed(
                f"approval id {approval_id} already exists", code=error.code, operation=error.operation
            ) from error

    def get_approval(self, approval_id: str) -> dict[str, Any] | None:
        return self._get(f"approval#{approval_id}", "approval")

    def mark_decided(self, approval_id: str, decision: str, actor: str, via: str, now_epoch: int) -> None:
        """pending -> decided, only while pending and before the deadline (else ConditionFailed)."""
        try:
            self._update(
                f"approval#{approval_id}",
                "approval",
                "SET #s = :decided, decision = :d, actor = :a, via = :v, decided_at = :t",
                condition="#s = :pending AND deadline >= :t",
                values={
                    ":decided": "decided",
                    ":pending": "pending",
                    ":d": decision,
                    ":a": actor,
                    ":v": via,
                    ":t": now_epoch,
                },
            )
        except ConditionFailed as error:
            raise ConditionFailed(
                f"approval {approval_id} is no longer pending", code=error.code, operation=error.operation
            ) from error

    def reopen(self, approval_id: str, actor: str) -> None:
        """Undo :meth:`mark_decided` when the state machine could not be told (a transient error)."""
        try:
            self._update(
                f"approval#{approval_id}",
                "approval",
                "SET #s = :pending REMOVE decision, actor, via, decided_at",
                condition="#s = :decided AND actor = :a",
                values={":pending": "pending", ":decided": "decided", ":a": actor},
            )
        except ConditionFailed:
            return  # decided by someone else, or already reopened

    # -- audit -------------------------------------------------------------------------------

    def put_audit(
        self, incident_id: str, at_iso: str, step: str, event: dict[str, Any], now_epoch: int
    ) -> None:
        self._put(
            {
                "pk": f"incident#{incident_id}",
                "sk": f"{at_iso}#{step}",
                "step": step,
                "event": json.dumps(event),
                "expires_at": now_epoch + AUDIT_TTL_SECONDS,
            }
        )

    def audit_trail(self, incident_id: str) -> list[dict[str, Any]]:
        """The incident's audited steps, oldest first (each the stored event). Steps written at the
        same instant (a simulated clock stands still between waits) keep the flow's order."""
        items = [i for i in self._query(f"incident#{incident_id}") if "event" in i]
        items.sort(key=lambda i: (str(i["sk"]).rsplit("#", 1)[0], STEP_ORDER.get(str(i.get("step")), 99)))
        return [json.loads(item["event"]) for item in items]

    # -- refused clicks ----------------------------------------------------------------------

    def put_refused_click(self, at_iso: str, record: Mapping[str, str], now_epoch: int) -> None:
        """One refused click (``at_iso``: UTC ISO-8601, its day is the partition); never overwrites."""
        self._put(
            {
                **record,
                "pk": f"{REFUSED_CLICK_PK_PREFIX}{at_iso[:10]}",
                "sk": f"{at_iso}#{secrets.token_hex(4)}",
                "at": at_iso,
                "expires_at": now_epoch + AUDIT_TTL_SECONDS,
            },
            condition=_NEW_KEY,
        )

    def refused_clicks(self, day: str) -> list[dict[str, Any]]:
        """The refused clicks of one UTC day (``YYYY-MM-DD``), oldest first."""
        return self._query(f"{REFUSED_CLICK_PK_PREFIX}{day}")

    # -- trips -------------------------------------------------------------------------------

    def put_trip(self, profile_arn: str, record: dict[str, Any]) -> None:
        self._put(
            {
                "pk": TRIPS_PK,
                "sk": profile_arn,
                "trip_id": record["trip_id"],
                "incident_id": record["incident_id"],
                "record": json.dumps(record),
            }
        )

    def get_trip(self, profile_arn: str) -> dict[str, Any] | None:
        item = self._get(TRIPS_PK, profile_arn)
        return json.loads(item["record"]) if item else None

    def delete_trip(self, profile_arn: str, trip_id: str) -> None:
        """Forget the active trip (after restore) only if it is still this trip."""
        try:
            with aws_call("dynamodb:DeleteItem", resource=self.table_name):
                self.client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(TRIPS_PK, profile_arn),
                    ConditionExpression="trip_id = :trip",
                    ExpressionAttributeValues=dynamodb.to_item({":trip": trip_id}),
                )
        except ConditionFailed:
            return  # another trip of the profile is active now: it stays

    def list_trips(self) -> list[dict[str, Any]]:
        return [json.loads(item["record"]) for item in self._query(TRIPS_PK)]

    def log_trip(self, profile_arn: str, at_iso: str, now_epoch: int) -> None:
        self._put(
            {
                "pk": TRIP_LOG_PK,
                "sk": f"{at_iso}#{profile_arn}",
                "expires_at": now_epoch + TRIP_LOG_TTL_SECONDS,
            }
        )

    def trips_since(self, since_iso: str) -> int:
        return len(self._query(TRIP_LOG_PK, sk_from=since_iso))

    # -- helpers -----------------------------------------------------------------------------

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with aws_call("dynamodb:GetItem", resource=self.table_name):
            item = self.client.get_item(
                TableName=self.table_name, Key=self._key(pk, sk), ConsistentRead=True
            ).get("Item")
        return dynamodb.from_item(item) if item else None

    def _put(self, item: Mapping[str, object], condition: str | None = None) -> None:
        with aws_call("dynamodb:PutItem", resource=self.table_name):
            if condition is None:
                self.client.put_item(TableName=self.table_name, Item=dynamodb.to_item(item))
            else:
                self.client.put_item(
                    TableName=self.table_name, Item=dynamodb.to_item(item), ConditionExpression=condition
                )

    def _update(
        self, pk: str, sk: str, expression: str, *, condition: str, values: Mapping[str, object]
    ) -> None:
        with aws_call("dynamodb:UpdateItem", resource=self.table_name):
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(pk, sk),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamodb.to_item(values),
            )

    def _query(self, pk: str, sk_from: str | None = None) -> list[dict[str, Any]]:
        request: QueryInputPaginateTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk" + (" AND sk >= :from" if sk_from is not None else ""),
            "ExpressionAttributeValues": dynamodb.to_item(
                {":pk": pk} if sk_from is None else {":pk": pk, ":from": sk_from}
            ),
            "ConsistentRead": True,
        }
        return [dynamodb.from_item(item) for item in dynamodb.query(self.client, request)]
