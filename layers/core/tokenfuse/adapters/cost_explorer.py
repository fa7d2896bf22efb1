"""Cost Explorer GetCostAndUsage: Amazon Bedrock's cost grouped by a cost-allocation tag."""

from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate

BEDROCK_SERVICE = "Amazon Bedrock"


def cost_by_tag(
    client: Any,
    start: date,
    end: date,
    tag_key: str,
    *,
    service: str = BEDROCK_SERVICE,
    metric: str = "UnblendedCost",
) -> dict[str, float]:
    """USD per tag value over [start, end) for one service, following NextPageToken.

    Keys are the raw group keys Cost Explorer returns (``team$search``; ``team$`` = untagged).
    """
    totals: dict[str, float] = {}
    for groups in daily_cost_by_tag(client, start, end, tag_key, service=service, metric=metric).values():
        for key, amount in groups.items():
            totals[key] = totals.get(key, 0.0) + amount
    return totals


def daily_cost_by_tag(
    client: Any,
    start: date,
    end: date,
    tag_key: str,
    *,
    service: str = BEDROCK_SERVICE,
    metric: str = "UnblendedCost",
) -> dict[date, dict[str, float]]:
    """Per day of [start, end), USD per tag group key (as :func:`cost_by_tag`), following NextPageToken."""
    days: dict[date, dict[str, float]] = {}
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [service]}},
        "GroupBy": [{"Type": "TAG", "Key": tag_key}],
    }
    while True:
        try:
            page = client.get_cost_and_usage(**kwargs)
        except ClientError as error:
            raise translate(error) from error
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(str(period.get("TimePeriod", {}).get("Start", start.isoformat()))[:10])
            totals = days.setdefault(day, {})
            for group in period.get("Groups", []):
                key = group["Keys"][0] if group.get("Keys") else f"{tag_key}$"
                amount = float(group.get("Metrics", {}).get(metric, {}).get("Amount", 0.0))
                totals[key] = totals.get(key, 0.0) + amount
            if not period.get("Groups") and period.get("Total"):
                # No groups: everything is untagged (Cost Explorer answers a Total only).
                amount = float(period["Total"].get(metric, {}).get("Amount", 0.0))
                totals[f"{tag_key}$"] = totals.get(f"{tag_key}$", 0.0) + amount
        token = page.get("NextPageToken")
        if not token:
            return days
        kwargs["NextPageToken"] = token
