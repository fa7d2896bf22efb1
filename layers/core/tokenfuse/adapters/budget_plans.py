"""AWS Budgets: create the budgets ``tokenfuse budgets plan --apply`` proposes (management account).

A budget that already exists keeps its notifications and gets the proposed limit (``UpdateBudget``):
``--apply`` twice changes nothing the second time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

Outcome = Literal["created", "updated"]

DUPLICATE_RECORD = "DuplicateRecordException"
"""Budgets' answer to CreateBudget for a name that already exists."""


class BudgetWriter:
    def __init__(self, budgets_client: BudgetsClient) -> None:
        self.client = budgets_client

    def apply(self, request: dict[str, Any]) -> Outcome:
        """Create the budget of a ``CreateBudget`` request, or update the limit of the one of its name."""
        name = str(request.get("Budget", {}).get("BudgetName", "")) or None
        try:
            with aws_call("budgets:CreateBudget", resource=name):
                self.client.create_budget(**request)
        except AwsError as error:
            if error.code != DUPLICATE_RECORD:
                raise
        else:
            return "created"
        with aws_call("budgets:UpdateBudget", resource=name):
            self.client.update_budget(AccountId=request["AccountId"], NewBudget=request["Budget"])
        return "updated"
