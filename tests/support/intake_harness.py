"""The intake function in-process under moto: its environment, a bus whose Spend Signals are
captured by an SQS rule target, the idempotency table, a budget to enrich from, and the SQS
shapes AWS delivers. Shared by the intake integration tests and the intake adversarial corpus."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_context import FakeContext
from tests.support.moto_state import empty_table
from tokenfuse import clock, intake
from tokenfuse.adapters import aws as aws_adapter

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
BUS = "tokenfuse-test"
TABLE = "tokenfuse-idempotency-test"
REGION = "us-east-1"
RECEIVED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
"""When the tests' records arrive (after every sample's own time, as in production)."""
BUDGET_FILTERS = {"Service": ["Amazon Bedrock"]}
"""The cost filters of the one budget moto holds, ``genai-bedrock-monthly`` in 111122223333."""

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "intake",
    "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_LAMBDA_FUNCTION_NAME": "tokenfuse-intake",
    "EVENT_BUS_NAME": BUS,
    "IDEMPOTENCY_TABLE_NAME": TABLE,
}


def context() -> FakeContext:
    return FakeContext("tokenfuse-intake", "444455556666", 256, 30_000)


@contextmanager
def intake_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The function's environment, a fresh Intake, and tokenfuse's clock at RECEIVED."""
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("BUDGETS_ROLE_ARN", raising=False)
    aws_adapter.default_session.cache_clear()
    intake.reset()
    clock.set_source(lambda: RECEIVED)
    try:
        yield
    finally:
        clock.reset()
        intake.reset()
        aws_adapter.default_session.cache_clear()


@dataclass
class IntakeAws:
    """What moto holds for the intake: the bus, its capture queue, the idempotency table."""

    sqs: Any
    queue: str
    events: Any
    dynamodb: Any

    def captured(self) -> list[dict[str, Any]]:
        """Every event the bus delivered to the capture queue (drained)."""
        out: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def forget_deliveries(self) -> None:
        """Empty the idempotency table, so the next delivery of any signal is its first."""
        empty_table(TABLE, REGION)


@contextmanager
def intake_aws() -> Iterator[IntakeAws]:
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="capture-signals",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["tokenfuse.intake"], "detail-type": ["Spend Signal"]}),
        )
        events.put_targets(
            Rule="capture-signals", EventBusName=BUS, Targets=[{"Id": "capture", "Arn": queue_arn}]
        )
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        create_budget(boto3.client("budgets", region_name=REGION), BUDGET_FILTERS)
        yield IntakeAws(sqs=sqs, queue=queue, events=events, dynamodb=dynamodb)


def create_budget(budgets: Any, cost_filters: dict[str, list[str]]) -> None:
    """The budget the Budgets samples name (``genai-bedrock-monthly`` in 111122223333)."""
    budgets.create_budget(
        AccountId="111122223333",
        Budget={
            "BudgetName": "genai-bedrock-monthly",
            "BudgetLimit": {"Amount": "10000", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": cost_filters,
        },
    )


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    """One record of the Lambda SQS event, as the intake queue delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795701931300",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1795701931310",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:444455556666:tokenfuse-intake",
        "awsRegion": REGION,
    }


def batch(items: dict[str, str]) -> dict[str, Any]:
    """A Lambda SQS event: one record per ``message_id: body``."""
    return {"Records": [sqs_record(body, message_id) for message_id, body in items.items()]}


def sns_notification(sample: str) -> dict[str, Any]:
    """A Lambda SNS sample's notification as SNS puts it in an SQS body (raw message delivery
    off: the two URL keys are spelled ``...URL`` there, ``...Url`` in a Lambda SNS event)."""
    sns = dict(json.loads((EVENTS / sample).read_text())["Records"][0]["Sns"])
    sns["SigningCertURL"] = sns.pop("SigningCertUrl")
    sns["UnsubscribeURL"] = sns.pop("UnsubscribeUrl")
    return sns


def sns_body(sample: str) -> str:
    return json.dumps(sns_notification(sample))


def eventbridge_body(sample: str) -> str:
    return (EVENTS / sample).read_text()


def rejections(records: list[logging.LogRecord]) -> dict[str, list[str]]:
    """The ``rejected: ...`` error lines the intake logged, by SQS message id."""
    out: dict[str, list[str]] = {}
    for record in records:
        message = record.getMessage()
        if record.levelname == "ERROR" and message.startswith("rejected: "):
            out.setdefault(str(getattr(record, "message_id", "")), []).append(message)
    return out
