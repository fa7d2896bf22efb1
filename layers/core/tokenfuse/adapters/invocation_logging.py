"""Bedrock's model invocation logging configuration and the CloudWatch Logs calls around it (the
log group, its subscription filters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call, client
from tokenfuse.errors import AwsError, NotFound

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_logs import CloudWatchLogsClient


class InvocationLogging:
    def __init__(
        self, bedrock_client: BedrockClient | None = None, logs_client: CloudWatchLogsClient | None = None
    ) -> None:
        self._bedrock = bedrock_client
        self._logs = logs_client

    @property
    def bedrock(self) -> BedrockClient:
        if self._bedrock is None:
            self._bedrock = client("bedrock")
        return self._bedrock

    @property
    def logs(self) -> CloudWatchLogsClient:
        if self._logs is None:
            self._logs = client("logs")
        return self._logs

    def configuration(self) -> dict[str, Any] | None:
        """The account and region's logging configuration (None: logging is off)."""
        with aws_call("bedrock:GetModelInvocationLoggingConfiguration"):
            config = self.bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
        return dict(config) if config else None

    def turn_on(self, log_group: str, role_arn: str) -> None:
        """Logging to CloudWatch Logs only, without text, image or embedding data (call only where
        logging is off: the configuration is replaced whole)."""
        with aws_call("bedrock:PutModelInvocationLoggingConfiguration", resource=log_group):
            self.bedrock.put_model_invocation_logging_configuration(
                loggingConfig={
                    "cloudWatchConfig": {"logGroupName": log_group, "roleArn": role_arn},
                    "textDataDeliveryEnabled": False,
                    "imageDataDeliveryEnabled": False,
                    "embeddingDataDeliveryEnabled": False,
                    "videoDataDeliveryEnabled": False,
                }
            )

    def turn_off(self) -> None:
        with aws_call("bedrock:DeleteModelInvocationLoggingConfiguration"):
            self.bedrock.delete_model_invocation_logging_configuration()

    def create_group(self, log_group: str, retention_days: int) -> None:
        """The log group (kept if it exists) with a retention."""
        try:
            with aws_call("logs:CreateLogGroup", resource=log_group):
                self.logs.create_log_group(logGroupName=log_group)
        except AwsError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise
        with aws_call("logs:PutRetentionPolicy", resource=log_group):
            self.logs.put_retention_policy(logGroupName=log_group, retentionInDays=retention_days)

    def filters(self, log_group: str) -> list[dict[str, Any]]:
        """The group's subscription filters (a group holds at most two)."""
        pages = self.logs.get_paginator("describe_subscription_filters").paginate(logGroupName=log_group)
        with aws_call("logs:DescribeSubscriptionFilters", resource=log_group):
            return [dict(f) for page in pages for f in page.get("subscriptionFilters", [])]

    def subscribe(self, log_group: str, filter_name: str, pattern: str, destination_arn: str) -> None:
        with aws_call("logs:PutSubscriptionFilter", resource=log_group):
            self.logs.put_subscription_filter(
                logGroupName=log_group,
                filterName=filter_name,
                filterPattern=pattern,
                destinationArn=destination_arn,
            )

    def unsubscribe(self, log_group: str, filter_name: str) -> None:
        try:
            with aws_call("logs:DeleteSubscriptionFilter", resource=log_group):
                self.logs.delete_subscription_filter(logGroupName=log_group, filterName=filter_name)
        except NotFound:  # ResourceNotFoundException: already gone
            return


__all__ = ["InvocationLogging"]
