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
  return; every page is read (botocore's paginators). ``calls`` counts the GetMetricData calls made.

Every answer is validated (pydantic) before it is read: a page that botocore could not parse, or
whose results are not what the API documents (a value that is not a finite number, timestamps
and values of different lengths, a result that is not an object), raises
:class:`MalformedMetricData` with one line naming what was wrong; unknown extra fields are kept.
"""

import math
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Self

from botocore.parsers import ResponseParserError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import GetMetricDataInputPaginateTypeDef, MetricDataQueryTypeDef

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


class MalformedMetricData(TokenfuseError):
    """CloudWatch answered with something GetMetricData / ListMetrics do not document (one line)."""


class _Answer(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, strict=True)


class _Message(_Answer):
    Code: str | None = None
    Value: str | None = None


class _Result(_Answer):
    Id: str
    Label: str | None = None
    Timestamps: list[datetime] = Field(default_factory=list)
    Values: list[Annotated[float, Field(allow_inf_nan=False)]] = Field(default_factory=list)
    StatusCode: str = "Complete"
    Messages: list[_Message] = Field(default_factory=list)

    @model_validator(mode="after")
    def _paired(self) -> Self:
        if len(self.Timestamps) != len(self.Values):
            raise ValueError("Timestamps and Values differ in length")
        return self


class _Page(_Answer):
    MetricDataResults: list[_Result] = Field(default_factory=list)
    Messages: list[_Message] = Field(default_factory=list)
    NextToken: str | None = None


class _Dimension(_Answer):
    Name: str
    Value: str


class _Metric(_Answer):
    Dimensions: list[_Dimension] = Field(default_factory=list)


class _MetricsPage(_Answer):
    Metrics: list[_Metric] = Field(default_factory=list)


def _checked[T: _Answer](model: type[T], answer: Any, operation: str) -> T:
    try:
        return model.model_validate(answer)
    except ValidationError as error:
        first = error.errors()[0]
        where = "/".join(str(part) for part in first["loc"]) or "answer"
        raise MalformedMetricData(f"CloudWatch {operation} answer: {where}: {first['msg']}") from None


UNPARSED = (ResponseParserError, ValueError, TypeError, RuntimeError, AttributeError, KeyError)
"""What botocore raises when an answer's bytes do not parse into the operation's shape."""


def _unparsed(operation: str, error: Exception) -> MalformedMetricData:
    return MalformedMetricData(f"CloudWatch {operation} answer did not parse: {' '.join(str(error).split())}")


def _pages(
    client: "CloudWatchClient", request: "GetMetricDataInputPaginateTypeDef", on_call: Callable[[], None]
) -> Iterator[_Page]:
    """Every page of one GetMetricData request (botocore's paginator), each validated."""
    pages = client.get_paginator("get_metric_data").paginate(**request)
    try:
        with aws_call("cloudwatch:GetMetricData"):
            for response in pages:
                on_call()
                yield _checked(_Page, response, "GetMetricData")
    except UNPARSED as error:
        raise _unparsed("GetMetricData", error) from error


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

    def __init__(self, client: "CloudWatchClient", namespace: str = NAMESPACE) -> None:
        self.client = client
        self.namespace = namespace
        self.calls = 0

    def top(self, metric: str, start: datetime, end: datetime, limit: int = INSIGHTS_LIMIT) -> TopSeries:
        """The top ``limit`` series of ``metric`` by their sum over [start, end), each summed."""
        request: GetMetricDataInputPaginateTypeDef = {
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
        status = "Complete"
        for page in _pages(self.client, request, self._count):
            partial = partial or bool(page.Messages)
            for result in page.MetricDataResults:
                points += len(result.Values)
                status = result.StatusCode
                if not result.Label:
                    partial = True  # a series without its ModelId cannot be attributed
                    continue
                sums[result.Label] = sums.get(result.Label, 0.0) + math.fsum(result.Values)
                partial = partial or bool(result.Messages) or status not in ("Complete", "PartialData")
        # PartialData on the last page: AWS had more than it returned
        return TopSeries(sums, partial or status == "PartialData", points)

    def _count(self) -> None:
        self.calls += 1


def model_id_series(
    client: "CloudWatchClient", metric: str, namespace: str = NAMESPACE
) -> tuple[set[str], int]:
    """(the ModelId values of ``metric``'s series with data in the last two weeks, ListMetrics calls made)."""
    values: set[str] = set()
    pages = 0
    listed = client.get_paginator("list_metrics").paginate(Namespace=namespace, MetricName=metric)
    try:
        with aws_call("cloudwatch:ListMetrics"):
            for raw in listed:
                pages += 1
                for found in _checked(_MetricsPage, raw, "ListMetrics").Metrics:
                    if len(found.Dimensions) == 1 and found.Dimensions[0].Name == MODEL_ID_DIMENSION:
                        values.add(found.Dimensions[0].Value)
    except UNPARSED as error:
        raise _unparsed("ListMetrics", error) from error
    return values, pages


class MetricReader:
    """Reads hourly (or any period) Sums of ``AWS/Bedrock`` metrics by ``ModelId``."""

    def __init__(
        self,
        client: "CloudWatchClient",
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
            queries: list[MetricDataQueryTypeDef] = [
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
            request: GetMetricDataInputPaginateTypeDef = {
                "MetricDataQueries": queries,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            for page in _pages(self.client, request, self._count):
                for result in page.MetricDataResults:
                    if result.Id not in ids:
                        raise MalformedMetricData(
                            f"CloudWatch GetMetricData answer: unknown Id {result.Id!r}"
                        )
                    series = out[ids[result.Id]]
                    self.datapoints += len(result.Values)
                    series[0].extend(result.Timestamps)
                    series[1].extend(result.Values)
        return out

    def _count(self) -> None:
        self.calls += 1
