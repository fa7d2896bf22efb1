"""Dollars as measured from the sandbox: the ``AWS/Bedrock`` token metrics the traffic wrote to
CloudWatch (moto), read back with GetMetricData and priced with tokenfuse's own price table."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tokenfuse_sandbox.story.org import SeededProfile, Sessions
from tokenfuse_sandbox.story.traffic import _rates

NAMESPACE = "AWS/Bedrock"


def floor_to(t: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // seconds * seconds, UTC)


class Meter:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def series(
        self, profile: SeededProfile, start: datetime, end: datetime, period: int
    ) -> list[tuple[datetime, float]]:
        """(period start, USD) for each period in [start, end) with data, oldest first."""
        spec = profile.spec
        cloudwatch = self.sessions.client("cloudwatch", spec.account_id, spec.region)
        queries: list[dict[str, Any]] = [
            {
                "Id": metric_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "ModelId", "Value": profile.profile_id}],
                    },
                    "Period": period,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for metric_id, metric in (("tin", "InputTokenCount"), ("tout", "OutputTokenCount"))
        ]
        tokens: dict[datetime, dict[str, float]] = defaultdict(lambda: {"tin": 0.0, "tout": 0.0})
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        while True:
            page = cloudwatch.get_metric_data(**kwargs)
            for result in page.get("MetricDataResults", []):
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    tokens[stamp.astimezone(UTC)][result["Id"]] += float(value)
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
        rates = _rates(spec.model_arn, spec.region)
        if rates is None:
            return []
        return sorted((t, rates.cost(v["tin"], v["tout"])) for t, v in tokens.items() if start <= t < end)

    def total(self, profile: SeededProfile, start: datetime, end: datetime) -> float:
        """USD in [start, end): minute periods for a short span, else whole hours (rounded out)."""
        if end <= start:
            return 0.0
        if end - start <= timedelta(hours=6):
            return sum(usd for _, usd in self.series(profile, floor_to(start, 60), end, 60))
        return sum(usd for _, usd in self.series(profile, floor_to(start, 3600), end, 3600))
