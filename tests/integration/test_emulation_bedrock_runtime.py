"""The emulated bedrock-runtime, driven through boto3's own clients inside moto: every operation and
model family, the streams parsed by botocore, the denies (SCP after its propagation delay, inline,
tag-conditioned), the AWS/Bedrock metrics and their ModelId, and one call priced by hand."""

import base64
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import botocore.eventstream
import pytest
from botocore.exceptions import ClientError

from tests.support.adversarial import HOSTILE_STRINGS, NOT_UTF8, deeply_nested, mutations
from tokenfuse.adapters.guard_scp import GuardScp, empty_document
from tokenfuse.adapters.iam_deny import InlineDeny, deny_document, policy_name
from tokenfuse.attribution.pricing import price_for
from tokenfuse_sandbox.emulation import bedrock_access, bedrock_runtime
from tokenfuse_sandbox.emulation.clock import SimulatedClock
from tokenfuse_sandbox.emulation.eventstream import encode_message, event_message, exception_message

REGION = "us-east-1"
START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
TITAN = "amazon.titan-text-express-v1"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
US_NOVA = "us.amazon.nova-pro-v1:0"
ANTHROPIC_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 200,
    "system": "You answer support tickets",  # 4 words
    "messages": [{"role": "user", "content": [{"type": "text", "text": "where is my order"}]}],  # 4
}
ANTHROPIC_MUTATIONS = list(mutations(ANTHROPIC_BODY))


def _words(n: int) -> str:
    """The emulated model's first ``n`` answer words (its answer repeats one sentence)."""
    sentence = "this is the emulated model's answer and each word of it is one output token it is charged for"
    words = sentence.split()
    return " ".join(words[i % len(words)] for i in range(n))


class World:
    """A management account with an organization, one member account, a caller role in the member
    (``/apps/chat-app``) and an application profile there on Claude 3.5 Haiku."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.org = boto3.client("organizations", region_name=REGION)
        self.org.create_organization(FeatureSet="ALL")
        status = self.org.create_account(Email="member@example.com", AccountName="member")
        self.member = status["CreateAccountStatus"]["AccountId"]
        self.root = self.org.list_roots()["Roots"][0]["Id"]
        admin = self.session(f"arn:aws:iam::{self.member}:role/OrganizationAccountAccessRole", "admin")
        self.admin = admin
        self.iam = admin.client("iam")
        for role in ("chat-app", "batch-app"):
            self.iam.create_role(RoleName=role, Path="/apps/", AssumeRolePolicyDocument="{}")
        self.caller = self.session(f"arn:aws:iam::{self.member}:role/apps/chat-app", "worker-1", admin)
        self.other = self.session(f"arn:aws:iam::{self.member}:role/apps/batch-app", "worker-2", admin)
        self.runtime = self.caller.client("bedrock-runtime")
        self.bedrock = admin.client("bedrock")
        self.profile_arn = self.profile("support-chat")
        self.profile_id = self.profile_arn.rsplit("/", 1)[1]

    @staticmethod
    def session(role_arn: str, name: str, via: boto3.Session | None = None) -> boto3.Session:
        sts = (via or boto3.Session(region_name=REGION)).client("sts")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )

    def profile(self, name: str, model: str = HAIKU, tags: dict[str, str] | None = None) -> str:
        return str(
            self.bedrock.create_inference_profile(
                inferenceProfileName=name,
                modelSource={"copyFrom": f"arn:aws:bedrock:{REGION}::foundation-model/{model}"},
                tags=[{"key": k, "value": v} for k, v in (tags or {"team": "support"}).items()],
            )["inferenceProfileArn"]
        )

    def scp(self, document: dict, name: str = "tokenfuse-guard") -> str:
        policy = self.org.create_policy(
            Name=name, Description=name, Type="SERVICE_CONTROL_POLICY", Content=json.dumps(document)
        )["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=policy, TargetId=self.root)
        return str(policy)

    def metric(self, name: str, model_id: str, *, management: bool = False) -> float:
        """The Sum of an AWS/Bedrock metric in the member account (or the management one)."""
        cloudwatch = (boto3.Session(region_name=REGION) if management else self.admin).client("cloudwatch")
        result = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Bedrock",
                            "MetricName": name,
                            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=START - timedelta(hours=1),
            EndTime=self.clock.now() + timedelta(hours=1),
        )["MetricDataResults"][0]
        return float(sum(result["Values"]))


@contextlib.contextmanager
def _running_world() -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MOTO_ACCOUNT_ID", raising=False)
        with bedrock_runtime.emulated(SimulatedClock(START)) as clock:
            assert clock is not None
            yield World(clock)


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh world for each test (denies, metrics, caches: state that must start empty)."""
    with _running_world() as fresh:
        yield fresh


@pytest.fixture(scope="class")
def shared() -> Iterator[World]:
    """One world for a class of tests that only read answers (bodies, streams, model ids,
    refusals); torn down at the class's end, before the next test's own world starts."""
    with _running_world() as one:
        yield one


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Message"])


def _invoke(runtime, model_id: str, body: dict) -> dict:
    return json.loads(runtime.invoke_model(modelId=model_id, body=json.dumps(body))["body"].read())


def _converse(runtime, model_id: str, text: str = "where is my order", **kwargs):
    return runtime.converse(
        modelId=model_id, messages=[{"role": "user", "content": [{"text": text}]}], **kwargs
    )


# --------------------------------------------------------------------------------------------------
# Each operation, each family: AWS's body shapes, deterministic token counts
# --------------------------------------------------------------------------------------------------


class TestAnswers:
    """Each operation and family answers in AWS's body shape, with deterministic token counts."""

    def test_invoke_model_anthropic_messages_body_through_the_profile(self, shared):
        # Given Claude's messages body: 4 words of system prompt, 4 of user text, at most 200 tokens
        response = shared.runtime.invoke_model(modelId=shared.profile_arn, body=json.dumps(ANTHROPIC_BODY))
        body = json.loads(response["body"].read())
        # Then the answer is Claude's messages response, 8 input tokens and the 64-word answer
        assert body["type"] == "message"
        assert body["role"] == "assistant"
        assert body["model"] == "claude-3-5-haiku-20241022"
        assert body["id"].startswith("msg_bdrk_")
        assert body["stop_reason"] == "end_turn"
        assert body["stop_sequence"] is None
        assert body["usage"] == {
            "input_tokens": 8,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 64,
        }
        assert len(body["content"][0]["text"].split()) == 64
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amzn-bedrock-input-token-count"] == "8"
        assert headers["x-amzn-bedrock-output-token-count"] == "64"
        assert headers["x-amzn-bedrock-invocation-latency"] == str(250 + 10 * 64)
        assert response["contentType"] == "application/json"

    def test_max_tokens_bounds_the_answer_and_says_so(self, shared):
        body = _invoke(shared.runtime, shared.profile_arn, ANTHROPIC_BODY | {"max_tokens": 5})
        assert body["usage"]["output_tokens"] == 5
        assert body["stop_reason"] == "max_tokens"
        assert len(body["content"][0]["text"].split()) == 5

    @pytest.mark.parametrize(
        ("model_id", "body", "expected"),
        [
            (
                NOVA_PRO,
                {
                    "schemaVersion": "messages-v1",
                    "system": [{"text": "be brief"}],
                    "messages": [{"role": "user", "content": [{"text": "one two three"}]}],
                    "inferenceConfig": {"max_new_tokens": 10},
                },
                {
                    "output": {"message": {"content": [{"text": _words(10)}], "role": "assistant"}},
                    "stopReason": "max_tokens",
                    "usage": {
                        "inputTokens": 5,
                        "outputTokens": 10,
                        "totalTokens": 15,
                        "cacheReadInputTokenCount": 0,
                        "cacheWriteInputTokenCount": 0,
                    },
                },
            ),
            (
                TITAN,
                {"inputText": "summarise this short text", "textGenerationConfig": {"maxTokenCount": 100}},
                {
                    "inputTextTokenCount": 4,
                    "results": [{"tokenCount": 64, "outputText": _words(64), "completionReason": "FINISH"}],
                },
            ),
            (
                LLAMA,
                {"prompt": "tell me a joke please", "max_gen_len": 3},
                {
                    "generation": _words(3),
                    "prompt_token_count": 5,
                    "generation_token_count": 3,
                    "stop_reason": "length",
                },
            ),
        ],
        ids=["nova", "titan-text", "llama"],
    )
    def test_invoke_model_other_families_answer_in_their_own_shape(self, shared, model_id, body, expected):
        assert _invoke(shared.runtime, model_id, body) == expected

    def test_converse_response_shape(self, shared):
        response = _converse(
            shared.runtime, shared.profile_arn, "one two three four five", inferenceConfig={"maxTokens": 20}
        )
        assert response["output"]["message"] == {
            "role": "assistant",
            "content": [{"text": response["output"]["message"]["content"][0]["text"]}],
        }
        assert len(response["output"]["message"]["content"][0]["text"].split()) == 20
        assert response["stopReason"] == "max_tokens"
        assert response["usage"] == {
            "inputTokens": 5,
            "outputTokens": 20,
            "totalTokens": 25,
            "cacheReadInputTokens": 0,
            "cacheWriteInputTokens": 0,
        }
        assert response["metrics"] == {"latencyMs": 250 + 10 * 20}

    def test_converse_on_a_model_without_prompt_caching_has_no_cache_fields(self, shared):
        response = _converse(shared.runtime, LLAMA, "hi there")
        assert response["usage"] == {"inputTokens": 2, "outputTokens": 64, "totalTokens": 66}
        assert response["stopReason"] == "end_turn"


def test_prompt_cache_writes_then_reads_then_expires(world):
    # Given a Converse system prompt of 6 words ending in a cache point, and 3 words of question
    system = [{"text": "you are a careful support assistant"}, {"cachePoint": {"type": "default"}}]

    def call():
        return _converse(world.runtime, world.profile_arn, "where is it", system=system)["usage"]

    first = call()
    world.clock.advance(60)
    second = call()
    world.clock.advance(bedrock_runtime.PROMPT_CACHE_TTL_SECONDS + 1)
    third = call()
    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"], first["inputTokens"]) == (6, 0, 3)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"], second["inputTokens"]) == (
        0,
        6,
        3,
    )
    assert (third["cacheWriteInputTokens"], third["cacheReadInputTokens"]) == (6, 0)
    assert second["totalTokens"] == 6 + 3 + 64


def test_anthropic_cache_control_marks_the_cached_prefix(world):
    body = ANTHROPIC_BODY | {
        "system": [{"type": "text", "text": "a b c d e f g", "cache_control": {"type": "ephemeral"}}]
    }
    first = _invoke(world.runtime, HAIKU, body)["usage"]
    second = _invoke(world.runtime, HAIKU, body)["usage"]
    assert (
        first["cache_creation_input_tokens"],
        first["cache_read_input_tokens"],
        first["input_tokens"],
    ) == (7, 0, 4)
    assert (second["cache_creation_input_tokens"], second["cache_read_input_tokens"]) == (0, 7)


# --------------------------------------------------------------------------------------------------
# Streams: AWS's event-stream framing, parsed by botocore's own EventStream
# --------------------------------------------------------------------------------------------------


class TestStreams:
    """The streams: AWS's event-stream framing, parsed by botocore's own EventStream."""

    def test_invoke_model_with_response_stream_anthropic_events_parse_through_botocore(self, shared):
        response = shared.runtime.invoke_model_with_response_stream(
            modelId=shared.profile_arn, body=json.dumps(ANTHROPIC_BODY | {"max_tokens": 20})
        )
        assert isinstance(response["body"], botocore.eventstream.EventStream)
        assert response["contentType"] == "application/json"
        chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
        kinds = [c["type"] for c in chunks]
        assert kinds[:2] == ["message_start", "content_block_start"]
        assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
        assert set(kinds[2:-3]) == {"content_block_delta"}
        text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
        assert len(text.split()) == 20
        assert chunks[0]["message"]["usage"]["input_tokens"] == 8
        assert chunks[-2]["usage"] == {"output_tokens": 20}
        assert chunks[-2]["delta"]["stop_reason"] == "max_tokens"
        assert chunks[-1]["amazon-bedrock-invocationMetrics"] == {
            "inputTokenCount": 8,
            "outputTokenCount": 20,
            "invocationLatency": 450,
            "firstByteLatency": 250,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        }

    @pytest.mark.parametrize(
        ("model_id", "body", "text_of", "tokens_in"),
        [
            (
                NOVA_PRO,
                {"messages": [{"role": "user", "content": [{"text": "a b c"}]}]},
                lambda c: c.get("contentBlockDelta", {}).get("delta", {}).get("text", ""),
                3,
            ),
            (TITAN, {"inputText": "a b c d"}, lambda c: c["outputText"], 4),
            (LLAMA, {"prompt": "a b"}, lambda c: c["generation"], 2),
        ],
        ids=["nova", "titan-text", "llama"],
    )
    def test_streams_of_other_families_end_with_the_invocation_metrics(
        self, shared, model_id, body, text_of, tokens_in
    ):
        response = shared.runtime.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
        chunks = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]
        assert len("".join(text_of(c) for c in chunks).split()) == 64
        metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
        assert (metrics["inputTokenCount"], metrics["outputTokenCount"]) == (tokens_in, 64)

    def test_converse_stream_events_parse_through_botocore(self, shared):
        response = shared.runtime.converse_stream(
            modelId=US_NOVA,
            messages=[{"role": "user", "content": [{"text": "one two"}]}],
            inferenceConfig={"maxTokens": 12},
        )
        events = list(response["stream"])
        names = [next(iter(e)) for e in events]
        assert names[0] == "messageStart"
        assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
        assert set(names[1:-3]) == {"contentBlockDelta"}
        assert events[0]["messageStart"] == {"role": "assistant"}
        text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:-3])
        assert len(text.split()) == 12
        assert events[-2]["messageStop"] == {"stopReason": "max_tokens"}
        assert events[-1]["metadata"]["usage"] == {
            "inputTokens": 2,
            "outputTokens": 12,
            "totalTokens": 14,
            "cacheReadInputTokens": 0,
            "cacheWriteInputTokens": 0,
        }
        assert events[-1]["metadata"]["metrics"] == {"latencyMs": 250 + 10 * 12}


def test_event_stream_framing_is_checked_by_botocore():
    # Given one message as the emulation writes it, and the same with one payload byte changed
    message = event_message("chunk", {"bytes": base64.b64encode(b'{"a":1}').decode()})
    corrupted = message[:20] + bytes([message[20] ^ 0xFF]) + message[21:]
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(message)
    (parsed,) = list(buffer)
    assert parsed.headers == {
        ":event-type": "chunk",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(parsed.payload) == {"bytes": "eyJhIjoxfQ=="}
    bad = botocore.eventstream.EventStreamBuffer()
    bad.add_data(corrupted)
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        list(bad)


def test_event_stream_headers_of_every_type_round_trip():
    when = datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC)
    headers = {"t": True, "f": False, "i": 7, "l": 2**40, "b": b"\x00\x01", "s": "caf\u00e9", "ts": when}
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(
        encode_message(headers, b"payload") + exception_message("throttlingException", "slow down")
    )
    first, second = list(buffer)
    assert first.headers == {
        "t": True, "f": False, "i": 7, "l": 2**40, "b": b"\x00\x01", "s": "caf\u00e9",
        "ts": int(when.timestamp() * 1000),
    }  # fmt: skip
    assert first.payload == b"payload"
    assert second.to_response_dict()["status_code"] == 400
    assert second.headers[":exception-type"] == "throttlingException"
    with pytest.raises(ValueError, match="given twice"):
        encode_message([("a", "x"), ("a", "y")])
    with pytest.raises(ValueError, match="bytes"):
        encode_message({"s": "x" * 40_000})


# --------------------------------------------------------------------------------------------------
# modelId forms
# --------------------------------------------------------------------------------------------------


class TestModelIds:
    """Every modelId form, and the ones AWS refuses."""

    def test_every_model_id_form_resolves(self, shared):
        system_arn = f"arn:aws:bedrock:{REGION}:{shared.member}:inference-profile/{US_NOVA}"
        forms = [
            HAIKU,
            f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}",
            US_NOVA,
            system_arn,
            shared.profile_arn,
            shared.profile_id,
        ]
        bedrock_runtime.clear_calls()
        for model_id in forms:
            assert _converse(shared.runtime, model_id)["usage"]["inputTokens"] == 4, model_id
        kinds = [c.target.kind for c in bedrock_runtime.calls()]
        assert kinds == ["foundation-model"] * 2 + ["system-profile"] * 2 + ["application-profile"] * 2
        assert bedrock_runtime.calls()[2].target.inference_region == REGION

    @pytest.mark.parametrize(
        "model_id",
        [
            "anthropic.claude-nonexistent-v9:0",
            "us.anthropic.claude-nonexistent-v1:0",
            "abcdefghijkl",  # an application profile id that does not exist
            f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}",  # another region's model
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdefghijkl",
        ],
    )
    def test_unknown_model_ids_are_aws_validation_errors(self, shared, model_id):
        with pytest.raises(ClientError) as error:
            _converse(shared.runtime, model_id)
        assert _code(error) == "ValidationException"
        assert _message(error) == "The provided model identifier is invalid."
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    def test_a_profile_of_another_account_is_not_found_from_this_one(self, shared):
        # the management account's default credentials cannot use the member's profile
        runtime = boto3.client("bedrock-runtime", region_name=REGION)
        with pytest.raises(ClientError) as error:
            _converse(runtime, shared.profile_arn)
        assert _message(error) == "The provided model identifier is invalid."

    @pytest.mark.parametrize("model_id", [s for s in HOSTILE_STRINGS if s.strip()])
    def test_hostile_model_ids_are_refused_in_one_line(self, shared, model_id):
        with pytest.raises(ClientError) as error:
            _converse(shared.runtime, model_id)
        assert _code(error) == "ValidationException"
        message = _message(error)
        assert message == "The provided model identifier is invalid." or message.startswith(
            "1 validation error detected: Value '"
        )
        assert bedrock_runtime.calls()[-1].error_code == "ValidationException"

    def test_a_malformed_model_id_names_the_pattern(self, shared):
        with pytest.raises(ClientError) as error:
            _converse(shared.runtime, "not a model!")
        assert _message(error).startswith(
            "1 validation error detected: Value 'not a model!' at 'modelId' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (arn:aws"
        )


# --------------------------------------------------------------------------------------------------
# Bodies AWS refuses (and extra fields it does not)
# --------------------------------------------------------------------------------------------------


class TestRefusedBodies:
    """Bodies AWS refuses (and the extra fields it does not)."""

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                {k: v for k, v in ANTHROPIC_BODY.items() if k != "max_tokens"},
                "Malformed input request: #: required key [max_tokens] not found, "
                "please reformat your input and try again.",
            ),
            (
                ANTHROPIC_BODY | {"max_tokens": "200"},
                "Malformed input request: #/max_tokens: expected type: Integer, found: String, "
                "please reformat your input and try again.",
            ),
            (
                ANTHROPIC_BODY | {"messages": [{"content": "hi"}]},
                "Malformed input request: #/messages/0: required key [role] not found, "
                "please reformat your input and try again.",
            ),
            (
                ANTHROPIC_BODY | {"max_tokens": 9000},
                "max_tokens: 9000 > 8192, which is the maximum allowed number of output tokens "
                "for claude-3-5-haiku-20241022",
            ),
        ],
        ids=["missing-max_tokens", "max_tokens-as-string", "message-without-role", "over-the-model-limit"],
    )
    def test_anthropic_bodies_aws_refuses(self, shared, body, message):
        with pytest.raises(ClientError) as error:
            _invoke(shared.runtime, HAIKU, body)
        assert _code(error) == "ValidationException"
        assert _message(error) == message

    def test_unknown_extra_fields_in_a_valid_body_are_accepted(self, shared):
        body = ANTHROPIC_BODY | {"temperature": 0.2, "top_k": 5, "metadata": {"user_id": "u1"}, "x-new": [1]}
        assert _invoke(shared.runtime, HAIKU, body)["usage"]["input_tokens"] == 8

    @pytest.mark.parametrize(
        ("messages", "start"),
        [
            (
                [{"role": "assistant", "content": [{"text": "hi"}]}],
                "A conversation must start with a user message.",
            ),
            (
                [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}],
                "A conversation must alternate between user and assistant roles.",
            ),
        ],
    )
    def test_converse_conversations_aws_refuses(self, shared, messages, start):
        with pytest.raises(ClientError) as error:
            shared.runtime.converse(modelId=HAIKU, messages=messages)
        assert _message(error).startswith(start)

    def test_converse_max_tokens_over_the_model_limit(self, shared):
        with pytest.raises(ClientError) as error:
            _converse(shared.runtime, HAIKU, inferenceConfig={"maxTokens": 10_000})
        assert _message(error) == (
            "The maximum tokens you requested exceeds the model limit of 8192. "
            "Try again with a maximum tokens value that is lower than 8192."
        )

    @pytest.mark.parametrize(
        "raw",
        [NOT_UTF8, b"not json", b"[1, 2]", b"", deeply_nested().encode()],
        ids=["not-utf8", "not-json", "an-array", "empty", "deeply-nested"],
    )
    def test_bodies_that_are_not_a_json_object_are_validation_errors(self, shared, raw):
        with pytest.raises(ClientError) as error:
            shared.runtime.invoke_model(modelId=HAIKU, body=raw)
        assert _code(error) == "ValidationException"
        assert _message(error).startswith("Malformed input request:")

    def test_a_content_type_other_than_json_is_refused(self, shared):
        with pytest.raises(ClientError) as error:
            shared.runtime.invoke_model(
                modelId=HAIKU, body=json.dumps(ANTHROPIC_BODY), contentType="text/plain"
            )
        assert _message(error) == "The provided Content-Type is invalid or not supported for this model"

    @pytest.mark.parametrize(
        ("label", "mutated"), ANTHROPIC_MUTATIONS, ids=[m[0] for m in ANTHROPIC_MUTATIONS]
    )
    def test_mutated_anthropic_bodies_are_answered_or_refused_never_crash(self, shared, label, mutated):
        # Every node of the real body deleted or swapped for another JSON shape: either a valid answer or
        # a ValidationException with one line, and the call is recorded either way.
        try:
            body = _invoke(shared.runtime, HAIKU, mutated)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ValidationException", label
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            assert "\n" not in error.response["Error"]["Message"]
        else:
            assert body["usage"]["output_tokens"] >= 0
        assert bedrock_runtime.calls()[-1].operation == "InvokeModel"


# --------------------------------------------------------------------------------------------------
# Denies: the guard SCP after its propagation delay, tag-conditioned SCPs, inline denies
# --------------------------------------------------------------------------------------------------


def _denied(world, call) -> str | None:
    try:
        call()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return str(error.response["Error"]["Message"])
    return None


def test_the_guard_scp_denies_exactly_after_the_propagation_delay(world):
    # Given the guard SCP attached to the root (long enough ago to be in force), listing nothing
    policy = world.scp(empty_document())
    world.clock.advance(60)
    guard = GuardScp(world.org, policy)
    # When tokenfuse's own guard adapter lists the profile at T0
    tripped_at = world.clock.now()
    guard.add(world.profile_arn)
    call = lambda: _converse(world.runtime, world.profile_arn)  # noqa: E731
    # Then calls go through until T0 + 5 s, and are refused from then on
    world.clock.advance_to(tripped_at + timedelta(seconds=bedrock_access.SCP_PROPAGATION_SECONDS - 0.001))
    assert _denied(world, call) is None
    world.clock.advance_to(tripped_at + timedelta(seconds=bedrock_access.SCP_PROPAGATION_SECONDS))
    message = _denied(world, call)
    assert message == (
        f"User: arn:aws:sts::{world.member}:assumed-role/chat-app/worker-1 is not authorized to perform: "
        f"bedrock:InvokeModel on resource: {world.profile_arn} "
        "with an explicit deny in a service control policy"
    )
    denied = [c for c in bedrock_runtime.calls() if c.denial is not None]
    assert [c.at - tripped_at for c in denied] == [timedelta(seconds=5)]
    assert denied[0].denial.reason == f"SCP {policy} (tokenfuse-guard), statement TokenfuseTrippedProfiles"
    # And lifting it takes the same delay
    restored_at = world.clock.now()
    guard.remove(world.profile_arn)
    world.clock.advance_to(restored_at + timedelta(seconds=4))
    assert _denied(world, call) is not None
    world.clock.advance_to(restored_at + timedelta(seconds=5))
    assert _denied(world, call) is None


def test_converse_stream_is_authorized_as_invoke_model_with_response_stream(world):
    policy = world.scp(empty_document())
    GuardScp(world.org, policy).add(world.profile_arn)
    world.clock.advance(5)
    message = _denied(
        world,
        lambda: world.runtime.converse_stream(
            modelId=world.profile_arn, messages=[{"role": "user", "content": [{"text": "x"}]}]
        ),
    )
    assert message is not None
    assert "perform: bedrock:InvokeModelWithResponseStream on resource" in message


def test_the_propagation_delay_is_configurable(world):
    bedrock_runtime.configure(scp_propagation_seconds=30)
    policy = world.scp(empty_document())
    world.clock.advance(60)
    tripped_at = world.clock.now()
    GuardScp(world.org, policy).add(world.profile_arn)
    call = lambda: _converse(world.runtime, world.profile_arn)  # noqa: E731
    world.clock.advance_to(tripped_at + timedelta(seconds=29))
    assert _denied(world, call) is None
    world.clock.advance_to(tripped_at + timedelta(seconds=30))
    assert _denied(world, call) is not None


def test_a_tag_conditioned_scp_denies_only_the_tagged_profile(world):
    # Given the tag-conditioned statement in force, and a second profile
    other = world.profile("search-answers", tags={"team": "search"})
    world.scp(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TokenfuseTaggedProfiles",
                    "Effect": "Deny",
                    "Action": ["bedrock:InvokeModel*"],
                    "Resource": "arn:aws:bedrock:*:*:application-inference-profile/*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/tokenfuse:state": "tripped"}},
                }
            ],
        },
        name="tokenfuse-tag-guard",
    )
    world.clock.advance(10)
    # When the profile is tagged tripped (tags take effect at once)
    world.bedrock.tag_resource(
        resourceARN=world.profile_arn, tags=[{"key": "tokenfuse:state", "value": "tripped"}]
    )
    # Then its calls are refused, the other profile's and direct model calls are not
    assert _denied(world, lambda: _converse(world.runtime, world.profile_arn)) is not None
    assert _denied(world, lambda: _converse(world.runtime, other)) is None
    assert _denied(world, lambda: _converse(world.runtime, HAIKU)) is None
    world.bedrock.untag_resource(resourceARN=world.profile_arn, tagKeys=["tokenfuse:state"])
    assert _denied(world, lambda: _converse(world.runtime, world.profile_arn)) is None


def test_a_blanket_model_deny_breaks_profiles_unless_it_exempts_profile_calls(world):
    # The design's finding: a call through a profile also needs the model; bedrock:InferenceProfileArn
    # tells the two apart.
    statement = {
        "Effect": "Deny",
        "Action": "bedrock:InvokeModel",
        "Resource": "arn:aws:bedrock:*::foundation-model/*",
    }
    world.iam.put_role_policy(
        RoleName="chat-app",
        PolicyName="no-direct-models",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    message = _denied(world, lambda: _converse(world.runtime, world.profile_arn))
    assert message is not None
    assert f"on resource: arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}" in message
    exempt = statement | {"Condition": {"Null": {"bedrock:InferenceProfileArn": "true"}}}
    world.iam.put_role_policy(
        RoleName="chat-app",
        PolicyName="no-direct-models",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [exempt]}),
    )
    assert _denied(world, lambda: _converse(world.runtime, world.profile_arn)) is None
    assert _denied(world, lambda: _converse(world.runtime, HAIKU)) is not None


def test_an_inline_deny_on_the_calling_role_applies_at_once_to_that_role_only(world):
    # tokenfuse's own inline-deny adapter writes the deny on chat-app
    InlineDeny(world.iam).put("chat-app", policy_name(world.profile_id), deny_document(world.profile_arn))
    message = _denied(world, lambda: _converse(world.runtime, world.profile_arn))
    assert message == (
        f"User: arn:aws:sts::{world.member}:assumed-role/chat-app/worker-1 is not authorized to perform: "
        f"bedrock:InvokeModel on resource: {world.profile_arn} "
        "with an explicit deny in an identity-based policy"
    )
    assert bedrock_runtime.calls()[-1].denial.reason == (
        f"inline policy {policy_name(world.profile_id)} on role chat-app, statement TokenfuseTrippedProfile"
    )
    other_runtime = world.other.client("bedrock-runtime")
    assert _denied(world, lambda: _converse(other_runtime, world.profile_arn)) is None


def test_a_caller_scoped_scp_on_the_principal_arn_blocks_every_session_of_that_role(world):
    world.scp(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "bedrock:InvokeModel*",
                    "Resource": world.profile_arn,
                    "Condition": {
                        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{world.member}:role/apps/chat-app"}
                    },
                }
            ],
        },
        name="caller-scope",
    )
    world.clock.advance(5)
    second_session = world.session(f"arn:aws:iam::{world.member}:role/apps/chat-app", "worker-9", world.admin)
    assert _denied(world, lambda: _converse(world.runtime, world.profile_arn)) is not None
    assert (
        _denied(world, lambda: _converse(second_session.client("bedrock-runtime"), world.profile_arn))
        is not None
    )
    assert _denied(world, lambda: _converse(world.other.client("bedrock-runtime"), world.profile_arn)) is None


def test_the_management_account_is_out_of_an_scps_reach(world):
    # a profile in the management account, listed by an SCP attached to the root
    bedrock = boto3.client("bedrock", region_name=REGION)
    arn = bedrock.create_inference_profile(
        inferenceProfileName="mgmt",
        modelSource={"copyFrom": f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"},
    )["inferenceProfileArn"]
    policy = world.scp(empty_document())
    GuardScp(world.org, policy).add(arn)
    world.clock.advance(60)
    runtime = boto3.client("bedrock-runtime", region_name=REGION)
    assert _denied(world, lambda: _converse(runtime, arn)) is None


def test_a_denied_call_publishes_one_client_error_and_no_tokens(world):
    InlineDeny(world.iam).put("chat-app", "deny", deny_document(world.profile_arn))
    assert _denied(world, lambda: _converse(world.runtime, world.profile_arn)) is not None
    assert world.metric("InvocationClientErrors", world.profile_id) == 1
    assert world.metric("Invocations", world.profile_id) == 0
    assert world.metric("InputTokenCount", world.profile_id) == 0


# --------------------------------------------------------------------------------------------------
# Metrics: the ModelId form, the option to count under the model too, dollars by hand
# --------------------------------------------------------------------------------------------------


def test_metrics_carry_the_profile_id_for_a_profile_and_the_model_id_otherwise(world):
    _converse(world.runtime, world.profile_arn, "a b c")
    _converse(world.runtime, HAIKU, "a b")
    _converse(world.runtime, US_NOVA, "a")
    assert world.metric("InputTokenCount", world.profile_id) == 3
    assert world.metric("InputTokenCount", world.profile_arn) == 0
    assert world.metric("InputTokenCount", HAIKU) == 2
    assert world.metric("InputTokenCount", US_NOVA) == 1
    assert world.metric("InputTokenCount", NOVA_PRO) == 0
    assert world.metric("Invocations", world.profile_id) == 1
    assert world.metric("OutputTokenCount", world.profile_id) == 64
    assert world.metric("InvocationLatency", world.profile_id) == 250 + 640
    assert world.metric("CacheReadInputTokenCount", world.profile_id) == 0
    # into the caller's account only
    assert world.metric("InputTokenCount", world.profile_id, management=True) == 0


def test_counting_profile_calls_under_the_model_id_is_an_option(world):
    bedrock_runtime.configure(count_profile_calls_under_model_id=True)
    _converse(world.runtime, world.profile_arn, "a b c")
    assert world.metric("InputTokenCount", world.profile_id) == 3
    assert world.metric("InputTokenCount", HAIKU) == 3


def test_metrics_are_stamped_with_the_simulated_time(world):
    world.clock.advance(timedelta(minutes=7, seconds=30))
    _converse(world.runtime, world.profile_arn)
    cloudwatch = world.admin.client("cloudwatch")
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/Bedrock",
        MetricName="Invocations",
        Dimensions=[{"Name": "ModelId", "Value": world.profile_id}],
        StartTime=START,
        EndTime=START + timedelta(hours=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [(d["Timestamp"], d["Sum"]) for d in stats] == [(START + timedelta(minutes=7, seconds=30), 1.0)]


def test_one_call_priced_by_hand(world):
    # Given a Converse call through the Haiku 3.5 profile: 6 cached words of system prompt written to
    # the cache, 13 words of question, at most 40 output tokens
    system = [{"text": "you answer questions about orders only"}, {"cachePoint": {"type": "default"}}]
    question = "my order from last week has not arrived yet and I need it"
    _converse(world.runtime, world.profile_arn, question, system=system, inferenceConfig={"maxTokens": 40})
    tokens = {
        name: world.metric(name, world.profile_id)
        for name in (
            "InputTokenCount",
            "OutputTokenCount",
            "CacheWriteInputTokenCount",
            "CacheReadInputTokenCount",
        )
    }
    assert tokens == {
        "InputTokenCount": 13,
        "OutputTokenCount": 40,
        "CacheWriteInputTokenCount": 6,
        "CacheReadInputTokenCount": 0,
    }
    # By hand, at the published us-east-1 rates of Claude 3.5 Haiku ($ per million tokens: input 0.80,
    # output 4.00, cache write 1.00): 13 x 0.80 + 40 x 4.00 + 6 x 1.00 = 10.4 + 160 + 6 = 176.4 per
    # million = $0.0001764
    expected = 0.0001764
    rates = price_for(f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}", REGION)
    assert rates is not None
    priced = rates.cost(
        tokens["InputTokenCount"],
        tokens["OutputTokenCount"],
        tokens["CacheReadInputTokenCount"],
        tokens["CacheWriteInputTokenCount"],
    )
    assert priced == pytest.approx(expected, rel=1e-12)
