"""Bedrock model invocation logs in moto's CloudWatch Logs (AWS's record format), and subscription
delivery on the simulated clock: every 5 simulated seconds, batched, gzip + base64 as AWS sends
it, decoded by Powertools' own CloudWatch Logs model and by a Lambda function run in the sandbox."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel
from botocore.exceptions import ClientError

from tests.support.adversarial import HOSTILE_STRINGS
from tokenfuse_sandbox import Sandbox
from tokenfuse_sandbox.emulation import bedrock_runtime, invocation_logs
from tokenfuse_sandbox.emulation.clock import SimulatedClock
from tokenfuse_sandbox.emulation.invocation_logs import LOG_DELIVERY_SECONDS, LOG_STREAM, SubscriptionDelivery
from tokenfuse_sandbox.emulation.log_filter_patterns import UnsupportedFilterPattern, compile_pattern
from tokenfuse_sandbox.runtime import FunctionSpec

REGION = "us-east-1"
ACCOUNT = "123456789012"
START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # on the 5-second delivery grid
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
GROUP = "/aws/bedrock/modelinvocations"
MESSAGES = [{"role": "user", "content": [{"text": "where is my order"}]}]


class Account:
    """One account: a caller role, an application profile, the invocation log group."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.iam = boto3.client("iam", region_name=REGION)
        self.iam.create_role(RoleName="chat-app", AssumeRolePolicyDocument="{}")
        creds = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/chat-app", RoleSessionName="worker-1"
        )["Credentials"]
        self.caller = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )
        self.runtime = self.caller.client("bedrock-runtime")
        self.bedrock = boto3.client("bedrock", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        self.profile_arn = self.profile("support-chat")
        self.logs.create_log_group(logGroupName=GROUP)

    def profile(self, name: str) -> str:
        source = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"
        return str(
            self.bedrock.create_inference_profile(
                inferenceProfileName=name, modelSource={"copyFrom": source}
            )["inferenceProfileArn"]
        )

    def enable_logging(self, *, text: bool = True, group: str = GROUP) -> None:
        self.bedrock.put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {
                    "logGroupName": group,
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock-logs",
                },
                "textDataDeliveryEnabled": text,
                "imageDataDeliveryEnabled": False,
                "embeddingDataDeliveryEnabled": False,
            }
        )

    def records(self) -> list[dict]:
        try:
            events = self.logs.get_log_events(logGroupName=GROUP, logStreamName=LOG_STREAM)["events"]
        except ClientError:
            return []
        return [json.loads(e["message"]) | {"@timestamp": e["timestamp"]} for e in events]

    def function(self, name: str = "meter") -> str:
        role = self.iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return None\n")
        return str(
            boto3.client("lambda", region_name=REGION).create_function(
                FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]
        )  # fmt: skip


@pytest.fixture
def account(monkeypatch):
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with bedrock_runtime.emulated(SimulatedClock(START), {"lambda": {"use_docker": False}}) as clock:
        assert clock is not None
        yield Account(clock)


@pytest.fixture
def delivered(account):
    """Subscription deliveries made on the account's clock: (function ARN, event) pairs."""
    got: list[tuple[str, dict]] = []
    delivery = SubscriptionDelivery(invoke=lambda arn, event: got.append((arn, event)))
    detach = delivery.attach(account.clock)
    yield got
    detach()


def _decoded(event: dict):
    """The event as AWS's shape, through Powertools' CloudWatch Logs parser model."""
    return parse(event=event, model=CloudWatchLogsModel).awslogs.decoded_data


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


def test_the_logging_configuration_round_trips_through_boto3(account):
    account.enable_logging()
    got = account.bedrock.get_model_invocation_logging_configuration()["loggingConfig"]
    assert got["cloudWatchConfig"]["logGroupName"] == GROUP
    assert got["textDataDeliveryEnabled"] is True
    account.bedrock.delete_model_invocation_logging_configuration()
    assert not account.bedrock.get_model_invocation_logging_configuration().get("loggingConfig")


def test_a_converse_record_is_in_aws_format_with_text_delivery(account):
    # Given logging with text delivery, at 14:00:03 simulated
    account.enable_logging(text=True)
    account.clock.advance(3)
    response = account.runtime.converse(
        modelId=account.profile_arn,
        messages=MESSAGES,
        inferenceConfig={"maxTokens": 10},
        requestMetadata={"team": "support", "feature": "chat"},
    )
    (record,) = account.records()
    assert record == {
        "@timestamp": int((START + timedelta(seconds=3)).timestamp() * 1000),
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2026-11-25T14:00:03Z",
        "accountId": ACCOUNT,
        "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/chat-app/worker-1"},
        "region": REGION,
        "requestId": response["ResponseMetadata"]["RequestId"],
        "operation": "Converse",
        "modelId": account.profile_arn,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "messages": MESSAGES,
                "inferenceConfig": {"maxTokens": 10},
                "additionalModelRequestFields": {},
            },
            "inputTokenCount": 4,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": response["output"],
                "stopReason": "max_tokens",
                "usage": response["usage"],
                "metrics": response["metrics"],
            },
            "outputTokenCount": 10,
        },
        "inferenceRegion": REGION,
        "requestMetadata": {"team": "support", "feature": "chat"},
    }


def test_without_text_delivery_only_ids_counts_and_the_caller_are_logged(account):
    account.enable_logging(text=False)
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    (record,) = account.records()
    assert record["input"] == {
        "inputContentType": "application/json",
        "inputTokenCount": 4,
        "cacheReadInputTokenCount": 0,
        "cacheWriteInputTokenCount": 0,
    }
    assert record["output"] == {"outputContentType": "application/json", "outputTokenCount": 64}
    assert "where is my order" not in json.dumps(record)
    assert "requestMetadata" not in record


def test_an_invoke_stream_record_carries_the_chunks_and_the_header_metadata(account):
    account.enable_logging(text=True)
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 3,
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = account.runtime.invoke_model_with_response_stream(
        modelId=account.profile_arn, body=json.dumps(body), requestMetadata=json.dumps({"tenant": "acme"})
    )
    streamed = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    (record,) = account.records()
    assert record["operation"] == "InvokeModelWithResponseStream"
    assert record["input"]["inputBodyJson"] == body
    assert record["output"]["outputBodyJson"] == streamed
    assert (record["input"]["inputTokenCount"], record["output"]["outputTokenCount"]) == (1, 3)
    assert record["requestMetadata"] == {"tenant": "acme"}


def test_invoke_model_request_metadata_that_is_not_a_json_object_is_refused(account):
    account.enable_logging()
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 3,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with pytest.raises(ClientError) as error:
        account.runtime.invoke_model(modelId=HAIKU, body=json.dumps(body), requestMetadata="[1]")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert account.records() == []


@pytest.mark.parametrize(
    ("model_id", "logged"),
    [
        (
            "us.amazon.nova-pro-v1:0",
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.amazon.nova-pro-v1:0",
        ),
        (HAIKU, HAIKU),
        (
            f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}",
            f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}",
        ),
    ],
    ids=["system-profile", "model-id", "model-arn"],
)
def test_the_record_names_a_profile_by_its_arn_and_a_model_as_called(account, model_id, logged):
    account.enable_logging(text=False)
    account.runtime.converse(modelId=model_id, messages=MESSAGES)
    (record,) = account.records()
    assert record["modelId"] == logged


def test_logging_off_writes_nothing(account):
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    assert account.records() == []
    assert invocation_logs.undelivered == []


def test_a_missing_log_group_is_reported_and_the_call_still_succeeds(account):
    account.enable_logging(group="/nowhere")
    response = account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    assert response["usage"]["inputTokens"] == 4
    assert invocation_logs.undelivered == [
        f"{ACCOUNT} {REGION}: invocation log group /nowhere does not exist"
    ]


def test_an_s3_only_configuration_writes_no_cloudwatch_record(account):
    account.bedrock.put_model_invocation_logging_configuration(
        loggingConfig={
            "s3Config": {"bucketName": "logs", "keyPrefix": "bedrock"},
            "textDataDeliveryEnabled": True,
        }
    )
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    assert account.records() == []
    assert invocation_logs.undelivered == [
        f"{ACCOUNT} {REGION}: invocation logging has no cloudWatchConfig (S3 delivery is not emulated)"
    ]


def test_denied_and_refused_calls_write_no_record(account):
    account.enable_logging()
    account.iam.put_role_policy(
        RoleName="chat-app",
        PolicyName="deny",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": account.profile_arn}],
            }
        ),
    )
    with pytest.raises(ClientError):
        account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    with pytest.raises(ClientError):
        account.runtime.converse(modelId="anthropic.unknown-v1:0", messages=MESSAGES)
    assert account.records() == []


# --------------------------------------------------------------------------------------------------
# Subscription delivery on the simulated clock
# --------------------------------------------------------------------------------------------------


def test_events_are_delivered_every_five_simulated_seconds_batched_in_aws_shape(account, delivered):
    # Given a subscription filter to a Lambda function on the log group, and three calls at 14:00:00
    account.enable_logging(text=False)
    function = account.function()
    account.logs.put_subscription_filter(
        logGroupName=GROUP, filterName="tokenfuse-meter", filterPattern="", destinationArn=function
    )
    responses = [account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES) for _ in range(3)]
    # When the clock moves: nothing before the named latency, one batch at it
    account.clock.advance(LOG_DELIVERY_SECONDS - 0.001)
    assert delivered == []
    account.clock.advance(0.001)
    assert len(delivered) == 1
    arn, event = delivered[0]
    assert arn == function
    assert set(event) == {"awslogs"}
    assert set(event["awslogs"]) == {"data"}
    data = _decoded(event)
    assert data.messageType == "DATA_MESSAGE"
    assert data.owner == ACCOUNT
    assert data.logGroup == GROUP
    assert data.logStream == LOG_STREAM
    assert data.subscriptionFilters == ["tokenfuse-meter"]
    assert [json.loads(e.message)["requestId"] for e in data.logEvents] == [
        r["ResponseMetadata"]["RequestId"] for r in responses
    ]
    assert {e.timestamp for e in data.logEvents} == {START}
    assert all(len(e.id) == 56 and e.id.isdigit() for e in data.logEvents)
    assert len({e.id for e in data.logEvents}) == 3
    # and nothing is delivered twice
    account.clock.advance(60)
    assert len(delivered) == 1


def test_an_event_between_ticks_waits_for_the_next_tick(account, delivered):
    account.enable_logging(text=False)
    account.logs.put_subscription_filter(
        logGroupName=GROUP, filterName="meter", filterPattern="", destinationArn=account.function()
    )
    account.clock.advance(7)  # 14:00:07
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    account.clock.advance(2.999)
    assert delivered == []
    account.clock.advance(0.001)  # 14:00:10
    assert len(delivered) == 1
    assert account.clock.now() == START + timedelta(seconds=10)


def test_a_json_filter_pattern_is_honoured_per_filter(account, delivered):
    # Given two filters (a log group allows two): one for this profile's records, one for everything
    account.enable_logging(text=False)
    other = account.profile("search-answers")
    function = account.function()
    account.logs.put_subscription_filter(
        logGroupName=GROUP,
        filterName="support-only",
        filterPattern=f'{{ $.modelId = "{account.profile_arn}" }}',
        destinationArn=function,
    )
    account.logs.put_subscription_filter(
        logGroupName=GROUP, filterName="all", filterPattern="", destinationArn=function
    )
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    account.runtime.converse(modelId=other, messages=MESSAGES)
    account.runtime.converse(modelId=HAIKU, messages=MESSAGES)
    account.clock.advance(LOG_DELIVERY_SECONDS)
    by_filter = {d.subscriptionFilters[0]: d for d in (_decoded(event) for _, event in delivered)}
    assert sorted(by_filter) == ["all", "support-only"]
    assert [json.loads(e.message)["modelId"] for e in by_filter["support-only"].logEvents] == [
        account.profile_arn
    ]
    assert [json.loads(e.message)["modelId"] for e in by_filter["all"].logEvents] == [
        account.profile_arn,
        other,
        HAIKU,
    ]


def test_a_large_batch_is_split_under_the_lambda_payload_limit(account, delivered, monkeypatch):
    # Given a limit that one record fits and two do not
    account.enable_logging(text=False)
    account.logs.put_subscription_filter(
        logGroupName=GROUP, filterName="meter", filterPattern="", destinationArn=account.function()
    )
    for _ in range(3):
        account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    size = len(json.dumps(account.records()[0] | {"@timestamp": None}))
    monkeypatch.setattr(invocation_logs, "MAX_BATCH_BYTES", size + 40)
    account.clock.advance(LOG_DELIVERY_SECONDS)
    assert [len(_decoded(event).logEvents) for _, event in delivered] == [1, 1, 1]


def test_a_log_group_destination_gets_moto_s_own_delivery_on_the_tick(account):
    # Given a subscription whose destination is another log group (not a Lambda function)
    account.enable_logging(text=False)
    account.logs.create_log_group(logGroupName="/copies")
    account.logs.create_log_stream(logGroupName="/copies", logStreamName=LOG_STREAM)
    account.logs.put_subscription_filter(
        logGroupName=GROUP,
        filterName="copy",
        filterPattern="ModelInvocationLog",
        destinationArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/copies:*",
    )
    detach = SubscriptionDelivery(invoke=lambda arn, event: None).attach(account.clock)
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)

    def copies() -> list[str]:
        return [
            e["message"]
            for e in account.logs.get_log_events(logGroupName="/copies", logStreamName=LOG_STREAM)["events"]
        ]

    assert copies() == []
    account.clock.advance(LOG_DELIVERY_SECONDS)
    detach()
    assert [json.loads(m)["modelId"] for m in copies()] == [account.profile_arn]


def test_put_subscription_filter_refuses_a_pattern_the_emulation_cannot_match(account):
    with pytest.raises(ClientError) as error:
        account.logs.put_subscription_filter(
            logGroupName=GROUP,
            filterName="f",
            filterPattern="?ERROR ?WARN",
            destinationArn=account.function(),
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert (
        "only plain and quoted terms, and JSON patterns, are emulated"
        in error.value.response["Error"]["Message"]
    )


def test_a_failing_destination_is_reported_not_raised(account):
    account.enable_logging(text=False)
    function = account.function()
    account.logs.put_subscription_filter(
        logGroupName=GROUP, filterName="meter", filterPattern="", destinationArn=function
    )

    def broken(arn: str, event: dict) -> None:
        raise RuntimeError("function is gone")

    detach = SubscriptionDelivery(invoke=broken).attach(account.clock)
    account.runtime.converse(modelId=account.profile_arn, messages=MESSAGES)
    account.clock.advance(LOG_DELIVERY_SECONDS)
    detach()
    assert invocation_logs.undelivered == [f"subscription meter -> {function}: function is gone"]


# --------------------------------------------------------------------------------------------------
# Filter patterns
# --------------------------------------------------------------------------------------------------

RECORD = json.dumps(
    {
        "schemaType": "ModelInvocationLog",
        "modelId": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456",
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/chat-app/worker-1"},
        "input": {"inputTokenCount": 1200, "cacheReadInputTokenCount": 0},
        "output": {"outputTokenCount": 64},
        "requestMetadata": None,
        "tags": ["a", "b"],
        "streamed": True,
    }
)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("", True),
        ("   ", True),
        ("ModelInvocationLog", True),
        ('"assumed-role/chat-app"', True),
        ("ModelInvocationLog nothing-like-this", False),
        ('{ $.schemaType = "ModelInvocationLog" }', True),
        ("{ $.schemaType = ModelInvocationLog }", True),
        ('{ $.modelId = "arn:aws:bedrock:*:application-inference-profile/*" }', True),
        ('{ $.modelId = "arn:aws:bedrock:*:foundation-model/*" }', False),
        ('{ $.modelId != "arn:aws:bedrock:*:foundation-model/*" }', True),
        ('{ $.identity.arn = "*:assumed-role/chat-app/*" }', True),
        ("{ $.input.inputTokenCount > 1000 }", True),
        ("{ $.input.inputTokenCount >= 1201 }", False),
        ("{ $.output.outputTokenCount = 64 }", True),
        ("{ $.output.outputTokenCount != 64 }", False),
        ("{ $.input.inputTokenCount > 1000 && $.output.outputTokenCount < 10 }", False),
        ("{ $.input.inputTokenCount > 1000 || $.output.outputTokenCount < 10 }", True),
        ('{ ($.output.outputTokenCount < 10 || $.streamed IS TRUE) && $.tags[1] = "b" }', True),
        ("{ $.requestMetadata IS NULL }", True),
        ("{ $.streamed IS FALSE }", False),
        ("{ $.errorCode NOT EXISTS }", True),
        ("{ $.modelId NOT EXISTS }", False),
        ('{ $.missing.deeper = "x" }', False),
        ('{ $.missing != "x" }', False),
        ("{ $.input.inputTokenCount = 1200.0 }", True),
        ('{ $.input.inputTokenCount = "1200" }', False),
    ],
)
def test_filter_patterns_match_as_cloudwatch_logs_does(pattern, matches):
    assert compile_pattern(pattern)(RECORD) is matches


def test_a_json_pattern_never_matches_a_message_that_is_not_a_json_object():
    matcher = compile_pattern('{ $.a = "b" }')
    assert matcher("plain text") is False
    assert matcher('["a", "b"]') is False
    assert matcher('{"a": "b"}') is True


@pytest.mark.parametrize(
    "pattern",
    [
        "?ERROR ?WARN",
        "-DEBUG",
        "[ip, user, ...]",
        "%ERR[0-9]+%",
        "{ $.a = ",
        "{ $.a = 1",
        '{ $.a > "text" }',
        "{ $.a IS MAYBE }",
        "{ a = 1 }",
        "{ ($.a = 1 }",
        "{ $.a = 1 }}",
        '{ $.a = "\\q" }',
    ],
)
def test_patterns_outside_the_emulation_are_refused(pattern):
    with pytest.raises(UnsupportedFilterPattern):
        compile_pattern(pattern)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_patterns_compile_or_are_refused_in_one_line(text):
    for pattern in (text, f"{{ $.a = {json.dumps(text)} }}"):
        try:
            matcher = compile_pattern(pattern)
        except UnsupportedFilterPattern as error:
            assert "\n" not in str(error).replace(repr(text)[1:-1], "")
        else:
            assert matcher(RECORD) in (True, False)


# --------------------------------------------------------------------------------------------------
# In the sandbox: delivered to a Lambda function the sandbox runs, on the sandbox's clock
# --------------------------------------------------------------------------------------------------

READER = """
import json
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel


def handler(event, context):
    data = parse(event=event, model=CloudWatchLogsModel).awslogs.decoded_data
    return {
        "filters": data.subscriptionFilters,
        "group": data.logGroup,
        "records": [json.loads(e.message) for e in data.logEvents],
    }
"""


def test_in_the_sandbox_a_lambda_function_decodes_what_the_subscription_delivers(tmp_path: Path):
    (tmp_path / "reader.py").write_text(READER)
    with Sandbox(load_handlers=False, function_urls=False, clock_start=START) as sb:
        # Given a Lambda function of the sandbox (code in tmp_path) subscribed to the log group
        iam, logs, bedrock = sb.clients["iam"], sb.clients["logs"], sb.clients["bedrock"]
        role = iam.create_role(RoleName="reader-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("reader.py", READER)
        arn = sb.clients["lambda"].create_function(
            FunctionName="log-reader", Runtime="python3.13", Role=role, Handler="reader.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]  # fmt: skip
        sb.runtime.register(FunctionSpec("LogReader", "log-reader", arn, tmp_path, "reader.handler", {}))
        logs.create_log_group(logGroupName=GROUP)
        bedrock.put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {"logGroupName": GROUP, "roleArn": role},
                "textDataDeliveryEnabled": False,
            }
        )
        logs.put_subscription_filter(
            logGroupName=GROUP, filterName="meter", filterPattern="", destinationArn=arn
        )
        profile = bedrock.create_inference_profile(
            inferenceProfileName="chat",
            modelSource={"copyFrom": f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"},
        )["inferenceProfileArn"]
        runtime = boto3.client("bedrock-runtime", region_name=REGION)
        # When a call is made and the sandbox's clock passes the next tick
        runtime.converse(modelId=profile, messages=MESSAGES, inferenceConfig={"maxTokens": 7})
        sb.drain()
        assert not [i for i in sb.invocations if i.function == "LogReader"]
        sb.clock.advance(LOG_DELIVERY_SECONDS)
        sb.drain()
        # Then the function got one asynchronous delivery it decoded into the record
        (invocation,) = [i for i in sb.invocations if i.function == "LogReader"]
        assert invocation.ok, invocation.error
        assert invocation.trigger == "lambda:Invoke(Event)"
        assert invocation.result["filters"] == ["meter"]
        assert invocation.result["group"] == GROUP
        (record,) = invocation.result["records"]
        assert record["modelId"] == profile
        assert record["accountId"] == sb.account_id
        assert (record["input"]["inputTokenCount"], record["output"]["outputTokenCount"]) == (4, 7)
        assert record["timestamp"] == "2026-11-25T14:00:00Z"
