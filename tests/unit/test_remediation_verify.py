"""Verify: has the token rate fallen since the trip (below 10% of the rate before)? After a snooze:
does the spike go on (at least 50% of the rate when the snooze began)?"""

from datetime import UTC, datetime, timedelta

import pytest

from tokenfuse.remediation.verify import GOES_ON_RATIO, STOPPED_RATIO, tokens_per_minute, verify

TRIP = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeReader:
    """Per-minute token counts for one model id; answers read() like MetricReader."""

    def __init__(self, per_minute: dict[datetime, float], model_id: str = "abc123"):
        self.per_minute = per_minute
        self.model_id = model_id
        self.reads = []

    def read(self, requests, start, end, period=3600):
        self.reads.append((start, end, period))
        out = {}
        for r in requests:
            points = [
                (t, v)
                for t, v in self.per_minute.items()
                if start <= t < end and r.model_id == self.model_id and r.metric == "OutputTokenCount"
            ]
            out[r.key] = ([t for t, _ in points], [v for _, v in points])
        return out


def minutes(start, count, value):
    return {start + timedelta(minutes=i): value for i in range(count)}


def test_rate_is_tokens_per_minute_from_the_model_id_with_data():
    reader = FakeReader(minutes(TRIP - timedelta(minutes=10), 10, 600.0))
    rate = tokens_per_minute(
        reader, ["abc123", "arn:...:application-inference-profile/abc123"], TRIP - timedelta(minutes=10), TRIP
    )
    assert rate == 600.0
    assert reader.reads[0][2] == 60


def test_stopped_when_the_rate_after_falls_below_ten_percent():
    data = minutes(TRIP - timedelta(minutes=15), 15, 1000.0) | minutes(TRIP + timedelta(minutes=1), 4, 50.0)
    result = verify(FakeReader(data), ["abc123"], "stopped", TRIP + timedelta(minutes=5), TRIP)
    assert result.still_running is False
    assert result.threshold_ratio == STOPPED_RATIO


def test_still_running_when_the_rate_has_not_fallen():
    data = minutes(TRIP - timedelta(minutes=15), 20, 1000.0)
    result = verify(FakeReader(data), ["abc123"], "stopped", TRIP + timedelta(minutes=5), TRIP)
    assert result.still_running is True
    assert result.after_tokens_per_minute == pytest.approx(1000.0)


def test_no_traffic_before_or_after_counts_as_stopped():
    assert (
        verify(FakeReader({}), ["abc123"], "stopped", TRIP + timedelta(minutes=5), TRIP).still_running
        is False
    )


def test_snooze_recheck_goes_on_or_subsides():
    snooze_start = TRIP
    now = TRIP + timedelta(minutes=60)
    ongoing = minutes(snooze_start - timedelta(minutes=15), 80, 800.0)
    assert verify(FakeReader(ongoing), ["abc123"], "still-running", now, snooze_start).still_running is True
    subsided = minutes(snooze_start - timedelta(minutes=15), 15, 800.0) | minutes(
        now - timedelta(minutes=15), 15, 100.0
    )
    result = verify(FakeReader(subsided), ["abc123"], "still-running", now, snooze_start)
    assert result.still_running is False and result.threshold_ratio == GOES_ON_RATIO
