"""The invocation-logging custom resource under moto (Bedrock's logging configuration, CloudWatch
Logs): an S3-only configuration and a log group whose two filter slots are taken are left
untouched and reported; logging that is off is turned on only when opted in; CloudFormation gets
one answer, through remediation's respond()."""

import io
import zipfile
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tokenfuse.adapters.invocation_logging import InvocationLogging
from tokenfuse.meter.logging_setup import handle

GROUP = "/aws/bedrock/modelinvocations"
METER = "arn:aws:lambda:us-east-1:123456789012:function:tokenfuse-meter"
ROLE = "arn:aws:iam::123456789012:role/tokenfuse-invocation-logging"
S3_ONLY = {
    "s3Config": {"bucketName": "acme-bedrock-logs", "keyPrefix": "invocations/"},
    "textDataDeliveryEnabled": True,
}


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        _destinations()
        yield boto3.client("bedrock", region_name="us-east-1"), boto3.client("logs", region_name="us-east-1")


def _destinations() -> None:
    """The functions the filters name (CloudWatch Logs refuses a filter to a function that is not there)."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", region_name="us-east-1")
    for name in ("tokenfuse-meter", "siem", "cost-sample"):
        lam.create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler="app.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )  # fmt: skip


def request(kind: str = "Create", enable: str = "true", **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tokenfuse-invocation-logging",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tokenfuse/0f0e",
        "RequestId": "5d2e7c1a-9f3b-4b8e-8a55-1c2d3e4f5a6b",
        "LogicalResourceId": "InvocationLogMeterSetup",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:tokenfuse-invocation-logging",
            "LogGroupName": GROUP,
            "EnableLogging": enable,
            "LoggingRoleArn": ROLE,
            "MeterFunctionArn": METER,
            "FilterName": "tokenfuse-meter",
        },
        **extra,
    }


def answer(event: dict[str, Any], bedrock: Any, logs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    body = handle(event, InvocationLogging(bedrock, logs), send=lambda url, b: sent.append(b))
    return body, sent


def test_an_s3_only_configuration_is_left_untouched_and_reported(aws):
    bedrock, logs = aws
    bedrock.put_model_invocation_logging_configuration(loggingConfig=S3_ONLY)

    body, sent = answer(request(), bedrock, logs)

    assert sent == [body] and body["Status"] == "SUCCESS"  # the stack deploys; the reason says why
    assert body["Data"] == {"LogGroupName": "", "Logging": "s3-only", "Subscribed": "false"}
    assert "S3 only" in body["Reason"] and "left untouched" in body["Reason"]
    assert bedrock.get_model_invocation_logging_configuration()["loggingConfig"] == S3_ONLY
    assert logs.describe_log_groups()["logGroups"] == []  # nothing created either


def test_two_filters_of_someone_else_are_never_replaced(aws):
    bedrock, logs = aws
    logs.create_log_group(logGroupName=GROUP)
    config = {"cloudWatchConfig": {"logGroupName": GROUP, "roleArn": ROLE}, "textDataDeliveryEnabled": False}
    bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
    theirs = {"siem-forwarder": "arn:aws:lambda:us-east-1:123456789012:function:siem",
              "cost-sample": "arn:aws:lambda:us-east-1:123456789012:function:cost-sample"}  # fmt: skip
    for name, destination in theirs.items():
        logs.put_subscription_filter(
            logGroupName=GROUP, filterName=name, filterPattern="", destinationArn=destination
        )

    body, _ = answer(request(), bedrock, logs)

    assert body["Status"] == "SUCCESS"
    assert body["Data"] == {"LogGroupName": GROUP, "Logging": "found", "Subscribed": "false"}
    assert "siem-forwarder" in body["Reason"] and "cost-sample" in body["Reason"]
    assert "none replaced" in body["Reason"]
    filters = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert {f["filterName"]: f["destinationArn"] for f in filters} == theirs
    assert bedrock.get_model_invocation_logging_configuration()["loggingConfig"] == config


def test_logging_off_is_turned_on_only_when_opted_in(aws):
    bedrock, logs = aws

    off, _ = answer(request(enable="false"), bedrock, logs)
    assert off["Data"]["Logging"] == "off" and "EnableInvocationLogging=true" in off["Reason"]
    assert not bedrock.get_model_invocation_logging_configuration().get("loggingConfig")

    on, _ = answer(request(enable="true"), bedrock, logs)
    assert on["Data"] == {"LogGroupName": GROUP, "Logging": "turned-on", "Subscribed": "true"}
    assert on["PhysicalResourceId"] == "tokenfuse-invocation-logging|turned-on"
    config = bedrock.get_model_invocation_logging_configuration()["loggingConfig"]
    assert config["cloudWatchConfig"]["logGroupName"] == GROUP and config["textDataDeliveryEnabled"] is False
    [meter] = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert meter["filterName"] == "tokenfuse-meter" and meter["destinationArn"] == METER


def test_properties_that_do_not_parse_answer_failed_in_one_line(aws):
    bedrock, logs = aws
    event = request()
    del event["ResourceProperties"]["MeterFunctionArn"]

    body, sent = answer(event, bedrock, logs)

    assert sent == [body] and body["Status"] == "FAILED"
    assert "MeterFunctionArn" in body["Reason"] and "\n" not in body["Reason"]
    assert body["PhysicalResourceId"] == "tokenfuse-invocation-logging"
    assert not bedrock.get_model_invocation_logging_configuration().get("loggingConfig")
