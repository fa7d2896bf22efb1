"""How attribution reads CloudWatch: MetricStat batching (500 queries a call, NextToken followed), the
Metrics Insights ranking (one query a call, 500 series), the detail read of the few candidates, and
the fallbacks past 10,000 series or two weeks back."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.attribution_fakes import (
    SONNET,
    FakeBedrock,
    FakeCloudWatch,
    baseline_hours,
    cost_anomaly,
    hours,
    seed,
)
from tokenfuse.adapters.cloudwatch import (
    InsightsReader,
    MetricReader,
    MetricRequest,
    insights_period,
    insights_query,
    model_id_series,
)
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients
from tokenfuse.attribution.usage import METRICS
from tokenfuse.events import SpendSignal

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("queries", "page_size", "batches", "calls"),
    [
        (1, None, [1], 1),
        (500, None, [500], 1),
        (501, None, [500, 1], 2),
        (1_200, None, [500, 500, 200], 3),
        (1_200, 300, [500, 500, 200], 5),  # 2 pages + 2 pages + 1 page
    ],
)
def test_queries_are_batched_by_500_and_next_token_is_followed(queries, page_size, batches, calls):
    # Given a value for each of many ModelIds
    cloudwatch = FakeCloudWatch(page_size=page_size)
    for i in range(queries):
        cloudwatch.put("Invocations", f"m{i}", START, float(i))
    reader = MetricReader(cloudwatch)
    requests = [MetricRequest(f"k{i}", "Invocations", f"m{i}") for i in range(queries)]
    # When they are read
    answers = reader.read(requests, START, NOW)
    # Then the calls carried at most 500 queries each, every page was fetched, and every key answered
    assert [c["queries"] for c in cloudwatch.calls if c["token"] is None] == batches
    assert reader.calls == len(cloudwatch.calls) == calls
    assert {k: v for k, (_, v) in answers.items()} == {f"k{i}": [float(i)] for i in range(queries)}


def test_batch_shrinks_to_stay_under_the_datapoint_limit():
    # 14 days + a day, hourly = 360 points a query: 100,800 // 360 = 280 queries a call
    reader = MetricReader(FakeCloudWatch())
    assert reader.batch_size(NOW - timedelta(days=15), NOW, 3600) == 280
    assert reader.batch_size(NOW - timedelta(days=8), NOW, 3600) == 500


def test_keys_without_data_answer_empty():
    reader = MetricReader(FakeCloudWatch())
    assert reader.read([MetricRequest("a", "Invocations", "nobody")], START, NOW) == {"a": ([], [])}


def test_the_metrics_insights_query_is_the_documented_shape():
    assert insights_query("OutputTokenCount") == (
        'SELECT SUM(OutputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId) '
        "GROUP BY ModelId ORDER BY SUM() DESC LIMIT 500"
    )
    # LIMIT may not exceed 500, and only metric names go in
    for bad in ({"limit": 501}, {"limit": 0}):
        with pytest.raises(ValueError, match="LIMIT"):
            insights_query("OutputTokenCount", **bad)
    with pytest.raises(ValueError, match="metric name"):
        insights_query("X) FROM x --")
    # one bucket up to a day, whole days beyond (whole minutes always)
    assert insights_period(START, NOW) == 7_200
    assert insights_period(NOW - timedelta(days=7), NOW) == 86_400
    assert insights_period(NOW - timedelta(seconds=30), NOW) == 60


def test_insights_reader_sums_each_label_in_one_call_and_keeps_the_top_500():
    # Given 600 ModelId series of OutputTokenCount, series i with i tokens in each of two hours
    cloudwatch = FakeCloudWatch()
    for i in range(600):
        for hour in hours(START, NOW):
            cloudwatch.put("OutputTokenCount", f"m{i:03d}", hour, float(i))
    reader = InsightsReader(cloudwatch)
    # When ranked
    top = reader.top("OutputTokenCount", START, NOW)
    # Then one call, the 500 largest (m100..m599), each summed over both hours, one datapoint each
    assert (reader.calls, len(cloudwatch.calls), top.partial) == (1, 1, False)
    assert set(top.sums) == {f"m{i:03d}" for i in range(100, 600)}
    assert top.sums["m599"] == 2 * 599.0
    assert top.datapoints == 500
    # And a message from AWS marks the answer partial
    cloudwatch.messages = [{"Code": "MaxMetricsExceeded", "Value": "only 10,000 metrics processed"}]
    assert reader.top("OutputTokenCount", START, NOW).partial


def test_insights_reader_follows_next_token():
    cloudwatch = FakeCloudWatch(page_size=200)
    for i in range(450):
        cloudwatch.put("InputTokenCount", f"m{i:03d}", START, 1.0)
    reader = InsightsReader(cloudwatch)
    top = reader.top("InputTokenCount", START, NOW)
    assert (reader.calls, len(top.sums), sum(top.sums.values())) == (3, 450, 450.0)


def test_model_id_series_lists_every_series_with_the_paginator():
    cloudwatch = FakeCloudWatch()
    for i in range(1_234):
        cloudwatch.put("OutputTokenCount", f"m{i}", START, 1.0)
    cloudwatch.put("InputTokenCount", "only-input", START, 1.0)
    labels, pages = model_id_series(cloudwatch, "OutputTokenCount")
    assert (len(labels), pages) == (1_234, 3)


def _signal() -> SpendSignal:
    return cost_anomaly(START, NOW)


def _world(profiles: int, active: set[int], arn_form: frozenset[int] = frozenset(), start=START):
    """``profiles`` profiles on Sonnet: 100 requests every hour of the 7 days before the window; the
    active ones go on in the window (profile 0 storms at 1,000); those in ``arn_form`` report under
    their ARN."""
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    week = hours(start - timedelta(days=7), start)
    for i in range(profiles):
        arn = bedrock.add(f"p{i:05d}", SONNET, {"team": "t"})
        dimension = arn if i in arn_form else f"p{i:05d}"
        seed(cloudwatch.put, dimension, week, 100, 3_000, 400)
        if i in active:
            seed(cloudwatch.put, dimension, hours(start, NOW), 1_000 if i == 0 else 100, 3_000, 400)
    return bedrock, cloudwatch


def _attributor(bedrock, cloudwatch, **settings) -> Attributor:
    return Attributor(
        lambda a, r: ScopeClients(bedrock, cloudwatch), AttributionSettings(**settings), now=lambda: NOW
    )


def test_ranking_reads_each_metric_once_over_the_window_and_once_over_the_baseline():
    # Given 300 profiles: 20 active in the window, profile 0 storms and reports under its ARN form
    bedrock, cloudwatch = _world(300, set(range(20)), arn_form=frozenset({0, 1, 2}))
    attributor = _attributor(bedrock, cloudwatch)
    # When attributed
    result = attributor.attribute(_signal())
    # Then 10 Metrics Insights calls (5 metrics x window and baseline), one query each
    insights = cloudwatch.insights_calls
    assert len(insights) == 10 and all(c["queries"] == 1 for c in insights)
    expressions = sorted(c["ids"][0]["Expression"] for c in insights)
    assert expressions == sorted(insights_query(m) for m in METRICS for _ in range(2))
    # And one MetricStat call reads the few candidates hourly: the storm under its ARN form only
    (detail,) = cloudwatch.metric_stat_calls
    assert {q["MetricStat"]["Period"] for q in detail["ids"]} == {3600}
    assert cloudwatch.queried_model_ids == {bedrock.profiles_arn("p00000")}
    assert attributor.stats.get_metric_data_calls == 11
    assert (attributor.stats.profiles, attributor.stats.candidates) == (300, 1)
    # And the result says how the scope was read
    (read,) = result.reads
    assert (read.method, read.reason, read.get_metric_data_calls) == ("metrics-insights", None, 11)
    # And the storm is the culprit, its baseline the same hours of 7 days: 2 h x 100 x $0.015 = $3
    (culprit,) = result.culprits
    assert (culprit.profile_id, culprit.kind) == ("p00000", "request-storm")
    assert culprit.baseline_cost_usd == pytest.approx(2 * 100 * (3_000 * 3 + 400 * 15) / 1e6)
    assert culprit.delta_usd == pytest.approx(2 * 900 * (3_000 * 3 + 400 * 15) / 1e6)


def test_both_forms_of_a_profile_are_read_and_added_up():
    # Given p00000 reports half its traffic under its id and half under its ARN
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    arns = [bedrock.add(f"p{i:05d}", SONNET) for i in range(3)]
    for dimension in ("p00000", arns[0]):
        seed(cloudwatch.put, dimension, baseline_hours(START, NOW), 50, 3_000, 400)
        seed(cloudwatch.put, dimension, hours(START, NOW), 500, 3_000, 400)
    # When attributed
    (culprit,) = _attributor(bedrock, cloudwatch).attribute(_signal()).culprits
    # Then the detail read carried both forms (5 metrics each) and added them up
    (detail,) = cloudwatch.metric_stat_calls
    assert detail["queries"] == 10
    assert cloudwatch.queried_model_ids == {"p00000", arns[0]}
    assert culprit.invocations == 2_000
    assert culprit.delta_usd == pytest.approx(2 * 900 * (3_000 * 3 + 400 * 15) / 1e6)


def test_a_scope_past_10000_series_is_read_in_partitions_and_says_so():
    # Given 4,500 listed profiles, 10,001 OutputTokenCount series (one storming), and AWS's
    # Metrics Insights, which would silently process only 10,000 of them
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    for i in range(4_500):
        bedrock.add(f"p{i:05d}", SONNET)
    for i in range(10_001):
        cloudwatch.put("OutputTokenCount", f"x{i:05d}", NOW - timedelta(days=3), 1.0)
    seed(cloudwatch.put, "p00042", baseline_hours(START, NOW), 100, 3_000, 400)
    seed(cloudwatch.put, "p00042", hours(START, NOW), 1_000, 3_000, 400)
    attributor = _attributor(bedrock, cloudwatch)
    # When attributed
    result = attributor.attribute(_signal())
    # Then ListMetrics counted the series, no Metrics Insights query ran, and MetricStat reads
    # (500 queries a call) ranked every series: 10,002 x 2 token metrics over the window = 41 calls,
    # the one active series over the baseline = 1 call, and its detail read = 1 call
    assert attributor.stats.list_metrics_calls == 21
    assert cloudwatch.insights_calls == []
    assert attributor.stats.get_metric_data_calls == 43
    (read,) = result.reads
    assert (read.method, read.series) == ("metric-stat", 10_002)
    assert "past the 10,000 a Metrics Insights query processes" in (read.reason or "")
    assert any("partitioned MetricStat" in note for note in result.notes)
    (culprit,) = result.culprits
    assert culprit.profile_id == "p00042"
    assert culprit.delta_usd == pytest.approx(2 * 900 * (3_000 * 3 + 400 * 15) / 1e6)


def test_a_partial_metrics_insights_answer_falls_back_to_partitions():
    bedrock, cloudwatch = _world(3, {0})
    cloudwatch.messages = [{"Code": "MaxMetricsExceeded", "Value": "partial"}]
    result = _attributor(bedrock, cloudwatch).attribute(_signal())
    (read,) = result.reads
    assert read.method == "metric-stat" and "partial" in (read.reason or "")
    assert [c.profile_id for c in result.culprits] == ["p00000"]


def test_a_baseline_older_than_two_weeks_is_ranked_with_metric_stat():
    # Given a 14-day baseline: it starts more than two weeks before now
    bedrock, cloudwatch = _world(3, {0})
    result = _attributor(bedrock, cloudwatch, baseline_days=14).attribute(_signal())
    # Then no Metrics Insights query ran, and the result says why
    assert cloudwatch.insights_calls == []
    (read,) = result.reads
    assert read.method == "metric-stat" and "two weeks" in (read.reason or "")
    # And the storm is still found: its 7 seeded baseline days of 14 average to 50 requests an hour
    (culprit,) = result.culprits
    assert culprit.profile_id == "p00000"
    assert culprit.baseline_invocations == pytest.approx(2 * 100 * 7 / 14)
