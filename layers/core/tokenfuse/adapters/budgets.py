"""AWS Budgets: what a budget counts (its cost filters), read with DescribeBudget.

The organization's budgets live in the management (payer) account; in production tokenfuse reads
them through a role there (``BUDGETS_ROLE_ARN``). Without a role, the function's own credentials
are used (a budget in tokenfuse's own account, or the sandbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import assume_role_session, aws_call, client

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

BUDGETS_REGION = "us-east-1"
"""Budgets has one endpoint, in us-east-1."""


class BudgetsReader:
    def __init__(self, role_arn: str | None = None, budgets_client: BudgetsClient | None = None) -> None:
        self.role_arn = role_arn
        self._client = budgets_client

    @property
    def client(self) -> BudgetsClient:
        if self._client is None:
            session = assume_role_session(self.role_arn, "tokenfuse-intake") if self.role_arn else None
            self._client = client("budgets", region=BUDGETS_REGION, session=session)
        return self._client

    def cost_filters(self, account_id: str, budget_name: str) -> dict[str, list[str]]:
        """The budget's filters as ``{dimension: [values]}`` (empty when it counts everything).

        Reads ``CostFilters``; a budget defined with a ``FilterExpression`` instead contributes
        its plain ``Dimensions`` / ``Tags`` / ``CostCategories`` terms (top level and under ``And``).
        Raises NotFound / AccessDenied / TransientAwsError (tokenfuse.errors).
        """
        with aws_call("budgets:ViewBudget", resource=f"{account_id}/{budget_name}"):
            budget = self.client.describe_budget(AccountId=account_id, BudgetName=budget_name)["Budget"]
        filters: dict[str, list[str]] = {
            str(key): [str(v) for v in values]
            for key, values in (budget.get("CostFilters") or {}).items()
            if isinstance(values, list)
        }
        if not filters:
            expression: dict[str, Any] = dict(budget.get("FilterExpression") or {})
            filters = _from_expression(expression)
        return filters


def _from_expression(expression: dict[str, Any]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    terms = [expression, *(expression.get("And") or [])]
    for term in terms:
        for kind in ("Dimensions", "Tags", "CostCategories"):
            part = term.get(kind)
            if isinstance(part, dict) and part.get("Key") and isinstance(part.get("Values"), list):
                key = str(part["Key"]) if kind == "Dimensions" else f"{kind}:{part['Key']}"
                filters.setdefault(key, []).extend(str(v) for v in part["Values"])
    return filters
