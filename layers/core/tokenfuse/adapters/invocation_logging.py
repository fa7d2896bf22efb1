"""Bedrock's model invocation logging configuration and the CloudWatch Logs calls around it (the
log group, its subscription filters)."""

from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import AWS_ERRORS, client, translate


class InvocationLogging:
    def __init__(self, bedrock_client: Any | None = None, logs_client: Any | None = None) -> None:
        self._bedrock = bedrock_client
        self._logs = logs_client

    @property
    def bedrock(self) -> Any:
        if self._bedrock is None:
            self._bedrock = client("bedrock")
        return self._bedrock

    @property
    def logs(self) -> Any:
        if self._logs is None:
            self._logs = client("logs")
        return self._logs

    def configuration(self) -> dict[str, Any] | None:
        """The account and region's logging configuration (None: logging is off)."""
        try:
            config = self.bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
        except AWS_ERRORS as error:
            raise translate(error) from error
        return dict(config) if config else None

    def turn_on(self, log_group: str, role_arn: str) -> None:
        """Logging to CloudWatch Logs only, without text, image or embedding data (call only where
        logging is off: the configuration is replaced whole)."""
        try:
            self.bedrock.put_model_invocation_logging_configuration(
                loggingConfig={
                    "cloudWatchConfig": {"logGroupName": log_group, "roleArn": role_arn},
                    "textDataDeliveryEnabled": False,
                    "imageDataDeliveryEnabled": False,
                    "embeddingDataDeliveryEnabled": False,
                    "videoDataDeliveryEnabled": False,
                }
            )
        except AWS_ERRORS as error:
            raise translate(error) from error

    def turn_off(self) -> None:
        try:
            self.bedrock.delete_model_invocation_logging_configuration()
        except AWS_ERRORS as error:
            raise translate(error) from error

    def create_group(self, log_group: str, retention_days: int) -> None:
        """The log group (kept if it exists) with a retention."""
        try:
            self.logs.create_log_group(logGroupName=log_group)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                raise translate(error) from error
        except AWS_ERRORS as error:
            raise translate(error) from error
        try:
            self.logs.put_retention_policy(logGroupName=log_group, retentionInDays=retention_days)
        except AWS_ERRORS as error:
            raise translate(error) from error

    def filters(self, log_group: str) -> list[dict[str, Any]]:
        """The group's subscription filters (a group holds at most two)."""
        try:
            pages = self.logs.get_paginator("describe_subscription_filters").paginate(logGroupName=log_group)
            return [dict(f) for page in pages for f in page.get("subscriptionFilters", [])]
        except AWS_ERRORS as error:
            raise translate(error) from error

    def subscribe(self, log_group: str, filter_name: str, pattern: str, destination_arn: str) -> None:
        try:
            self.logs.put_subscription_filter(
                logGroupName=log_group,
                filterName=filter_name,
                filterPattern=pattern,
                destinationArn=destination_arn,
            )
        except AWS_ERRORS as error:
            raise translate(error) from error

    def unsubscribe(self, log_group: str, filter_name: str) -> None:
        try:
            self.logs.delete_subscription_filter(logGroupName=log_group, filterName=filter_name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise translate(error) from error
        except AWS_ERRORS as error:
            raise translate(error) from error


__all__ = ["InvocationLogging"]
