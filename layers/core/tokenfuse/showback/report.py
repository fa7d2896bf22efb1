"""The showback report from measured lines (pure): figures, movers, levers, forecast."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tokenfuse.attribution.pricing import PriceTable, load_prices
from tokenfuse.attribution.rank import TagKeys
from tokenfuse.showback import figures as fig
from tokenfuse.showback.forecast import SCENARIOS, TREND_DAYS, TREND_MODEL, LineForecast, forecast_lines
from tokenfuse.showback.levers import (
    LeverContext,
    combined_fraction,
    feature_levers,
    provisioned_throughput,
    trend_window,
)
from tokenfuse.showback.models import (
    FeatureForecast,
    Forecast,
    Lever,
    OrgForecast,
    PeriodOut,
    Reconciliation,
    Scenarios,
    ShowbackReport,
    TeamFigures,
    Unattributed,
)
from tokenfuse.showback.period import Period
from tokenfuse.showback.reading import Line

ESTIMATES_NOTE = (
    "Levers and forecasts are estimates from CloudWatch token metrics priced at list prices (prices.json), "
    "not billed amounts; the reconciliation compares them with Cost Explorer."
)


@dataclass(frozen=True)
class ReportOptions:
    tag_keys: TagKeys = field(default_factory=TagKeys)
    prices: PriceTable | None = None
    unit_prices: Mapping[str, float] = field(default_factory=dict)
    """Provisioned Throughput: model id -> USD per model-unit hour (none by default: not assessed)."""
    movers: int = 10


def _scenarios_sum(parts: Sequence[Scenarios]) -> Scenarios:
    return Scenarios(
        base=fig.added(p.base for p in parts),
        optimized=fig.added(p.optimized for p in parts),
        stress=fig.added(p.stress for p in parts),
    )


def _forecast_of(parts: Sequence[Forecast], month: str, quarter: str) -> Forecast:
    return Forecast(
        month=month,
        quarter=quarter,
        month_to_date_usd=fig.added(p.month_to_date_usd for p in parts),
        month_end_usd=_scenarios_sum([p.month_end_usd for p in parts]),
        next_quarter_usd=_scenarios_sum([p.next_quarter_usd for p in parts]),
    )


def _group_forecast(
    lines: Sequence[Line], now: datetime, saving: float, **who: str | None
) -> tuple[FeatureForecast, LineForecast]:
    made = forecast_lines(lines, now.date())
    return (
        FeatureForecast(
            label=str(who.pop("label")),
            team=who.get("team"),
            feature=who.get("feature"),
            environment=who.get("environment"),
            month=made.month,
            quarter=made.quarter,
            month_to_date_usd=round(made.month_to_date, 2),
            month_end_usd=made.month_end(saving),
            next_quarter_usd=made.next_quarter(saving),
            cost_per_request_usd=None if made.cost_per_request is None else round(made.cost_per_request, 6),
            requests_per_day_now=round(made.trend.at(now.date()), 1),
            requests_trend_per_day=round(made.trend.slope, 3),
        ),
        made,
    )


def build_report(
    lines: Sequence[Line],
    *,
    period: Period,
    now: datetime,
    team_for: Callable[[str], str | None],
    display_name: Callable[[str], str] = lambda name: name,
    options: ReportOptions | None = None,
    reconciliation: Reconciliation | None = None,
    notes: Sequence[str] = (),
    source: str = "cloudwatch",
) -> ShowbackReport:
    opts = options or ReportOptions()
    prices = opts.prices or load_prices()
    owned = [fig.classify(line, opts.tag_keys, team_for) for line in lines]
    counted = [o for o in owned if o.kind != "drill"]
    groups = fig.feature_groups(counted)
    ctx = LeverContext(period, trend_window(now.date(), TREND_DAYS), prices, opts.unit_prices)

    teams: list[TeamFigures] = []
    levers: list[Lever] = []
    feature_forecasts: list[FeatureForecast] = []
    team_forecasts: dict[str, Forecast] = {}
    month = quarter = ""
    for team in sorted({g.team for g in groups}):
        mine = [g for g in groups if g.team == team]
        features = [fig.feature_figures(g, period) for g in mine]
        team_lines = [line for g in mine for line in g.lines]
        forecasts = []
        for group in mine:
            found = feature_levers(group, ctx)
            levers += found
            monthly = sum(line.cost(period.start, period.end) for line in group.lines) * 30 / period.days
            made, _ = _group_forecast(
                group.lines, now, combined_fraction(found, monthly),
                label=f"{team}/{group.feature}/{group.environment}", team=team, feature=group.feature,
                environment=group.environment,
            )  # fmt: skip
            feature_forecasts.append(made)
            forecasts.append(made)
            month, quarter = made.month, made.quarter
        team_forecasts[team] = _forecast_of(forecasts, month, quarter)
        teams.append(
            TeamFigures(
                team=team,
                display_name=display_name(team),
                features=features,
                **fig.summed_unit(features, team_lines, period).model_dump(),
            )
        )
    pt_levers, pt_notes = provisioned_throughput(groups, ctx)
    levers = sorted(levers + pt_levers, key=lambda lever: -lever.saving_usd_per_month)

    items = fig.unattributed_items(counted, period)
    unattributed_forecasts = []
    for o in counted:
        if o.kind in ("untagged", "unknown-team", "direct-model"):
            made, _ = _group_forecast([o.line], now, 0.0, label=f"{o.kind}: {o.line.name}")
            unattributed_forecasts.append(made)
            month, quarter = made.month, made.quarter
    if not month:
        made, _ = _group_forecast([], now, 0.0, label="(nothing)")
        month, quarter = made.month, made.quarter
    by_kind = {kind: fig.added(i.spend_usd for i in items if i.kind == kind) for kind in
               ("untagged", "unknown-team", "direct-model")}  # fmt: skip
    unattributed_usd = fig.added(by_kind.values())
    team_spend = fig.added(t.spend_usd for t in teams)
    total = fig.added([team_spend, unattributed_usd])
    previous_total = fig.added(
        [*(t.previous_spend_usd for t in teams), *(i.previous_spend_usd for i in items)]
    )
    org = _forecast_of([*team_forecasts.values(), *unattributed_forecasts], month, quarter)
    unpriced = sorted({o.line.model_id for o in counted if o.line.rates is None})
    all_notes = [ESTIMATES_NOTE, *notes, *pt_notes]
    if not opts.unit_prices:
        all_notes.append("Provisioned Throughput not assessed: no model-unit price given (--unit-prices)")
    if unpriced:
        all_notes.append(
            f"unpriced models (their requests and tokens count, their spend does not): {', '.join(unpriced)}"
        )
    return ShowbackReport(
        generated_at=now,
        period=PeriodOut(start=period.start_instant, end=period.end_instant),
        previous_period=PeriodOut(start=period.previous().start_instant, end=period.previous().end_instant),
        total_spend_usd=total,
        previous_total_spend_usd=previous_total,
        unattributed_usd=unattributed_usd,
        unattributed=Unattributed(
            untagged_usd=by_kind["untagged"],
            unknown_team_usd=by_kind["unknown-team"],
            direct_model_usd=by_kind["direct-model"],
            items=items,
        ),
        attributable_percent=round(100.0 * team_spend / total, 2) if total > 0 else None,
        teams=teams,
        movers=fig.movers(((t.team, f) for t in teams for f in t.features), items, opts.movers),
        levers=levers,
        forecast=OrgForecast(
            **org.model_dump(),
            trend_model=TREND_MODEL,
            scenarios=SCENARIOS,
            teams=team_forecasts,
            features=feature_forecasts + unattributed_forecasts,
        ),
        reconciliation=reconciliation,
        unpriced_models=unpriced,
        notes=all_notes,
        source=source,
    )
