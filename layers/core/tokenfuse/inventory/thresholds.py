"""The token-rate alarms tokenfuse arms on every profile, and their thresholds (pure).

One alarm per profile and metric, named ``tokenfuse-<profile_id>-output-tokens`` (and
``-input-tokens``): the Sum of ``AWS/Bedrock`` ``OutputTokenCount`` per 60 s with dimension
``ModelId`` = the profile id, in ALARM after 3 breaching minutes of 3, missing data not breaching.
The threshold is the team policy's when it sets one, else a multiple of the profile's own p95
per-minute rate over the baseline days, never below a floor.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenfuse.adapters.alarms import AlarmDefinition
from tokenfuse.inventory.owners import INPUT_TOKENS, OUTPUT_TOKENS

ALARM_PREFIX = "tokenfuse-"
NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"
SUFFIXES = {OUTPUT_TOKENS: "output-tokens", INPUT_TOKENS: "input-tokens"}
METRICS = (OUTPUT_TOKENS, INPUT_TOKENS)
_OWN_ALARM = re.compile(r"^tokenfuse-(?P<profile_id>[a-z0-9]{1,64})-(?P<kind>output|input)-tokens$")


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """How thresholds are chosen (from the function's environment)."""

    multiplier: float = 5.0
    floors: tuple[tuple[str, float], ...] = ((OUTPUT_TOKENS, 20_000.0), (INPUT_TOKENS, 100_000.0))
    period_seconds: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 3
    percentile: float = 95.0

    def floor(self, metric: str) -> float:
        return dict(self.floors).get(metric, 0.0)


def alarm_name(profile_id: str, metric: str) -> str:
    return f"{ALARM_PREFIX}{profile_id}-{SUFFIXES[metric]}"


def owned_alarm_profile(name: str) -> str | None:
    """The profile id of an alarm name tokenfuse arms per profile (None for any other alarm)."""
    match = _OWN_ALARM.fullmatch(name)
    return match["profile_id"] if match else None


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def round_threshold(value: float) -> float:
    """Two significant digits, so a baseline that wobbles does not rewrite the alarm every day."""
    if value <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(value))
    return float(round(value, digits))


def threshold(
    metric: str,
    policy_threshold: float | None,
    per_minute_values: Sequence[float],
    settings: AlarmPolicy,
) -> tuple[float, str]:
    """(threshold per minute, source) with source ``policy`` | ``baseline`` | ``floor``."""
    if policy_threshold is not None and policy_threshold > 0:
        return float(policy_threshold), "policy"
    baseline = round_threshold(settings.multiplier * percentile(per_minute_values, settings.percentile))
    floor = settings.floor(metric)
    return (baseline, "baseline") if baseline > floor else (floor, "floor")


def alarm_definition(
    profile_id: str,
    profile_arn: str,
    metric: str,
    threshold_per_minute: float,
    *,
    team: str | None,
    source: str,
    settings: AlarmPolicy,
) -> AlarmDefinition:
    # Per-minute thresholds scale to the alarm's period.
    scaled = threshold_per_minute * settings.period_seconds / 60.0
    return AlarmDefinition(
        name=alarm_name(profile_id, metric),
        namespace=NAMESPACE,
        metric_name=metric,
        dimensions=((DIMENSION, profile_id),),
        statistic="Sum",
        period=settings.period_seconds,
        evaluation_periods=settings.evaluation_periods,
        datapoints_to_alarm=settings.datapoints_to_alarm,
        threshold=scaled,
        comparison="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        description=(
            f"tokenfuse token-rate alarm: {metric} per minute of {profile_arn} "
            f"(team {team or 'unknown'}; threshold from {source}). Managed by tokenfuse's inventory."
        ),
    )
