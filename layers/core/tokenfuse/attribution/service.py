"""Attribution: a SpendSignal in, a SpikeAttributed out (the wiring of adapters around the pure parts).

For each scope of the signal (account and region; a CAD signal's root causes may name several):

1. list the scope's APPLICATION inference profiles (one ListInferenceProfiles page per 1,000);
2. a first cheap pass reads ``Invocations`` over the window only, for both ``ModelId`` forms (the
   profile id and the full ARN: which one AWS emits is unconfirmed), and skips profiles idle in the
   window (a profile the signal names is never skipped). When one call could carry every query of
   the full read anyway (at most 50 profiles), the first pass is left out;
3. the second pass reads, for each remaining profile and each ``ModelId`` form that had data in the
   window, ONE hourly query per metric spanning the baseline and the window, 500 queries a call;
4. the figures are priced and ranked (``rank``); tags are read for the culprits only.

So 5,000 profiles of which 3,000 are active take 20 + 30 = 50 GetMetricData calls.

Cross-account: a scope in another account than the function's own is read through
``arn:aws:iam::{account}:role/{member_role_name}`` (``AwsClientFactory``); tests inject any factory.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field

from tokenfuse import clock
from tokenfuse.adapters import aws
from tokenfuse.adapters.bedrock import InferenceProfile, get_profile, list_application_profiles, profile_tags
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.attribution.kinds import KindThresholds
from tokenfuse.attribution.pricing import PriceTable, Rates, base_model_id, load_prices
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
from tokenfuse.attribution.usage import INVOCATIONS, METRICS, HourGrid, HourlySeries
from tokenfuse.errors import NotFound, TokenfuseError
from tokenfuse.events import SpendSignal, SpikeAttributed
from tokenfuse.observability import logger
from tokenfuse.settings import FunctionSettings

SMALL_SCOPE_PROFILES = 50
"""Up to this many profiles, one call carries the full read of both forms: no first pass."""


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
    bedrock: Any
    cloudwatch: Any


ClientFactory = Callable[[str | None, str], ScopeClients]
"""(account id or None for the function's own, region) -> the clients to read that scope."""


class AwsClientFactory(aws.MemberSessions):
    """Clients in the function's own account, or through the member role in another account."""

    def __init__(self, member_role_name: str, base: Any | None = None) -> None:
        super().__init__(member_role_name, "tokenfuse-attribute", base=base)

    def __call__(self, account_id: str | None, region: str) -> ScopeClients:
        return ScopeClients(
            self.client("bedrock", account_id, region), self.client("cloudwatch", account_id, region)
        )


@dataclass
class AttributeSettings(AttributionSettings):
    """AttributeFunction's environment (template.yaml): the knobs, the bus and the inventory table."""

    event_bus_name: str
    inventory_table_name: str | None = None


@dataclass
class AttributionStats:
    """What the last attribution cost (the benchmark reads it)."""

    get_metric_data_calls: int = 0
    profiles: int = 0
    active_profiles: int = 0
    queries: int = 0
    scopes: list[tuple[str | None, str]] = field(default_factory=list)


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
        clients_of: dict[str, ScopeClients] = {}
        known = self.known_scopes() if self.known_scopes and signal.source == "budget" else ()
        for account, region in scopes_of(signal, self.region or default_region(), known):
            self.stats.scopes.append((account, region))
            clients = self.clients(account, region)
            for figure in self._scope_figures(clients, account, region, grid, named):
                figures.append(figure)
                clients_of[figure.profile_arn] = clients

        options = s.rank_options
        ranking = rank(figures, named, options)
        culprits = []
        for f in ranking.culprits:
            owner = self._owner(clients_of[f.profile_arn].bedrock, f.profile_arn)
            culprits.append(culprit(f, owner, grid, ranking.spike, options))
        return SpikeAttributed(
            signal=signal,
            attributed_at=now,
            window_start=grid.window_start,
            window_end=grid.window_end,
            baseline_days=s.baseline_days,
            window_cost_usd=round(ranking.window_cost, 6),
            baseline_cost_usd=round(ranking.baseline_cost, 6),
            spike_usd=round(ranking.spike, 6),
            unattributed_usd=unattributed(signal, ranking.spike),
            severity=severity(ranking.spike, grid, options.severity),
            culprits=culprits,
        )

    # -- one scope ------------------------------------------------------------------------------

    def _profiles(self, bedrock: Any, named: set[str]) -> list[InferenceProfile]:
        """The scope's application profiles, plus a named profile the list did not return."""
        profiles = list_application_profiles(bedrock)
        known = {p.profile_id for p in profiles} | {p.arn for p in profiles}
        for name in sorted(named - known):
            if name in known:  # the id and the ARN of one profile are both named
                continue
            try:
                extra = get_profile(bedrock, name)
            except NotFound:
                logger.info("named profile not found in scope", extra={"profile": name})
                continue
            profiles.append(extra)
            known |= {extra.arn, extra.profile_id}
        return profiles

    def _scope_figures(
        self, clients: ScopeClients, account: str | None, region: str, grid: HourGrid, named: set[str]
    ) -> list[ProfileFigures]:
        profiles = self._profiles(clients.bedrock, named)
        self.stats.profiles += len(profiles)
        reader = MetricReader(clients.cloudwatch)
        forms = self._active_forms(reader, profiles, grid, named)
        self.stats.active_profiles += len(forms)

        requests: list[MetricRequest] = []
        owners: list[tuple[int, str]] = []
        for index, model_ids in forms.items():
            for model_id in model_ids:
                for metric in METRICS:
                    requests.append(MetricRequest(str(len(requests)), metric, model_id))
                    owners.append((index, metric))
        self.stats.queries += len(requests)
        answers = reader.read(requests, grid.span_start, grid.span_end) if requests else {}
        series: dict[int, HourlySeries] = {index: HourlySeries(grid) for index in forms}
        for request, (index, metric) in zip(requests, owners, strict=True):
            timestamps, values = answers[request.key]
            if values:
                series[index].add(metric, timestamps, values)
        self.stats.get_metric_data_calls += reader.calls

        out = []
        for index, hourly in series.items():
            profile = profiles[index]
            rates, model_ids, unpriced = self._rates(profile, region)
            baseline, _ = hourly.baseline(profile.created_at)
            out.append(
                ProfileFigures(
                    profile_arn=profile.arn,
                    profile_id=profile.profile_id,
                    profile_name=profile.name,
                    account_id=profile.account_id or account or "unknown",
                    region=profile.region or region,
                    model_ids=model_ids,
                    rates=rates,
                    unpriced_models=unpriced,
                    window=hourly.window(),
                    baseline=baseline,
                    month_to_date=hourly.month_to_date(),
                    recent_hours=tuple(hourly.recent_hours()),
                )
            )
        return out

    def _active_forms(
        self, reader: MetricReader, profiles: Sequence[InferenceProfile], grid: HourGrid, named: set[str]
    ) -> dict[int, tuple[str, ...]]:
        """Per profile index, the ModelId forms to read in full (both when no first pass was made)."""
        both: dict[int, tuple[str, ...]] = {i: (p.profile_id, p.arn) for i, p in enumerate(profiles)}
        if len(profiles) <= SMALL_SCOPE_PROFILES:
            return both
        requests = [
            MetricRequest(f"{i}|{n}", INVOCATIONS, model_id)
            for i, model_ids in both.items()
            for n, model_id in enumerate(model_ids)
        ]
        self.stats.queries += len(requests)
        answers = reader.read(requests, grid.window_start, grid.window_end)
        active: dict[int, tuple[str, ...]] = {}
        for i, model_ids in both.items():
            seen = tuple(m for n, m in enumerate(model_ids) if any(v > 0 for v in answers[f"{i}|{n}"][1]))
            profile = profiles[i]
            if profile.profile_id in named or profile.arn in named:
                seen = model_ids
            if seen:
                active[i] = seen
        return active

    def _rates(
        self, profile: InferenceProfile, region: str
    ) -> tuple[Rates | None, tuple[str, ...], tuple[str, ...]]:
        model_ids = tuple(dict.fromkeys(base_model_id(arn) for arn in profile.model_arns))
        rates: Rates | None = None
        unpriced = []
        for model_id in model_ids:
            found = self.prices.price_for(model_id, region)
            if found is None:
                unpriced.append(model_id)
            elif rates is None:
                rates = found
        if not model_ids:
            unpriced.append(profile.arn)
        return rates, model_ids, tuple(unpriced)

    def _owner(self, bedrock: Any, arn: str) -> Owner:
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
    """Publish when a culprit's cost (or an unpriced one's tokens) grew, or the signal names a profile."""
    if result.signal.profile_id or result.signal.profile_arn:
        return True
    return any((c.delta_usd or 0) > 0 or (c.delta_usd is None and c.unpriced_models) for c in result.culprits)
