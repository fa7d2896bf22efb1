"""The meter: one CloudWatch Logs subscription delivery of Bedrock invocation records in, counters
added, and a spend-rate event out when a subject burns above its threshold for the whole window.

1. The delivery is decoded and each record reduced to ids, counts, the caller, the model and the
   region (:mod:`.records`); a record that does not parse is refused with one line (its event id
   and the field, never its text) and counted (``RecordsRefused``); a delivery that does not
   decode, likewise (``DeliveriesRefused``). Neither is retried: retrying cannot fix it.
2. Records are priced and added up per subject and 10-second bucket (:mod:`.metering`), and each
   bucket's sums are added to DynamoDB with ``ADD`` (:class:`CounterStore`), so concurrent
   deliveries add up. Records whose bucket the table did not take go, redacted (no text), to the
   meter's dead-letter queue with the reason, for a redrive (``RecordsDeadLettered``): the function
   never raises for them, so Lambda's own retries (which would add the written buckets twice) and
   its failure destinations (which would hold the whole payload, text included) never see them.
3. For each subject the delivery touched, the newest window of ``burn_seconds`` is read back
   (every delivery's additions) and compared with the subject's armed threshold
   (:class:`Arming`). Burning -> a claim on the subject's alert item (one event per subject per
   re-alert period, however many deliveries see it) -> a :class:`~tokenfuse.events.SpendRate` on
   tokenfuse's bus. An event the bus refuses gives its claim back (the next delivery, seconds
   later, sends it).
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from tokenfuse import clock
from tokenfuse.attribution.pricing import PriceTable
from tokenfuse.events import CallerShare, SpendRate
from tokenfuse.meter.metering import (
    Burn,
    ModelBehind,
    bucket_of,
    buckets_needed,
    burning,
    caller_shares,
    meter,
)
from tokenfuse.meter.models import BUCKET_SECONDS, Subject, Tally, Threshold
from tokenfuse.meter.records import Delivery, DeliveryRefused, MeteredRecord, read_delivery
from tokenfuse.observability import logger, metrics
from tokenfuse.text import one_line

COUNTER_TTL_SECONDS = 86400
MAX_CALLERS = 20
"""At most this many callers named in an event (the largest shares)."""
MAX_FUTURE = timedelta(minutes=5)
"""A record stamped further ahead of the meter's clock is refused (a clock this wrong, or a forgery)."""


class CounterStore(Protocol):
    def add(self, subject_key: str, bucket: int, tally: Tally, expires_at: int) -> None: ...

    def window(self, subject_key: str, first_bucket: int, last_bucket: int) -> dict[int, Tally]: ...

    def claim(self, subject_key: str, now: int, until: int) -> bool: ...

    def release(self, subject_key: str, until: int) -> None: ...


class Arming(Protocol):
    def threshold(self, subject: Subject, now: datetime) -> Threshold: ...


class Publisher(Protocol):
    def put(self, *events: SpendRate) -> None: ...


class DeadLetters(Protocol):
    def send(self, body: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class MeterOptions:
    realert_seconds: int = 300
    max_lag_seconds: int = 300
    """A burn whose window ended longer ago than this (a late or replayed delivery) is not alerted."""


@dataclass
class MeterResult:
    """What one delivery did (the handler's return value; the bench reads it)."""

    events: int = 0
    records: int = 0
    refused: int = 0
    dead_lettered: int = 0
    subjects: int = 0
    decompressed_bytes: int = 0
    spend_rates: list[SpendRate] = field(default_factory=list)
    refused_delivery: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "records": self.records,
            "refused": self.refused,
            "dead_lettered": self.dead_lettered,
            "subjects": self.subjects,
            "spend_rates": [e.dedup_key for e in self.spend_rates],
            "refused_delivery": self.refused_delivery,
        }


@dataclass
class Meter:
    counters: CounterStore
    arming: Arming
    bus: Publisher
    dead_letters: DeadLetters
    model_behind: ModelBehind
    prices: Callable[[], PriceTable]
    options: MeterOptions = field(default_factory=MeterOptions)
    now: Callable[[], datetime] = clock.now

    def handle(self, event: Mapping[str, Any]) -> MeterResult:
        result = MeterResult()
        try:
            delivery = read_delivery(event)
        except DeliveryRefused as error:
            result.refused_delivery = str(error)
            logger.error(f"refused delivery: {one_line(str(error), 200)}")
            metrics.add_metric(name="DeliveriesRefused", unit=MetricUnit.Count, value=1)
            return result
        now = self.now()
        records = self._fresh(delivery, now, result)
        result.events, result.decompressed_bytes = delivery.events, delivery.decompressed_bytes
        metrics.add_metric(name="RecordsMetered", unit=MetricUnit.Count, value=len(records))
        if not records:
            return result
        metered = meter(records, self.model_behind, self.prices())
        result.records = len(records)
        result.subjects = len(metered.subjects)
        failed = self._add(metered.buckets, now)
        if failed:
            self._dead_letter(records, metered.subjects, failed, result)
        for key, subject in metered.subjects.items():
            touched = [b for (k, b) in metered.buckets if k == key and (k, b) not in failed]
            if touched:
                self._evaluate(subject, max(touched), now, metered.unpriced_models.get(key, set()), result)
        return result

    # -- 1. records ------------------------------------------------------------------------------

    def _fresh(self, delivery: Delivery, now: datetime, result: MeterResult) -> list[MeteredRecord]:
        for refusal in delivery.refusals:
            self._refuse(refusal.event_id, refusal.reason, delivery.log_group, result)
        kept = []
        for record in delivery.records:
            if record.at > now + MAX_FUTURE:
                self._refuse(
                    record.request_id,
                    "record: timestamp is more than 5 minutes ahead",
                    delivery.log_group,
                    result,
                )
                continue
            kept.append(record)
        return kept

    @staticmethod
    def _refuse(event_id: str, reason: str, log_group: str, result: MeterResult) -> None:
        result.refused += 1
        logger.error(f"refused record {one_line(event_id, 80)}: {reason}", log_group=one_line(log_group, 200))
        metrics.add_metric(name="RecordsRefused", unit=MetricUnit.Count, value=1)

    # -- 2. counters -----------------------------------------------------------------------------

    def _add(self, buckets: Mapping[tuple[str, int], Tally], now: datetime) -> dict[tuple[str, int], str]:
        """Add every bucket; the ones the table did not take, with why."""
        failed: dict[tuple[str, int], str] = {}
        for (key, bucket), tally in sorted(buckets.items()):
            try:
                self.counters.add(key, bucket, tally, bucket + BUCKET_SECONDS + COUNTER_TTL_SECONDS)
            except Exception as error:
                failed[(key, bucket)] = f"{type(error).__name__}: {one_line(str(error), 200)}"
        return failed

    def _dead_letter(
        self,
        records: list[MeteredRecord],
        subjects: Mapping[str, Subject],
        failed: Mapping[tuple[str, int], str],
        result: MeterResult,
    ) -> None:
        by_profile = {s.profile_arn: k for k, s in subjects.items() if s.profile_arn}
        lost = [
            r
            for r in records
            if (self._key_of(r, subjects, by_profile), bucket_of(r.at.timestamp())) in failed
        ]
        reason = next(iter(failed.values()))
        body = {"reason": reason, "records": [r.as_json() for r in lost]}
        result.dead_lettered = len(lost)
        logger.error(f"counters did not take {len(lost)} record(s): {reason}")
        metrics.add_metric(name="RecordsDeadLettered", unit=MetricUnit.Count, value=len(lost))
        self.dead_letters.send(body)  # if this fails too, the function fails: Lambda retries it

    @staticmethod
    def _key_of(record: MeteredRecord, subjects: Mapping[str, Subject], by_profile: Mapping[str, str]) -> str:
        if record.profile_arn is not None:
            return by_profile[record.profile_arn]
        return Subject("direct-model", record.account_id, record.region, None, record.model_id).key

    # -- 3. burn ---------------------------------------------------------------------------------

    def _evaluate(
        self, subject: Subject, last_bucket: int, now: datetime, unpriced: set[str], result: MeterResult
    ) -> None:
        threshold = self.arming.threshold(subject, now)
        count = buckets_needed(threshold.burn_seconds)
        first = last_bucket - BUCKET_SECONDS * count
        burn = burning(self.counters.window(subject.key, first, last_bucket), last_bucket, threshold)
        if burn is None or burn.end < now.timestamp() - self.options.max_lag_seconds:
            return
        stamp = int(now.timestamp())
        until = stamp + self.options.realert_seconds
        if not self.counters.claim(subject.key, stamp, until):
            return
        event = spend_rate(subject, burn, threshold, now, unpriced)
        try:
            self.bus.put(event)
        except Exception as error:
            self.counters.release(subject.key, until)
            logger.error(
                "spend-rate event not delivered (claim released): "
                f"{type(error).__name__}: {one_line(str(error), 200)}",
                dedup_key=event.dedup_key,
            )
            metrics.add_metric(name="SpendRatesNotDelivered", unit=MetricUnit.Count, value=1)
            return
        result.spend_rates.append(event)
        metrics.add_metric(name="SpendRatesPut", unit=MetricUnit.Count, value=1)
        logger.info(
            f"spend rate: {subject.profile_arn or subject.model_id} burns ${burn.usd_per_hour:,.2f}/h over "
            f"{burn.end - burn.start} s, above ${threshold.usd_per_hour:,.2f}/h ({threshold.basis})",
            dedup_key=event.dedup_key,
        )


def spend_rate(
    subject: Subject, burn: Burn, threshold: Threshold, now: datetime, unpriced: set[str]
) -> SpendRate:
    total = burn.total
    start = datetime.fromtimestamp(burn.start, UTC)
    end = min(datetime.fromtimestamp(burn.end, UTC), max(now, start))
    callers = [
        CallerShare(role_arn=arn, share=round(share, 6)) for arn, share in caller_shares(total.callers)
    ]
    return SpendRate(
        dedup_key=hashlib.sha256(f"{subject.key}|{burn.start}".encode()).hexdigest()[:32],
        measured_at=now,
        account_id=subject.account_id,
        region=subject.region,
        subject=subject.kind,
        profile_arn=subject.profile_arn,
        profile_id=subject.profile_id,
        model_ids=[subject.model_id],
        window_start=start,
        window_end=end,
        window_usd=round(total.usd, 6),
        burn_usd_per_hour=round(burn.usd_per_hour, 4),
        threshold_usd_per_hour=round(threshold.usd_per_hour, 4),
        threshold_basis=threshold.basis,
        bucket_seconds=BUCKET_SECONDS,
        invocations=total.invocations,
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        cache_read_tokens=total.cache_read_tokens,
        cache_write_tokens=total.cache_write_tokens,
        unpriced_models=sorted(unpriced),
        callers=callers[:MAX_CALLERS],
    )


__all__ = [
    "Arming",
    "CounterStore",
    "DeadLetters",
    "Meter",
    "MeterOptions",
    "MeterResult",
    "Publisher",
    "spend_rate",
]
