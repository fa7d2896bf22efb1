"""AWS Budgets: create the budgets ``tokenfuse budgets plan --apply`` proposes (management account).

A budget that already exists keeps its notifications and gets the proposed limit (``UpdateBudget``):
``--apply`` twice changes nothing the second time.
"""

from typing import Any, Literal

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate

Outcome = Literal["created", "updated"]


class BudgetWriter:
    def __init__(self, budgets_client: Any) -> None:
        self.client = budgets_client

    def apply(self, request: dict[str, Any]) -> Outcome:
        """Create the budget of a ``CreateBudget`` request, or update the limit of the one of its name."""
        try:
            self.client.create_budget(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "DuplicateRecordException":
                raise translate(error) from error
        else:
            return "created"
        try:
            self.client.update_budget(AccountId=request["AccountId"], NewBudget=request["Budget"])
        except ClientError as error:
            raise translate(error) from error
        return "updated"
