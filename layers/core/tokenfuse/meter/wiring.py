"""MeterFunction's settings, composition root and entry point (the handler only wires these up).

The root holds, per container, what may outlive an invocation: the counters table, the bus, the
dead-letter queue, the price table and two caches (the armed thresholds, an hour each; the model
behind each profile, which never changes: profiles are immutable). The AWS clients that arm a
subject and look a profile up are built per invocation (:meth:`MeterDependencies.meter`): for a
record of another account than the function's own (the main stack's meter fed across accounts)
they go through the member role, whose credentials must not outlive the invocation.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from tokenfuse.adapters.aws import MemberService, MemberSessions
from tokenfuse.adapters.bedrock import get_profile, profile_tags
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.adapters.dead_letters import DeadLetterQueue
from tokenfuse.adapters.meter_counters import MeterCounters
from tokenfuse.attribution.pricing import PriceTable, base_model_id, load_prices
from tokenfuse.composition import composition_root
from tokenfuse.errors import TokenfuseError
from tokenfuse.meter.arming import ArmedThresholds, BurnDefaults
from tokenfuse.meter.models import Subject, Threshold
from tokenfuse.meter.service import Meter, MeterOptions, MeterResult
from tokenfuse.observability import logger
from tokenfuse.settings import FunctionSettings
from tokenfuse.teams import Policy, deployed_directory

TOKEN_METRICS = (
    "InputTokenCount",
    "OutputTokenCount",
    "CacheReadInputTokenCount",
    "CacheWriteInputTokenCount",
)


class MeterSettings(FunctionSettings):
    """MeterFunction's environment (template.yaml, org/member.yaml)."""

    counters_table_name: str
    event_bus_name: str = Field(
        description="tokenfuse's bus: its name in the main stack, its ARN in a member account"
    )
    meter_dead_letter_queue_url: str
    burn_factor: float = Field(default=5.0, gt=1, le=1000)
    burn_seconds: int = Field(default=20, ge=10, le=3600)
    burn_floor_usd_per_hour: float = Field(default=5.0, gt=0, le=1e9)
    realert_seconds: int = Field(default=300, ge=10, le=86400)
    baseline_days: int = Field(default=7, ge=1, le=14)
    team_directory_parameter: str | None = None
    member_role_name: str = "tokenfuse-member"
    team_tag_key: str = "team"
    environment_tag_key: str = "environment"


@dataclass
class MeterDependencies:
    settings: MeterSettings
    counters: MeterCounters
    bus: EventBus
    dead_letters: DeadLetterQueue
    thresholds: dict[str, tuple[datetime, Threshold]] = field(default_factory=dict)
    models: dict[str, str | None] = field(default_factory=dict)

    def meter(self, own_account: str | None = None) -> Meter:
        """A Meter for this invocation (its member-role sessions are the container's kept ones:
        :func:`tokenfuse.adapters.aws.kept_role_session`, so a busy meter asks STS once an hour
        per account, not once per log delivery)."""
        s = self.settings
        sessions = MemberSessions(s.member_role_name, "tokenfuse-meter", own_account=own_account)
        aws = _SubjectReads(sessions, s, self.models)
        arming = ArmedThresholds(
            BurnDefaults(s.burn_factor, s.burn_seconds, s.burn_floor_usd_per_hour),
            aws.baseline,
            aws.policy,
            ttl=timedelta(hours=1),
            _cache=self.thresholds,
        )
        return Meter(
            counters=self.counters,
            arming=arming,
            bus=self.bus,
            dead_letters=self.dead_letters,
            model_behind=aws.model_behind,
            prices=load_prices,
            options=MeterOptions(realert_seconds=s.realert_seconds),
        )


@dataclass
class _SubjectReads:
    """The AWS reads behind a subject: the model behind a profile, its baseline, its policy."""

    sessions: MemberSessions
    settings: MeterSettings
    models: dict[str, str | None]

    def _client(self, service: MemberService, account_id: str, region: str) -> Any:
        return self.sessions.client(service, account_id, region)

    def model_behind(self, profile_arn: str) -> str | None:
        if profile_arn not in self.models:
            account, region = profile_arn.split(":")[4], profile_arn.split(":")[3]
            try:
                profile = get_profile(self._client("bedrock", account, region), profile_arn)
            except TokenfuseError as error:
                logger.warning(f"profile {profile_arn} not read (its records stay unpriced): {error}")
                return None  # not cached: the next delivery asks again
            models = [base_model_id(arn) for arn in profile.model_arns]
            self.models[profile_arn] = models[0] if models else None
        return self.models[profile_arn]

    def baseline(self, subject: Subject, now: datetime) -> float | None:
        days = self.settings.baseline_days
        end = now.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=days)
        try:
            reader = MetricReader(self._client("cloudwatch", subject.account_id, subject.region))
            requests = [MetricRequest(m, m, subject.metric_model_id) for m in TOKEN_METRICS]
            answers = reader.read(requests, start, end, period=86400)
        except TokenfuseError as error:
            logger.warning(f"baseline of {subject.key} not read (armed at the floor): {error}")
            return None
        sums = {metric: sum(answers[metric][1]) for metric in TOKEN_METRICS}
        return baseline_usd_per_hour(subject, sums, days * 24, load_prices())

    def policy(self, subject: Subject) -> Policy | None:
        s = self.settings
        if not s.team_directory_parameter:
            return None
        try:
            directory = deployed_directory(s.team_directory_parameter)
        except TokenfuseError as error:
            logger.warning(f"team directory not read (default burn settings): {error}")
            return None
        if subject.profile_arn is None:
            return directory.policy_for(None, None)
        try:
            tags = profile_tags(
                self._client("bedrock", subject.account_id, subject.region), subject.profile_arn
            )
        except TokenfuseError as error:
            logger.warning(f"tags of {subject.profile_arn} not read (FinOps's policy): {error}")
            tags = {}
        return directory.policy_for(tags.get(s.team_tag_key), tags.get(s.environment_tag_key))


def baseline_usd_per_hour(
    subject: Subject, sums: Mapping[str, float], hours: int, prices: PriceTable
) -> float | None:
    """Mean $/h of the token sums over ``hours`` (None: no tokens, or no price)."""
    if not any(sums.values()) or hours <= 0:
        return None
    rates = prices.price_for(base_model_id(subject.model_id), subject.region)
    if rates is None:
        return None
    usd = rates.cost(
        sums.get("InputTokenCount", 0.0),
        sums.get("OutputTokenCount", 0.0),
        sums.get("CacheReadInputTokenCount", 0.0),
        sums.get("CacheWriteInputTokenCount", 0.0),
    )
    return usd / hours


@composition_root
def dependencies(settings: MeterSettings) -> MeterDependencies:
    """MeterFunction's composition root (:mod:`tokenfuse.composition`)."""
    return MeterDependencies(
        settings,
        MeterCounters(settings.counters_table_name),
        EventBus(settings.event_bus_name),
        DeadLetterQueue(settings.meter_dead_letter_queue_url),
    )


def meter_delivery(
    event: Mapping[str, Any], deps: MeterDependencies, own_account: str | None
) -> dict[str, Any]:
    """Meter one subscription delivery; the handler's return value says what it did."""
    result: MeterResult = deps.meter(own_account).handle(event)
    return result.summary()


__all__ = ["MeterDependencies", "MeterSettings", "baseline_usd_per_hour", "dependencies", "meter_delivery"]
