"""Adversarial corpus: what CloudWatch answers attribution (GetMetricData with a Metrics Insights query,
GetMetricData with MetricStat queries, ListMetrics), every node of a real-shaped answer deleted or
swapped for another JSON shape, sent as bytes through botocore's own parsing (a ``before-send``
hook). Each answer is read, or refused with MalformedMetricData in one line; nothing else escapes.
And hostile ModelId values in a well-formed answer never crash attribution."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from tests.support.adversarial import HOSTILE_STRINGS, mutations
from tests.support.attribution_fakes import FakeBedrock, cost_anomaly
from tokenfuse.adapters.cloudwatch import (
    InsightsReader,
    MalformedMetricData,
    MetricReader,
    MetricRequest,
    model_id_series,
)
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients

START = datetime(2026, 11, 20, 10, tzinfo=UTC)
END = START + timedelta(hours=2)
EPOCH = START.timestamp()

INSIGHTS_ANSWER = {
    "MetricDataResults": [
        {
            "Id": "top",
            "Label": "x7k2p9q4m1ab",
            "Timestamps": [EPOCH],
            "Values": [41_200.0],
            "StatusCode": "Complete",
        },
        {
            "Id": "top",
            "Label": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "Timestamps": [EPOCH],
            "Values": [300.5],
            "StatusCode": "Complete",
        },
    ],
    "Messages": [],
}
METRIC_STAT_ANSWER = {
    "MetricDataResults": [
        {
            "Id": "q0",
            "Label": "OutputTokenCount",
            "Timestamps": [EPOCH, EPOCH + 3600],
            "Values": [4_000.0, 4_100.0],
            "StatusCode": "Complete",
        }
    ],
    "Messages": [],
}
LIST_METRICS_ANSWER = {
    "Metrics": [
        {
            "Namespace": "AWS/Bedrock",
            "MetricName": "OutputTokenCount",
            "Dimensions": [{"Name": "ModelId", "Value": "x7k2p9q4m1ab"}],
        }
    ]
}


class Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any):
        yield self.data


def cloudwatch_answering(answers: dict[str, Any]):
    """A real boto3 CloudWatch client whose operations get ``answers[operation]`` as JSON bytes (an
    answer may be a function of the request's parameters)."""
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1").client(
        "cloudwatch"
    )
    for operation in ("GetMetricData", "ListMetrics"):

        def hook(request, op=operation, **_):
            answer = answers[op]
            if callable(answer):
                answer = answer(json.loads(request.body))
            body = json.dumps(answer).encode()
            return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, Raw(body))

        client.meta.events.register(f"before-send.cloudwatch.{operation}", hook)
    return client


def read_or_refuse(read) -> str:
    try:
        read()
    except MalformedMetricData as error:
        assert "\n" not in str(error) and str(error).startswith("CloudWatch ")
        return "refused"
    return "read"


@pytest.mark.parametrize(("label", "answer"), list(mutations(INSIGHTS_ANSWER)))
def test_insights_answers_are_read_or_refused(label, answer):
    client = cloudwatch_answering({"GetMetricData": answer})
    assert read_or_refuse(lambda: InsightsReader(client).top("OutputTokenCount", START, END)) in (
        "read",
        "refused",
    )


@pytest.mark.parametrize(("label", "answer"), list(mutations(METRIC_STAT_ANSWER)))
def test_metric_stat_answers_are_read_or_refused(label, answer):
    client = cloudwatch_answering({"GetMetricData": answer})
    requests = [MetricRequest("k", "OutputTokenCount", "x7k2p9q4m1ab")]
    assert read_or_refuse(lambda: MetricReader(client).read(requests, START, END)) in ("read", "refused")


@pytest.mark.parametrize(("label", "answer"), list(mutations(LIST_METRICS_ANSWER)))
def test_list_metrics_answers_are_read_or_refused(label, answer):
    client = cloudwatch_answering({"ListMetrics": answer})
    assert read_or_refuse(lambda: model_id_series(client, "OutputTokenCount")) in ("read", "refused")


def test_the_real_shapes_are_read():
    client = cloudwatch_answering({"GetMetricData": INSIGHTS_ANSWER, "ListMetrics": LIST_METRICS_ANSWER})
    top = InsightsReader(client).top("OutputTokenCount", START, END)
    assert top.sums == {"x7k2p9q4m1ab": 41_200.0, "anthropic.claude-3-5-haiku-20241022-v1:0": 300.5}
    assert model_id_series(client, "OutputTokenCount")[0] == {"x7k2p9q4m1ab"}


@pytest.mark.parametrize("label", HOSTILE_STRINGS)
def test_hostile_model_ids_never_crash_attribution(label):
    # Given well-formed answers naming a hostile ModelId value with traffic in the window only
    def answer(params: dict[str, Any]) -> dict[str, Any]:
        point = {"Timestamps": [EPOCH], "Values": [1_000.0], "StatusCode": "Complete"}
        queries = params["MetricDataQueries"]
        if "Expression" in queries[0]:
            in_window = params["StartTime"] >= EPOCH
            results = [{"Id": "top", "Label": label, **point}] if label and in_window else []
        else:
            results = [{"Id": q["Id"], "Label": "x", **point} for q in queries]
        return {"MetricDataResults": results, "Messages": []}

    client = cloudwatch_answering({"GetMetricData": answer})
    signal = cost_anomaly(START, END)
    attributor = Attributor(
        lambda a, r: ScopeClients(FakeBedrock(), client), AttributionSettings(), now=lambda: END
    )
    # When attributed, Then it completes; a culprit, if any, is that model's direct calls, unpriced
    result = attributor.attribute(signal)
    for culprit in result.culprits:
        assert culprit.subject == "direct-model" and culprit.unpriced_models == culprit.model_ids == [label]
