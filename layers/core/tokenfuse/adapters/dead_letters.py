"""A dead-letter queue a function writes to itself: what it could not finish, redacted to what
may be kept, with the reason (the meter's counters that did not take a batch)."""

import json
from typing import Any

from tokenfuse.adapters.aws import AWS_ERRORS, client, translate

MAX_BODY_BYTES = 256 * 1024
"""SQS's message size limit: a larger body is split by the caller."""


class DeadLetterQueue:
    def __init__(self, queue_url: str, sqs_client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = sqs_client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client("sqs")
        return self._client

    def send(self, body: dict[str, Any]) -> None:
        try:
            self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=json.dumps(body, separators=(",", ":"))
            )
        except AWS_ERRORS as error:
            raise translate(error) from error


__all__ = ["MAX_BODY_BYTES", "DeadLetterQueue"]
