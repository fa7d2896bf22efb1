"""The attribution benchmark runs in the suite (small fleets, and the 5,000-profile runaway once):
real boto3 clients parse the bytes its hook sends; the storm's dollars are worked out here."""

import pytest

import bench.attribution as attribution
from bench.__main__ import replace_section

LLAMA_PER_REQUEST = (3_000 + 1_000 + 100 + 400) * 0.72 / 1e6
"""Llama 3.1 70B: $0.72 per million tokens in and out, cache tokens priced as input (no cache rate)."""


def storm_delta(size: int, window_hours: int) -> float:
    """The storm's extra dollars: (10 - 1) x its hourly requests x the window's hours x a request's cost."""
    storm = attribution.profile_ids(size)[-1]
    assert attribution.MODELS[(size - 1) % 4] == "meta.llama3-1-70b-instruct-v1:0"
    return 9 * attribution.rate(storm) * window_hours * LLAMA_PER_REQUEST


@pytest.mark.parametrize("fleet", ["idle", "all-active"])
def test_small_fleets_find_the_storm_in_eleven_calls(fleet):
    # Given 200 profiles (idle or all active in the window), one storming
    figures = attribution.measure(200, 1, fleet, repeats=1)
    # Then 10 Metrics Insights calls and one detail call, the storm's dollars right
    assert (figures["method"], figures["get_metric_data"], figures["list_metrics"]) == (
        "metrics-insights",
        11,
        0,
    )
    assert figures["storm_delta_usd"] == pytest.approx(storm_delta(200, 1), rel=1e-6)
    assert figures["cpu_s"] < 2


def test_the_5000_profile_runaway_within_20_calls_and_2_seconds():
    # Given 5,000 profiles, every one active, one running away in a CAD day
    figures = attribution.measure(5_000, 24, "all-active", repeats=1)
    # Then ListMetrics counted the series, 11 GetMetricData calls found it, botocore parsing included
    assert figures["series"] == 5_004 and figures["list_metrics"] == 11
    assert figures["get_metric_data"] <= 20 and figures["cpu_s"] < 2
    assert figures["storm_delta_usd"] == pytest.approx(storm_delta(5_000, 24), rel=1e-6)


def test_watching_cost_by_hand():
    cost = attribution.watching_cost(1_000, metrics_per_signal=10_045, list_calls_per_signal=0)
    assert cost["per_profile_alarms"] == pytest.approx(1_000 * 2 * 0.10)
    assert cost["insights_alarm"] == pytest.approx((1_000 + 4) * 0.10)
    assert cost["reads_per_signal"] == pytest.approx(10_045 / 1_000 * 0.01)
    assert cost["reads_per_month"] == pytest.approx(100 * 10_045 / 1_000 * 0.01)


def test_sections_are_replaced_and_others_kept():
    text = "# Benchmark results\n\n## Other\n\nkeep\n\n## Attribution\n\nold\n"
    text = replace_section(text, "Attribution", "new")
    assert "old" not in text and "new" in text and "keep" in text
    assert replace_section("# R\n", "Attribution", "x").endswith("## Attribution\n\nx\n")
