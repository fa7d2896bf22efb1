"""From per-profile usage to ranked culprits, the unattributed part and a severity (pure, no AWS).

Money:

- a profile's cost over some hours = its tokens x its model's rates in the signal's region
  (input, output, cache read, cache write; see ``pricing``);
- ``delta`` = window cost - baseline cost (the baseline is the average of the same hours on the
  previous days, so both cover the same number of hours);
- ``share`` = a profile's positive delta / the sum of all positive deltas (the spike);
- ``cost_per_hour`` = window cost / window hours (baseline likewise);
- ``month_end`` = month-to-date + the rest of the month at the window's $/h, where month-to-date is
  the priced metrics of the hours read that fall in this month plus, for this month's hours before
  the first hour read (more than ``baseline_days`` ago), the baseline's $/h. An approximation: it
  assumes those unread hours looked like the baseline, and that the spike goes on at its current
  rate until the month ends.

Severity comes from the spike's rate and what it adds to the month if it goes on:
``extra = spike $/h x hours left in the month``; the severity is the higher of the levels that the
$/h and that ``extra`` reach (``SeverityThresholds``; defaults: critical at $250/h or $50,000,
high at $50/h or $10,000, medium at $5/h or $1,000, else low).
"""

from dataclasses import dataclass, field
from datetime import datetime

from tokenfuse.attribution.kinds import KindThresholds, classify
from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.usage import HourGrid, Usage
from tokenfuse.events import Culprit, Severity, SpendSignal, TokensPerRequest


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
    """Everything measured of one candidate profile (its owner comes later, for culprits only)."""

    profile_arn: str
    profile_id: str
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

    def hourly_costs(self) -> list[float]:
        """Cost of each recent hour, oldest first (empty when the model has no price)."""
        rates = self.rates
        return [round(hour.cost(rates), 4) for hour in self.recent_hours] if rates else []

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


@dataclass(frozen=True)
class SeverityThresholds:
    """(dollars per hour, dollars added to the month) reached for each level, highest first."""

    levels: tuple[tuple[Severity, float, float], ...] = (
        ("critical", 250.0, 50_000.0),
        ("high", 50.0, 10_000.0),
        ("medium", 5.0, 1_000.0),
    )

    def severity(self, spike_per_hour: float, month_extra: float) -> Severity:
        for level, per_hour, extra in self.levels:
            if spike_per_hour >= per_hour or month_extra >= extra:
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
        return f.profile_id in named or f.profile_arn in named

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
    chosen_ids = {f.profile_arn for f in chosen}
    chosen += [f for f in figures if is_named(f) and f.profile_arn not in chosen_ids]
    return Ranking(chosen, window_cost, baseline_cost, spike)


def month_end(f: ProfileFigures, grid: HourGrid) -> float | None:
    """Month-to-date (read hours priced, unread hours at the baseline $/h) + the rest at the current $/h."""
    if f.rates is None:
        return None
    hours = grid.window_hours
    per_hour = f.window.cost(f.rates) / hours
    baseline_per_hour = f.baseline.cost(f.rates) / hours
    return (
        f.month_to_date.cost(f.rates)
        + grid.unread_month_hours * baseline_per_hour
        + grid.remaining_month_hours * per_hour
    )


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _tpr(usage: Usage) -> TokensPerRequest:
    return TokensPerRequest(
        input=_round(usage.input_per_request(), 2), output=_round(usage.output_per_request(), 2)
    )


def culprit(f: ProfileFigures, owner: Owner, grid: HourGrid, spike: float, options: RankOptions) -> Culprit:
    hours = grid.window_hours
    now_cost, before_cost, delta = f.window_cost(), f.baseline_cost(), f.delta()
    share: float | None = None
    if delta is not None:
        share = min(1.0, max(0.0, delta) / spike) if spike > 0 else 0.0
    return Culprit(
        profile_arn=f.profile_arn,
        profile_id=f.profile_id,
        profile_name=f.profile_name,
        account_id=f.account_id,
        region=f.region,
        model_ids=list(f.model_ids),
        unpriced_models=list(f.unpriced_models),
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
        cost_per_hour_usd=_round(None if now_cost is None else now_cost / hours),
        baseline_cost_per_hour_usd=_round(None if before_cost is None else before_cost / hours),
        month_end_usd=_round(month_end(f, grid), 2),
        invocations=round(f.window.invocations),
        baseline_invocations=round(f.baseline.invocations, 2),
        tokens_per_request=_tpr(f.window),
        baseline_tokens_per_request=_tpr(f.baseline),
        kind=classify(f.window, f.baseline, now_cost, before_cost, options.kinds),
        hourly_cost_usd=f.hourly_costs(),
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


def severity(spike: float, grid: HourGrid, thresholds: SeverityThresholds) -> Severity:
    per_hour = spike / grid.window_hours
    return thresholds.severity(per_hour, per_hour * grid.remaining_month_hours)


def window_of(signal: SpendSignal) -> tuple[datetime, datetime]:
    return signal.window_start, signal.window_end
