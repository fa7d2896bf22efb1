"""Billing in the management account: Cost Anomaly Detection subscriptions, the budgets' SNS
subscribers, cost-allocation tags."""

from collections.abc import Sequence
from typing import Any

from tokenfuse.adapters.aws import AWS_ERRORS, translate
from tokenfuse.drill.ports import AnomalySubscription


class Billing:
    """:class:`~tokenfuse.drill.ports.CostsPort` with boto3's ``ce`` and ``budgets``."""

    def __init__(self, ce: Any, budgets: Any, account_id: str) -> None:
        self.ce = ce
        self.budgets = budgets
        self.account_id = account_id

    def anomaly_subscriptions(self) -> list[AnomalySubscription]:
        found: list[AnomalySubscription] = []
        kwargs: dict[str, Any] = {}
        try:
            while True:
                page = self.ce.get_anomaly_subscriptions(**kwargs)
                for sub in page.get("AnomalySubscriptions", []):
                    topics = tuple(
                        str(s["Address"]) for s in sub.get("Subscribers", []) if s.get("Type") == "SNS"
                    )
                    found.append(
                        AnomalySubscription(
                            str(sub.get("SubscriptionName")), str(sub.get("Frequency")), topics
                        )
                    )
                token = page.get("NextPageToken")
                if not token:
                    return found
                kwargs["NextPageToken"] = token
        except AWS_ERRORS as error:
            raise translate(error) from error

    def budget_topics(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        try:
            for page in self.budgets.get_paginator("describe_budgets").paginate(AccountId=self.account_id):
                for budget in page.get("Budgets", []):
                    name = str(budget["BudgetName"])
                    out[name] = self._topics(name)
        except AWS_ERRORS as error:
            raise translate(error) from error
        return out

    def _topics(self, budget: str) -> list[str]:
        topics: list[str] = []
        notifications = self.budgets.describe_notifications_for_budget(
            AccountId=self.account_id, BudgetName=budget
        ).get("Notifications", [])
        for notification in notifications:
            subscribers = self.budgets.describe_subscribers_for_notification(
                AccountId=self.account_id, BudgetName=budget, Notification=notification
            ).get("Subscribers", [])
            topics += [str(s["Address"]) for s in subscribers if s.get("SubscriptionType") == "SNS"]
        return topics

    def cost_allocation_tags(self, keys: Sequence[str]) -> dict[str, str]:
        statuses: dict[str, str] = {}
        kwargs: dict[str, Any] = {"TagKeys": list(keys), "Type": "UserDefined"}
        try:
            while True:
                page = self.ce.list_cost_allocation_tags(**kwargs)
                for tag in page.get("CostAllocationTags", []):
                    statuses[str(tag["TagKey"])] = str(tag.get("Status"))
                token = page.get("NextToken")
                if not token:
                    return statuses
                kwargs["NextToken"] = token
        except AWS_ERRORS as error:
            raise translate(error) from error
