"""A real boto3 client whose requests get canned HTTP answers, parsed by botocore itself: the
error codes, headers and request ids reach the code under test as AWS's would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def answering(service: str, answers: list[tuple[int, dict[str, str], dict[str, Any] | bytes]]) -> Any:
    """A real boto3 client (one attempt) whose requests get ``answers`` in turn as HTTP responses,
    parsed by botocore; ``client.sent`` keeps each request's body."""
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    once = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    real = session.client(service, config=once)  # type: ignore[call-overload]  # any service named
    sent: list[dict[str, Any]] = []
    queue = list(answers)

    def hook(request: Any, **_: Any) -> AWSResponse:
        sent.append({"url": request.url, "body": request.body})
        status, headers, body = queue.pop(0)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Raw(raw))

    real.meta.events.register(f"before-send.{service}", hook)
    real.sent = sent
    return real
