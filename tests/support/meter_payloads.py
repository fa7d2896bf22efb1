"""Bedrock invocation-log records and CloudWatch Logs subscription deliveries, built as AWS sends
them (gzip + base64), for the meter's tests. The sample in ``events/meter-invocation-logs.json`` is
``tests/fixtures/meter/invocation-log-delivery.json`` encoded."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DECODED = ROOT / "tests" / "fixtures" / "meter" / "invocation-log-delivery.json"
SAMPLE_EVENT = ROOT / "events" / "meter-invocation-logs.json"
ACCOUNT = "444455556666"
PROFILE_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/support-agent-runtime/i-0a1b2c3d4e5f67890"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/support-agent-runtime"


def sample_messages() -> list[dict[str, Any]]:
    """The sample delivery's records, as dicts."""
    decoded = json.loads(SAMPLE_DECODED.read_text())
    return [copy.deepcopy(e["message"]) for e in decoded["logEvents"]]


def record(
    at: datetime,
    *,
    input_tokens: int = 1000,
    output_tokens: int = 1000,
    cache_read: int = 0,
    cache_write: int = 0,
    model_id: str = PROFILE_ARN,
    identity: str = ROLE_SESSION,
    request_id: str | None = None,
    text: bool = False,
) -> dict[str, Any]:
    """One record in AWS's format (bodies only with ``text``)."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    model_input: dict[str, Any] = {"inputContentType": "application/json"}
    model_output: dict[str, Any] = {"outputContentType": "application/json"}
    if text:
        model_input["inputBodyJson"] = {
            "messages": [{"role": "user", "content": [{"text": "PROMPT-TEXT-MUST-NOT-LEAK"}]}]
        }
        model_output["outputBodyJson"] = {
            "output": {"message": {"content": [{"text": "COMPLETION-TEXT-MUST-NOT-LEAK"}]}}
        }
    model_input |= {
        "inputTokenCount": input_tokens,
        "cacheReadInputTokenCount": cache_read,
        "cacheWriteInputTokenCount": cache_write,
    }
    model_output["outputTokenCount"] = output_tokens
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": stamp,
        "accountId": ACCOUNT,
        "identity": {"arn": identity},
        "region": "us-east-1",
        "requestId": request_id or f"req-{int(at.timestamp() * 1000)}-{input_tokens}-{output_tokens}",
        "operation": "Converse",
        "modelId": model_id,
        "input": model_input,
        "output": model_output,
        "inferenceRegion": "us-east-1",
    }


def decoded_delivery(messages: list[dict[str, Any] | str], *, owner: str = ACCOUNT) -> dict[str, Any]:
    events = []
    for index, message in enumerate(messages):
        text = message if isinstance(message, str) else json.dumps(message)
        stamp = 0
        if isinstance(message, dict) and isinstance(message.get("timestamp"), str):
            try:
                stamp = int(
                    datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00")).timestamp() * 1000
                )
            except ValueError:
                stamp = 0
        events.append({"id": f"{index:056d}", "timestamp": stamp, "message": text})
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": "/aws/bedrock/modelinvocations",
        "logStream": "aws/bedrock/modelinvocations",
        "subscriptionFilters": ["tokenfuse-meter"],
        "logEvents": events,
    }


def encode(decoded: dict[str, Any] | bytes) -> dict[str, Any]:
    raw = decoded if isinstance(decoded, bytes) else json.dumps(decoded, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")}}


def delivery(messages: list[dict[str, Any] | str], *, owner: str = ACCOUNT) -> dict[str, Any]:
    """A subscription delivery to Lambda: ``{"awslogs": {"data": base64(gzip(json))}}``."""
    return encode(decoded_delivery(messages, owner=owner))
