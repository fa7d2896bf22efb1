"""The Metrics Insights emulation inside moto: the one query shape tokenfuse sends is answered as AWS
documents it (SCHEMA's exact dimension set, GROUP BY ModelId, ORDER BY SUM() DESC, LIMIT, buckets
of Period, the first 10,000 metrics only), checked against answers worked out by hand; every other
Metrics Insights query is refused loudly."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tokenfuse.adapters.cloudwatch import insights_query
from tokenfuse_sandbox.emulation import metrics_insights
from tokenfuse_sandbox.emulation.metrics_insights import InsightsQuery, UnsupportedQuery, top_series

REGION = "us-east-1"
T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def cloudwatch(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    metrics_insights.install()
    with mock_aws():
        yield boto3.client("cloudwatch", REGION)
    metrics_insights.uninstall()


def put(cloudwatch, metric, dimensions, at, value, namespace="AWS/Bedrock"):
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": at,
                "Value": value,
            }
        ],
    )


def query(cloudwatch, expression, start=T0, end=T0 + 2 * HOUR, period=3600, **extra):
    return cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "top", "Expression": expression, "Period": period, "ReturnData": True}],
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
        **extra,
    )["MetricDataResults"]


def test_top_series_by_sum_in_hourly_buckets(cloudwatch):
    # Given three ModelId series over two hours, and metrics the query must not match
    for model, first, second in (("a", 5.0, 1.0), ("b", 2.0, 2.0), ("c", 0.5, 0.0)):
        put(cloudwatch, "OutputTokenCount", {"ModelId": model}, T0 + timedelta(minutes=10), first)
        if second:
            put(cloudwatch, "OutputTokenCount", {"ModelId": model}, T0 + HOUR + timedelta(minutes=5), second)
    put(cloudwatch, "OutputTokenCount", {"ModelId": "a"}, T0 + timedelta(minutes=40), 3.0)  # same bucket
    put(cloudwatch, "OutputTokenCount", {"ModelId": "z", "Other": "x"}, T0, 999.0)  # not SCHEMA's set
    put(cloudwatch, "OutputTokenCount", {"ModelId": "z"}, T0, 999.0, namespace="Custom")  # other namespace
    put(cloudwatch, "InputTokenCount", {"ModelId": "z"}, T0, 999.0)  # other metric
    put(cloudwatch, "OutputTokenCount", {"ModelId": "z"}, T0 + 2 * HOUR, 999.0)  # after EndTime
    # When the top 2 series are asked for
    results = query(cloudwatch, insights_query("OutputTokenCount", limit=2))
    # Then a (5 + 3 = 8, then 1: total 9) and b (2, then 2: total 4), each labelled with its ModelId,
    # each under the query's Id, one value per hourly bucket that had data
    assert [(r["Id"], r["Label"], r["Values"]) for r in results] == [
        ("top", "a", [8.0, 1.0]),
        ("top", "b", [2.0, 2.0]),
    ]
    assert [t.astimezone(UTC) for t in results[0]["Timestamps"]] == [T0, T0 + HOUR]
    # And with one bucket for the whole range, and a limit covering everyone: c comes last, its one value
    whole = query(cloudwatch, insights_query("OutputTokenCount"), period=7200)
    assert [(r["Label"], r["Values"]) for r in whole] == [("a", [9.0]), ("b", [4.0]), ("c", [0.5])]


def test_metric_stat_queries_still_answered_by_moto(cloudwatch):
    put(cloudwatch, "Invocations", {"ModelId": "a"}, T0 + timedelta(minutes=1), 7.0)
    stat = {
        "Id": "m",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": "a"}],
            },
            "Period": 3600,
            "Stat": "Sum",
        },
    }
    results = cloudwatch.get_metric_data(
        MetricDataQueries=[stat], StartTime=T0, EndTime=T0 + HOUR, ScanBy="TimestampAscending"
    )["MetricDataResults"]
    assert [(r["Id"], r["Values"]) for r in results] == [("m", [7.0])]


TOP = insights_query("OutputTokenCount", limit=5)


@pytest.mark.parametrize(
    "expression",
    [
        TOP.replace("SUM(OutputTokenCount)", "AVG(OutputTokenCount)").replace("SUM()", "AVG()"),
        TOP.replace('SCHEMA("AWS/Bedrock", ModelId)', '"AWS/Bedrock"'),
        TOP.replace("GROUP BY ModelId ", ""),
        TOP.replace("DESC", "ASC"),
        TOP.replace("GROUP BY", "WHERE ModelId = 'a' GROUP BY"),
        TOP.replace("LIMIT 5", "LIMIT 501"),
    ],
)
def test_any_other_query_is_refused_loudly(cloudwatch, expression):
    with pytest.raises(ClientError) as caught:
        query(cloudwatch, expression)
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_one_metrics_insights_query_per_call(cloudwatch):
    expression = insights_query("OutputTokenCount")
    with pytest.raises(ClientError, match="Only one Metrics Insights query"):
        cloudwatch.get_metric_data(
            MetricDataQueries=[
                {"Id": "a", "Expression": expression, "Period": 3600},
                {"Id": "b", "Expression": expression, "Period": 3600},
            ],
            StartTime=T0,
            EndTime=T0 + HOUR,
        )


def test_only_the_first_10000_metrics_are_processed_silently():
    # Given 10,001 series where the largest was stored last
    parsed = InsightsQuery.parse(insights_query("OutputTokenCount", limit=3))
    sums = {f"m{i:05d}": [1.0] for i in range(10_000)} | {"largest": [1e9]}
    # Then it is not in the answer at all, as AWS does past 10,000 metrics
    answer = top_series(parsed, sums, [T0])
    assert [a.label for a in answer] == ["m00000", "m00001", "m00002"]


def test_the_query_parser_is_exact():
    parsed = InsightsQuery.parse(insights_query("CacheReadInputTokenCount", limit=7))
    assert (parsed.metric, parsed.namespace, parsed.limit) == ("CacheReadInputTokenCount", "AWS/Bedrock", 7)
    with pytest.raises(UnsupportedQuery, match="LIMIT"):
        InsightsQuery.parse(insights_query("InputTokenCount").replace("500", "0"))
