"""The drill's own AWS adapters through real botocore clients fed AWS's answers: what a refused,
throttled or unanswered canary call becomes, a delete of a canary already gone, an account in no
organization. Decisions read AWS's error code, never its message."""

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.answering import answering
from tokenfuse.drill.aws.organization import OrganizationReader
from tokenfuse.drill.aws.runtime import BedrockCanaries
from tokenfuse.drill.ports import Canary
from tokenfuse.errors import AccessDenied

ACCOUNT = "444455556666"
REGION = "us-east-1"
ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/x7k2p9q4m1ab"
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
REQUEST = "5c3f1a52-9d7e-4b0e-8f3a-2a6c1b9e7d40"
CANARY = Canary(
    arn=ARN, profile_id="x7k2p9q4m1ab", name="tokenfuse-drill-20261130t100000-abc123",
    account_id=ACCOUNT, region=REGION, model_id="amazon.nova-micro-v1:0", created_at=AT, tags={},
)  # fmt: skip


def refusal(code: str) -> dict[str, str]:
    """The headers Bedrock's REST-JSON endpoints put on an error answer."""
    return {"Content-Type": "application/json", "x-amzn-ErrorType": f"{code}:", "x-amzn-RequestId": REQUEST}


def canaries(runtime: Any, bedrock: Any = None) -> BedrockCanaries:
    return BedrockCanaries(
        bedrock or answering("bedrock", []),
        runtime,
        ACCOUNT,
        REGION,
        now=lambda: AT,
    )


def test_a_call_the_guard_refuses_is_denied_with_its_request_id():
    message = (
        "User: arn:aws:sts::444455556666:assumed-role/tokenfuse-member/tokenfuse-drill is not authorized"
        " to perform: bedrock:InvokeModel with an explicit deny in a service control policy"
    )
    runtime = answering("bedrock-runtime", [(403, refusal("AccessDeniedException"), {"message": message})])
    outcome = canaries(runtime).call(CANARY, "Say ok.", 5)
    assert (outcome.ok, outcome.denied, outcome.request_id, outcome.at) == (False, True, REQUEST, AT)
    assert outcome.error == f"bedrock:InvokeModel: AccessDeniedException: {message}"


def test_a_throttled_call_failed_but_was_not_denied():
    runtime = answering(
        "bedrock-runtime",
        [(429, refusal("ThrottlingException"), {"message": "Too many requests"})],
    )
    outcome = canaries(runtime).call(CANARY, "Say ok.", 5)
    assert (outcome.ok, outcome.denied) == (False, False)
    assert outcome.error == "bedrock:InvokeModel: ThrottlingException: Too many requests"


def test_a_call_that_got_no_answer_failed_in_one_line():
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    # nothing listens on port 9 (discard) of the loopback: the connection is refused at once
    unreachable = session.client(
        "bedrock-runtime", endpoint_url="http://127.0.0.1:9", config=Config(retries={"total_max_attempts": 1})
    )
    outcome = canaries(unreachable).call(CANARY, "Say ok.", 5)
    assert (outcome.ok, outcome.denied, outcome.request_id) == (False, False, None)
    assert outcome.error is not None and outcome.error.startswith(
        "bedrock:InvokeModel: EndpointConnectionError"
    )
    assert "\n" not in outcome.error


def test_a_call_that_went_through_reports_the_tokens_aws_counted():
    answer = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 310},
    }
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": REQUEST}
    outcome = canaries(answering("bedrock-runtime", [(200, headers, answer)])).call(CANARY, "Say ok.", 5)
    assert (outcome.ok, outcome.input_tokens, outcome.output_tokens, outcome.request_id) == (
        True,
        12,
        3,
        REQUEST,
    )


def test_deleting_a_canary_already_gone_is_done_and_a_refused_delete_is_not():
    gone = "Inference profile x7k2p9q4m1ab not found"
    bedrock = answering(
        "bedrock",
        [
            (404, refusal("ResourceNotFoundException"), {"message": gone}),
            (403, refusal("AccessDeniedException"), {"message": "no"}),
        ],
    )
    drill = canaries(answering("bedrock-runtime", []), bedrock)
    drill.delete(ARN)  # already gone: nothing to do
    with pytest.raises(AccessDenied) as refused:
        drill.delete(ARN)
    assert (refused.value.code, refused.value.operation) == (
        "AccessDeniedException",
        "bedrock:DeleteInferenceProfile",
    )


def _organizations_error(code: str) -> tuple[int, dict[str, str], dict[str, str]]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": REQUEST}
    return 400, headers, {"__type": code, "Message": f"{code} says why"}


def test_an_account_in_no_organization_has_no_management_account():
    organizations = answering("organizations", [_organizations_error("AWSOrganizationsNotInUseException")])
    assert OrganizationReader(organizations).management_account() is None


def test_a_refused_describe_organization_is_not_read_as_no_organization():
    organizations = answering("organizations", [_organizations_error("AccessDeniedException")])
    with pytest.raises(AccessDenied) as refused:
        OrganizationReader(organizations).management_account()
    assert refused.value.operation == "organizations:DescribeOrganization"
