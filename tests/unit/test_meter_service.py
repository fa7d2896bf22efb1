"""The meter's domain with in-memory fakes: dollars per record (worked out by hand from the
embedded price table's figures), 10-second buckets, the burn window, one event per subject per
re-alert period, and nothing lost or leaked when the counters table fails."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.meter_payloads import (
    PROFILE_ARN,
    ROLE_ARN,
    ROLE_SESSION,
    SAMPLE_EVENT,
    SONNET_4,
    delivery,
    record,
)
from tokenfuse.attribution.pricing import load_prices
from tokenfuse.events import SpendRate
from tokenfuse.meter.arming import BurnDefaults, arm
from tokenfuse.meter.metering import burning, meter
from tokenfuse.meter.models import Subject, Tally, Threshold
from tokenfuse.meter.records import read_delivery
from tokenfuse.meter.service import Meter, MeterOptions
from tokenfuse.teams import Policy

T0 = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
OTHER_ROLE = "arn:aws:sts::444455556666:assumed-role/support-batch/job-1"


def model_behind(arn: str) -> str | None:
    return SONNET_4 if arn == PROFILE_ARN else None


# -- pricing -------------------------------------------------------------------------------------


def test_each_record_of_the_sample_is_priced_with_the_model_behind_it() -> None:
    records = read_delivery(json.loads(SAMPLE_EVENT.read_text())).records
    got = meter(records, model_behind, load_prices())
    by_subject: dict[str, float] = {}
    for (key, _), tally in got.buckets.items():
        by_subject[key] = by_subject.get(key, 0.0) + tally.usd
    # Claude Sonnet 4 in us-east-1: $3 in, $15 out, $0.30 cache read per million tokens
    first = 1200 * 3 / 1e6 + 800 * 15 / 1e6  # 0.0156
    cached = 300 * 3 / 1e6 + 500 * 15 / 1e6 + 2048 * 0.30 / 1e6  # 0.0090144
    # Claude 3 Haiku: $0.25 in, $1.25 out; Claude 3.5 Haiku through the us. system profile: $0.80 / $4
    haiku = 1000 * 0.25 / 1e6 + 200 * 1.25 / 1e6  # 0.0005
    haiku_35 = 2000 * 0.80 / 1e6 + 100 * 4 / 1e6  # 0.002
    assert by_subject == pytest.approx(
        {
            f"profile#{PROFILE_ARN}": first + cached,
            "direct#444455556666#us-east-1#anthropic.claude-3-haiku-20240307-v1:0": haiku,
            "direct#444455556666#us-east-1#us.anthropic.claude-3-5-haiku-20241022-v1:0": haiku_35,
        }
    )


def test_cache_writes_are_priced_at_the_cache_write_rate() -> None:
    records = read_delivery(
        delivery([record(T0, input_tokens=10, output_tokens=0, cache_write=10_000)])
    ).records
    tally = next(iter(meter(records, model_behind, load_prices()).buckets.values()))
    assert tally.usd == pytest.approx(10 * 3 / 1e6 + 10_000 * 3.75 / 1e6)


def test_a_profile_whose_model_is_unknown_is_counted_unpriced_never_at_zero() -> None:
    records = read_delivery(delivery([record(T0)])).records
    got = meter(records, lambda _: None, load_prices())
    tally = next(iter(got.buckets.values()))
    assert (tally.usd, tally.unpriced, tally.invocations) == (0.0, 1, 1)
    assert got.unpriced_models == {f"profile#{PROFILE_ARN}": {PROFILE_ARN}}


def test_records_fall_in_10_second_buckets_per_subject_and_caller() -> None:
    messages: list[dict[str, Any] | str] = [
        record(T0 + timedelta(seconds=1)),
        record(T0 + timedelta(seconds=9), identity=OTHER_ROLE),
        record(T0 + timedelta(seconds=10)),
    ]
    got = meter(read_delivery(delivery(messages)).records, model_behind, load_prices())
    key = f"profile#{PROFILE_ARN}"
    start = int(T0.timestamp())
    one = 1000 * 3 / 1e6 + 1000 * 15 / 1e6  # $0.018 a record
    assert sorted(got.buckets) == [(key, start), (key, start + 10)]
    first = got.buckets[(key, start)]
    assert first.invocations == 2 and first.usd == pytest.approx(2 * one)
    assert first.callers == pytest.approx(
        {ROLE_ARN: one, "arn:aws:iam::444455556666:role/support-batch": one}
    )


# -- burn ----------------------------------------------------------------------------------------


def _bucket(usd: float) -> Tally:
    return Tally(usd=usd, invocations=1)


def test_a_burn_must_hold_in_every_bucket_of_the_window() -> None:
    start = int(T0.timestamp())
    threshold = Threshold(100.0, "policy", 20)  # $100/h = $0.2778 per 10 s
    above, below = _bucket(0.30), _bucket(0.20)
    assert burning({start: above, start + 10: above}, start + 10, threshold) is not None
    assert burning({start: below, start + 10: above}, start + 10, threshold) is None
    # the newest bucket may still be filling: the window ending one bucket earlier counts
    got = burning({start: above, start + 10: above, start + 20: below}, start + 20, threshold)
    assert got is not None and (got.start, got.end) == (start, start + 20)
    assert got.usd_per_hour == pytest.approx(0.60 * 3600 / 20)  # $108/h


def test_arming_prefers_the_policy_then_the_baseline_then_the_floor() -> None:
    subject = Subject("profile", "444455556666", "us-east-1", PROFILE_ARN, SONNET_4)
    defaults = BurnDefaults(burn_factor=5, burn_seconds=20, floor_usd_per_hour=5)
    policy = Policy(burn_usd_per_hour=40, burn_seconds=30)
    assert arm(subject, T0, defaults, lambda s, n: 10.0, lambda s: policy) == Threshold(40, "policy", 30)
    factor = Policy(burn_factor=3)
    assert arm(subject, T0, defaults, lambda s, n: 10.0, lambda s: factor) == Threshold(30, "baseline", 20)
    assert arm(subject, T0, defaults, lambda s, n: 10.0, lambda s: None) == Threshold(50, "baseline", 20)
    assert arm(subject, T0, defaults, lambda s, n: 0.5, lambda s: None) == Threshold(5, "floor", 20)
    assert arm(subject, T0, defaults, lambda s, n: None, lambda s: None) == Threshold(5, "floor", 20)


# -- the service ---------------------------------------------------------------------------------


@dataclass
class FakeCounters:
    items: dict[tuple[str, int], Tally] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)
    fail_on: set[int] = field(default_factory=set)

    def add(self, subject_key: str, bucket: int, tally: Tally, expires_at: int) -> None:
        if bucket in self.fail_on:
            raise RuntimeError("ProvisionedThroughputExceededException")
        self.items.setdefault((subject_key, bucket), Tally()).add(tally)

    def window(self, subject_key: str, first_bucket: int, last_bucket: int) -> dict[int, Tally]:
        return {
            b: t for (k, b), t in self.items.items() if k == subject_key and first_bucket <= b <= last_bucket
        }

    def claim(self, subject_key: str, now: int, until: int) -> bool:
        if self.claims.get(subject_key, 0) >= now:
            return False
        self.claims[subject_key] = until
        return True

    def release(self, subject_key: str, until: int) -> None:
        if self.claims.get(subject_key) == until:
            del self.claims[subject_key]


@dataclass
class FakeBus:
    events: list[SpendRate] = field(default_factory=list)
    fail: bool = False

    def put(self, *events: SpendRate) -> None:
        if self.fail:
            raise RuntimeError("bus refused")
        self.events.extend(events)


@dataclass
class FakeDeadLetters:
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def send(self, body: dict[str, Any]) -> None:
        self.bodies.append(body)


@dataclass
class FixedArming:
    armed: Threshold = field(default_factory=lambda: Threshold(100.0, "baseline", 20))

    def threshold(self, subject: Subject, now: datetime) -> Threshold:
        return self.armed


class World:
    def __init__(self) -> None:
        self.now = T0
        self.counters = FakeCounters()
        self.bus = FakeBus()
        self.dead = FakeDeadLetters()
        self.meter = Meter(
            self.counters,
            FixedArming(),
            self.bus,
            self.dead,
            model_behind,
            load_prices,
            MeterOptions(realert_seconds=300),
            now=lambda: self.now,
        )

    def deliver(self, seconds: list[float], at: float, **kw: Any) -> Any:
        self.now = T0 + timedelta(seconds=at)
        return self.meter.handle(delivery([record(T0 + timedelta(seconds=s), **kw) for s in seconds]))


# $0.018 a record (1,000 in + 1,000 out on Sonnet 4): 2 a bucket = $0.036 / 10 s = $12.96/h;
# 10 a bucket = $0.18 / 10 s = $64.80/h; 20 a bucket = $129.60/h, above the $100/h threshold.
def test_a_loop_above_the_threshold_for_20_seconds_sends_one_spend_rate_event() -> None:
    world = World()
    burst = [i * 0.5 for i in range(20)]  # 20 records in [0, 10)
    assert world.deliver(burst[:10], at=5).spend_rates == []  # half a bucket: $64.80/h
    assert world.deliver(burst[10:], at=10).spend_rates == []  # one bucket above: not 20 s yet
    result = world.deliver([10 + s for s in burst], at=20)
    (event,) = result.spend_rates
    assert event.profile_arn == PROFILE_ARN and event.subject == "profile"
    assert (event.window_start, event.window_end) == (T0, T0 + timedelta(seconds=20))
    assert event.invocations == 40
    assert event.window_usd == pytest.approx(40 * 0.018)
    assert event.burn_usd_per_hour == pytest.approx(40 * 0.018 * 3600 / 20)  # $129.60/h
    assert event.threshold_usd_per_hour == 100.0 and event.threshold_basis == "baseline"
    assert [(c.role_arn, c.share) for c in event.callers] == [(ROLE_ARN, 1.0)]
    assert event.model_ids == [SONNET_4]
    # the burn goes on: no second event within the re-alert period
    assert world.deliver([20 + s for s in burst], at=30).spend_rates == []
    assert world.bus.events == [event]


def test_callers_are_named_with_their_share_of_the_window() -> None:
    world = World()
    seconds = [i * 0.5 for i in range(40)]
    world.now = T0 + timedelta(seconds=20)
    records: list[dict[str, Any] | str] = [
        record(T0 + timedelta(seconds=s), identity=OTHER_ROLE if i % 4 == 0 else ROLE_SESSION)
        for i, s in enumerate(seconds)
    ]
    (event,) = world.meter.handle(delivery(records)).spend_rates
    assert [c.role_arn for c in event.callers] == [ROLE_ARN, "arn:aws:iam::444455556666:role/support-batch"]
    assert [c.share for c in event.callers] == pytest.approx([0.75, 0.25])


def test_concurrent_deliveries_add_up_in_the_counters() -> None:
    world = World()
    # two deliveries of the same seconds (two log streams): each alone is $64.80/h per bucket
    for _ in range(2):
        result = world.deliver(list(range(20)), at=20)
    assert len(world.bus.events) == 1 and result.spend_rates == world.bus.events
    assert world.bus.events[0].invocations == 40


def test_a_trickle_below_the_threshold_sends_nothing() -> None:
    world = World()
    for n in range(6):
        assert world.deliver([n * 10 + s for s in range(0, 10, 5)], at=n * 10 + 10).spend_rates == []
    assert world.bus.events == []


def test_an_old_burn_replayed_late_is_not_alerted() -> None:
    world = World()
    assert world.deliver([i * 0.5 for i in range(40)], at=3600).spend_rates == []


def test_a_record_far_in_the_future_is_refused() -> None:
    world = World()
    result = world.deliver([3600], at=0)
    assert (result.records, result.refused) == (0, 1)


def test_counters_that_fail_dead_letter_the_records_without_text_and_never_raise() -> None:
    world = World()
    world.counters.fail_on = {int(T0.timestamp()) + 10}
    result = world.deliver([1, 2, 11, 12], at=15, text=True)
    assert result.dead_lettered == 2
    (body,) = world.dead.bodies
    assert [r["at"] for r in body["records"]] == [
        "2026-11-25T14:00:11.000000Z",
        "2026-11-25T14:00:12.000000Z",
    ]
    assert "ProvisionedThroughputExceededException" in body["reason"]
    assert "MUST-NOT-LEAK" not in json.dumps(body)
    assert world.counters.window(f"profile#{PROFILE_ARN}", 0, 2**40).keys() == {int(T0.timestamp())}


def test_an_event_the_bus_refuses_gives_its_claim_back_and_goes_out_next_time() -> None:
    world = World()
    world.bus.fail = True
    burst = [i * 0.5 for i in range(40)]
    assert world.deliver(burst, at=20).spend_rates == []
    world.bus.fail = False
    assert len(world.deliver([], at=25).spend_rates) == 0  # nothing new delivered: nothing re-read
    assert len(world.deliver([19.5], at=25).spend_rates) == 1


def test_direct_model_calls_are_metered_and_named_by_caller() -> None:
    world = World()
    model = "anthropic.claude-sonnet-4-20250514-v1:0"
    (event,) = world.deliver([i * 0.5 for i in range(40)], at=20, model_id=model).spend_rates
    assert event.subject == "direct-model" and event.profile_arn is None
    assert event.model_ids == [model] and event.callers[0].role_arn == ROLE_ARN
