"""The report end to end: read the scopes, reconcile with Cost Explorer when it can be asked, build.

Which days are read: the period and the one before it (the change), the trend window (the
forecast's 28 days before today), and this month so far; one read covers them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tokenfuse.adapters.cost_explorer import daily_cost_by_tag
from tokenfuse.showback.forecast import TREND_DAYS, month_bounds
from tokenfuse.showback.models import Reconciliation, ShowbackReport
from tokenfuse.showback.period import Period, check_readable
from tokenfuse.showback.reading import ShowbackReader
from tokenfuse.showback.reconcile import reconcile
from tokenfuse.showback.report import ReportOptions, build_report
from tokenfuse.teams import TeamDirectory

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient


def days_to_read(period: Period, today: date) -> tuple[date, date]:
    before = period.previous()
    start = min(before.start, today - timedelta(days=TREND_DAYS), month_bounds(today)[0])
    return start, max(period.end, today)


def directory_lookups(directory: TeamDirectory) -> tuple[Callable[[str], str | None], Callable[[str], str]]:
    """(team tag value -> the directory's team name or None, team name -> its display name)."""

    def team_for(value: str) -> str | None:
        route = directory.route(value)
        return route.team.name if route.team else None

    def display_name(name: str) -> str:
        team = directory.team(name)
        return team.label if team else name

    return team_for, display_name


def make_report(
    reader: ShowbackReader,
    scopes: Iterable[tuple[str | None, str]],
    period: Period,
    *,
    now: datetime,
    directory: TeamDirectory,
    options: ReportOptions | None = None,
    cost_explorer: CostExplorerClient | None = None,
    source: str = "cloudwatch",
) -> ShowbackReport:
    """``cost_explorer``: a Cost Explorer client (payer account) for the reconciliation; None: none."""
    opts = options or ReportOptions()
    check_readable(period, now.date())
    start, end = days_to_read(period, now.date())
    lines = reader.read(scopes, start, end)
    team_for, display_name = directory_lookups(directory)
    reconciliation: Reconciliation | None = None
    if cost_explorer is not None:
        billed = daily_cost_by_tag(cost_explorer, period.start, period.end, opts.tag_keys.team)
        reconciliation = reconcile(lines, billed, period, tag_keys=opts.tag_keys, team_for=team_for)
    notes = [note for read in reader.reads for note in read.notes]
    return build_report(
        lines,
        period=period,
        now=now,
        team_for=team_for,
        display_name=display_name,
        options=opts,
        reconciliation=reconciliation,
        notes=notes,
        source=source,
    )
