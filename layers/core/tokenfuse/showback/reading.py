"""Reading a scope's daily Bedrock usage: every ``ModelId`` series (application profiles and models
called directly), one daily ``Sum`` per metric, priced with attribution's price table.

Attribution's pieces, reused as they are: the scope's profiles (``adapters.bedrock``), its series
(ListMetrics through ``adapters.cloudwatch.model_id_series``, plus every form a listed profile and
the models behind it may appear under), who stands behind each series (``series.subjects_of``), the
double-counting guard for models called directly (``series.counts_profile_calls``), the rates
(``series.subject_rates``) and the reads themselves (``adapters.cloudwatch.MetricReader``: plain
MetricStat queries, 500 a call, fewer when the days would pass 100,800 datapoints).

Metrics Insights is not used here: it reads two weeks back, and a report compares a week with the
one before it and fits a trend over four.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from tokenfuse.adapters.bedrock import InferenceProfile, list_application_profiles, profile_tags
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest, model_id_series
from tokenfuse.attribution.pricing import PriceTable, Rates, base_model_id, load_prices
from tokenfuse.attribution.series import (
    Subject,
    counts_profile_calls,
    profile_labels,
    subject_rates,
    subjects_of,
)
from tokenfuse.attribution.service import ClientFactory
from tokenfuse.attribution.usage import INVOCATIONS, METRICS, Usage

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

DAY_SECONDS = 86_400
Subjectkind = Literal["profile", "direct-model"]
DailyUsage = dict[date, Usage]


@dataclass(frozen=True)
class Line:
    """One subject of one scope and its usage per UTC day: an application profile, or one model
    called directly (no profile: ``profile_arn`` None)."""

    account_id: str
    region: str
    subject: Subjectkind
    name: str
    """The profile's name (its id when it has none), or the model id called directly."""
    profile_arn: str | None
    model_id: str
    """The priced model (a profile's first priced model), as a base model id."""
    rates: Rates | None
    tags: Mapping[str, str]
    days: Mapping[date, Usage] = field(default_factory=dict)

    def usage(self, start: date, end: date) -> Usage:
        """Usage over [start, end)."""
        total = Usage()
        for day, usage in self.days.items():
            if start <= day < end:
                total = total.plus(usage)
        return total

    def cost(self, start: date, end: date) -> float:
        """USD over [start, end); 0 for an unpriced model (the report lists those apart)."""
        return self.usage(start, end).cost(self.rates) if self.rates else 0.0

    def day_cost(self, day: date) -> float:
        usage = self.days.get(day)
        return usage.cost(self.rates) if usage and self.rates else 0.0


@dataclass(frozen=True)
class ScopeRead:
    """What reading one scope cost (GetMetricData and ListMetrics calls), and what a reader must know."""

    account_id: str | None
    region: str
    series: int
    get_metric_data_calls: int
    list_metrics_calls: int
    notes: tuple[str, ...] = ()


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def daily_usage(reader: MetricReader, labels: Iterable[str], start: date, end: date) -> dict[str, DailyUsage]:
    """Per label, its usage per UTC day over [start, end) (daily MetricStat Sums, starting at midnight)."""
    ordered = sorted(set(labels))
    requests = [
        MetricRequest(f"{i}|{metric}", metric, label) for i, label in enumerate(ordered) for metric in METRICS
    ]
    answers = reader.read(requests, _instant(start), _instant(end), period=DAY_SECONDS) if requests else {}
    out: dict[str, DailyUsage] = {}
    for i, label in enumerate(ordered):
        per_day: dict[date, dict[str, float]] = {}
        for metric in METRICS:
            timestamps, values = answers[f"{i}|{metric}"]
            for stamp, value in zip(timestamps, values, strict=True):
                day = stamp.astimezone(UTC).date()
                per_day.setdefault(day, {})[metric] = per_day.get(day, {}).get(metric, 0.0) + value
        out[label] = {day: Usage.from_metrics(sums) for day, sums in per_day.items()}
    return out


def _added(parts: Iterable[DailyUsage]) -> DailyUsage:
    total: DailyUsage = {}
    for part in parts:
        for day, usage in part.items():
            total[day] = total.get(day, Usage()).plus(usage)
    return total


def _without(series: DailyUsage, taken: DailyUsage) -> DailyUsage:
    return {day: usage.minus(taken.get(day, Usage())) for day, usage in series.items()}


class ShowbackReader:
    """Reads scopes (account, region) through ``clients`` (attribution's factory: own account, or the
    member role in another). ``known_tags`` gives a profile's tags as the inventory recorded them
    (None: unknown there, read from Bedrock)."""

    def __init__(
        self,
        clients: ClientFactory,
        prices: PriceTable | None = None,
        known_tags: Callable[[str], Mapping[str, str] | None] | None = None,
    ) -> None:
        self.clients = clients
        self._prices = prices
        self.known_tags = known_tags
        self.reads: list[ScopeRead] = []

    @property
    def prices(self) -> PriceTable:
        return self._prices or load_prices()

    def read(self, scopes: Iterable[tuple[str | None, str]], start: date, end: date) -> list[Line]:
        lines: list[Line] = []
        for account, region in scopes:
            lines += self.read_scope(account, region, start, end)
        return lines

    def read_scope(self, account: str | None, region: str, start: date, end: date) -> list[Line]:
        clients = self.clients(account, region)
        profiles = list_application_profiles(clients.bedrock)
        listed, list_calls = model_id_series(clients.cloudwatch, INVOCATIONS)
        subjects, _ = subjects_of(listed | profile_labels(profiles), profiles, set())
        reader = MetricReader(clients.cloudwatch)
        labels = {label for subject in subjects for label in subject.labels}
        per_label = daily_usage(reader, labels, start, end)
        usage_of = {s.key: _added(per_label.get(label, {}) for label in s.labels) for s in subjects}
        notes: list[str] = []
        lines = []
        for subject in subjects:
            days = usage_of[subject.key]
            if subject.direct:
                days, guarded = self._direct_part(subject, subjects, usage_of)
                if guarded:
                    notes.append(
                        f"direct calls to {subject.model_id}: its own ModelId series minus what the profiles "
                        "on that model show (AWS may count a call through a profile under both: unconfirmed)"
                    )
            if not any(u.invocations or u.total_tokens for u in days.values()):
                continue
            lines.append(self._line(subject, account, region, days, clients.bedrock))
        scope_account = account or (profiles[0].account_id if profiles else None)
        self.reads.append(
            ScopeRead(scope_account, region, len(listed), reader.calls, list_calls, tuple(notes))
        )
        return lines

    @staticmethod
    def _direct_part(
        subject: Subject, subjects: list[Subject], usage_of: Mapping[str, DailyUsage]
    ) -> tuple[DailyUsage, bool]:
        """A model's direct calls: its series, less the profiles on that model where it counts them."""
        days = usage_of[subject.key]
        on_model = _added(
            usage_of[other.key]
            for other in subjects
            if other.profile is not None and subject.base_models & other.base_models
        )
        pairs = [(usage, on_model.get(day, Usage())) for day, usage in days.items()]
        if counts_profile_calls(pairs):
            return _without(days, on_model), True
        return days, False

    def _line(
        self, subject: Subject, account: str | None, region: str, days: DailyUsage, bedrock: BedrockClient
    ) -> Line:
        rates, model_ids, _, _ = subject_rates(subject, region, self.prices)
        profile = subject.profile
        if profile is None:
            return Line(
                account or "unknown", region, "direct-model", subject.model_id or "", None,
                base_model_id(subject.model_id or ""), rates, {}, days,
            )  # fmt: skip
        return Line(
            profile.account_id or account or "unknown",
            profile.region or region,
            "profile",
            profile.name or profile.profile_id,
            profile.arn,
            self._priced_model(subject, region, model_ids),
            rates,
            self._tags(profile, bedrock),
            days,
        )

    def _priced_model(self, subject: Subject, region: str, model_ids: tuple[str, ...]) -> str:
        for model_id in model_ids:
            if self.prices.price_for(model_id, region) is not None:
                return model_id
        return model_ids[0] if model_ids else (subject.profile.arn if subject.profile else "")

    def _tags(self, profile: InferenceProfile, bedrock: BedrockClient) -> dict[str, str]:
        recorded = self.known_tags(profile.arn) if self.known_tags else None
        if recorded is not None:
            return dict(recorded)
        return profile_tags(bedrock, profile.arn)


def span(*ranges: tuple[date, date]) -> tuple[date, date]:
    """The smallest [start, end) covering every range."""
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def days_before(day: date, count: int) -> date:
    return day - timedelta(days=count)
