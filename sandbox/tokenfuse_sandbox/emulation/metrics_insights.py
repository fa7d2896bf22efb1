"""Emulation: the CloudWatch Metrics Insights queries tokenfuse sends, answered inside moto.

moto 5.2.5 answers any ``Expression`` that starts with ``SELECT`` by summing every datapoint of the
account and region: it ignores the metric, ``SCHEMA``, ``GROUP BY``, ``ORDER BY`` and ``LIMIT``, so
attribution would rank nonsense. :func:`install` replaces that part of moto's
``CloudWatchBackend.get_metric_data`` with an answer to exactly the one query shape tokenfuse sends::

    SELECT SUM(<metric>) FROM SCHEMA("<namespace>", ModelId) GROUP BY ModelId ORDER BY SUM() DESC LIMIT <n>

and refuses every other Metrics Insights query with a ``ValidationError`` that names it (loudly,
never a silently wrong answer). ``MetricStat`` and metric-math queries still go to moto.

What it does, as AWS documents Metrics Insights:

- matches the metrics of that namespace and name whose dimensions are exactly ``ModelId``
  (``SCHEMA``), and processes at most the first 10,000 of them, silently, as AWS does (here: the
  first 10,000 in the order moto stored them);
- sums each series' datapoints in [StartTime, EndTime) into buckets of ``Period`` seconds counted
  from StartTime, keeping only buckets with data;
- orders the series by their sum over the whole range, largest first (ties by label), returns the
  top ``LIMIT`` (at most 500), each as one result with the query's ``Id`` and the ``ModelId`` value
  as its ``Label``.

What it does NOT prove: how AWS aligns buckets, breaks ties or picks "the first 10,000 metrics it
finds"; the ``Messages`` AWS may add; the two-week look-back (older ranges are answered here, and
tokenfuse never asks); the 3-hour window of Metrics Insights alarms; any other query shape.
:func:`answer` and :func:`top_series` are pure, so the attribution tests' in-memory CloudWatch and
the benchmark answer with this same code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum

from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = [
    "MAX_LIMIT",
    "MAX_METRICS",
    "InsightsQuery",
    "SeriesAnswer",
    "UnsupportedQuery",
    "answer",
    "bucket_starts",
    "install",
    "installed",
    "is_insights",
    "top_series",
    "uninstall",
]

MAX_LIMIT = 500
MAX_METRICS = 10_000
DIMENSION = "ModelId"

SUPPORTED = (
    'the sandbox emulates only SELECT SUM(<metric>) FROM SCHEMA("<namespace>", ModelId) '
    "GROUP BY ModelId ORDER BY SUM() DESC LIMIT <n>"
)
_QUERY = re.compile(
    r"\s*SELECT\s+SUM\(\s*(?P<metric>[A-Za-z0-9_]+)\s*\)\s+"
    r'FROM\s+SCHEMA\(\s*"(?P<namespace>[^"]+)"\s*,\s*ModelId\s*\)\s+'
    r"GROUP\s+BY\s+ModelId\s+ORDER\s+BY\s+SUM\(\s*\)\s+DESC\s+LIMIT\s+(?P<limit>\d+)\s*",
    re.IGNORECASE,
)


class UnsupportedQuery(ValueError):
    """A Metrics Insights query this emulation does not answer."""


@dataclass(frozen=True)
class InsightsQuery:
    metric: str
    namespace: str
    limit: int

    @classmethod
    def parse(cls, expression: str) -> InsightsQuery:
        match = _QUERY.fullmatch(expression)
        if match is None:
            raise UnsupportedQuery(f"{SUPPORTED}; refused: {expression!r}")
        limit = int(match["limit"])
        if not 1 <= limit <= MAX_LIMIT:
            raise UnsupportedQuery(f"LIMIT must be 1..{MAX_LIMIT}: a query returns at most 500 series")
        return cls(match["metric"], match["namespace"], limit)


@dataclass(frozen=True)
class SeriesAnswer:
    label: str
    timestamps: list[datetime]
    values: list[float]


def is_insights(query: Mapping[str, Any]) -> bool:
    return str(query.get("Expression", "")).lstrip().upper().startswith("SELECT")


def bucket_starts(start: datetime, end: datetime, period: int) -> list[datetime]:
    if period <= 0 or period % 60:
        raise UnsupportedQuery(f"Period must be a positive multiple of 60 seconds, not {period}")
    count = math.ceil((end - start).total_seconds() / period)
    return [start + timedelta(seconds=i * period) for i in range(max(0, count))]


def top_series(
    query: InsightsQuery, sums: Mapping[str, Sequence[float | None]], stamps: Sequence[datetime]
) -> list[SeriesAnswer]:
    """Per series label, its bucket sums (None: no data in that bucket), ranked and cut as AWS does:
    at most the first 10,000 labels processed, ordered by their total (largest first), top LIMIT."""
    processed = list(sums.items())[:MAX_METRICS]
    ranked = sorted(processed, key=lambda item: (-sum(v for v in item[1] if v is not None), item[0]))
    out = []
    for label, values in ranked[: query.limit]:
        kept = [(t, v) for t, v in zip(stamps, values, strict=True) if v is not None]
        out.append(SeriesAnswer(label, [t for t, _ in kept], [v for _, v in kept]))
    return out


def answer(
    query: InsightsQuery,
    points: Iterable[tuple[str, datetime, float]],
    start: datetime,
    end: datetime,
    period: int,
) -> list[SeriesAnswer]:
    """The answer over (label, timestamp, value) datapoints of the query's metric (in stored order)."""
    stamps = bucket_starts(start, end, period)
    sums: dict[str, list[float | None]] = {}
    for label, at, value in points:
        if not start <= at < end:
            continue
        row = sums.setdefault(label, [None] * len(stamps))
        i = int((at - start).total_seconds() // period)
        row[i] = (row[i] or 0.0) + value
    return top_series(query, sums, stamps)


# -- inside moto ------------------------------------------------------------------------------------

_patches = MotoPatches()


def _points(backend: CloudWatchBackend, query: InsightsQuery) -> Iterable[tuple[str, datetime, float]]:
    for datum in backend.get_all_metrics():
        if datum.namespace != query.namespace or datum.name != query.metric:
            continue
        if len(datum.dimensions) != 1 or datum.dimensions[0].name != DIMENSION:
            continue
        if isinstance(datum, MetricDatum):
            value = float(datum.value)
        elif isinstance(datum, MetricAggregatedDatum):
            value = float(datum.sum)
        else:
            continue
        yield str(datum.dimensions[0].value), datum.timestamp, value


def _get_metric_data(
    backend: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    insights = [q for q in queries if is_insights(q)]
    if len(insights) > 1:
        raise ValidationError("Only one Metrics Insights query is allowed per GetMetricData call")
    others = [q for q in queries if not is_insights(q)]
    moto_answer = _patches.original(CloudWatchBackend, "get_metric_data")
    results: list[dict[str, Any]] = []
    if others:
        results = moto_answer(backend, others, start_time, end_time, scan_by)
    for raw in insights:
        try:
            query = InsightsQuery.parse(str(raw["Expression"]))
            start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
            answers = answer(query, _points(backend, query), start, end, int(raw.get("Period") or 0))
        except UnsupportedQuery as error:
            raise ValidationError(str(error)) from error
        for series in answers:
            stamps, values = series.timestamps, series.values
            if scan_by == "TimestampDescending":
                stamps, values = stamps[::-1], values[::-1]
            if raw.get("ReturnData", True) in (True, "true", "True"):
                results.append(
                    {
                        "id": raw["Id"],
                        "label": series.label,
                        "values": values,
                        "timestamps": stamps,
                        "status_code": "Complete",
                    }
                )
    return results


def install() -> None:
    """Answer tokenfuse's Metrics Insights queries in moto's CloudWatch. Idempotent; process-wide."""
    with _patches.lock:
        if not _patches.installed:
            _patches.replace(CloudWatchBackend, "get_metric_data", _get_metric_data)


def uninstall() -> None:
    _patches.restore()


def installed() -> bool:
    return _patches.installed
