"""The meter's values: what is metered (a subject), what a bucket adds up, what a threshold is.

A subject is an application inference profile (keyed by its ARN), or a model called without one
(a foundation model or a system profile, keyed by account, region and the id as called): spend
that skips application profiles is metered and named by caller too.
"""

from dataclasses import dataclass, field
from typing import Literal

from tokenfuse.events import ThresholdBasis

BUCKET_SECONDS = 10
"""The counters' resolution: every record adds to the 10-second bucket its timestamp falls in."""

SubjectKind = Literal["profile", "direct-model"]


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    account_id: str
    region: str
    profile_arn: str | None
    model_id: str
    """The id as called for a direct call; for a profile, the foundation model behind it (or the
    profile ARN itself while that is unknown)."""

    @property
    def key(self) -> str:
        """The counters' partition key."""
        if self.profile_arn is not None:
            return f"profile#{self.profile_arn}"
        return f"direct#{self.account_id}#{self.region}#{self.model_id}"

    @property
    def profile_id(self) -> str | None:
        return self.profile_arn.rsplit("/", 1)[-1] if self.profile_arn else None

    @property
    def metric_model_id(self) -> str:
        """The ``ModelId`` dimension of the subject's ``AWS/Bedrock`` metrics."""
        return self.profile_id or self.model_id


@dataclass(slots=True)
class Tally:
    """What one bucket (or a window of them) adds up to."""

    usd: float = 0.0
    invocations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    unpriced: int = 0
    """Invocations of a model without a price (counted, never priced at 0 silently)."""
    callers: dict[str, float] = field(default_factory=dict)
    """Caller role ARN -> USD."""

    def add(self, other: "Tally") -> None:
        self.usd += other.usd
        self.invocations += other.invocations
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.unpriced += other.unpriced
        for caller, usd in other.callers.items():
            self.callers[caller] = self.callers.get(caller, 0.0) + usd


@dataclass(frozen=True, slots=True)
class Threshold:
    """The burn rate a subject is armed at, and where the figure comes from."""

    usd_per_hour: float
    basis: ThresholdBasis
    burn_seconds: int


__all__ = ["BUCKET_SECONDS", "Subject", "SubjectKind", "Tally", "Threshold"]
