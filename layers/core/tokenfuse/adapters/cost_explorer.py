"""Cost Explorer GetCostAndUsage: Amazon Bedrock's cost grouped by a cost-allocation tag."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_ce.type_defs import ExpressionTypeDef, GetCostAndUsageRequestTypeDef

BEDROCK_SERVICE = "Amazon Bedrock"


def cost_by_tag(
    client: CostExplorerClient,
    start: date,
    end: date,
    tag_key: str,
    *,
    service: str = BEDROCK_SERVICE,
    metric: str = "UnblendedCost",
    exclude_tags: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """USD per tag value over [start, end) for one service (the days of :func:`daily_cost_by_tag`).

    Keys are the raw group keys Cost Explorer returns (``team$search``; ``team$`` = untagged).
    ``exclude_tags`` leaves out resources carrying any of these tag values (a key Billing has not
    activated matches nothing, so it excludes nothing).
    """
    totals: dict[str, float] = {}
    days = daily_cost_by_tag(
        client, start, end, tag_key, service=service, metric=metric, exclude_tags=exclude_tags
    )
    for groups in days.values():
        for key, amount in groups.items():
            totals[key] = totals.get(key, 0.0) + amount
    return totals


def daily_cost_by_tag(
    client: CostExplorerClient,
    start: date,
    end: date,
    tag_key: str,
    *,
    service: str = BEDROCK_SERVICE,
    metric: str = "UnblendedCost",
    exclude_tags: Mapping[str, str] | None = None,
) -> dict[date, dict[str, float]]:
    """Per day of [start, end), USD per tag group key (as :func:`cost_by_tag`), following NextPageToken
    (GetCostAndUsage has no botocore paginator)."""
    days: dict[date, dict[str, float]] = {}
    scope: ExpressionTypeDef = {"Dimensions": {"Key": "SERVICE", "Values": [service]}}
    if exclude_tags:
        exclusions: list[ExpressionTypeDef] = [
            {"Not": {"Tags": {"Key": k, "Values": [v]}}} for k, v in exclude_tags.items()
        ]
        scope = {"And": [scope, *exclusions]}
    kwargs: GetCostAndUsageRequestTypeDef = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "Filter": scope,
        "GroupBy": [{"Type": "TAG", "Key": tag_key}],
    }
    while True:
        with aws_call("ce:GetCostAndUsage"):
            page = client.get_cost_and_usage(**kwargs)
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
