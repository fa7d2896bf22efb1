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

import json
import secrets
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import RETRY_CONFIG, default_session, translate
from tokenfuse.errors import TokenfuseError

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


class ConditionFailed(TokenfuseError):
    """A conditional write found the item in another state than expected."""


def _failed_condition(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ApprovalsTable:
    def __init__(self, table_name: str, table: Any | None = None) -> None:
        self.table_name = table_name
        self._table = table

    @property
    def table(self) -> Any:
        if self._table is None:
            self._table = default_session().resource("dynamodb", config=RETRY_CONFIG).Table(self.table_name)
        return self._table

    # -- approvals ---------------------------------------------------------------------------

    def put_approval(self, approval_id: str, item: dict[str, Any]) -> None:
        try:
            self.table.put_item(
                Item={"pk": f"approval#{approval_id}", "sk": "approval", **item},
                ConditionExpression=Attr("pk").not_exists(),
            )
        except ClientError as error:
            if _failed_condition(error):
                raise ConditionFailed(f"approval id {approval_id} already exists") from error
            raise translate(error) from error

    def get_approval(self, approval_id: str) -> dict[str, Any] | None:
        try:
            item = self.table.get_item(
                Key={"pk": f"approval#{approval_id}", "sk": "approval"}, ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise translate(error) from error
        return dict(item) if item else None

    def mark_decided(self, approval_id: str, decision: str, actor: str, via: str, now_epoch: int) -> None:
        """pending -> decided, only while pending and before the deadline (else ConditionFailed)."""
        try:
            self.table.update_item(
                Key={"pk": f"approval#{approval_id}", "sk": "approval"},
                UpdateExpression="SET #s = :decided, decision = :d, actor = :a, via = :v, decided_at = :t",
                ConditionExpression="#s = :pending AND deadline >= :t",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":decided": "decided",
                    ":pending": "pending",
                    ":d": decision,
                    ":a": actor,
                    ":v": via,
                    ":t": now_epoch,
                },
            )
        except ClientError as error:
            if _failed_condition(error):
                raise ConditionFailed(f"approval {approval_id} is no longer pending") from error
            raise translate(error) from error

    def reopen(self, approval_id: str, actor: str) -> None:
        """Undo :meth:`mark_decided` when the state machine could not be told (a transient error)."""
        try:
            self.table.update_item(
                Key={"pk": f"approval#{approval_id}", "sk": "approval"},
                UpdateExpression="SET #s = :pending REMOVE decision, actor, via, decided_at",
                ConditionExpression="#s = :decided AND actor = :a",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": "pending", ":decided": "decided", ":a": actor},
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise translate(error) from error

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
        items = [i for i in self._query(Key("pk").eq(f"incident#{incident_id}")) if "event" in i]
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
            ConditionExpression=Attr("pk").not_exists(),
        )

    def refused_clicks(self, day: str) -> list[dict[str, Any]]:
        """The refused clicks of one UTC day (``YYYY-MM-DD``), oldest first."""
        return [dict(item) for item in self._query(Key("pk").eq(f"{REFUSED_CLICK_PK_PREFIX}{day}"))]

    # -- trips -------------------------------------------------------------------------------

    def put_trip(self, profile_arn: str, record: dict[str, Any]) -> None:
        try:
            self.table.put_item(
                Item={
                    "pk": TRIPS_PK,
                    "sk": profile_arn,
                    "trip_id": record["trip_id"],
                    "incident_id": record["incident_id"],
                    "record": json.dumps(record),
                }
            )
        except ClientError as error:
            raise translate(error) from error

    def get_trip(self, profile_arn: str) -> dict[str, Any] | None:
        try:
            item = self.table.get_item(Key={"pk": TRIPS_PK, "sk": profile_arn}, ConsistentRead=True).get(
                "Item"
            )
        except ClientError as error:
            raise translate(error) from error
        return json.loads(item["record"]) if item else None

    def delete_trip(self, profile_arn: str, trip_id: str) -> None:
        """Forget the active trip (after restore) only if it is still this trip."""
        try:
            self.table.delete_item(
                Key={"pk": TRIPS_PK, "sk": profile_arn}, ConditionExpression=Attr("trip_id").eq(trip_id)
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise translate(error) from error

    def list_trips(self) -> list[dict[str, Any]]:
        return [json.loads(item["record"]) for item in self._query(Key("pk").eq(TRIPS_PK))]

    def log_trip(self, profile_arn: str, at_iso: str, now_epoch: int) -> None:
        try:
            self.table.put_item(
                Item={
                    "pk": TRIP_LOG_PK,
                    "sk": f"{at_iso}#{profile_arn}",
                    "expires_at": now_epoch + TRIP_LOG_TTL_SECONDS,
                }
            )
        except ClientError as error:
            raise translate(error) from error

    def trips_since(self, since_iso: str) -> int:
        return len(self._query(Key("pk").eq(TRIP_LOG_PK) & Key("sk").gte(since_iso)))

    def _put(self, item: dict[str, Any], **kwargs: Any) -> None:
        try:
            self.table.put_item(Item=item, **kwargs)
        except ClientError as error:
            raise translate(error) from error

    def _query(self, condition: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        try:
            while True:
                page = self.table.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise translate(error) from error
