"""Round axis ticks (tokenfuse.charts): values on a 1/2/5 x 10^n step from zero, instants on round
UTC steps, labels that fit their axis; hostile figures give an axis, never an exception."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.adversarial import OVERFLOWING_NUMBERS
from tokenfuse.charts import TIME_STEPS, fitting_time_ticks, text_width, time_ticks, value_axis

START = datetime(2026, 11, 25, 13, 40, tzinfo=UTC)


def is_round(step: float) -> bool:
    return Decimal(repr(step)).normalize().as_tuple().digits in ((1,), (2,), (5,))


@pytest.mark.parametrize(
    ("highest", "labels"),
    [
        (268.0, ["$0", "$100", "$200", "$300"]),
        (1001.0, ["$0", "$500", "$1,000", "$1,500"]),
        (3575.11, ["$0", "$1,000", "$2,000", "$3,000", "$4,000"]),
        (27.0, ["$0", "$10", "$20", "$30"]),
        (0.3, ["$0.00", "$0.10", "$0.20", "$0.30"]),
        (0.012, ["$0.000", "$0.005", "$0.010", "$0.015"]),
    ],
)
def test_money_axis_steps_by_1_2_5(highest, labels):
    axis = value_axis(highest)
    assert [axis.money(v) for v in axis.ticks] == labels


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
@example(1.6462479158104215e-05)  # a step of 5 * 10.0**-6 was 4.9999999999999996e-06
def test_any_positive_figure_gets_a_round_axis_above_it(highest):
    axis = value_axis(highest, max_ticks=5)
    assert axis.ticks[0] == 0 and axis.top >= highest * (1 - 1e-9)  # within float noise
    assert is_round(axis.step) and len(axis.ticks) <= 6
    assert all(
        math.isclose(b - a, axis.step, rel_tol=1e-9) for a, b in zip(axis.ticks, axis.ticks[1:], strict=False)
    )


@pytest.mark.parametrize(
    "highest", [0.0, -5.0, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308,
                *(n for n in OVERFLOWING_NUMBERS if abs(n) < 10**308)],
)  # fmt: skip
def test_no_figure_breaks_the_axis(highest):
    axis = value_axis(float(highest))
    assert axis.ticks[0] == 0 and math.isfinite(axis.top) and axis.top > 0 and is_round(axis.step)


def test_a_day_and_a_half_reads_every_three_hours_with_the_dates():
    ticks = fitting_time_ticks(START, START + timedelta(hours=37), 680, 12)
    assert [(t.time, t.date) for t in ticks][:5] == [
        ("15:00", "Wed 25 Nov"), ("18:00", None), ("21:00", None), ("00:00", "Thu 26 Nov"), ("03:00", None),
    ]  # fmt: skip


def test_an_hour_and_twenty_minutes_reads_every_ten_minutes_without_dates():
    ticks = fitting_time_ticks(START, START + timedelta(minutes=80), 680, 12)
    assert [t.time for t in ticks] == [
        "13:40",
        "13:50",
        "14:00",
        "14:10",
        "14:20",
        "14:30",
        "14:40",
        "14:50",
        "15:00",
    ]
    assert all(t.date is None for t in ticks)


def test_seconds_show_when_the_step_is_under_a_minute():
    ticks = fitting_time_ticks(START, START + timedelta(seconds=50), 680, 12)
    assert [t.time for t in ticks] == ["13:40:00", "13:40:10", "13:40:20", "13:40:30", "13:40:40", "13:40:50"]


def test_week_steps_start_on_mondays():
    ticks = time_ticks(START, START + timedelta(days=30), timedelta(days=7))
    assert {t.at.weekday() for t in ticks} == {0} and ticks[0].time == "Mon 30 Nov"


def test_an_empty_window_is_refused_in_one_line():
    with pytest.raises(ValueError, match="end after start"):
        fitting_time_ticks(START, START, 680, 12)


@given(
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=1, max_value=40 * 86400),
    st.floats(min_value=200, max_value=2000),
)
def test_ticks_are_round_inside_the_window_and_their_labels_apart(offset, span, width):
    start = START + timedelta(seconds=offset)
    end = start + timedelta(seconds=span)
    ticks = fitting_time_ticks(start, end, width, 12)
    assert all(start <= t.at <= end for t in ticks)
    steps = {b.at - a.at for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1 and steps <= set(TIME_STEPS)
    if steps and (step := steps.pop()) < timedelta(days=7):
        assert all(t.at.timestamp() % step.total_seconds() == 0 for t in ticks)
        if step < TIME_STEPS[-1]:  # the coarsest step is the fallback: its labels always fit here
            xs = [(t.at - start) / (end - start) * width for t in ticks]
            for i in range(len(ticks) - 1):
                room = (text_width(ticks[i].time, 12) + text_width(ticks[i + 1].time, 12)) / 2 + 12
                assert xs[i + 1] - xs[i] >= room - 1e-9
