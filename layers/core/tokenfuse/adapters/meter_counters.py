"""The meter's counters table (key schema pk/sk, TTL ``expires_at``), in the metered account.

Items (``pk`` = the subject's key, :attr:`tokenfuse.meter.models.Subject.key`):

- ``sk=b#<bucket start, 10 digits>``: the bucket's sums, each added with DynamoDB ``ADD`` (atomic,
  so concurrent deliveries add up): ``nano_usd`` (dollars x 1e9, an integer: no float drift),
  ``invocations``, ``input_tokens``, ``output_tokens``, ``cache_read_tokens``,
  ``cache_write_tokens``, ``unpriced``;
- ``sk=b#<bucket start>#c#<caller role ARN>``: that caller's ``nano_usd`` in the bucket;
- ``sk=alert``: the re-alert claim (``until`` epoch seconds): one spend-rate event per subject
  per re-alert period, however many deliveries see the burn at once.

Buckets and claims expire (``expires_at``) a day after they end.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.dynamodb import DynamoTable
from tokenfuse.errors import ConditionFailed
from tokenfuse.meter.models import Tally

NANO = 1_000_000_000
_COUNTS = (
    "invocations",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "unpriced",
)
ALERT_SK = "alert"


def bucket_sk(bucket: int) -> str:
    return f"b#{bucket:010d}"


class MeterCounters(DynamoTable):
    def add(self, subject_key: str, bucket: int, tally: Tally, expires_at: int) -> None:
        """Add a batch's tally to one bucket (and its callers' items)."""
        values: dict[str, Any] = {":usd": {"N": str(round(tally.usd * NANO))}, ":exp": {"N": str(expires_at)}}
        adds = ["nano_usd :usd"]
        for name in _COUNTS:
            values[f":{name}"] = {"N": str(getattr(tally, name))}
            adds.append(f"{name} :{name}")
        self._update(
            subject_key, bucket_sk(bucket), "ADD " + ", ".join(adds) + " SET expires_at = :exp", values
        )
        for caller, usd in sorted(tally.callers.items()):
            self._update(
                subject_key,
                f"{bucket_sk(bucket)}#c#{caller}",
                "ADD nano_usd :usd SET expires_at = :exp",
                {":usd": {"N": str(round(usd * NANO))}, ":exp": {"N": str(expires_at)}},
            )

    def _update(self, pk: str, sk: str, expression: str, values: dict[str, Any]) -> None:
        with aws_call("dynamodb:UpdateItem", resource=self.table_name):
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
            )

    def window(self, subject_key: str, first_bucket: int, last_bucket: int) -> dict[int, Tally]:
        """The buckets in [first_bucket, last_bucket] with their callers (one Query, paged)."""
        out: dict[int, Tally] = {}
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": subject_key},
                ":first": {"S": bucket_sk(first_bucket)},
                ":last": {"S": bucket_sk(last_bucket) + "#~"},
            },
            ConsistentRead=True,
        )
        with aws_call("dynamodb:Query", resource=self.table_name):
            for page in pages:
                for item in page.get("Items", []):
                    sk = item["sk"]["S"]
                    bucket = int(sk[2:12])
                    tally = out.setdefault(bucket, Tally())
                    usd = int(item.get("nano_usd", {}).get("N", "0")) / NANO
                    if "#c#" in sk:
                        tally.callers[sk.split("#c#", 1)[1]] = usd
                        continue
                    tally.usd = usd
                    for name in _COUNTS:
                        setattr(tally, name, int(item.get(name, {}).get("N", "0")))
        return out

    def claim(self, subject_key: str, now: int, until: int) -> bool:
        """Claim the subject's next spend-rate event (False: one was sent and its period runs)."""
        try:
            with aws_call("dynamodb:PutItem", resource=self.table_name):
                self.client.put_item(
                    TableName=self.table_name,
                    Item={
                        "pk": {"S": subject_key},
                        "sk": {"S": ALERT_SK},
                        "until": {"N": str(until)},
                        "expires_at": {"N": str(until + 86400)},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR #until < :now",
                    ExpressionAttributeNames={"#until": "until"},
                    ExpressionAttributeValues={":now": {"N": str(now)}},
                )
        except ConditionFailed:
            return False
        return True

    def release(self, subject_key: str, until: int) -> None:
        """Give back a claim whose event did not go out (the next delivery tries again)."""
        # ConditionFailed: another delivery's claim, not ours to give back
        with suppress(ConditionFailed), aws_call("dynamodb:DeleteItem", resource=self.table_name):
            self.client.delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": subject_key}, "sk": {"S": ALERT_SK}},
                ConditionExpression="#until = :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":until": {"N": str(until)}},
            )


__all__ = ["ALERT_SK", "NANO", "MeterCounters", "bucket_sk"]
