"""The guard SCP document (only tokenfuse's statement changes, the size quota), caller-tag parsing,
and the stack-deletion custom resource (restore --all, then answer CloudFormation)."""

import json

import pytest

from tokenfuse.adapters.guard_scp import (
    MAX_SCP_CHARS,
    PLACEHOLDER_ARN,
    STATEMENT_SID,
    GuardPolicyFull,
    GuardScp,
    empty_document,
    listed_arns,
    with_arns,
)
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import custom_resource
from tokenfuse.remediation.callers import parse_callers
from tokenfuse.remediation.models import RestoreResult
from tokenfuse.text import secret_value

ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/{}"
OTHER = {"Sid": "TagConditioned", "Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}


def test_with_arns_keeps_every_other_statement():
    doc = {"Version": "2012-10-17", "Statement": [OTHER, *empty_document()["Statement"]]}
    updated = with_arns(doc, [ARN.format("a")])
    assert OTHER in updated["Statement"]
    assert listed_arns(updated) == [ARN.format("a")]
    assert listed_arns(with_arns(updated, [])) == []
    assert next(s for s in with_arns(updated, [])["Statement"] if s["Sid"] == STATEMENT_SID)["Resource"] == [
        PLACEHOLDER_ARN
    ]


class FakeOrganizations:
    def __init__(self, document):
        self.content = json.dumps(document)
        self.updates = 0

    def describe_policy(self, PolicyId):
        return {"Policy": {"Content": self.content}}

    def update_policy(self, PolicyId, Content):
        self.updates += 1
        self.content = Content


def test_the_guard_refuses_to_grow_past_the_scp_quota():
    org = FakeOrganizations(empty_document())
    guard = GuardScp(org, "p-12345678")
    arns = [ARN.format(f"{i:012d}") for i in range(200)]
    added = 0
    with pytest.raises(GuardPolicyFull):
        for arn in arns:
            guard.add(arn)
            added += 1
    assert len(org.content) <= MAX_SCP_CHARS
    assert len(guard.arns()) == added > 30


def test_adding_twice_and_removing_a_stranger_change_nothing():
    org = FakeOrganizations(empty_document())
    guard = GuardScp(org, "p-12345678")
    assert guard.add(ARN.format("a")) == ([], True)
    assert guard.add(ARN.format("a")) == ([ARN.format("a")], False)
    assert guard.remove(ARN.format("zzz")) is False
    assert org.updates == 1


def test_callers_tag_takes_spaces_or_commas():
    # Bedrock tag values allow no comma: spaces separate names too
    assert parse_callers("role/a fn-b  function:c") == ["role/a", "fn-b", "function:c"]
    assert parse_callers("a,b, c") == ["a", "b", "c"]
    assert parse_callers(None) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("xoxb-1", "xoxb-1"),
        ('{"bot_token": "xoxb-2"}', "xoxb-2"),
        ('{"anything": "k"}', "k"),
        (b"raw\n", "raw"),
    ],
)
def test_secret_value_reads_plain_or_json_secrets(value, expected):
    assert secret_value(value, "bot_token") == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{not json", "starts with '{' but is not JSON"),
        ('{"a": "1", "b": "2"}', "is JSON without a bot_token or token key"),
    ],
)
def test_secret_value_refuses_json_it_cannot_read_without_showing_it(value, problem):
    with pytest.raises(ValueError, match=problem) as raised:
        secret_value(value, "bot_token", "token")
    assert "not json" not in str(raised.value) and '"1"' not in str(raised.value)


class FakeTripper:
    def __init__(self, error=None):
        self.error = error
        self.calls = 0

    def restore_all(self):
        self.calls += 1
        if self.error:
            raise self.error
        return [RestoreResult(profile_arn=ARN.format("a"), trip_id="t1", restored=True, note="ok")]


def event(kind):
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
        "StackId": "arn:aws:cloudformation:us-east-1:1:stack/tokenfuse/1",
        "RequestId": "r1",
        "LogicalResourceId": "RestoreTripsOnDelete",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ServiceToken": "arn:aws:lambda:us-east-1:1:function:tokenfuse-remediate",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:tokenfuse-remediate"},
        **({"PhysicalResourceId": "tokenfuse-restore-on-delete"} if kind != "Create" else {}),
    }


def test_delete_restores_everything_and_answers_success():
    sent, tripper = [], FakeTripper()
    body = custom_resource.handle(event("Delete"), tripper, lambda url, b: sent.append((url, b)))
    assert tripper.calls == 1 and body["Status"] == "SUCCESS" and body["Data"] == {"Restored": 1}
    assert sent == [(event("Delete")["ResponseURL"], body)]


def test_a_failed_restore_fails_the_delete_with_the_reason():
    sent = []
    body = custom_resource.handle(
        event("Delete"), FakeTripper(TokenfuseError("AccessDenied on p-1")), lambda u, b: sent.append(b)
    )
    assert body["Status"] == "FAILED" and "AccessDenied" in body["Reason"]
    assert sent == [body]


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_change_nothing(kind):
    tripper = FakeTripper()
    body = custom_resource.handle(event(kind), tripper, lambda u, b: None)
    assert body["Status"] == "SUCCESS" and tripper.calls == 0
    assert body["PhysicalResourceId"] == custom_resource.PHYSICAL_ID


class RacingOrganizations(FakeOrganizations):
    """Another writer lists its ARN from the same stale read, once, right after our write."""

    def __init__(self, document, theirs):
        super().__init__(document)
        self.stale = self.content
        self.theirs = theirs

    def update_policy(self, PolicyId, Content):
        super().update_policy(PolicyId, Content)
        if self.theirs:
            self.content = json.dumps(with_arns(json.loads(self.stale), [self.theirs]))
            self.theirs = None


def test_a_concurrent_writer_cannot_drop_our_arn():
    org = RacingOrganizations(empty_document(), ARN.format("theirs"))
    GuardScp(org, "p-12345678").add(ARN.format("ours"))
    assert sorted(listed_arns(json.loads(org.content))) == [ARN.format("ours"), ARN.format("theirs")]
