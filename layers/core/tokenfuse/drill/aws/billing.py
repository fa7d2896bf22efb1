"""Billing in the management account: Cost Anomaly Detection subscriptions, the budgets' SNS
subscribers, cost-allocation tags."""

from collections.abc import Callable, Iterator, Sequence
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
        for page in _pages(self.ce.get_anomaly_subscriptions, {}, "NextPageToken"):
            for sub in page.get("AnomalySubscriptions", []):
                topics = tuple(
                    str(s["Address"]) for s in sub.get("Subscribers", []) if s.get("Type") == "SNS"
                )
                found.append(
                    AnomalySubscription(str(sub.get("SubscriptionName")), str(sub.get("Frequency")), topics)
                )
        return found

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
        kwargs = {"TagKeys": list(keys), "Type": "UserDefined"}
        return {
            str(tag["TagKey"]): str(tag.get("Status"))
            for page in _pages(self.ce.list_cost_allocation_tags, kwargs, "NextToken")
            for tag in page.get("CostAllocationTags", [])
        }


def _pages(
    call: Callable[..., dict[str, Any]], kwargs: dict[str, Any], token: str
) -> Iterator[dict[str, Any]]:
    """Every page of a Cost Explorer list (botocore has no paginator for these), following ``token``."""
    while True:
        try:
            page = call(**kwargs)
        except AWS_ERRORS as error:
            raise translate(error) from error
        yield page
        if not page.get(token):
            return
        kwargs = {**kwargs, token: page[token]}
