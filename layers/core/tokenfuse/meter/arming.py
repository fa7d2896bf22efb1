"""What a subject is armed at: the team policy's ``burn_usd_per_hour`` when it sets one, else the
subject's baseline times the policy's ``burn_factor`` (default 5), never below the floor.

The baseline is the subject's mean $/h over the last ``baseline_days`` from its ``AWS/Bedrock``
metrics (the same account and region, ``ModelId`` = the profile id or the model id as called),
priced like the records. A subject without history is armed at the floor. The policy comes from
the profile's ``team`` and ``environment`` tags and the team directory, where the meter can read
one; spend no profile explains takes FinOps's policy. A threshold is kept ``ttl`` seconds per
container: arming costs one GetMetricData call (and a ListTagsForResource) per subject an hour.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tokenfuse.meter.models import Subject, Threshold
from tokenfuse.teams import Policy

BaselineOf = Callable[[Subject, datetime], float | None]
"""(subject, now) -> its mean $/h over the baseline days (None: no history)."""
PolicyOf = Callable[[Subject], Policy | None]
"""subject -> the owning team's policy (None: no directory to read)."""


@dataclass(frozen=True)
class BurnDefaults:
    burn_factor: float = 5.0
    burn_seconds: int = 20
    floor_usd_per_hour: float = 5.0


@dataclass
class ArmedThresholds:
    defaults: BurnDefaults
    baseline_of: BaselineOf
    policy_of: PolicyOf
    ttl: timedelta = timedelta(hours=1)
    _cache: dict[str, tuple[datetime, Threshold]] = field(default_factory=dict)

    def threshold(self, subject: Subject, now: datetime) -> Threshold:
        cached = self._cache.get(subject.key)
        if cached is not None and cached[0] > now:
            return cached[1]
        armed = arm(subject, now, self.defaults, self.baseline_of, self.policy_of)
        self._cache[subject.key] = (now + self.ttl, armed)
        return armed


def arm(
    subject: Subject, now: datetime, defaults: BurnDefaults, baseline_of: BaselineOf, policy_of: PolicyOf
) -> Threshold:
    policy = policy_of(subject)
    seconds = policy.burn_seconds if policy and policy.burn_seconds else defaults.burn_seconds
    if policy is not None and policy.burn_usd_per_hour is not None:
        return Threshold(policy.burn_usd_per_hour, "policy", seconds)
    factor = policy.burn_factor if policy and policy.burn_factor else defaults.burn_factor
    baseline = baseline_of(subject, now)
    if baseline is not None and baseline * factor > defaults.floor_usd_per_hour:
        return Threshold(baseline * factor, "baseline", seconds)
    return Threshold(defaults.floor_usd_per_hour, "floor", seconds)


__all__ = ["ArmedThresholds", "BaselineOf", "BurnDefaults", "PolicyOf", "arm"]
