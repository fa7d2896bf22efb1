"""The ranking pass: a scope's ``ModelId`` series summed over the window and the baseline days, matched
to what is behind each one, priced, and cut to the few candidates worth an hourly read. Pure.

- A series label (a ``ModelId`` value) is an application profile's id or ARN (which form AWS emits
  is unconfirmed: both are matched and added up), or else a model called directly: a foundation
  model id or a system inference profile id (``us.anthropic...``). A label that looks like an
  application profile the scope does not list (one deleted since) is kept apart (``unlisted``).
- Ranking compares the window with the baseline days' *average hour* (summed by Metrics Insights in
  daily buckets) times the window's hours; the hourly read that follows compares each candidate
  with the *same hours* of each baseline day. The ranking only picks who gets that read.
- Double counting: whether AWS also counts a call through a profile under the model's own
  ``ModelId`` is not known. Where a model's series holds at least what the profiles on that model
  show, metric by metric, in the window and in the baseline alike (as it would if AWS counted both),
  its direct spend is its series minus what those profiles show: nothing is counted twice, and if
  AWS does not in fact count both, direct spend next to busy profiles on that model reads low.
  Where the series holds less than its profiles show, AWS cannot be counting them in it, and the
  series is taken as direct calls alone.
- Candidates: the series whose dollar delta is positive, largest first, until they cover
  ``coverage`` of the positive deltas (at least ``min_detail`` of them, at most ``max_detail``);
  unpriced series whose tokens grew (at most ``max_unpriced``); a profile the signal names.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tokenfuse.adapters.bedrock import InferenceProfile
from tokenfuse.arns import PROFILE_ARN, PROFILE_ID
from tokenfuse.attribution.pricing import (
    PriceTable,
    Quote,
    Rates,
    base_model_id,
    routing_of_model_id,
    routing_of_profile,
)
from tokenfuse.attribution.usage import HourGrid, Usage

MIN_DELTA_USD = 1e-6
"""A delta below a millionth of a dollar is rounding, not growth."""

Sums = dict[str, dict[str, float]]
"""label -> metric -> sum."""


@dataclass
class SeriesTotals:
    """Per label and metric: the sum over the window and over the baseline range."""

    window: Sums = field(default_factory=dict)
    baseline: Sums = field(default_factory=dict)

    def add(self, part: Sums, metric: str, sums: Mapping[str, float]) -> None:
        for label, value in sums.items():
            part.setdefault(label, {})[metric] = part.get(label, {}).get(metric, 0.0) + value

    @property
    def labels(self) -> set[str]:
        return set(self.window) | set(self.baseline)

    def without(self, labels: set[str]) -> "SeriesTotals":
        """These totals with ``labels``' series left out."""
        return SeriesTotals(
            {k: v for k, v in self.window.items() if k not in labels},
            {k: v for k, v in self.baseline.items() if k not in labels},
        )

    def usage(self, labels: Iterable[str]) -> tuple[Usage, Usage]:
        """(window, baseline range) usage of these labels added up."""
        window: dict[str, float] = {}
        baseline: dict[str, float] = {}
        for label in labels:
            for part, out in ((self.window, window), (self.baseline, baseline)):
                for metric, value in part.get(label, {}).items():
                    out[metric] = out.get(metric, 0.0) + value
        return Usage.from_metrics(window), Usage.from_metrics(baseline)


@dataclass(frozen=True)
class Subject:
    """What stands behind one or more series: an application profile, or one model called directly."""

    profile: InferenceProfile | None
    model_id: str | None
    """For direct calls: the ModelId value as it came (a foundation model or system profile id)."""
    labels: tuple[str, ...]
    named: bool = False

    @property
    def key(self) -> str:
        return self.profile.arn if self.profile else f"model:{self.model_id}"

    @property
    def direct(self) -> bool:
        return self.profile is None

    @property
    def base_models(self) -> frozenset[str]:
        if self.profile is None:
            return frozenset({base_model_id(self.model_id or "")})
        return frozenset(base_model_id(arn) for arn in self.profile.model_arns)


def profile_labels(profiles: Sequence[InferenceProfile]) -> set[str]:
    """Every ModelId a scope's profiles may appear under: both forms of each, and the models behind them."""
    labels = {form for p in profiles for form in (p.profile_id, p.arn)}
    return labels | {base_model_id(arn) for p in profiles for arn in p.model_arns}


def subject_rates(
    subject: Subject, region: str, prices: PriceTable
) -> tuple[Rates | None, tuple[str, ...], tuple[str, ...], str | None]:
    """(rates, the model ids behind the subject, those without a price, which rate that is and why):
    a profile is priced at its first priced model. The routing (in-region, geographic, global) is
    the subject's: a ModelId prefix, or the regions of the models a profile lists."""
    if subject.profile is None:
        model = subject.model_id or ""
        found = prices.quote(model, region, routing_of_model_id(model))
        if found is None:
            return None, (model,), (model,), None
        return found.rates, (model,), (), found.basis
    profile = subject.profile
    routing = routing_of_profile(profile.model_arns)
    model_ids = tuple(dict.fromkeys(base_model_id(arn) for arn in profile.model_arns))
    quote: Quote | None = None
    unpriced = []
    for model_id in model_ids:
        found = prices.quote(model_id, region, routing)
        if found is None:
            unpriced.append(model_id)
        elif quote is None:
            quote = found
    if not model_ids:
        unpriced.append(profile.arn)
    if quote is None:
        return None, model_ids, tuple(unpriced), None
    return quote.rates, model_ids, tuple(unpriced), quote.basis


def looks_like_profile(label: str) -> bool:
    return bool(PROFILE_ID.fullmatch(label) or PROFILE_ARN.fullmatch(label))


def subjects_of(
    labels: Iterable[str], profiles: Sequence[InferenceProfile], named: set[str]
) -> tuple[list[Subject], list[str]]:
    """The subjects behind ``labels`` (every profile, with the forms it was seen under; a named
    profile never seen is read under both forms), and the labels of profiles the scope does not list."""
    forms: dict[str, int] = {}
    for i, profile in enumerate(profiles):
        forms[profile.profile_id] = forms[profile.arn] = i
    seen: dict[int, list[str]] = {}
    direct: list[str] = []
    unlisted: list[str] = []
    for label in sorted(labels):
        if label in forms:
            seen.setdefault(forms[label], []).append(label)
        elif looks_like_profile(label):
            unlisted.append(label)
        else:
            direct.append(label)
    subjects = []
    for i, profile in enumerate(profiles):
        is_named = profile.profile_id in named or profile.arn in named
        found = seen.get(i)
        if found or is_named:
            labels_of = tuple(found) if found else (profile.profile_id, profile.arn)
            subjects.append(Subject(profile, None, labels_of, is_named))
    subjects += [Subject(None, label, (label,)) for label in direct]
    return subjects, unlisted


@dataclass(frozen=True)
class Candidate:
    """One subject as the ranking saw it (window and baseline-equivalent usage, priced)."""

    subject: Subject
    window: Usage
    baseline: Usage
    rates: Rates | None
    window_factors: dict[str, float] = field(default_factory=dict)
    baseline_factors: dict[str, float] = field(default_factory=dict)
    """For direct calls: per metric, the part of the model's own series left once what the profiles
    on the same model show is taken away (in the window; in the baseline range). Empty: all of it."""

    @property
    def delta(self) -> float | None:
        if self.rates is None:
            return None
        return self.window.cost(self.rates) - self.baseline.cost(self.rates)

    @property
    def token_growth(self) -> float:
        return self.window.total_tokens - self.baseline.total_tokens


@dataclass(frozen=True)
class Ranked:
    candidates: list[Candidate]
    considered: int
    guarded_models: list[str]
    """Direct-call models whose series had profile usage taken away (the double-counting guard)."""


def _covers(whole: Usage, part: Usage) -> bool:
    """Whether ``whole`` holds at least ``part`` in every metric ``part`` has (within rounding)."""
    wholes = whole.as_metrics()
    return all(wholes[m] >= v * (1 - 1e-9) for m, v in part.as_metrics().items() if v > 0)


def counts_profile_calls(parts: Iterable[tuple[Usage, Usage]]) -> bool:
    """Whether a model's own series counts the calls made through the profiles on that model as well:
    in every range read, ``(the model's series, what those profiles show)``, the series holds at least
    what the profiles show, and the profiles show something. Then the model's direct calls are its
    series minus the profiles' part (the double-counting guard)."""
    pairs = list(parts)
    return any(profiles.total_tokens for _, profiles in pairs) and all(
        _covers(series, profiles) for series, profiles in pairs
    )


def _left(part: Usage, whole: Usage) -> dict[str, float]:
    parts, wholes = part.as_metrics(), whole.as_metrics()
    return {m: (parts[m] / v if v > 0 else 1.0) for m, v in wholes.items()}


def rank_series(
    subjects: Sequence[Subject],
    totals: SeriesTotals,
    grid: HourGrid,
    rates_of: Callable[[Subject], Rates | None],
    *,
    coverage: float = 0.99,
    min_detail: int = 5,
    max_detail: int = 20,
    max_unpriced: int = 5,
) -> Ranked:
    """The candidates for the hourly read, largest dollar delta first (then unpriced, then named)."""
    profile_usage: dict[str, tuple[Usage, Usage]] = {}
    for s in subjects:
        if s.profile is not None:
            profile_usage[s.key] = totals.usage(s.labels)
    everyone: list[Candidate] = []
    guarded: list[str] = []
    for s in subjects:
        window, baseline = totals.usage(s.labels)
        window_factors: dict[str, float] = {}
        baseline_factors: dict[str, float] = {}
        if s.direct:
            guard_window, guard_baseline = Usage(), Usage()
            for other in subjects:
                if other.profile is not None and s.base_models & other.base_models:
                    w, b = profile_usage[other.key]
                    guard_window, guard_baseline = guard_window.plus(w), guard_baseline.plus(b)
            if counts_profile_calls([(window, guard_window), (baseline, guard_baseline)]):
                guarded.append(s.model_id or "")
                left_window, left_baseline = window.minus(guard_window), baseline.minus(guard_baseline)
                window_factors, baseline_factors = _left(left_window, window), _left(left_baseline, baseline)
                window, baseline = left_window, left_baseline
        since = s.profile.created_at if s.profile else None
        range_hours = grid.baseline_range_hours(since)
        equivalent = baseline.scaled(grid.window_hours / range_hours) if range_hours else Usage()
        everyone.append(Candidate(s, window, equivalent, rates_of(s), window_factors, baseline_factors))

    priced = sorted(
        (c for c in everyone if c.delta is not None and c.delta > MIN_DELTA_USD),
        key=lambda c: -(c.delta or 0.0),
    )
    total = sum(c.delta or 0.0 for c in priced)
    chosen: list[Candidate] = []
    covered = 0.0
    for c in priced:
        if len(chosen) >= max_detail or (len(chosen) >= min_detail and covered >= coverage * total):
            break
        chosen.append(c)
        covered += c.delta or 0.0
    unpriced = sorted(
        (c for c in everyone if c.rates is None and c.token_growth > 0), key=lambda c: -c.token_growth
    )
    chosen += unpriced[:max_unpriced]
    keys = {c.subject.key for c in chosen}
    chosen += [c for c in everyone if c.subject.named and c.subject.key not in keys]
    return Ranked(chosen, len(everyone), sorted(set(guarded)))
