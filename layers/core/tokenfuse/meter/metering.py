"""Pure metering: price each record, add records up per subject and 10-second bucket, and decide
whether a subject's burn rate stayed above its threshold for the whole window.

Prices: the foundation model behind the record's ``modelId`` (an application profile's model,
looked up once per container; a system profile's or a model ARN's base model), in the record's
``region`` (the source region, which AWS bills cross-region inference at), from tokenfuse's price
table: input, output, cache read and cache write (5-minute TTL rate: the record does not say the TTL).
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tokenfuse.attribution.pricing import PriceTable, base_model_id
from tokenfuse.meter.models import BUCKET_SECONDS, Subject, Tally, Threshold
from tokenfuse.meter.records import MeteredRecord

ModelBehind = Callable[[str], str | None]
"""An application profile's ARN -> the foundation model id it calls (None: unknown)."""


def bucket_of(epoch_seconds: float) -> int:
    """The start (epoch seconds) of the 10-second bucket an instant falls in."""
    return int(epoch_seconds // BUCKET_SECONDS * BUCKET_SECONDS)


def subject_of(record: MeteredRecord, model_behind: ModelBehind) -> Subject:
    profile = record.profile_arn
    if profile is not None:
        model = model_behind(profile)
        return Subject("profile", record.account_id, record.region, profile, model or profile)
    return Subject("direct-model", record.account_id, record.region, None, record.model_id)


def price(record: MeteredRecord, subject: Subject, prices: PriceTable) -> float | None:
    """The record's dollars (None: its model has no price in the table)."""
    if subject.model_id.startswith("arn:") and subject.profile_arn == subject.model_id:
        return None  # the profile's model is unknown: unpriced, never 0
    rates = prices.price_for(base_model_id(subject.model_id), record.region)
    if rates is None:
        return None
    return rates.cost(
        record.input_tokens, record.output_tokens, record.cache_read_tokens, record.cache_write_tokens
    )


@dataclass(frozen=True)
class Metered:
    """A batch added up: (subject key, bucket start) -> tally, and each key's subject."""

    buckets: dict[tuple[str, int], Tally]
    subjects: dict[str, Subject]
    unpriced_models: dict[str, set[str]]


def meter(records: Iterable[MeteredRecord], model_behind: ModelBehind, prices: PriceTable) -> Metered:
    buckets: dict[tuple[str, int], Tally] = {}
    subjects: dict[str, Subject] = {}
    unpriced: dict[str, set[str]] = {}
    for record in records:
        subject = subject_of(record, model_behind)
        subjects.setdefault(subject.key, subject)
        usd = price(record, subject, prices)
        tally = buckets.setdefault((subject.key, bucket_of(record.at.timestamp())), Tally())
        tally.invocations += 1
        tally.input_tokens += record.input_tokens
        tally.output_tokens += record.output_tokens
        tally.cache_read_tokens += record.cache_read_tokens
        tally.cache_write_tokens += record.cache_write_tokens
        if usd is None:
            tally.unpriced += 1
            unpriced.setdefault(subject.key, set()).add(subject.model_id)
            continue
        tally.usd += usd
        tally.callers[record.caller_arn] = tally.callers.get(record.caller_arn, 0.0) + usd
    return Metered(buckets, subjects, unpriced)


@dataclass(frozen=True)
class Burn:
    """A window of consecutive buckets, each above the threshold."""

    start: int
    """Epoch seconds of the first bucket's start."""
    end: int
    """Epoch seconds of the last bucket's end."""
    total: Tally
    usd_per_hour: float


def buckets_needed(burn_seconds: int) -> int:
    return max(1, math.ceil(burn_seconds / BUCKET_SECONDS))


def burning(buckets: Mapping[int, Tally], last_bucket: int, threshold: Threshold) -> Burn | None:
    """The window of ``burn_seconds`` ending with ``last_bucket`` (or, since the newest bucket may
    still be filling, with the one before it) when every bucket in it burns above the threshold."""
    count = buckets_needed(threshold.burn_seconds)
    for end_bucket in (last_bucket, last_bucket - BUCKET_SECONDS):
        starts = [end_bucket - BUCKET_SECONDS * i for i in range(count - 1, -1, -1)]
        if all(_rate(buckets.get(start)) > threshold.usd_per_hour for start in starts):
            total = Tally()
            for start in starts:
                total.add(buckets[start])
            seconds = count * BUCKET_SECONDS
            return Burn(starts[0], end_bucket + BUCKET_SECONDS, total, total.usd * 3600 / seconds)
    return None


def _rate(tally: Tally | None) -> float:
    """A bucket's dollars as $/h."""
    return 0.0 if tally is None else tally.usd * 3600 / BUCKET_SECONDS


def caller_shares(callers: Mapping[str, float]) -> list[tuple[str, float]]:
    """(role ARN, share of the dollars), largest first (ties by ARN); shares sum to 1."""
    total = sum(v for v in callers.values() if v > 0)
    if total <= 0:
        return []
    ranked = sorted(((arn, usd) for arn, usd in callers.items() if usd > 0), key=lambda kv: (-kv[1], kv[0]))
    return [(arn, min(1.0, usd / total)) for arn, usd in ranked]


__all__ = [
    "Burn",
    "Metered",
    "ModelBehind",
    "bucket_of",
    "buckets_needed",
    "burning",
    "caller_shares",
    "meter",
    "price",
    "subject_of",
]
