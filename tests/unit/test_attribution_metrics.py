"""GetMetricData batching (500 queries a call, NextToken followed) and the idle-skip first pass."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.attribution_fakes import (
    SONNET,
    FakeBedrock,
    FakeCloudWatch,
    baseline_hours,
    hours,
    seed,
)
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients

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


def _world(profiles: int, active: set[int], arn_form: set[int] = frozenset()):
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    for i in range(profiles):
        arn = bedrock.add(f"p{i:05d}", SONNET, {"team": "t"})
        dimension = arn if i in arn_form else f"p{i:05d}"
        seed(cloudwatch.put, dimension, baseline_hours(START, NOW), 100, 3_000, 400)
        if i in active:
            seed(cloudwatch.put, dimension, hours(START, NOW), 1_000 if i == 0 else 100, 3_000, 400)
    return bedrock, cloudwatch


def _signal():
    from tokenfuse.events import SpendSignal

    return SpendSignal(
        source="cost-anomaly",
        dedup_key="d",
        received_at=NOW,
        account_id="123456789012",
        region="us-east-1",
        window_start=START,
        window_end=NOW,
        raw_source="eventbridge",
        summary="s",
    )


def test_first_pass_skips_profiles_idle_in_the_window():
    # Given 300 profiles: 20 active in the window (profile 0 storms, 3 report under the ARN form)
    active = set(range(20))
    bedrock, cloudwatch = _world(300, active, arn_form={0, 1, 2})
    attributor = Attributor(
        lambda a, r: ScopeClients(bedrock, cloudwatch), AttributionSettings(), now=lambda: NOW
    )
    # When attributed
    result = attributor.attribute(_signal())
    # Then the first pass read Invocations of both forms over the window only (600 queries, 2 calls),
    # and the second pass only the 20 active profiles, in the form they report (100 queries, 1 call)
    first, second, third = cloudwatch.calls
    assert (first["queries"], second["queries"], third["queries"]) == (500, 100, 100)
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in first["ids"]} == {"Invocations"}
    active_forms = {f"p{i:05d}" for i in active - {0, 1, 2}}
    second_pass = {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in third["ids"]}
    assert active_forms <= second_pass
    assert all(v.startswith("arn:") for v in second_pass - active_forms)
    assert len(second_pass) == 20
    assert attributor.stats.get_metric_data_calls == 3
    assert (attributor.stats.profiles, attributor.stats.active_profiles) == (300, 20)
    # And the storming profile (read under its ARN) is the culprit, baseline included
    (culprit,) = result.culprits
    assert (culprit.profile_id, culprit.kind) == ("p00000", "request-storm")
    assert culprit.delta_usd == pytest.approx(27.0)


def test_small_scopes_read_both_forms_in_one_pass_and_sum_them():
    # Given 3 profiles; p00000 reports half its traffic under its id and half under its ARN
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    arns = [bedrock.add(f"p{i:05d}", SONNET) for i in range(3)]
    for dimension in ("p00000", arns[0]):
        seed(cloudwatch.put, dimension, baseline_hours(START, NOW), 50, 3_000, 400)
        seed(cloudwatch.put, dimension, hours(START, NOW), 500, 3_000, 400)
    attributor = Attributor(lambda a, r: ScopeClients(bedrock, cloudwatch), now=lambda: NOW)
    # When attributed
    (culprit,) = attributor.attribute(_signal()).culprits
    # Then one call read 3 profiles x 5 metrics x 2 forms, and the forms were added up
    assert [c["queries"] for c in cloudwatch.calls] == [30]
    assert culprit.invocations == 2_000
    assert culprit.delta_usd == pytest.approx(27.0)
