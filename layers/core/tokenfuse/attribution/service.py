"""Attribution: a SpendSignal in, a SpikeAttributed out (the wiring of adapters around the pure parts).

For each scope of the signal (account and region; a CAD signal's root causes may name several):

1. list the scope's APPLICATION inference profiles (one ListInferenceProfiles page per 1,000);
2. rank every ``ModelId`` series of the scope (profiles, and models called directly) with CloudWatch
   Metrics Insights: one query per GetMetricData call, per metric (``Invocations`` and the four
   token metrics) over the window and over the baseline days, 500 series each (``series``). Past
   the 10,000 metrics a query processes (ListMetrics counts the series when the scope lists more
   than ``SERIES_CHECK_PROFILES`` profiles; AWS may also say an answer is partial), or when the
   baseline starts more than two weeks ago (a Budgets period), the ranking reads the series
   ListMetrics lists with MetricStat queries instead, in partitions of 500, and says so in the
   result (``reads``, ``notes``);
3. read the few candidates the ranking picks (and a profile the signal names) in detail: one hourly
   MetricStat query per metric and series spanning the baseline and the window, 500 queries a call;
4. price and rank the figures (``rank``); tags are read for the culprit profiles only.

So a scope of 5,000 active profiles takes 10 ranking calls and one or two detail calls.

Cross-account: a scope in another account than the function's own is read through
``arn:aws:iam::{account}:role/{member_role_name}`` (``AwsClientFactory``); tests inject any factory.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from tokenfuse import clock
from tokenfuse.adapters import aws
from tokenfuse.adapters.bedrock import InferenceProfile, get_profile, list_application_profiles, profile_tags
from tokenfuse.adapters.cloudwatch import (
    INSIGHTS_MAX_AGE,
    INSIGHTS_MAX_METRICS,
    InsightsReader,
    MetricReader,
    MetricRequest,
    insights_period,
    model_id_series,
)
from tokenfuse.attribution.arrival import arrival_hour, read_arrival_rates
from tokenfuse.attribution.kinds import KindThresholds
from tokenfuse.attribution.measured import with_measured
from tokenfuse.attribution.peak import find_peak
from tokenfuse.attribution.pricing import (
    PriceTable,
    Rates,
    base_model_id,
    load_prices,
)
from tokenfuse.attribution.rank import (
    Owner,
    ProfileFigures,
    RankOptions,
    TagKeys,
    culprit,
    rank,
    severity,
    unattributed,
)
from tokenfuse.attribution.series import (
    Candidate,
    SeriesTotals,
    Subject,
    profile_labels,
    rank_series,
    subject_rates,
    subjects_of,
)
from tokenfuse.attribution.usage import (
    INPUT_TOKENS,
    METRICS,
    OUTPUT_TOKENS,
    HourGrid,
    HourlySeries,
)
from tokenfuse.canaries import CANARY_NAME_PREFIX, is_drill_profile
from tokenfuse.errors import NotFound, TokenfuseError
from tokenfuse.events import ArrivalRate, ReadMethod, ScopeRead, SpendSignal, SpikeAttributed
from tokenfuse.observability import logger
from tokenfuse.settings import FunctionSettings

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_cloudwatch import CloudWatchClient

SERIES_CHECK_PROFILES = 4_500
"""From this many listed profiles, ListMetrics counts the scope's series before Metrics Insights
ranks them: below it, even both ModelId forms of every profile plus 1,000 model-level series stay
under the 10,000 metrics a query processes."""
PARTITION_RANK_METRICS = (INPUT_TOKENS, OUTPUT_TOKENS)
"""What the partitioned (MetricStat) ranking reads per series: the two token counts that carry most
of the dollars; the detail read that follows reads every metric."""


class AttributionSettings(FunctionSettings):
    """Attribution's knobs, each read from the variable of its name (``BASELINE_DAYS``, ...)."""

    baseline_days: int = Field(default=7, ge=0, le=14)
    max_window_hours: int = Field(default=24, ge=1, le=72)
    max_culprits: int = Field(default=10, ge=1)
    min_share: float = Field(default=0.01, ge=0, le=1)
    kind_factor: float = Field(default=3.0, gt=1)
    member_role_name: str = "tokenfuse-member"
    team_tag_key: str = "team"
    feature_tag_key: str = "feature"
    environment_tag_key: str = "environment"
    cost_center_tag_key: str = "cost-center"
    protected_tag_key: str = "tokenfuse:protected"

    @property
    def tag_keys(self) -> TagKeys:
        return TagKeys(
            self.team_tag_key,
            self.feature_tag_key,
            self.environment_tag_key,
            self.cost_center_tag_key,
            self.protected_tag_key,
        )

    @property
    def rank_options(self) -> RankOptions:
        return RankOptions(self.max_culprits, self.min_share, KindThresholds(factor=self.kind_factor))


@dataclass
class ScopeClients:
    """The clients that read one scope (an account and region)."""

    bedrock: "BedrockClient"
    cloudwatch: "CloudWatchClient"


ClientFactory = Callable[[str | None, str], ScopeClients]
"""(account id or None for the function's own, region) -> the clients to read that scope."""


class AwsClientFactory(aws.MemberSessions):
    """Clients in the function's own account, or through the member role in another account."""

    def __init__(
        self, member_role_name: str, base: "boto3.Session | None" = None, own_account: str | None = None
    ) -> None:
        super().__init__(member_role_name, "tokenfuse-attribute", base=base, own_account=own_account)

    def __call__(self, account_id: str | None, region: str) -> ScopeClients:
        return ScopeClients(
            self.client("bedrock", account_id, region), self.client("cloudwatch", account_id, region)
        )


class AttributeSettings(AttributionSettings):
    """AttributeFunction's environment (template.yaml): the knobs, the bus and the inventory table."""

    event_bus_name: str
    inventory_table_name: str | None = None


@dataclass
class AttributionStats:
    """What the last attribution cost (the benchmark reads it)."""

    get_metric_data_calls: int = 0
    list_metrics_calls: int = 0
    profiles: int = 0
    series: int = 0
    candidates: int = 0
    queries: int = 0
    datapoints: int = 0
    scopes: list[tuple[str | None, str]] = field(default_factory=list)


@dataclass
class ScopeReading:
    """What one scope gave: its figures, how it was read, and what a reader must know."""

    figures: list[ProfileFigures]
    read: ScopeRead
    notes: list[str]


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _arn_part(arn: str | None, index: int) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[index] or None if len(parts) > index else None


def scopes_of(
    signal: SpendSignal, fallback_region: str, known_scopes: Sequence[tuple[str, str]] = ()
) -> list[tuple[str | None, str]]:
    """The (account, region) pairs to look in: the signal's own, or its Bedrock root causes'.

    A Budgets alert comes from the payer account and names no region: its scope is its cost filters'
    linked accounts and regions, within where the inventory knows profiles (``known_scopes``);
    a budget without such filters covers every account and region the inventory knows."""
    account = signal.account_id or _arn_part(signal.profile_arn, 4)
    region = signal.region or _arn_part(signal.profile_arn, 3) or fallback_region
    if signal.source == "budget":
        filters = signal.cost_filters or {}
        accounts, regions = filters.get("LinkedAccount") or [], filters.get("Region") or []
        within = [
            (a, r)
            for a, r in known_scopes
            if (not accounts or a in accounts) and (not regions or r in regions)
        ]
        if within:
            return list(dict.fromkeys(within))
        if accounts:
            return [(a, r) for a in accounts for r in regions or [region]]
    causes = [c for c in signal.root_causes if c.service is None or "bedrock" in c.service.lower()]
    pairs = [(c.account_id or account, c.region or region) for c in causes] or [(account, region)]
    return list(dict.fromkeys(pairs))


def _named(signal: SpendSignal) -> set[str]:
    return {value for value in (signal.profile_id, signal.profile_arn) if value}


MAX_UNLISTED_FETCHES = 20
"""At most this many GetInferenceProfile calls for series of profiles the scope does not list."""


class Attributor:
    """Attributes spend signals; ``clients`` gives the Bedrock and CloudWatch clients of a scope."""

    def __init__(
        self,
        clients: ClientFactory,
        settings: AttributionSettings | None = None,
        prices: PriceTable | None = None,
        region: str | None = None,
        now: Callable[[], datetime] = clock.now,
        *,
        known_tags: Callable[[str], Mapping[str, str] | None] | None = None,
        known_scopes: Callable[[], Sequence[tuple[str, str]]] | None = None,
    ) -> None:
        """``known_tags`` gives a profile's tags as the inventory recorded them (None when it does not
        know the profile); the owner is read from there first, and from Bedrock's tags otherwise.
        ``known_scopes`` lists the (account, region) pairs where the inventory knows profiles: the
        scope of a Budgets alert, which names neither."""
        self.clients = clients
        self.known_tags = known_tags
        self.known_scopes = known_scopes
        self.settings = settings or AttributionSettings()
        self._prices = prices
        self.region = region
        self.now = now
        self.stats = AttributionStats()
        self._scope_calls = 0

    @property
    def prices(self) -> PriceTable:
        return self._prices or load_prices()

    def attribute(self, signal: SpendSignal) -> SpikeAttributed:
        s = self.settings
        self.stats = AttributionStats()
        now = self.now()
        grid = HourGrid.build(
            signal.window_start, signal.window_end, now, s.baseline_days, s.max_window_hours
        )
        named = _named(signal)
        figures: list[ProfileFigures] = []
        reads: list[ScopeRead] = []
        notes: list[str] = []
        if grid.clamped:
            notes.append(
                f"window clamped: the signal spans {signal.window_start:%Y-%m-%d %H:%M}Z to "
                f"{signal.window_end:%Y-%m-%d %H:%M}Z; its last {s.max_window_hours} h were attributed "
                "(MAX_WINDOW_HOURS)"
            )
        clients_of: dict[str, ScopeClients] = {}
        known = self.known_scopes() if self.known_scopes and signal.source == "budget" else ()
        for account, region in scopes_of(signal, self.region or default_region(), known):
            self.stats.scopes.append((account, region))
            clients = self.clients(account, region)
            reading = self._scope(clients, account, region, grid, named=named, now=now)
            reads.append(reading.read)
            notes += [n for n in reading.notes if n not in notes]
            for figure in reading.figures:
                figures.append(figure)
                clients_of[figure.key] = clients

        options = s.rank_options
        ranking = rank(figures, named, options)
        at_arrival = self._arrival_rates(signal, grid, now, ranking.culprits, clients_of)
        culprits = []
        for f in ranking.culprits:
            owner = (
                Owner() if f.profile_arn is None else self._owner(clients_of[f.key].bedrock, f.profile_arn)
            )
            found = culprit(f, owner, grid, ranking.spike, options)
            if f.key in at_arrival:
                found = found.model_copy(update={"rate_at_arrival": at_arrival[f.key]})
            culprits.append(found)
        direct = sum(max(0.0, f.delta() or 0.0) for f in figures if f.subject == "direct-model")
        attributed = SpikeAttributed(
            signal=signal,
            attributed_at=now,
            window_start=grid.window_start,
            window_end=grid.end,
            last_hour_minutes=grid.last_hour_minutes,
            baseline_days=s.baseline_days,
            window_cost_usd=round(ranking.window_cost, 6),
            baseline_cost_usd=round(ranking.baseline_cost, 6),
            spike_usd=round(ranking.spike, 6),
            direct_model_usd=round(direct, 6),
            unattributed_usd=unattributed(signal, ranking.spike),
            severity=severity(figures, grid, options.severity),
            culprits=culprits,
            reads=reads,
            notes=notes,
        )
        return with_measured(attributed, options.severity)

    def _arrival_rates(
        self,
        signal: SpendSignal,
        grid: HourGrid,
        now: datetime,
        culprits: Sequence[ProfileFigures],
        clients_of: Mapping[str, ScopeClients],
    ) -> dict[str, ArrivalRate]:
        """The culprits' rates in the last complete hour before the signal arrived, when the window
        ends before it (:mod:`tokenfuse.attribution.arrival`); one call per scope."""
        hour = arrival_hour(signal.received_at, now, grid.window_end)
        if hour is None:
            return {}
        by_scope: dict[int, tuple[ScopeClients, list[ProfileFigures]]] = {}
        for f in culprits:
            clients = clients_of[f.key]
            by_scope.setdefault(id(clients), (clients, []))[1].append(f)
        out: dict[str, ArrivalRate] = {}
        for clients, figures in by_scope.values():
            reader = MetricReader(clients.cloudwatch)
            try:
                out |= read_arrival_rates(reader, figures, hour)
            except TokenfuseError as error:  # the window's figures stand; the reply says which they are
                logger.warning("could not read the rate at arrival", extra={"error": str(error)})
            self.stats.get_metric_data_calls += reader.calls
            self.stats.datapoints += reader.datapoints
        return out

    # -- one scope ------------------------------------------------------------------------------

    def _profiles(self, bedrock: "BedrockClient", named: set[str]) -> list[InferenceProfile]:
        """The scope's application profiles, plus a named profile the list did not return."""
        profiles = list_application_profiles(bedrock)
        return profiles + self._fetch(
            bedrock, named - {p.profile_id for p in profiles} - {p.arn for p in profiles}
        )

    def _fetch(self, bedrock: "BedrockClient", identifiers: set[str]) -> list[InferenceProfile]:
        """Profiles by id or ARN with GetInferenceProfile (one not found is logged and skipped)."""
        found: list[InferenceProfile] = []
        known: set[str] = set()
        for name in sorted(identifiers):
            if name in known:  # the id and the ARN of one profile are both asked for
                continue
            try:
                extra = get_profile(bedrock, name)
            except NotFound:
                logger.info("profile not found in scope", extra={"profile": name})
                continue
            found.append(extra)
            known |= {extra.arn, extra.profile_id}
        return found

    def _scope(
        self,
        clients: ScopeClients,
        account: str | None,
        region: str,
        grid: HourGrid,
        *,
        named: set[str],
        now: datetime,
    ) -> ScopeReading:
        profiles = self._profiles(clients.bedrock, named)
        canaries = self._canaries(clients.bedrock, profiles)
        profiles = [p for p in profiles if p not in canaries]
        self.stats.profiles += len(profiles)
        notes: list[str] = []
        totals, method, reason, series = self._rank_totals(clients.cloudwatch, grid, profiles, now)
        if canaries:  # a drill canary is in no figure: its series are left out before ranking
            totals = totals.without({label for c in canaries for label in (c.profile_id, c.arn)})
        self.stats.series += series
        where = f"account {account or 'own'} {region}"
        if reason:
            notes.append(f"{where}: {reason}")
        subjects, unlisted = subjects_of(totals.labels, profiles, named)
        if unlisted:
            extra = self._fetch(clients.bedrock, set(unlisted[:MAX_UNLISTED_FETCHES]))
            if extra:
                profiles += extra
                subjects, _ = subjects_of(totals.labels, profiles, named)
            missing = len(unlisted) - len(extra)
            if missing > 0:
                notes.append(
                    f"{where}: {missing} ModelId series of application profiles the scope no longer lists "
                    "(deleted): their spend is not attributed"
                )
        ranked = rank_series(subjects, totals, grid, lambda subject: self._rates(subject, region)[0])
        self.stats.candidates += len(ranked.candidates)
        for model in ranked.guarded_models:
            notes.append(
                f"{where}: direct calls to {model} are its own ModelId series minus what the profiles on "
                f"{base_model_id(model)} show (AWS may count a call through a profile under the model's "
                "ModelId as well: unconfirmed), so they are never counted twice and may read low"
            )
        reader = MetricReader(clients.cloudwatch)
        figures = self._detail(reader, ranked.candidates, account, region, grid)
        self.stats.get_metric_data_calls += reader.calls
        self.stats.datapoints += reader.datapoints
        read = ScopeRead(
            account_id=account,
            region=region,
            method=method,
            reason=reason,
            series=series,
            get_metric_data_calls=self._scope_calls + reader.calls,
        )
        return ScopeReading(figures, read, notes)

    @staticmethod
    def _canaries(bedrock: "BedrockClient", profiles: Sequence[InferenceProfile]) -> list[InferenceProfile]:
        """The drill canaries among ``profiles``: only canary-named ones have their tags read."""
        found = []
        for profile in profiles:
            if not (profile.name or "").startswith(CANARY_NAME_PREFIX):
                continue
            try:
                tags = profile_tags(bedrock, profile.arn)
            except TokenfuseError as error:  # unreadable: it stays in the figures
                logger.warning(
                    "could not read a canary's tags", extra={"profile": profile.arn, "error": str(error)}
                )
                continue
            if is_drill_profile(profile.name, tags):
                found.append(profile)
        return found

    # -- ranking reads --------------------------------------------------------------------------

    def _rank_totals(
        self,
        cloudwatch: "CloudWatchClient",
        grid: HourGrid,
        profiles: Sequence[InferenceProfile],
        now: datetime,
    ) -> tuple[SeriesTotals, ReadMethod, str | None, int]:
        """The ranking's sums, how they were read, why not with Metrics Insights, and the series count."""
        self._scope_calls = 0
        listed: set[str] | None = None
        if now - grid.span_start > INSIGHTS_MAX_AGE:
            listed = self._list_series(cloudwatch)
            reason = (
                "the baseline starts more than two weeks ago, past what Metrics Insights reads: "
                "ranked with MetricStat reads"
            )
            totals = self._partitioned(cloudwatch, grid, listed | profile_labels(profiles))
            return totals, "metric-stat", reason, len(listed)
        if len(profiles) >= SERIES_CHECK_PROFILES:
            listed = self._list_series(cloudwatch)
            if len(listed) > INSIGHTS_MAX_METRICS:
                reason = (
                    f"{len(listed):,} ModelId series, past the {INSIGHTS_MAX_METRICS:,} a Metrics Insights "
                    "query processes: ranked with partitioned MetricStat reads"
                )
                return self._partitioned(cloudwatch, grid, listed), "metric-stat", reason, len(listed)
        totals, partial = self._insights(cloudwatch, grid)
        if partial:
            listed = listed if listed is not None else self._list_series(cloudwatch)
            reason = "Metrics Insights said its answer may be partial: ranked with partitioned MetricStat"
            totals = self._partitioned(cloudwatch, grid, listed | totals.labels)
            return totals, "metric-stat", reason, len(listed)
        return totals, "metrics-insights", None, len(listed) if listed is not None else len(totals.labels)

    def _list_series(self, cloudwatch: "CloudWatchClient") -> set[str]:
        labels, pages = model_id_series(cloudwatch, OUTPUT_TOKENS)
        self.stats.list_metrics_calls += pages
        return labels

    def _insights(self, cloudwatch: "CloudWatchClient", grid: HourGrid) -> tuple[SeriesTotals, bool]:
        """Each metric's top series over the window and over the baseline days (one call each)."""
        reader = InsightsReader(cloudwatch)
        totals = SeriesTotals()
        partial = False
        ranges = [(totals.window, grid.window_start, grid.window_end)]
        if grid.baseline_end > grid.baseline_start:
            ranges.append((totals.baseline, grid.baseline_start, grid.baseline_end))
        for metric in METRICS:
            for part, start, end in ranges:
                top = reader.top(metric, start, end)
                totals.add(part, metric, top.sums)
                partial = partial or top.partial
                self.stats.datapoints += top.datapoints
        self.stats.queries += reader.calls
        self.stats.get_metric_data_calls += reader.calls
        self._scope_calls += reader.calls
        return totals, partial

    def _partitioned(self, cloudwatch: "CloudWatchClient", grid: HourGrid, labels: set[str]) -> SeriesTotals:
        """The ranking's sums with MetricStat queries, 500 a call: the token counts of every series
        over the window (one datapoint each), then over the baseline days for those active in it."""
        reader = MetricReader(cloudwatch)
        totals = SeriesTotals()
        ordered = sorted(labels)
        window = self._sums(reader, ordered, grid.window_start, grid.window_end)
        active = sorted({label for label, sums in window.items() if any(sums.values())})
        for label in active:
            for metric, value in window[label].items():
                totals.add(totals.window, metric, {label: value})
        if active and grid.baseline_end > grid.baseline_start:
            for label, sums in self._sums(reader, active, grid.baseline_start, grid.baseline_end).items():
                for metric, value in sums.items():
                    totals.add(totals.baseline, metric, {label: value})
        self.stats.get_metric_data_calls += reader.calls
        self.stats.datapoints += reader.datapoints
        self._scope_calls += reader.calls
        return totals

    def _sums(
        self, reader: MetricReader, labels: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, dict[str, float]]:
        requests = [
            MetricRequest(f"{n}|{metric}", metric, label)
            for n, label in enumerate(labels)
            for metric in PARTITION_RANK_METRICS
        ]
        self.stats.queries += len(requests)
        answers = reader.read(requests, start, end, period=insights_period(start, end))
        out: dict[str, dict[str, float]] = {}
        for n, label in enumerate(labels):
            out[label] = {metric: sum(answers[f"{n}|{metric}"][1]) for metric in PARTITION_RANK_METRICS}
        return out

    # -- detail reads ---------------------------------------------------------------------------

    def _detail(
        self,
        reader: MetricReader,
        candidates: Sequence[Candidate],
        account: str | None,
        region: str,
        grid: HourGrid,
    ) -> list[ProfileFigures]:
        """Each candidate's hourly series over the span, as figures (the guard applied to direct calls)."""
        requests: list[MetricRequest] = []
        owners: list[tuple[int, str]] = []
        for index, candidate in enumerate(candidates):
            for label in candidate.subject.labels:
                for metric in METRICS:
                    requests.append(MetricRequest(str(len(requests)), metric, label))
                    owners.append((index, metric))
        self.stats.queries += len(requests)
        answers = reader.read(requests, grid.span_start, grid.span_end) if requests else {}
        series = [HourlySeries(grid) for _ in candidates]
        for request, (index, metric) in zip(requests, owners, strict=True):
            timestamps, values = answers[request.key]
            series[index].add(metric, timestamps, values)

        out = []
        for candidate, hourly in zip(candidates, series, strict=True):
            subject = candidate.subject
            if candidate.window_factors or candidate.baseline_factors:
                hourly.scale(candidate.window_factors, candidate.baseline_factors)
            rates, model_ids, unpriced, rate_basis = self._rates(subject, region)
            since = subject.profile.created_at if subject.profile else None
            baseline, _ = hourly.baseline(since)
            profile = subject.profile
            out.append(
                ProfileFigures(
                    profile_arn=profile.arn if profile else None,
                    profile_id=profile.profile_id if profile else None,
                    profile_name=profile.name if profile else None,
                    account_id=(profile.account_id if profile else None) or account or "unknown",
                    region=(profile.region if profile else None) or region,
                    model_ids=model_ids,
                    rates=rates,
                    rate_basis=rate_basis,
                    unpriced_models=unpriced,
                    window=hourly.window(),
                    baseline=baseline,
                    month_to_date=hourly.month_to_date(),
                    recent_hours=tuple(hourly.recent_hours()),
                    subject="profile" if profile else "direct-model",
                    created_at=since,
                    peak=find_peak(
                        grid.window_start,
                        hourly.window_hours(),
                        hourly.baseline_hours(since),
                        rates,
                        last_hour_fraction=grid.last_hour_fraction,
                    ),
                )
            )
        return out

    def _rates(
        self, subject: Subject, region: str
    ) -> tuple[Rates | None, tuple[str, ...], tuple[str, ...], str | None]:
        """(rates, the model ids behind the subject, those without a price, which rate and why)."""
        return subject_rates(subject, region, self.prices)

    def _owner(self, bedrock: "BedrockClient", arn: str) -> Owner:
        try:
            recorded = self.known_tags(arn) if self.known_tags else None
        except TokenfuseError as error:
            logger.warning("inventory unreadable", extra={"profile": arn, "error": str(error)})
            recorded = None
        if recorded is not None:
            return self.settings.tag_keys.owner(dict(recorded))
        try:
            tags = profile_tags(bedrock, arn)
        except TokenfuseError as error:
            logger.warning("could not read the profile's tags", extra={"profile": arn, "error": str(error)})
            tags = {}
        return self.settings.tag_keys.owner(tags)


def should_publish(result: SpikeAttributed) -> bool:
    """Publish when a culprit's cost (or an unpriced one's tokens) grew, or the signal names a profile.
    A culprit may be direct model calls: spend no profile explains is published too."""
    if result.signal.profile_id or result.signal.profile_arn:
        return True
    if result.signal.source == "invocation-log" and result.culprits:
        return True  # the meter measured the burn: direct model calls, named by caller
    return any((c.delta_usd or 0) > 0 or (c.delta_usd is None and c.unpriced_models) for c in result.culprits)
