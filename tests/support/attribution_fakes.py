"""In-memory fakes of the Bedrock inference-profile API and CloudWatch GetMetricData / ListMetrics, for
attribution tests (no moto: thousands of profiles in milliseconds). Metrics Insights queries are
answered by the sandbox's own emulation code (``tokenfuse_sandbox.emulation.metrics_insights``), so
the fake and the sandbox rank alike; any other query shape is refused, as there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from botocore.paginate import Paginator

from tests.support.paging import paginator
from tokenfuse.events import SpendSignal
from tokenfuse_sandbox.emulation.metrics_insights import InsightsQuery, UnsupportedQuery, answer, is_insights

ACCOUNT = "123456789012"
REGION = "us-east-1"
SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"
HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_MICRO = "amazon.nova-micro-v1:0"
UNPRICED = "cohere.command-r-v1:0"
HOUR = timedelta(hours=1)


def model_arn(model_id: str, region: str = REGION) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeBedrock:
    """list_inference_profiles (typeEquals, maxResults, nextToken; and botocore's paginator over
    it), get_inference_profile, list_tags_for_resource; counts calls per operation."""

    def __init__(self, account: str = ACCOUNT, region: str = REGION, max_page: int = 1000) -> None:
        self.account, self.region, self.max_page = account, region, max_page
        self.profiles: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, list[dict[str, str]]] = {}
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.denied: set[str] = set()

    def add(
        self,
        profile_id: str,
        model_id: str = SONNET,
        tags: dict[str, str] | None = None,
        name: str | None = None,
        created_at: datetime | None = None,
        type_: str = "APPLICATION",
    ) -> str:
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:application-inference-profile/{profile_id}"
        self.profiles[arn] = {
            "inferenceProfileName": name or profile_id,
            "description": "",
            "createdAt": created_at or datetime(2026, 1, 1, tzinfo=UTC),
            "updatedAt": created_at or datetime(2026, 1, 1, tzinfo=UTC),
            "inferenceProfileArn": arn,
            "models": [{"modelArn": model_arn(model_id)}],
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": type_,
        }
        self.tags[arn] = [{"key": k, "value": v} for k, v in (tags or {}).items()]
        return arn

    def list_inference_profiles(
        self, typeEquals: str | None = None, maxResults: int = 1000, nextToken: str | None = None
    ) -> dict[str, Any]:
        self.calls["list_inference_profiles"] += 1
        if "list" in self.denied:
            raise _error("AccessDeniedException", "no", "ListInferenceProfiles")
        rows = [p for p in self.profiles.values() if typeEquals is None or p["type"] == typeEquals]
        start = int(nextToken or 0)
        size = min(maxResults, self.max_page)
        page: dict[str, Any] = {"inferenceProfileSummaries": rows[start : start + size]}
        if start + size < len(rows):
            page["nextToken"] = str(start + size)
        return page

    def get_paginator(self, operation: str) -> Paginator[dict[str, Any]]:
        assert operation == "list_inference_profiles"
        return paginator("bedrock", operation, self.list_inference_profiles)

    def profiles_arn(self, profile_id: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account}:application-inference-profile/{profile_id}"

    def _find(self, identifier: str) -> dict[str, Any]:
        for arn, profile in self.profiles.items():
            if identifier in (arn, profile["inferenceProfileId"]):
                return profile
        raise _error("ResourceNotFoundException", f"{identifier} not found", "GetInferenceProfile")

    def get_inference_profile(self, inferenceProfileIdentifier: str) -> dict[str, Any]:
        self.calls["get_inference_profile"] += 1
        return dict(self._find(inferenceProfileIdentifier))

    def list_tags_for_resource(self, resourceARN: str) -> dict[str, Any]:
        self.calls["list_tags_for_resource"] += 1
        if resourceARN not in self.tags:
            raise _error("ResourceNotFoundException", "no such resource", "ListTagsForResource")
        return {"tags": list(self.tags[resourceARN])}


class FakeCloudWatch:
    """GetMetricData over stored hourly Sums: MetricStat queries (at most 500 a call) or one Metrics
    Insights query a call; ``page_size`` results per response with NextToken; botocore's paginators
    over GetMetricData and ListMetrics (``get_paginator``). Records every GetMetricData call
    (``insights`` says which kind it was)."""

    def __init__(self, page_size: int | None = None) -> None:
        self.page_size = page_size
        self.data: defaultdict[tuple[str, str], dict[datetime, float]] = defaultdict(dict)
        self.calls: list[dict[str, Any]] = []
        self.list_metrics_calls = 0
        self.messages: list[dict[str, str]] = []
        """Messages every GetMetricData answer carries (to play AWS saying an answer is partial)."""

    def put(self, metric: str, model_id: str, at: datetime, value: float) -> None:
        series = self.data[(metric, model_id)]
        series[at] = series.get(at, 0.0) + value

    def _insights(self, query: dict[str, Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
        try:
            parsed = InsightsQuery.parse(query["Expression"])
        except UnsupportedQuery as error:
            raise _error("ValidationError", str(error), "GetMetricData") from error
        assert parsed.namespace == "AWS/Bedrock"
        points = (
            (model_id, at, value)
            for (metric, model_id), series in self.data.items()
            if metric == parsed.metric
            for at, value in series.items()
        )
        return [
            {
                "Id": query["Id"],
                "Label": series.label,
                "Timestamps": series.timestamps,
                "Values": series.values,
                "StatusCode": "Complete",
            }
            for series in answer(parsed, points, start, end, int(query["Period"]))
        ]

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        queries = kwargs["MetricDataQueries"]
        assert len(queries) <= 500, "more than 500 queries in one call"
        insights = [q for q in queries if is_insights(q)]
        assert len(insights) <= 1, "AWS allows one Metrics Insights query per GetMetricData call"
        call = {"queries": len(queries), "token": kwargs.get("NextToken"), "ids": queries}
        self.calls.append(call | {"insights": bool(insights)})
        start, end = kwargs["StartTime"], kwargs["EndTime"]
        results = []
        for query in queries:
            if is_insights(query):
                results += self._insights(query, start, end)
                continue
            assert "Expression" not in query, "metric math is not answered by the sandbox"
            stat = query["MetricStat"]
            assert stat["Stat"] == "Sum"
            period = stat["Period"]
            assert period % 60 == 0
            metric = stat["Metric"]
            assert metric["Namespace"] == "AWS/Bedrock"
            (dimension,) = metric["Dimensions"]
            assert dimension["Name"] == "ModelId"
            series = self.data.get((metric["MetricName"], dimension["Value"]), {})
            buckets: dict[datetime, float] = {}
            for t, v in series.items():
                if start <= t < end:
                    bucket = start + timedelta(seconds=(t - start).total_seconds() // period * period)
                    buckets[bucket] = buckets.get(bucket, 0.0) + v
            points = sorted(buckets.items())
            results.append(
                {
                    "Id": query["Id"],
                    "Label": metric["MetricName"],
                    "Timestamps": [t for t, _ in points],
                    "Values": [v for _, v in points],
                    "StatusCode": "Complete",
                }
            )
        offset = int(kwargs.get("NextToken") or 0)
        size = self.page_size or len(results) or 1
        response: dict[str, Any] = {
            "MetricDataResults": results[offset : offset + size],
            "Messages": list(self.messages),
        }
        if offset + size < len(results):
            response["NextToken"] = str(offset + size)
        return response

    def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
        self.list_metrics_calls += 1
        names = sorted(
            (metric, model_id)
            for metric, model_id in self.data
            if metric == kwargs.get("MetricName", metric) and kwargs.get("Namespace") == "AWS/Bedrock"
        )
        offset = int(kwargs.get("NextToken") or 0)
        page = names[offset : offset + 500]
        response: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                }
                for metric, model_id in page
            ]
        }
        if offset + 500 < len(names):
            response["NextToken"] = str(offset + 500)
        return response

    def get_paginator(self, operation: str) -> Paginator[dict[str, Any]]:
        methods: dict[str, Callable[..., dict[str, Any]]] = {
            "list_metrics": self.list_metrics,
            "get_metric_data": self.get_metric_data,
        }
        return paginator("cloudwatch", operation, methods[operation])

    @property
    def insights_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["insights"]]

    @property
    def metric_stat_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if not c["insights"]]

    @property
    def queried_model_ids(self) -> set[str]:
        """The ModelId values read with MetricStat queries."""
        return {
            q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
            for call in self.calls
            if call["token"] is None
            for q in call["ids"]
            if "MetricStat" in q
        }


def cost_anomaly(start: datetime, end: datetime, **overrides: Any) -> SpendSignal:
    """A CAD signal for ``ACCOUNT`` and ``REGION`` over [start, end), received at ``end``."""
    fields: dict[str, Any] = {
        "source": "cost-anomaly",
        "dedup_key": "d",
        "received_at": end,
        "account_id": ACCOUNT,
        "region": REGION,
        "window_start": start,
        "window_end": end,
        "raw_source": "eventbridge",
        "summary": "s",
    }
    return SpendSignal(**(fields | overrides))


Put = Callable[[str, str, datetime, float], None]


def seed(
    put: Put,
    model_id: str,
    hours: Iterable[datetime],
    invocations: float,
    input_per_request: float,
    output_per_request: float,
    cache_read_per_request: float = 0,
    cache_write_per_request: float = 0,
) -> None:
    """Hourly Bedrock metrics for one ModelId value: ``invocations`` per hour at this shape."""
    for hour in hours:
        put("Invocations", model_id, hour, invocations)
        put("InputTokenCount", model_id, hour, invocations * input_per_request)
        put("OutputTokenCount", model_id, hour, invocations * output_per_request)
        if cache_read_per_request:
            put("CacheReadInputTokenCount", model_id, hour, invocations * cache_read_per_request)
        if cache_write_per_request:
            put("CacheWriteInputTokenCount", model_id, hour, invocations * cache_write_per_request)


def hours(start: datetime, end: datetime) -> list[datetime]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += HOUR
    return out


def baseline_hours(window_start: datetime, window_end: datetime, days: int = 7) -> list[datetime]:
    """The window's hours on each of the previous ``days`` days."""
    return [h - timedelta(days=k) for k in range(1, days + 1) for h in hours(window_start, window_end)]


# ------------------------------------------------------------------------------------------------
# The Bedrock adapter, against the fake
# ------------------------------------------------------------------------------------------------
