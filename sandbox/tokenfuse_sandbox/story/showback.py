"""The demo organization's last five weeks, for ``tokenfuse report --sandbox``, ``tokenfuse budgets
plan --sandbox`` and the digest: the story's organization (``org``: the same accounts, profiles,
tags and team directory) with five weeks of traffic that moves, written as the ``AWS/Bedrock``
metrics AWS emits (``ModelId`` = the profile id; a model called directly under its model id).

Emulation: one datapoint per metric and day at 12:00 UTC, each day's total (the report reads daily
sums). Requests per day follow a straight line per profile (``base + slope x day``, day 0 = the
first day written), so every figure can be worked out by hand:

- support-bot/agent-answers: answers ran away in the last week (5,000 output tokens a request
  instead of 1,500);
- search/answers: growing, long stable prompts, short answers, no cache reads;
- docs-summarizer/summaries: flat, mostly read from its prompt cache;
- analytics/insights (dev): shrinking;
- the untagged profile and the unknown team's: flat;
- a drill canary (tagged ``tokenfuse:drill=true``): in no figure, but billed;
- direct calls to Claude 3 Haiku in the prod account (no profile).

Cost Explorer (emulation): ``GetCostAndUsage`` grouped by the team tag answers, day by day, what
the written traffic costs at the price table's rates, drill canary included (it is billed), queued
in moto's Cost Explorer before the reconciliation asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tokenfuse_sandbox.story import org as org_mod
from tokenfuse_sandbox.story.org import DEV, PROD, ProfileSpec

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
"""The report is made on a Monday at 08:00 UTC: the digest's hour for teams in UTC."""
HISTORY_DAYS = 35
FIRST_DAY = NOW.date() - timedelta(days=HISTORY_DAYS)
"""2026-11-02, a Monday: day 0."""
RUNAWAY_FROM = 28
"""support-bot's answers run away from day 28 (2026-11-30, the report week's Monday)."""
DIRECT_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"

DRILL_CANARY = ProfileSpec(
    "drill-canary", "tokenfuse-drill-canary", PROD, "us-west-2", DIRECT_MODEL,
    {"team": "support-bot", "environment": "prod", "tokenfuse:drill": "true"}, 1, 500, 100,
)  # fmt: skip
PROFILES = (*org_mod.PROFILES, DRILL_CANARY)


@dataclass(frozen=True)
class Shape:
    """One subject's traffic: requests per day = base + slope x day, and tokens per request."""

    base: float
    slope: float
    input_tokens: float
    output_tokens: float
    cache_read_tokens: float = 0.0
    runaway_output_tokens: float | None = None
    """Output tokens per request from ``RUNAWAY_FROM`` on."""

    def requests(self, day: int) -> float:
        return self.base + self.slope * day

    def output(self, day: int) -> float:
        if self.runaway_output_tokens is not None and day >= RUNAWAY_FROM:
            return self.runaway_output_tokens
        return self.output_tokens


SHAPES: dict[str, Shape] = {
    "support-bot": Shape(14_000, 100, 500, 1_500, runaway_output_tokens=5_000),
    "search": Shape(40_000, 400, 1_200, 250),
    "docs-summarizer": Shape(9_000, 0, 2_000, 150, cache_read_tokens=6_000),
    "analytics": Shape(5_000, -50, 3_000, 600),
    "untagged": Shape(2_000, 0, 1_500, 1_000),
    "unknown-team": Shape(6_000, 0, 2_500, 400),
    "drill-canary": Shape(1_000, 0, 500, 100),
}
DIRECT = Shape(3_000, 0, 1_000, 200)
"""Claude 3 Haiku called directly in the prod account, us-east-1."""


def day_of(index: int) -> date:
    return FIRST_DAY + timedelta(days=index)


def _datapoints(model_id: str, day: int, shape: Shape) -> list[dict[str, Any]]:
    stamp = datetime.combine(day_of(day), time(12), UTC)
    requests = shape.requests(day)
    values = {
        "Invocations": requests,
        "InputTokenCount": requests * shape.input_tokens,
        "OutputTokenCount": requests * shape.output(day),
        "CacheReadInputTokenCount": requests * shape.cache_read_tokens,
    }
    return [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            "Timestamp": stamp,
            "Value": float(value),
            "Unit": "Count",
        }
        for name, value in values.items()
        if value
    ]


def write_history(sessions: org_mod.Sessions, seeded: org_mod.Org) -> None:
    """Every subject's daily metrics, in its account and region."""
    per_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, profile in seeded.profiles.items():
        shape = SHAPES[key]
        scope = (profile.spec.account_id, profile.spec.region)
        for day in range(HISTORY_DAYS):
            per_scope.setdefault(scope, []).extend(_datapoints(profile.profile_id, day, shape))
    for day in range(HISTORY_DAYS):
        per_scope.setdefault((PROD, "us-east-1"), []).extend(_datapoints(DIRECT_MODEL, day, DIRECT))
    for (account, region), data in per_scope.items():
        cloudwatch = sessions.client("cloudwatch", account, region)
        for i in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i : i + 500])


def billed_by_team_tag(seeded: org_mod.Org, day: int) -> dict[str, float]:
    """What Cost Explorer would bill for one day, per ``team$<value>`` group (drill canary included)."""
    from tokenfuse.attribution.pricing import price_for

    groups: dict[str, float] = {}
    subjects = [(p.spec.model, p.spec.region, p.spec.tags.get("team", ""), SHAPES[k]) for k, p in
                seeded.profiles.items()]  # fmt: skip
    subjects.append((DIRECT_MODEL, "us-east-1", "", DIRECT))
    for model, region, team, shape in subjects:
        rates = price_for(model, region)
        if rates is None:
            continue
        requests = shape.requests(day)
        usd = rates.cost(
            requests * shape.input_tokens, requests * shape.output(day), requests * shape.cache_read_tokens
        )
        groups[f"team${team}"] = groups.get(f"team${team}", 0.0) + usd
    return groups


def queue_cost_explorer_answer(account_id: str, seeded: org_mod.Org, start: date, end: date) -> None:
    """Emulation: the next GetCostAndUsage (DAILY, grouped by the team tag) answers these days."""
    from moto.ce.models import ce_backends

    results = []
    for offset in range((end - start).days):
        day = start + timedelta(days=offset)
        index = (day - FIRST_DAY).days
        groups = billed_by_team_tag(seeded, index) if 0 <= index < HISTORY_DAYS else {}
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    {"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": f"{v:.10f}", "Unit": "USD"}}}
                    for k, v in sorted(groups.items())
                ],
                "Estimated": False,
            }
        )
    answer = {"ResultsByTime": results, "DimensionValueAttributes": []}
    ce_backends[account_id]["global"].cost_usage_results_queue.append(answer)


@contextmanager
def showback_sandbox(template: str | None = None) -> Iterator[tuple[Any, org_mod.Org, org_mod.Sessions]]:
    """A fresh sandbox at :data:`NOW`, the demo's organization seeded with five weeks of traffic."""
    from tokenfuse_sandbox.core import Sandbox

    settings = org_mod.sandbox_settings("notify")
    with Sandbox(template, clock_start=NOW, fire_schedules=False, function_urls=False, **settings) as sb:
        seeded, sessions = org_mod.seed(sb, PROFILES)
        sb.drain()  # the CloudTrail events: the inventory records every profile and its tags
        write_history(sessions, seeded)
        yield sb, seeded, sessions


__all__ = ["DEV", "NOW", "PROD", "showback_sandbox"]
