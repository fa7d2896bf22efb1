"""CloudWatch GetMetricData for Bedrock's per-model metrics: Metrics Insights rankings and MetricStat reads.

- :class:`InsightsReader` runs one Metrics Insights query per GetMetricData call (AWS allows one
  such query per call): ``SELECT SUM(<metric>) FROM SCHEMA("AWS/Bedrock", ModelId) GROUP BY
  ModelId ORDER BY SUM() DESC LIMIT 500``. Each returned series carries the query's ``Id`` and, as
  its ``Label``, the ``ModelId`` value it groups. AWS documents the limits this module keeps:
  a query returns at most 500 series and processes at most the first 10,000 metrics it matches
  (silently), and reads at most two weeks back.
- :func:`model_id_series` lists the ``ModelId`` series of a metric with ListMetrics (its botocore
  paginator), to tell when a scope is past those 10,000 and to read it in partitions then.
- :class:`MetricReader` reads plain ``MetricStat`` queries (no metric math: moto answers none): at
  most 500 queries per call, fewer when the span would exceed the 100,800 datapoints a call may
  return; ``NextToken`` is always followed. ``calls`` counts the GetMetricData calls made.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate

NAMESPACE = "AWS/Bedrock"
MODEL_ID_DIMENSION = "ModelId"
MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
INSIGHTS_LIMIT = 500
"""The most series one Metrics Insights query returns (its LIMIT may not exceed it)."""
INSIGHTS_MAX_METRICS = 10_000
"""The most metrics one Metrics Insights query processes; past it, it reads the first 10,000 it finds."""
INSIGHTS_MAX_AGE = timedelta(days=14)
"""How far back a Metrics Insights query reads (two weeks; alarms evaluate only the last 3 hours)."""
INSIGHTS_MAX_PERIOD = 86_400

Series = tuple[list[datetime], list[float]]
"""Timestamps and values of one query, as CloudWatch returned them (only hours that had data)."""


class MetricRequest(NamedTuple):
    """One query: the Sum of ``metric`` for ``ModelId = model_id``. ``key`` names it in the answer."""

    key: str
    metric: str
    model_id: str


def insights_query(metric: str, limit: int = INSIGHTS_LIMIT, namespace: str = NAMESPACE) -> str:
    """The one Metrics Insights query tokenfuse sends: the top ``limit`` ModelId series of ``metric``."""
    if not 1 <= limit <= INSIGHTS_LIMIT:
        raise ValueError(f"a Metrics Insights LIMIT is 1..{INSIGHTS_LIMIT}, not {limit}")
    if not metric.isidentifier():
        raise ValueError(f"not a metric name tokenfuse queries: {metric!r}")
    # a CloudWatch Metrics Insights query of one fixed shape, not SQL sent to a database
    select = f'SELECT SUM({metric}) FROM SCHEMA("{namespace}", {MODEL_ID_DIMENSION}) '  # noqa: S608
    return f"{select}GROUP BY {MODEL_ID_DIMENSION} ORDER BY SUM() DESC LIMIT {limit}"


def insights_period(start: datetime, end: datetime) -> int:
    """One bucket for a range up to a day, else daily buckets (whole minutes, as CloudWatch requires)."""
    seconds = int((end - start).total_seconds())
    return max(60, min(INSIGHTS_MAX_PERIOD, seconds - seconds % 60))


class TopSeries(NamedTuple):
    """The sums one Metrics Insights query returned, per ModelId value, and whether AWS said the
    answer may be partial (a message on a result, or a status other than Complete)."""

    sums: dict[str, float]
    partial: bool
    datapoints: int


class InsightsReader:
    """Metrics Insights rankings of ``AWS/Bedrock`` metrics by ``ModelId`` (one query per call)."""

    def __init__(self, client: Any, namespace: str = NAMESPACE) -> None:
        self.client = client
        self.namespace = namespace
        self.calls = 0

    def top(self, metric: str, start: datetime, end: datetime, limit: int = INSIGHTS_LIMIT) -> TopSeries:
        """The top ``limit`` series of ``metric`` by their sum over [start, end), each summed."""
        kwargs: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": "top",
                    "Expression": insights_query(metric, limit, self.namespace),
                    "Period": insights_period(start, end),
                    "ReturnData": True,
                }
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        sums: dict[str, float] = {}
        partial = False
        points = 0
        while True:
            self.calls += 1
            try:
                response = self.client.get_metric_data(**kwargs)
            except ClientError as error:
                raise translate(error) from error
            partial = partial or bool(response.get("Messages"))
            for result in response.get("MetricDataResults", []):
                values = result.get("Values", ())
                points += len(values)
                label = result.get("Label")
                if not label:
                    partial = True  # a series without its ModelId cannot be attributed
                    continue
                sums[label] = sums.get(label, 0.0) + math.fsum(values)
                partial = partial or bool(result.get("Messages"))
                partial = partial or result.get("StatusCode", "Complete") not in ("Complete", "PartialData")
            token = response.get("NextToken")
            if not token:
                return TopSeries(sums, partial, points)
            kwargs["NextToken"] = token


def model_id_series(client: Any, metric: str, namespace: str = NAMESPACE) -> tuple[set[str], int]:
    """(the ModelId values of ``metric``'s series with data in the last two weeks, ListMetrics calls made)."""
    values: set[str] = set()
    pages = 0
    try:
        for page in client.get_paginator("list_metrics").paginate(Namespace=namespace, MetricName=metric):
            pages += 1
            for found in page.get("Metrics", []):
                dimensions = found.get("Dimensions", [])
                if len(dimensions) == 1 and dimensions[0].get("Name") == MODEL_ID_DIMENSION:
                    values.add(dimensions[0].get("Value", ""))
    except ClientError as error:
        raise translate(error) from error
    return values, pages


class MetricReader:
    """Reads hourly (or any period) Sums of ``AWS/Bedrock`` metrics by ``ModelId``."""

    def __init__(
        self,
        client: Any,
        namespace: str = NAMESPACE,
        max_queries: int = MAX_QUERIES_PER_CALL,
        max_datapoints: int = MAX_DATAPOINTS_PER_CALL,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.max_queries = max_queries
        self.max_datapoints = max_datapoints
        self.calls = 0
        self.datapoints = 0

    def batch_size(self, start: datetime, end: datetime, period: int) -> int:
        points = max(1, math.ceil((end - start).total_seconds() / period))
        return max(1, min(self.max_queries, self.max_datapoints // points))

    def read(
        self, requests: Sequence[MetricRequest], start: datetime, end: datetime, period: int = 3600
    ) -> dict[str, Series]:
        """Every request's datapoints in [start, end), keyed by ``MetricRequest.key``.

        A key with no data maps to empty lists. Keys must be unique.
        """
        out: dict[str, Series] = {}
        size = self.batch_size(start, end, period)
        for offset in range(0, len(requests), size):
            batch = requests[offset : offset + size]
            ids = {f"q{i}": request.key for i, request in enumerate(batch)}
            for key in ids.values():
                out[key] = ([], [])
            queries = [
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": self.namespace,
                            "MetricName": request.metric,
                            "Dimensions": [{"Name": MODEL_ID_DIMENSION, "Value": request.model_id}],
                        },
                        "Period": period,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
                for query_id, request in zip(ids, batch, strict=True)
            ]
            for result in self._results(queries, start, end):
                series = out[ids[result["Id"]]]
                values = result.get("Values", ())
                self.datapoints += len(values)
                series[0].extend(result.get("Timestamps", ()))
                series[1].extend(values)
        return out

    def _results(
        self, queries: list[dict[str, Any]], start: datetime, end: datetime
    ) -> Iterable[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            self.calls += 1
            try:
                response = self.client.get_metric_data(**kwargs)
            except ClientError as error:
                raise translate(error) from error
            yield from response.get("MetricDataResults", [])
            token = response.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token
