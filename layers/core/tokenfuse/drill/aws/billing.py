"""Billing in the management account: Cost Anomaly Detection subscriptions, the budgets' SNS
subscribers, cost-allocation tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call
from tokenfuse.drill.ports import AnomalySubscription

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_budgets.type_defs import NotificationTypeDef
    from mypy_boto3_ce import CostExplorerClient


class Billing:
    """:class:`~tokenfuse.drill.ports.CostsPort` with boto3's ``ce`` and ``budgets`` (botocore's
    paginators for every list)."""

    def __init__(self, ce: CostExplorerClient, budgets: BudgetsClient, account_id: str) -> None:
        self.ce = ce
        self.budgets = budgets
        self.account_id = account_id

    def anomaly_subscriptions(self) -> list[AnomalySubscription]:
        found: list[AnomalySubscription] = []
        with aws_call("ce:GetAnomalySubscriptions"):
            for page in self.ce.get_paginator("get_anomaly_subscriptions").paginate():
                for sub in page.get("AnomalySubscriptions", []):
                    topics = tuple(s["Address"] for s in sub.get("Subscribers", []) if s.get("Type") == "SNS")
                    found.append(
                        AnomalySubscription(
                            str(sub.get("SubscriptionName")), str(sub.get("Frequency")), topics
                        )
                    )
        return found

    def budget_topics(self) -> dict[str, list[str]]:
        names: list[str] = []
        with aws_call("budgets:DescribeBudgets", resource=self.account_id):
            for page in self.budgets.get_paginator("describe_budgets").paginate(AccountId=self.account_id):
                names += [budget["BudgetName"] for budget in page.get("Budgets", [])]
        return {name: self._topics(name) for name in names}

    def _topics(self, budget: str) -> list[str]:
        notifications: list[NotificationTypeDef] = []
        with aws_call("budgets:DescribeNotificationsForBudget", resource=budget):
            pages = self.budgets.get_paginator("describe_notifications_for_budget").paginate(
                AccountId=self.account_id, BudgetName=budget
            )
            for page in pages:
                notifications += page.get("Notifications", [])
        topics: list[str] = []
        for notification in notifications:
            with aws_call("budgets:DescribeSubscribersForNotification", resource=budget):
                subscribers = self.budgets.get_paginator("describe_subscribers_for_notification").paginate(
                    AccountId=self.account_id, BudgetName=budget, Notification=notification
                )
                for answer in subscribers:
                    topics += [
                        s["Address"]
                        for s in answer.get("Subscribers", [])
                        if s.get("SubscriptionType") == "SNS"
                    ]
        return topics

    def cost_allocation_tags(self, keys: Sequence[str]) -> dict[str, str]:
        statuses: dict[str, str] = {}
        with aws_call("ce:ListCostAllocationTags"):
            pages = self.ce.get_paginator("list_cost_allocation_tags").paginate(
                TagKeys=list(keys), Type="UserDefined"
            )
            for page in pages:
                statuses |= {
                    tag["TagKey"]: str(tag.get("Status")) for tag in page.get("CostAllocationTags", [])
                }
        return statuses
