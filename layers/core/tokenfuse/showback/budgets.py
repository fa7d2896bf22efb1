"""Proposed AWS Budgets (pure): one monthly cost budget per team and one per team feature, on the
activated ``team`` / ``feature`` cost-allocation tags, sized from the forecast.

- Limit: the base month-end forecast x (1 + ``HEADROOM``), rounded up to whole dollars (at least $1).
- Every budget has a FORECASTED notification at 100% of the limit.
- A feature that runs only in dev environments also has an ACTUAL notification at 100%: tokenfuse acts
  on it as a hard cap (the alert reaches tokenfuse's Budgets topic, intake reads it as a budget signal,
  and the team's dev policy decides: ``mode: auto`` trips the profiles). A feature that runs in dev and
  elsewhere gets none: a cap would stop production too.
- Names start with ``tokenfuse-`` (the role in ``org/management.yaml`` may change only those).
- Filters are the tags alone: a budget counts every service tagged so. tokenfuse's tags sit on inference
  profiles; Anthropic models bill under their own service names ("Claude ... (Amazon Bedrock Edition)"),
  so a SERVICE filter on "Amazon Bedrock" would miss them.
"""

import math
import re
from typing import Any, Literal

from pydantic import Field

from tokenfuse.showback.models import ReportModel, ShowbackReport

HEADROOM = 0.2
DEV_ENVIRONMENTS = frozenset({"dev"})
NAME_PREFIX = "tokenfuse-"
_NOT_IN_NAME = re.compile(r"[:\\]")


class BudgetNotification(ReportModel):
    notification_type: Literal["FORECASTED", "ACTUAL"]
    threshold_percent: float
    hard_cap: bool = False
    """ACTUAL 100% on a dev-only feature: tokenfuse acts on it."""


class BudgetProposal(ReportModel):
    name: str = Field(max_length=100)
    team: str
    team_tag: str
    feature: str | None
    environments: list[str]
    limit_usd: float
    forecast_usd: float
    notifications: list[BudgetNotification]
    basis: str


class BudgetPlan(ReportModel):
    month: str
    headroom_percent: float
    budgets: list[BudgetProposal]
    notes: list[str]


def budget_name(*parts: str) -> str:
    return _NOT_IN_NAME.sub("-", NAME_PREFIX + "-".join(parts))[:100]


def _basis(month: str, forecast: float) -> str:
    return f"base month-end forecast {month} ${forecast:,.2f} + {HEADROOM:.0%} headroom"


def _limit(forecast: float) -> float:
    return float(max(1, math.ceil(forecast * (1 + HEADROOM))))


def plan_budgets(report: ShowbackReport, team_tags: dict[str, str] | None = None) -> BudgetPlan:
    """``team_tags``: team name -> the tag value its profiles carry (default: the name itself)."""
    tags = team_tags or {}
    forecasts = {(f.team, f.feature): f for f in report.forecast.features if f.team}
    budgets: list[BudgetProposal] = []
    notes: list[str] = []
    for team in report.teams:
        tag = tags.get(team.team, team.team)
        team_forecast = report.forecast.teams[team.team].month_end_usd.base
        budgets.append(
            BudgetProposal(
                name=budget_name(team.team), team=team.team, team_tag=tag, feature=None,
                environments=sorted({f.environment for f in team.features}), limit_usd=_limit(team_forecast),
                forecast_usd=team_forecast,
                notifications=[BudgetNotification(notification_type="FORECASTED", threshold_percent=100)],
                basis=_basis(report.forecast.month, team_forecast),
            )
        )  # fmt: skip
        for feature in sorted({f.feature for f in team.features}):
            environments = sorted({f.environment for f in team.features if f.feature == feature})
            forecast = round(
                sum(
                    f.month_end_usd.base
                    for (t, name), f in forecasts.items()
                    if t == team.team and name == feature
                ),
                2,
            )
            notifications = [BudgetNotification(notification_type="FORECASTED", threshold_percent=100)]
            dev = [e for e in environments if e.lower() in DEV_ENVIRONMENTS]
            if dev and len(dev) == len(environments):
                notifications.append(
                    BudgetNotification(notification_type="ACTUAL", threshold_percent=100, hard_cap=True)
                )
            elif dev:
                notes.append(
                    f"{team.team}/{feature} runs in {', '.join(environments)}: no hard cap (it would stop "
                    f"{', '.join(e for e in environments if e not in dev)} too)"
                )
            budgets.append(
                BudgetProposal(
                    name=budget_name(team.team, feature), team=team.team, team_tag=tag, feature=feature,
                    environments=environments, limit_usd=_limit(forecast), forecast_usd=forecast,
                    notifications=notifications,
                    basis=_basis(report.forecast.month, forecast),
                )
            )  # fmt: skip
    return BudgetPlan(
        month=report.forecast.month, headroom_percent=HEADROOM * 100, budgets=budgets, notes=notes
    )


def create_budget_request(
    proposal: BudgetProposal, account_id: str, topic_arn: str, tag_keys: tuple[str, str] = ("team", "feature")
) -> dict[str, Any]:
    """The ``CreateBudget`` request for a proposal (AWS Budgets API), its alerts to ``topic_arn``."""
    team_key, feature_key = tag_keys
    terms: list[dict[str, Any]] = [
        {"Tags": {"Key": team_key, "Values": [proposal.team_tag], "MatchOptions": ["EQUALS"]}}
    ]
    if proposal.feature is not None:
        terms.append({"Tags": {"Key": feature_key, "Values": [proposal.feature], "MatchOptions": ["EQUALS"]}})
    expression = terms[0] if len(terms) == 1 else {"And": terms}
    return {
        "AccountId": account_id,
        "Budget": {
            "BudgetName": proposal.name,
            "BudgetLimit": {"Amount": f"{proposal.limit_usd:.2f}", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "FilterExpression": expression,
        },
        "NotificationsWithSubscribers": [
            {
                "Notification": {
                    "NotificationType": n.notification_type,
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": n.threshold_percent,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [{"SubscriptionType": "SNS", "Address": topic_arn}],
            }
            for n in proposal.notifications
        ],
    }
