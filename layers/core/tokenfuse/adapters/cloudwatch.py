"""CloudWatch GetMetricData for Bedrock's per-model metrics, batched and paginated.

Only plain ``MetricStat`` queries (no metric math: the sandbox's moto answers MetricStat only).
At most 500 queries per call, and fewer when the span would exceed the 100,800 datapoints a call
may return; ``NextToken`` is always followed. ``calls`` counts the GetMetricData calls made.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate

NAMESPACE = "AWS/Bedrock"
MODEL_ID_DIMENSION = "ModelId"
MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800

Series = tuple[list[datetime], list[float]]
"""Timestamps and values of one query, as CloudWatch returned them (only hours that had data)."""


class MetricRequest(NamedTuple):
    """One query: the Sum of ``metric`` for ``ModelId = model_id``. ``key`` names it in the answer."""

    key: str
    metric: str
    model_id: str


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
                series[0].extend(result.get("Timestamps", ()))
                series[1].extend(result.get("Values", ()))
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
