"""In-memory fakes of the Bedrock inference-profile API and CloudWatch GetMetricData, for attribution
tests and the attribution benchmark (no moto: thousands of profiles in milliseconds)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

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
    """list_inference_profiles (typeEquals, maxResults, nextToken), get_inference_profile,
    list_tags_for_resource; counts calls per operation."""

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
        page = {"inferenceProfileSummaries": rows[start : start + size]}
        if start + size < len(rows):
            page["nextToken"] = str(start + size)
        return page

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
    """GetMetricData over stored hourly Sums; only MetricStat queries; at most 500 a call;
    ``page_size`` results per response with NextToken. Records every call's query count."""

    def __init__(self, page_size: int | None = None) -> None:
        self.page_size = page_size
        self.data: defaultdict[tuple[str, str], dict[datetime, float]] = defaultdict(dict)
        self.calls: list[dict[str, Any]] = []

    def put(self, metric: str, model_id: str, at: datetime, value: float) -> None:
        series = self.data[(metric, model_id)]
        series[at] = series.get(at, 0.0) + value

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        queries = kwargs["MetricDataQueries"]
        assert len(queries) <= 500, "more than 500 queries in one call"
        self.calls.append({"queries": len(queries), "token": kwargs.get("NextToken"), "ids": queries})
        start, end = kwargs["StartTime"], kwargs["EndTime"]
        results = []
        for query in queries:
            assert "Expression" not in query, "metric math is not answered by the sandbox"
            stat = query["MetricStat"]
            assert stat["Stat"] == "Sum"
            assert stat["Period"] == 3600
            metric = stat["Metric"]
            assert metric["Namespace"] == "AWS/Bedrock"
            (dimension,) = metric["Dimensions"]
            assert dimension["Name"] == "ModelId"
            series = self.data.get((metric["MetricName"], dimension["Value"]), {})
            points = sorted((t, v) for t, v in series.items() if start <= t < end)
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
        size = self.page_size or len(results)
        response: dict[str, Any] = {"MetricDataResults": results[offset : offset + size], "Messages": []}
        if offset + size < len(results):
            response["NextToken"] = str(offset + size)
        return response

    @property
    def queried_model_ids(self) -> set[str]:
        return {
            q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
            for call in self.calls
            if call["token"] is None
            for q in call["ids"]
        }


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
