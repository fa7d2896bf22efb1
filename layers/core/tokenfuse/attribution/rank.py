"""From measured usage to ranked culprits, the unattributed part and a severity (pure, no AWS).

A figure is one application profile, or one model called directly (no profile behind the calls).

Money:

- a figure's cost over some hours = its tokens x its model's rates in the signal's region
  (input, output, cache read, cache write; see ``pricing``);
- ``delta`` = window cost - baseline cost (the baseline is the average of the same hours on the
  previous days, so both cover the same number of hours);
- ``share`` = a figure's positive delta / the sum of all positive deltas (the spike);
- ``cost_per_hour`` = cost / hours, over the window, or over the peak hours of a long window
  (``peak``); a running last hour counts for the minutes that have passed;
- ``month_end`` = month-to-date + the rest of the month at the current $/h, where month-to-date is
  the priced metrics of the hours read that fall in this month plus, for this month's hours before
  the first hour read (more than ``baseline_days`` ago) *and after the profile was created*, the
  baseline's $/h. An approximation: it assumes those unread hours looked like the baseline, and
  that the spike goes on at its current rate until the month ends.

Severity comes from the spike's rate and what it adds to the month if it goes on:
``extra = spike $/h x hours left in the month``; the severity is the higher of the levels that the
$/h and that ``extra`` reach (``SeverityThresholds``; defaults: critical at $250/h or $50,000,
high at $50/h or $10,000, medium at $5/h or $1,000, else low). A spike on an unpriced model has no
dollars: its level comes from how much its token rate grew (``growth``; defaults: critical at 10x,
high at 5x, medium at 2x), and the higher of the two levels wins.
"""

from dataclasses import dataclass, field
from datetime import datetime

from tokenfuse.attribution.kinds import KindThresholds, classify
from tokenfuse.attribution.peak import Peak
from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.usage import HourGrid, Usage
from tokenfuse.events import (
    Culprit,
    CulpritSubject,
    PeakHours,
    Severity,
    SpendSignal,
    TokensPerRequest,
)

_LEVELS: tuple[Severity, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Owner:
    team: str | None = None
    feature: str | None = None
    environment: str | None = None
    cost_center: str | None = None
    tagged: bool = False
    protected: bool = False


@dataclass(frozen=True)
class TagKeys:
    """The tag keys that name a profile's owner (configurable; see the stack's Parameters)."""

    team: str = "team"
    feature: str = "feature"
    environment: str = "environment"
    cost_center: str = "cost-center"
    protected: str = "tokenfuse:protected"

    def owner(self, tags: dict[str, str]) -> Owner:
        """The owner a profile's tags name. ``tagged`` means a non-empty team tag."""

        def get(key: str) -> str | None:
            value = tags.get(key, "").strip()
            return value or None

        team = get(self.team)
        return Owner(
            team=team,
            feature=get(self.feature),
            environment=get(self.environment),
            cost_center=get(self.cost_center),
            tagged=team is not None,
            protected=(tags.get(self.protected, "").strip().lower() == "true"),
        )


@dataclass(frozen=True)
class ProfileFigures:
    """Everything measured of one candidate: an application profile (``subject`` ``profile``), or a
    model called directly (``direct-model``: no profile ARN, id or name; ``model_ids`` names it).
    Its owner comes later, for culprits only."""

    profile_arn: str | None
    profile_id: str | None
    profile_name: str | None
    account_id: str
    region: str
    model_ids: tuple[str, ...]
    rates: Rates | None
    unpriced_models: tuple[str, ...]
    window: Usage
    baseline: Usage
    month_to_date: Usage = field(default_factory=Usage)
    recent_hours: tuple[Usage, ...] = ()
    subject: CulpritSubject = "profile"
    created_at: datetime | None = None
    peak: Peak | None = None
    rate_basis: str | None = None
    """Which rate ``rates`` is and what was assumed (``Quote.basis``); None when unpriced."""

    @property
    def key(self) -> str:
        return self.profile_arn or f"direct-model/{self.account_id}/{self.region}/{self.model_ids[0]}"

    def hourly_costs(self, last_hour_fraction: float = 1.0) -> list[float]:
        """$/h of each recent hour, oldest first; a running last hour at its rate over the minutes
        that passed (empty when the model has no price)."""
        rates = self.rates
        if not rates:
            return []
        costs = [hour.cost(rates) for hour in self.recent_hours]
        if costs and last_hour_fraction < 1.0:
            costs[-1] /= last_hour_fraction
        return [round(c, 4) for c in costs]

    @property
    def priced(self) -> bool:
        return self.rates is not None

    def window_cost(self) -> float | None:
        return self.window.cost(self.rates) if self.rates else None

    def baseline_cost(self) -> float | None:
        return self.baseline.cost(self.rates) if self.rates else None

    def delta(self) -> float | None:
        now, before = self.window_cost(), self.baseline_cost()
        return None if now is None or before is None else now - before

    def token_growth(self) -> float:
        """Window tokens minus baseline tokens: the ranking key of unpriced profiles."""
        return self.window.total_tokens - self.baseline.total_tokens

    def rated(self, grid: HourGrid) -> tuple[Usage, Usage, float]:
        """(usage, baseline usage, hours) the rates are measured over: the peak, else the window."""
        if self.peak is not None:
            return self.peak.usage, self.peak.baseline, self.peak.hours
        return self.window, self.baseline, grid.window_hours

    def per_hour(self, grid: HourGrid) -> tuple[float | None, float | None]:
        """($/h now, $/h baseline), from the peak hours of a long window, else the whole window."""
        if self.rates is None:
            return None, None
        now, before, hours = self.rated(grid)
        return now.cost(self.rates) / hours, before.cost(self.rates) / hours

    def tokens_per_hour(self, grid: HourGrid) -> tuple[float, float]:
        now, before, hours = self.rated(grid)
        return now.total_tokens / hours, before.total_tokens / hours

    def token_growth_factor(self, grid: HourGrid) -> float | None:
        now, before = self.tokens_per_hour(grid)
        if before <= 0:
            return None if now <= 0 else float("inf")
        return now / before


@dataclass(frozen=True)
class SeverityThresholds:
    """(dollars per hour, dollars added to the month) reached for each level, highest first; and the
    token-rate growth (now / baseline) of an unpriced model's spike for each level."""

    levels: tuple[tuple[Severity, float, float], ...] = (
        ("critical", 250.0, 50_000.0),
        ("high", 50.0, 10_000.0),
        ("medium", 5.0, 1_000.0),
    )
    growth: tuple[tuple[Severity, float], ...] = (("critical", 10.0), ("high", 5.0), ("medium", 2.0))

    def severity(self, spike_per_hour: float, month_extra: float) -> Severity:
        for level, per_hour, extra in self.levels:
            if spike_per_hour >= per_hour or month_extra >= extra:
                return level
        return "low"

    def growth_severity(self, factor: float | None) -> Severity:
        for level, at_least in self.growth:
            if factor is not None and factor >= at_least:
                return level
        return "low"


@dataclass(frozen=True)
class RankOptions:
    max_culprits: int = 10
    min_share: float = 0.01
    kinds: KindThresholds = field(default_factory=KindThresholds)
    severity: SeverityThresholds = field(default_factory=SeverityThresholds)


@dataclass(frozen=True)
class Ranking:
    culprits: list[ProfileFigures]
    window_cost: float
    baseline_cost: float
    spike: float


def rank(
    figures: list[ProfileFigures], named: set[str] | None = None, options: RankOptions | None = None
) -> Ranking:
    """The culprits, largest positive cost delta first.

    Kept: profiles with a positive delta and at least ``min_share`` of the spike, at most
    ``max_culprits`` of them; then unpriced profiles whose tokens grew (by token growth); a profile
    the signal names (``named``: ids or ARNs) is always kept.
    """
    opts = options or RankOptions()
    named = named or set()
    priced = [f for f in figures if f.priced]
    window_cost = sum(f.window_cost() or 0.0 for f in priced)
    baseline_cost = sum(f.baseline_cost() or 0.0 for f in priced)
    spike = sum(max(0.0, f.delta() or 0.0) for f in priced)

    def is_named(f: ProfileFigures) -> bool:
        return (f.profile_id or "") in named or (f.profile_arn or "") in named

    growing = sorted(
        (
            f
            for f in priced
            if (f.delta() or 0.0) > 0 and spike > 0 and (f.delta() or 0.0) / spike >= opts.min_share
        ),
        key=lambda f: f.delta() or 0.0,
        reverse=True,
    )[: opts.max_culprits]
    unpriced = sorted(
        (f for f in figures if not f.priced and f.token_growth() > 0), key=lambda f: -f.token_growth()
    )
    chosen = growing + unpriced[: max(0, opts.max_culprits - len(growing))]
    chosen_ids = {f.key for f in chosen}
    chosen += [f for f in figures if is_named(f) and f.key not in chosen_ids]
    return Ranking(chosen, window_cost, baseline_cost, spike)


def month_end(f: ProfileFigures, grid: HourGrid) -> float | None:
    """Month-to-date (read hours priced; unread hours since the profile existed at the baseline $/h)
    + the rest of the month at the current $/h."""
    if f.rates is None:
        return None
    per_hour, baseline_per_hour = f.per_hour(grid)
    return (
        f.month_to_date.cost(f.rates)
        + grid.unread_month_hours(f.created_at) * (baseline_per_hour or 0.0)
        + grid.remaining_month_hours * (per_hour or 0.0)
    )


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _tpr(usage: Usage) -> TokensPerRequest:
    return TokensPerRequest(
        input=_round(usage.input_per_request(), 2), output=_round(usage.output_per_request(), 2)
    )


def _peak_hours(f: ProfileFigures, grid: HourGrid) -> PeakHours | None:
    peak = f.peak
    if peak is None:
        return None
    now = peak.usage.cost(f.rates) if f.rates else None
    before = peak.baseline.cost(f.rates) if f.rates else None
    return PeakHours(
        start=peak.start,
        end=min(peak.end, grid.end),
        hours=round(peak.hours, 4),
        cost_usd=_round(now),
        baseline_cost_usd=_round(before),
        delta_usd=_round(None if now is None or before is None else now - before),
        tokens=round(peak.usage.total_tokens, 2),
        baseline_tokens=round(peak.baseline.total_tokens, 2),
    )


def culprit(f: ProfileFigures, owner: Owner, grid: HourGrid, spike: float, options: RankOptions) -> Culprit:
    now_cost, before_cost, delta = f.window_cost(), f.baseline_cost(), f.delta()
    share: float | None = None
    if delta is not None:
        share = min(1.0, max(0.0, delta) / spike) if spike > 0 else 0.0
    rated_now, rated_before, _ = f.rated(grid)
    per_hour, baseline_per_hour = f.per_hour(grid)
    tokens_now, tokens_before = f.tokens_per_hour(grid)
    rated_cost_now = rated_now.cost(f.rates) if f.rates else None
    rated_cost_before = rated_before.cost(f.rates) if f.rates else None
    return Culprit(
        subject=f.subject,
        profile_arn=f.profile_arn,
        profile_id=f.profile_id,
        profile_name=f.profile_name,
        account_id=f.account_id,
        region=f.region,
        model_ids=list(f.model_ids),
        unpriced_models=list(f.unpriced_models),
        rate_basis=f.rate_basis,
        team=owner.team,
        feature=owner.feature,
        environment=owner.environment,
        cost_center=owner.cost_center,
        tagged=owner.tagged,
        protected=owner.protected,
        window_cost_usd=_round(now_cost),
        baseline_cost_usd=_round(before_cost),
        delta_usd=_round(delta),
        share=_round(share, 4),
        cost_per_hour_usd=_round(per_hour),
        baseline_cost_per_hour_usd=_round(baseline_per_hour),
        month_end_usd=_round(month_end(f, grid), 2),
        tokens_per_hour=round(tokens_now, 2),
        baseline_tokens_per_hour=round(tokens_before, 2),
        invocations=round(f.window.invocations),
        baseline_invocations=round(f.baseline.invocations, 2),
        tokens_per_request=_tpr(rated_now),
        baseline_tokens_per_request=_tpr(rated_before),
        kind=classify(rated_now, rated_before, rated_cost_now, rated_cost_before, options.kinds),
        peak=_peak_hours(f, grid),
        hourly_cost_usd=f.hourly_costs(grid.last_hour_fraction),
        last_hour_minutes=grid.last_hour_minutes if f.rates else None,
    )


def signal_dollars(signal: SpendSignal) -> float | None:
    """The spike in dollars the signal itself reports: CAD's impact, else actual - expected."""
    if signal.impact_usd is not None:
        return signal.impact_usd
    if signal.actual_usd is not None and signal.expected_usd is not None:
        return signal.actual_usd - signal.expected_usd
    return None


def unattributed(signal: SpendSignal, spike: float) -> float | None:
    """The signal's dollars that no profile's delta explains (direct model calls); never below 0."""
    dollars = signal_dollars(signal)
    return None if dollars is None else round(max(0.0, dollars - spike), 6)


def severity(figures: list[ProfileFigures], grid: HourGrid, thresholds: SeverityThresholds) -> Severity:
    """The higher of: the level the priced spike's $/h (peak hours where a long window has them) and
    its month-end extra reach; the level the fastest-growing unpriced spike's token rate reaches."""
    per_hour = 0.0
    growth: float | None = None
    for f in figures:
        if f.priced:
            if (f.delta() or 0.0) > 0:
                now, before = f.per_hour(grid)
                per_hour += max(0.0, (now or 0.0) - (before or 0.0))
        elif f.token_growth() > 0:
            factor = f.token_growth_factor(grid)
            growth = factor if growth is None or (factor or 0.0) > growth else growth
    by_dollars = thresholds.severity(per_hour, per_hour * grid.remaining_month_hours)
    by_tokens = thresholds.growth_severity(growth)
    return max(by_dollars, by_tokens, key=_LEVELS.index)


def window_of(signal: SpendSignal) -> tuple[datetime, datetime]:
    return signal.window_start, signal.window_end
