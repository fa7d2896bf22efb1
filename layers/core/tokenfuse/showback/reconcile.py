"""The report's figures against the bill (pure): per day and team tag value, CloudWatch token metrics
priced at list prices next to Cost Explorer's cost grouped by the team cost-allocation tag.

Cost Explorer puts untagged profiles and models called directly in one group (``team$``), so the
report's untagged and direct spend are compared with it together. Drill canaries are in no report
figure but are billed: their spend is shown beside the variance (``drill_usd`` in the note's terms),
so a variance of exactly that size is explained.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from tokenfuse.attribution.rank import TagKeys
from tokenfuse.inventory.attributable import tag_value
from tokenfuse.showback.figures import cents, classify
from tokenfuse.showback.models import Reconciliation, ReconciliationDay, Variance
from tokenfuse.showback.period import Period
from tokenfuse.showback.reading import Line

NOTE = (
    "metrics_usd: CloudWatch token metrics at list prices, drill canaries excluded (they are billed: a "
    "team's variance of their size is theirs); cost_explorer_usd: Cost Explorer's UnblendedCost by the "
    "team tag, which can lag a day and includes credits, discounts and anything else tagged so"
)


def reconcile(
    lines: Sequence[Line],
    billed: Mapping[date, Mapping[str, float]],
    period: Period,
    *,
    tag_keys: TagKeys,
    team_for: Callable[[str], str | None],
    source: str = "cost-explorer",
) -> Reconciliation:
    days = []
    for day in period.dates():
        metrics: dict[str, float] = {}
        for line in lines:
            owned = classify(line, tag_keys, team_for)
            if owned.kind == "drill":
                continue
            key = owned.team_tag if owned.kind in ("team", "unknown-team") else ""
            metrics[key] = metrics.get(key, 0.0) + line.day_cost(day)
        bill: dict[str, float] = {}
        for group, usd in billed.get(day, {}).items():
            key = tag_value(group).strip()
            bill[key] = bill.get(key, 0.0) + usd
        rows = []
        for key in sorted(set(metrics) | set(bill)):
            ours, theirs = cents(metrics.get(key, 0.0)), cents(bill.get(key, 0.0))
            rows.append(
                Variance(
                    team_tag=key,
                    team=team_for(key) if key else None,
                    metrics_usd=ours,
                    cost_explorer_usd=theirs,
                    variance_usd=cents(theirs - ours),
                    variance_percent=round(100.0 * (theirs - ours) / ours, 2) if ours > 0 else None,
                )
            )
        days.append(
            ReconciliationDay(
                day=day.isoformat(),
                teams=rows,
                metrics_total_usd=cents(sum(r.metrics_usd for r in rows)),
                cost_explorer_total_usd=cents(sum(r.cost_explorer_usd for r in rows)),
            )
        )
    return Reconciliation(source=source, days=days, note=NOTE)
