"""A dead-letter queue a function writes to itself: what it could not finish, redacted to what
may be kept, with the reason (the meter's counters that did not take a batch)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call, client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BODY_BYTES = 256 * 1024
"""SQS's message size limit: a larger body is split by the caller."""


class DeadLetterQueue:
    def __init__(self, queue_url: str, sqs_client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = sqs_client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            self._client = client("sqs")
        return self._client

    def send(self, body: dict[str, Any]) -> None:
        with aws_call("sqs:SendMessage", resource=self.queue_url):
            self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=json.dumps(body, separators=(",", ":"))
            )


__all__ = ["MAX_BODY_BYTES", "DeadLetterQueue"]
