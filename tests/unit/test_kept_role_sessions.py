"""A container keeps its own clients, and its member-role sessions with theirs, across invocations
(a member-role session until shortly before its credentials expire); a failed AssumeRole keeps
nothing; a CLI profile's base is never kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tokenfuse.adapters import aws
from tokenfuse.errors import AccessDenied

MEMBER_ROLE = "arn:aws:iam::222222222222:role/tokenfuse-member"


@pytest.fixture
def assumed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """moto's STS, every AssumeRole the adapter makes recorded (the role ARN)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    calls: list[str] = []
    real = aws.assume_role

    def recording(role_arn: str, session_name: str, base: boto3.Session | None = None) -> aws.AssumedRole:
        calls.append(role_arn)
        return real(role_arn, session_name, base)

    monkeypatch.setattr(aws, "assume_role", recording)
    with mock_aws():
        aws.default_session.cache_clear()
        yield calls
    aws.default_session.cache_clear()


def _sessions() -> aws.MemberSessions:
    """What a handler builds for one invocation."""
    return aws.MemberSessions("tokenfuse-member", "tokenfuse-remediate", own_account="111111111111")


def test_a_warm_container_assumes_the_role_once_and_keeps_its_clients(assumed: list[str]) -> None:
    # Given two invocations of a warm container, each with its own MemberSessions
    first, second = _sessions(), _sessions()
    # When both read the member account
    one = first.client("bedrock", "222222222222", "us-east-1")
    two = second.client("bedrock", "222222222222", "us-east-1")
    # Then STS was asked once, and the second invocation got the first one's client
    assert assumed == [MEMBER_ROLE]
    assert one is two
    # and another region or service is a client of its own on the same session
    assert second.client("bedrock", "222222222222", "eu-west-1") is not one
    assert assumed == [MEMBER_ROLE]


def test_a_session_near_its_expiry_is_assumed_afresh(
    assumed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a kept session whose credentials expire in 9 minutes (less than the 10 kept in hand)
    kept = _sessions().session("222222222222")
    soon = datetime.now(UTC) + aws.KEEP_UNTIL_BEFORE_EXPIRY - timedelta(minutes=1)
    key = (MEMBER_ROLE, "tokenfuse-remediate")
    monkeypatch.setitem(aws._KEPT_SESSIONS, key, aws.AssumedRole(kept, soon))
    # When the next invocation reads the account
    renewed = _sessions().session("222222222222")
    # Then the role was assumed again and the new session is kept
    assert assumed == [MEMBER_ROLE, MEMBER_ROLE]
    assert renewed is not kept
    assert _sessions().session("222222222222") is renewed


def test_a_failed_assume_role_keeps_nothing(assumed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given STS refusing the first AssumeRole
    real = aws.assume_role
    refusals = iter([AccessDenied("not authorized to perform sts:AssumeRole")])

    def refusing_once(*args: Any, **kwargs: Any) -> aws.AssumedRole:
        error = next(refusals, None)
        if error is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(aws, "assume_role", refusing_once)
    with pytest.raises(AccessDenied):
        _sessions().session("222222222222")
    # Then the next invocation asks STS again (and keeps what it got)
    session = _sessions().session("222222222222")
    assert _sessions().session("222222222222") is session


def test_a_base_session_of_its_own_is_never_kept(assumed: list[str]) -> None:
    # Given the CLI's MemberSessions on a profile's session
    base = boto3.Session(region_name="us-east-1")
    # When two of them read the member account
    aws.MemberSessions("tokenfuse-member", base=base, own_account="1").session("222222222222")
    aws.MemberSessions("tokenfuse-member", base=base, own_account="1").session("222222222222")
    # Then each assumed the role (nothing kept beyond its own instance)
    assert assumed == [MEMBER_ROLE, MEMBER_ROLE]


def test_the_containers_own_clients_are_kept_per_service_and_region(assumed: list[str]) -> None:
    # Given a warm container's client of its own account
    first = aws.client("dynamodb")
    # Then the next invocation gets the same one, another region its own, another session a new one
    assert aws.client("dynamodb") is first is aws.client("dynamodb", "us-east-1")
    assert aws.client("dynamodb", "eu-west-1") is not first
    other = boto3.Session(region_name="us-east-1")
    assert aws.client("dynamodb", session=other) is not aws.client("dynamodb", session=other)
    # and a cold container builds its clients anew
    aws.forget_kept_sessions()
    assert aws.client("dynamodb") is not first


def test_forgetting_only_the_member_sessions_keeps_the_containers_own_clients(assumed: list[str]) -> None:
    # Given a container with its own client and a member-role session with a client of its own
    own = aws.client("dynamodb")
    member = aws.kept_role_session(MEMBER_ROLE)
    member_client = aws.client("bedrock", session=member)
    # When only the member-role sessions are forgotten
    aws.forget_kept_sessions(own_clients=False)
    # Then the container's client is the same, and the member role is assumed again, with new clients
    assert aws.client("dynamodb") is own
    again = aws.kept_role_session(MEMBER_ROLE)
    assert again is not member and assumed == [MEMBER_ROLE, MEMBER_ROLE]
    assert aws.client("bedrock", session=again) is not member_client
