"""Canaries in one account and region: create, list, delete, one minimal Converse call through
each; their ``AWS/Bedrock`` datapoints; their model invocation log records."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse import clock
from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.bedrock import get_profile, iter_application_profiles, profile_tags
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.canaries import CANARY_NAME_PREFIX, is_drill_profile
from tokenfuse.drill.ports import CallOutcome, Canary
from tokenfuse.drill.report import said
from tokenfuse.errors import AwsError, NotFound, TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_logs import CloudWatchLogsClient

DESCRIPTION = "tokenfuse fire drill canary deleted at the end of the drill"
"""Bedrock's description pattern allows letters, digits and ``:.`` with single ``_ -`` between."""

CONVERSE = "bedrock:InvokeModel"
"""IAM has no ``bedrock:Converse`` action: Converse is authorized, and denied by a trip, as
``bedrock:InvokeModel`` (see :mod:`tokenfuse.adapters.guard_scp`)."""
REFUSED = "AccessDeniedException"
"""What Bedrock answers a call an SCP or an IAM policy denies."""


class _Usage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    inputTokens: int = Field(ge=0)
    outputTokens: int = Field(ge=0)


class _Converse(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    usage: _Usage


def invocation_log_group(bedrock: BedrockClient) -> str | None:
    """The CloudWatch Logs group model invocation logging writes to (None: off, or S3 only)."""
    with aws_call("bedrock:GetModelInvocationLoggingConfiguration"):
        config = bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
    cloudwatch = config.get("cloudWatchConfig") if config else None
    return (cloudwatch.get("logGroupName") if cloudwatch else None) or None


class BedrockCanaries:
    """:class:`~tokenfuse.drill.ports.CanaryPort` with boto3's ``bedrock`` and ``bedrock-runtime``."""

    def __init__(
        self,
        bedrock: BedrockClient,
        runtime: BedrockRuntimeClient,
        account_id: str,
        region: str,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.bedrock = bedrock
        self.runtime = runtime
        self.account_id = account_id
        self.region = region
        self.now = now

    def _canary(self, arn: str, tags: Mapping[str, str]) -> Canary:
        profile = get_profile(self.bedrock, arn)
        models = [m.rsplit("/", 1)[-1] for m in profile.model_arns]
        return Canary(
            arn=profile.arn,
            profile_id=profile.profile_id,
            name=profile.name or profile.profile_id,
            account_id=profile.account_id or self.account_id,
            region=profile.region or self.region,
            model_id=models[0] if models else None,
            created_at=profile.created_at,
            tags=dict(tags),
        )

    def create(self, name: str, model_arn: str, tags: Mapping[str, str]) -> Canary:
        with aws_call("bedrock:CreateInferenceProfile", resource=name):
            arn = self.bedrock.create_inference_profile(
                inferenceProfileName=name,
                description=DESCRIPTION,
                modelSource={"copyFrom": model_arn},
                tags=[{"key": k, "value": v} for k, v in tags.items()],
            )["inferenceProfileArn"]
        return self._canary(arn, tags)

    def canaries(self) -> list[Canary]:
        """Application profiles named like canaries and tagged ``tokenfuse:drill=true`` (only those
        names have their tags read: a canary always has one)."""
        found = []
        for profile in iter_application_profiles(self.bedrock):
            if not (profile.name or "").startswith(CANARY_NAME_PREFIX):
                continue
            tags = profile_tags(self.bedrock, profile.arn)
            if is_drill_profile(profile.name, tags):
                found.append(self._canary(profile.arn, tags))
        return found

    def delete(self, arn: str) -> None:
        try:
            with aws_call("bedrock:DeleteInferenceProfile", resource=arn):
                self.bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
        except NotFound:
            pass  # already gone: what a delete wants

    def exists(self, arn: str) -> bool:
        try:
            get_profile(self.bedrock, arn)
        except NotFound:
            return False
        return True

    def call(self, canary: Canary, prompt: str, max_tokens: int) -> CallOutcome:
        at = self.now()
        try:
            with aws_call(CONVERSE):
                response = self.runtime.converse(
                    modelId=canary.arn,
                    messages=[{"role": "user", "content": [{"text": prompt}]}],
                    inferenceConfig={"maxTokens": max_tokens},
                )
        except AwsError as error:
            return CallOutcome(
                at=at, ok=False, denied=error.code == REFUSED, request_id=error.request_id, error=said(error)
            )
        try:
            usage = _Converse.model_validate(response).usage
        except ValidationError as error:
            raise TokenfuseError(f"Converse answered without usage: {error.errors()[0]['msg']}") from None
        return CallOutcome(
            at=at,
            ok=True,
            input_tokens=usage.inputTokens,
            output_tokens=usage.outputTokens,
            request_id=str(response.get("ResponseMetadata", {}).get("RequestId") or ""),
        )


class BedrockMetrics:
    """``Invocations`` per ``ModelId`` value, one-minute Sums (MetricStat, no metric math)."""

    def __init__(self, cloudwatch: CloudWatchClient) -> None:
        self.reader = MetricReader(cloudwatch)

    def invocations(self, model_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, float]:
        requests = [MetricRequest(str(i), "Invocations", m) for i, m in enumerate(model_ids)]
        series = self.reader.read(requests, start, end, period=60)
        return {m: sum(series[str(i)][1]) for i, m in enumerate(model_ids)}


class InvocationLogs:
    """Model invocation logging's CloudWatch Logs group, and one request's record in it."""

    def __init__(self, bedrock: BedrockClient, logs: CloudWatchLogsClient) -> None:
        self.bedrock = bedrock
        self.logs = logs

    def log_group(self) -> str | None:
        return invocation_log_group(self.bedrock)

    def record(
        self, log_group: str, request_id: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=log_group,
            startTime=int(start.timestamp() * 1000),
            endTime=int(end.timestamp() * 1000),
            filterPattern=f'"{request_id}"',
        )
        with aws_call("logs:FilterLogEvents", resource=log_group):
            for page in pages:
                for event in page.get("events", []):
                    record = _record(event.get("message"))
                    if record is not None and record.get("requestId") == request_id:
                        return record
        return None


def _record(message: Any) -> dict[str, Any] | None:
    try:
        parsed = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
