"""The sandbox's boto3 clients, one per service it provisions or reads, typed by boto3-stubs."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import boto3

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

# The functional form: "lambda" is a keyword, so it cannot be a field of a class body.
SandboxClients = TypedDict(
    "SandboxClients",
    {
        "sqs": "SQSClient",
        "sns": "SNSClient",
        "events": "EventBridgeClient",
        "iam": "IAMClient",
        "logs": "CloudWatchLogsClient",
        "dynamodb": "DynamoDBClient",
        "ssm": "SSMClient",
        "secretsmanager": "SecretsManagerClient",
        "cloudwatch": "CloudWatchClient",
        "lambda": "LambdaClient",
        "stepfunctions": "SFNClient",
        "bedrock": "BedrockClient",
        "sts": "STSClient",
    },
)
"""``sb.clients["sqs"]`` and so on."""


def sandbox_clients(session: boto3.Session) -> SandboxClients:
    """Every client, created once moto is active (a client made before would reach AWS)."""
    return {
        "sqs": session.client("sqs"),
        "sns": session.client("sns"),
        "events": session.client("events"),
        "iam": session.client("iam"),
        "logs": session.client("logs"),
        "dynamodb": session.client("dynamodb"),
        "ssm": session.client("ssm"),
        "secretsmanager": session.client("secretsmanager"),
        "cloudwatch": session.client("cloudwatch"),
        "lambda": session.client("lambda"),
        "stepfunctions": session.client("stepfunctions"),
        "bedrock": session.client("bedrock"),
        "sts": session.client("sts"),
    }
