"""Spike kinds, the hour grid, severity and the unattributed part (pure functions)."""

from datetime import UTC, datetime, timedelta

import pytest

from tokenfuse.attribution.kinds import KindThresholds, classify
from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.rank import SeverityThresholds, TagKeys, signal_dollars, unattributed
from tokenfuse.attribution.usage import HourGrid, HourlySeries, Usage
from tokenfuse.events import SpendSignal

SONNET = Rates(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)


def usage(invocations, prompt, output, cache_read=0.0):
    return Usage(invocations, invocations * prompt, invocations * output, invocations * cache_read)


BASE = usage(100, 3_000, 400)


@pytest.mark.parametrize(
    ("now", "kind"),
    [
        (usage(300, 3_000, 400), "request-storm"),  # exactly 3x
        (usage(299, 3_000, 400), "unknown"),  # just under
        (usage(100, 3_000, 1_200), "output-runaway"),
        (usage(100, 9_000, 400), "context-bloat"),
        (usage(400, 3_000, 4_000), "output-runaway"),  # both: the larger ratio (10x vs 4x) wins
        (usage(1_000, 3_000, 1_600), "request-storm"),  # both: 10x invocations vs 4x output
        (usage(200, 3_000, 800), "unknown"),
        (usage(100, 3_000, 400), "unknown"),  # no change
        (usage(0, 0, 0), "unknown"),
    ],
)
def test_kind(now, kind):
    assert classify(now, BASE, now.cost(SONNET), BASE.cost(SONNET)) == kind


def test_no_baseline_is_unknown():
    assert classify(usage(100, 3_000, 400), Usage()) == "unknown"


def test_rate_shift_needs_flat_shape_and_pricier_tokens():
    cached = usage(100, 300, 400, cache_read=2_700)  # same 3,000-token prompts, 90% from cache
    fresh = usage(100, 3_000, 400)
    assert classify(fresh, cached, fresh.cost(SONNET), cached.cost(SONNET)) == "rate-shift"
    # the other way round the cost per token falls: not a spike kind
    assert classify(cached, fresh, cached.cost(SONNET), fresh.cost(SONNET)) == "unknown"
    # without costs it cannot be told
    assert classify(fresh, cached) == "unknown"


def test_thresholds_configurable():
    assert classify(usage(200, 3_000, 400), BASE, thresholds=KindThresholds(factor=2.0)) == "request-storm"


@pytest.mark.parametrize(
    ("per_hour", "extra", "level"),
    [
        (0, 0, "low"),
        (5, 0, "medium"),
        (0, 1_000, "medium"),
        (50, 0, "high"),
        (0, 50_000, "critical"),
        (250, 0, "critical"),
    ],
)
def test_severity(per_hour, extra, level):
    assert SeverityThresholds().severity(per_hour, extra) == level


def test_grid_of_a_two_hour_window():
    now = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    grid = HourGrid.build(now - timedelta(hours=2), now, now, baseline_days=7)
    # 10:00-13:00 (the current hour is included up to now: it counts for half an hour), 7 days back
    assert (grid.window_start.hour, grid.window_end.hour, grid.window_hours) == (10, 13, 2.5)
    assert grid.span_start == grid.window_start - timedelta(days=7)
    assert grid.hours == 7 * 24 + 3
    assert len(grid.baseline_slices()) == 7
    assert grid.remaining_month_hours == 10 * 24 + 11
    assert grid.unread_month_hours() == 12 * 24 + 10
    # only the hours after a profile's creation count: created on the 5th at 09:30, read from 10:00
    assert grid.unread_month_hours(datetime(2026, 11, 5, 9, 30, tzinfo=UTC)) == 8 * 24
    # the window as reported ends now (12:30), with 30 minutes of the running hour
    assert (grid.end, grid.last_hour_minutes) == (now, 30)


def test_grid_of_a_long_window_steps_by_whole_days():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    grid = HourGrid.build(now - timedelta(hours=36), now, now, baseline_days=2, max_window_hours=48)
    assert grid.step == timedelta(days=2)
    assert grid.span_start == grid.window_start - timedelta(days=4)


def test_series_sums_window_baseline_and_ignores_points_outside():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    grid = HourGrid.build(now - timedelta(hours=1), now, now, baseline_days=2)
    series = HourlySeries(grid)
    day = timedelta(days=1)
    at = now - timedelta(hours=1)
    series.add("Invocations", [at - 2 * day, at - day, at, at + timedelta(minutes=1), now], [2, 4, 10, 1, 99])
    assert series.window().invocations == 11  # the point at 11:01 falls in the 11:00 hour; 12:00 is out
    assert series.baseline()[0].invocations == 3
    assert series.baseline(since=at - day - timedelta(hours=1))[0].invocations == 4


def test_a_running_hour_counts_in_the_baseline_for_the_part_that_has_passed():
    now = datetime(2026, 11, 20, 12, 15, tzinfo=UTC)
    grid = HourGrid.build(now - timedelta(hours=1), now, now, baseline_days=1)
    series = HourlySeries(grid)
    yesterday = grid.window_start - timedelta(days=1)
    series.add("Invocations", [yesterday, yesterday + timedelta(hours=1)], [100, 100])
    assert grid.window_hours == 1.25
    assert series.baseline()[0].invocations == 125


def test_tag_keys():
    keys = TagKeys()
    owner = keys.owner({"team": " search ", "cost-center": "cc1", "tokenfuse:protected": "TRUE"})
    assert (owner.team, owner.cost_center, owner.tagged, owner.protected) == ("search", "cc1", True, True)
    assert keys.owner({"feature": "x"}).tagged is False
    assert keys.owner({"team": ""}).tagged is False


def _signal(**amounts):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    return SpendSignal(
        source="budget",
        dedup_key="d",
        received_at=now,
        window_start=now,
        window_end=now,
        raw_source="sns",
        summary="s",
        **amounts,
    )


@pytest.mark.parametrize(
    ("amounts", "spike", "dollars", "left"),
    [
        ({"impact_usd": 100.0}, 60.0, 100.0, 40.0),
        ({"actual_usd": 500.0, "expected_usd": 300.0}, 150.0, 200.0, 50.0),
        ({"impact_usd": 10.0}, 60.0, 10.0, 0.0),  # profiles explain more: never below 0
        ({"actual_usd": 500.0}, 60.0, None, None),  # a budget's actual alone is no spike figure
        ({}, 60.0, None, None),
    ],
)
def test_unattributed(amounts, spike, dollars, left):
    signal = _signal(**amounts)
    assert signal_dollars(signal) == dollars
    assert unattributed(signal, spike) == left
