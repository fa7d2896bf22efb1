"""Caller-scope trips, without AWS: the session -> role mapping, the callers a policy blocks, the
roles never blocked, the guard SCP statement as written (and its size), the policy's scope and the
words people read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fault_injection.contract_walk import policy_decision, remediation_incident
from tests.support.adversarial import HOSTILE_STRINGS
from tokenfuse.adapters.guard_scp import (
    MAX_SCP_CHARS,
    GuardPolicyFull,
    GuardScp,
    caller_statement,
    empty_document,
    listed_arns,
    listed_callers,
    with_callers,
)
from tokenfuse.remediation import messages
from tokenfuse.remediation.caller_scope import (
    MAX_CALLERS,
    CallerRefused,
    caller_label,
    caller_sid,
    offending,
    refusal,
    role_of,
)
from tokenfuse.remediation.models import CallerTarget, TripRecord
from tokenfuse.remediation.policy import decide
from tokenfuse.teams import TeamDirectory

ACCOUNT = "444455556666"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker/i-0abc123"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/workloads/checkout-worker"
DENIED = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


# -- the session -> role mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "account", "name", "path"),
    [
        (SESSION, ACCOUNT, "checkout-worker", None),
        (ROLE, ACCOUNT, "checkout-worker", "/workloads/"),
        (f"arn:aws:iam::{ACCOUNT}:role/checkout-worker", ACCOUNT, "checkout-worker", "/"),
        (f"arn:aws:iam::{ACCOUNT}:role/a/b/c/x.y+z=w,v@u_t-s", ACCOUNT, "x.y+z=w,v@u_t-s", "/a/b/c/"),
        ("arn:aws-cn:sts::123456789012:assumed-role/r/botocore-session-17", "123456789012", "r", None),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/r/s@example.com", "123456789012", "r", None),
    ],
)
def test_a_session_or_role_arn_names_its_role(arn: str, account: str, name: str, path: str | None) -> None:
    role = role_of(arn)
    assert (role.account_id, role.name, role.path) == (account, name, path)
    assert role.label == f"role/{name}" == caller_label(arn)


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{ACCOUNT}:user/alice",  # an IAM user
        f"arn:aws:iam::{ACCOUNT}:root",
        f"arn:aws:sts::{ACCOUNT}:federated-user/bob",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker",  # no session name
        f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker/x",  # a session name of one character
        "arn:aws:sts::12345:assumed-role/r/s1",  # not a 12-digit account
        f"arn:aws:iam::{ACCOUNT}:role/" + "n" * 65,  # a role name past 64 characters
        f"arn:aws:iam::{ACCOUNT}:role/a//b",
        "",
        *HOSTILE_STRINGS,
    ],
)
def test_anything_but_a_role_is_refused_in_one_line(arn: str) -> None:
    with pytest.raises(CallerRefused) as refused:
        role_of(arn)
    line = str(refused.value)
    assert "\n" not in line
    assert line.endswith("a caller trip blocks roles only") and len(line) < 200
    assert caller_label(arn) == arn  # said as it came


# -- the roles never blocked ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "path", "tags", "said"),
    [
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForBedrock/s1",
            "/aws-service-role/bedrock.amazonaws.com/",
            {},
            "role/AWSServiceRoleForBedrock is a service-linked role: tokenfuse never blocks it",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/custom-name/s1",
            "/aws-service-role/x.amazonaws.com/",
            {},
            "role/custom-name is a service-linked role: tokenfuse never blocks it",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/tokenfuse-member/s1",
            "/",
            {},
            "role/tokenfuse-member is one of tokenfuse's own roles: tokenfuse never blocks it",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/tokenfuse-member-forwarder/s1",
            "/",
            {},
            "role/tokenfuse-member-forwarder is one of tokenfuse's own roles: tokenfuse never blocks it",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/tokenfuse-remediate-prod/s1",
            "/",
            {},
            "role/tokenfuse-remediate-prod is one of tokenfuse's own roles: tokenfuse never blocks it",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/meter-role/s1",
            "/",
            {"tokenfuse:component": "meter"},
            "role/meter-role is one of tokenfuse's own roles: tokenfuse never blocks it",
        ),
        (
            "arn:aws:sts::999999999999:assumed-role/checkout-worker/s1",
            "/",
            {},
            f"role/checkout-worker is in account 999999999999, not the profile's {ACCOUNT}: not blocked",
        ),
        (SESSION, "/workloads/", {"team": "checkout"}, None),
    ],
)
def test_service_linked_and_tokenfuse_roles_are_never_targets(
    arn: str, path: str, tags: dict[str, str], said: str | None
) -> None:
    role = role_of(arn)
    answer = refusal(role, profile_account=ACCOUNT, member_role_name="tokenfuse-member", path=path, tags=tags)
    assert answer == said


# -- which callers a policy blocks ------------------------------------------------------------------


def test_callers_below_the_share_are_left_and_sessions_of_one_role_add_up() -> None:
    # Given three sessions of checkout-worker (0.15 + 0.15 + 0.2 = 0.5), search at 0.3, batch at 0.19
    callers = [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker/s1", 0.15),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/search-indexer/s1", 0.3),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker/s2", 0.15),
        (f"arn:aws:iam::{ACCOUNT}:role/checkout-worker", 0.2),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/batch/s1", 0.19),
    ]
    chosen = offending(callers, 0.2)
    assert [(caller_label(arn), round(share, 6)) for arn, share in chosen] == [
        ("role/checkout-worker", 0.5),
        ("role/search-indexer", 0.3),
    ]
    assert chosen[0][0].endswith("/s1")  # the first ARN seen for the role


def test_at_most_five_callers_are_blocked() -> None:
    callers = [(f"arn:aws:iam::{ACCOUNT}:role/r{i}", 0.01 * (i + 1)) for i in range(9)]
    chosen = offending(callers, 0.01)
    assert len(chosen) == MAX_CALLERS == 5
    assert [caller_label(arn) for arn, _ in chosen] == ["role/r8", "role/r7", "role/r6", "role/r5", "role/r4"]


def test_no_caller_named_blocks_nobody() -> None:
    assert offending([], 0.2) == []


# -- the guard SCP statement ------------------------------------------------------------------------


def test_the_statement_denies_the_profile_to_the_roles_on_principal_arn() -> None:
    sid = caller_sid(PROFILE, "a1b2c3d4e5f6")
    assert sid.startswith("TokenfuseCallersa1b2c3d4e5f6") and sid.isalnum() and len(sid) == 16 + 12 + 8
    assert caller_statement(sid, PROFILE, [ROLE]) == {
        "Sid": sid,
        "Effect": "Deny",
        "Action": DENIED,
        "Resource": [PROFILE],
        "Condition": {"ArnLike": {"aws:PrincipalArn": [ROLE]}},
    }


def test_profiles_of_the_same_id_in_two_accounts_get_two_statements() -> None:
    other = PROFILE.replace(ACCOUNT, "777788889999")
    assert caller_sid(PROFILE, "a1b2c3d4e5f6") != caller_sid(other, "a1b2c3d4e5f6")


def test_other_statements_stay_where_they_are() -> None:
    person = {"Sid": "PersonsOwn", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    document = empty_document()
    document["Statement"].insert(0, person)
    sid = caller_sid(PROFILE, "a1b2c3d4e5f6")

    added = with_callers(document, sid, PROFILE, [ROLE])
    assert added["Statement"][:2] == document["Statement"]
    assert listed_callers(added, sid) == [ROLE] and listed_arns(added) == []

    removed = with_callers(added, sid, PROFILE, [])
    assert removed == document


class FakeOrganizations:
    """DescribePolicy / UpdatePolicy on one policy, in memory (every write kept)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.content = json.dumps(document)
        self.writes: list[str] = []

    def describe_policy(self, PolicyId: str) -> dict[str, Any]:
        return {"Policy": {"PolicySummary": {"Id": PolicyId}, "Content": self.content}}

    def update_policy(self, PolicyId: str, Content: str) -> dict[str, Any]:
        self.content = Content
        self.writes.append(Content)
        return {}


def test_deny_then_undeny_keeps_a_role_a_person_added() -> None:
    org = FakeOrganizations(empty_document())
    guard = GuardScp(org, "p-guard")
    sid = caller_sid(PROFILE, "a1b2c3d4e5f6")
    assert guard.deny_callers(sid, PROFILE, [ROLE]) is True
    assert guard.deny_callers(sid, PROFILE, [ROLE]) is False  # already denied: nothing written
    assert len(org.writes) == 1
    persons = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    org.content = json.dumps(with_callers(json.loads(org.content), sid, PROFILE, [ROLE, persons]))

    assert guard.undeny_callers(sid, PROFILE, [ROLE]) is True
    assert guard.callers(sid) == [persons]
    assert guard.undeny_callers(sid, PROFILE, [ROLE]) is False


def test_a_statement_that_would_pass_5120_characters_is_never_written() -> None:
    # Given a guard 60 characters short of the limit
    filler = {"Sid": "Filler", "Effect": "Deny", "Action": "s3:GetObject", "Resource": ["x"]}
    document = {"Version": "2012-10-17", "Statement": [filler]}
    base = len(json.dumps(document, separators=(",", ":")))
    filler["Resource"] = ["x" * (MAX_SCP_CHARS - 60 - base)]
    org = FakeOrganizations(document)
    guard = GuardScp(org, "p-guard")
    sid = caller_sid(PROFILE, "a1b2c3d4e5f6")
    # When a caller statement (about 260 characters) is asked for
    size = guard.size_with_callers(sid, PROFILE, [ROLE])
    with pytest.raises(GuardPolicyFull, match=r"would be [\d,]+ characters \(limit 5,120\)"):
        guard.deny_callers(sid, PROFILE, [ROLE])
    # Then nothing was written, and the size it reported is the document's with the statement
    assert org.writes == []
    planned = with_callers(document, sid, PROFILE, [ROLE])
    assert size == len(json.dumps(planned, separators=(",", ":"))) > MAX_SCP_CHARS


# -- the policy's scope -----------------------------------------------------------------------------

DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {
                "name": "support-bot",
                "slack_channel": "C0SUPPORT1",
                "approvers": [{"slack_user_id": "U0SUPPORT1"}],
                "policies": {
                    "prod": {"mode": "auto", "action": "throttle", "scope": "caller", "cooldown_minutes": 15},
                    "fallback": {"mode": "approve", "scope": "caller", "profile_when_no_caller": True},
                    "detach": {"mode": "approve", "action": "detach", "scope": "caller"},
                },
            }
        ],
        "finops": {"slack_channel": "C0FINOPS01"},
    }
)


def _incident(environment: str, callers: list[dict[str, Any]] | None) -> Any:
    return remediation_incident(
        team="support-bot",
        environment=environment,
        profile_arn=PROFILE,
        profile_id="a1b2c3d4e5f6",
        profile_name="support-bot",
        account_id=ACCOUNT,
        culprit={"callers": callers, "share": 1.0, "subject": "profile"},  # other keys ignored
    )


def _decide(incident: Any, dry_run: bool = False) -> Any:
    return decide(
        incident, DIRECTORY, dry_run=dry_run, max_trips_per_hour=5, trips_last_hour=0, mechanism="guard-scp"
    )


def test_a_caller_policy_blocks_the_named_callers_and_says_who() -> None:
    callers = [
        {"role_arn": SESSION, "share": 0.9},
        {"role_arn": ROLE.replace("checkout", "search"), "share": 0.1},
    ]
    decided = _decide(_incident("prod", callers))
    assert (decided.mode, decided.scope, decided.callers) == ("auto", "caller", [SESSION])
    assert decided.callers_share == 0.9
    assert "caller scope: role/checkout-worker (each at least 20% of the spend)" in decided.reasons
    said = messages.policy_said(decided, "support-bot")
    assert said == "Policy: automatically block role/checkout-worker on support-bot for 15 min."


def test_no_caller_named_is_notify_only_unless_the_policy_falls_back_to_the_profile() -> None:
    alone = _decide(_incident("prod", None))
    assert (alone.mode, alone.decision, alone.callers) == ("notify", "notify", [])
    assert alone.reasons[-1].endswith("notify only")
    fallback = _decide(_incident("fallback", [{"role_arn": SESSION, "share": 0.1}]))  # below the share
    assert (fallback.mode, fallback.scope, fallback.callers) == ("approve", "profile", [])
    assert fallback.reasons[-1].endswith("the profile is blocked")


def test_the_approval_names_the_callers_and_how_long() -> None:
    decided = _decide(_incident("detach", [{"role_arn": SESSION, "share": 0.7}]))
    incident = _incident("detach", None)
    assert messages.approval_fallback(incident, decided) == (
        "Block role/checkout-worker on support-bot until restored?"
    )
    assert messages.policy_said(decided, "support-bot") == (
        "Asking support-bot on-call to approve: block role/checkout-worker on support-bot until restored."
    )
    assert messages.block_phrase(decided) == (
        "block role/checkout-worker on it until restored (a person restores it)"
    )


def test_a_dry_run_plans_the_caller_block() -> None:
    decided = _decide(_incident("prod", [{"role_arn": SESSION, "share": 0.9}]), dry_run=True)
    assert (decided.mode, decided.scope) == ("dry-run", "caller")
    assert messages.policy_said(decided, "support-bot") == (
        "DryRun: planning to block role/checkout-worker on support-bot for 15 min; nothing will be changed."
    )


def test_a_profile_policy_is_unchanged() -> None:
    decided = policy_decision()
    assert (decided.scope, decided.callers, decided.callers_share) == ("profile", [], 0.0)
    assert messages.caller_block(decided, "x") is None


# -- the trip's words -------------------------------------------------------------------------------


def test_the_trip_says_who_is_blocked_for_how_long_and_what_was_refused() -> None:
    record = TripRecord.model_validate(
        {
            "trip_id": "t1",
            "incident_id": "inc-1",
            "profile_arn": PROFILE,
            "profile_id": "a1b2c3d4e5f6",
            "profile_name": "support-bot",
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "action": "throttle",
            "mechanism": "guard-scp",
            "dry_run": False,
            "actor": "tokenfuse",
            "tripped_at": "2026-11-27T03:00:00Z",
            "restore_after": "2026-11-27T03:15:00Z",
            "scope": "caller",
            "callers": [CallerTarget(named_as=SESSION, role_name="checkout-worker", role_arn=ROLE).to_json()],
            "notes": ["role/tokenfuse-member is one of tokenfuse's own roles: tokenfuse never blocks it"],
            "caller_scp": {
                "policy_id": "p-guard",
                "sid": "TokenfuseCallersa1b2c3d4e5f6abcdef01",
                "role_arns": [ROLE],
                "arns_before": [],
                "added": [ROLE],
                "status": "applied",
            },
            "complete": True,
        }
    )
    assert record.deny_in_force and record.all_applied
    assert messages.trip_said(record) == (
        ":no_entry: Blocked role/checkout-worker on support-bot for 15 min: guard SCP "
        "p-guard denies the profile to role/checkout-worker (ArnLike aws:PrincipalArn). The block lifts "
        "at 03:15 UTC (automatic restore). Note: role/tokenfuse-member is one of tokenfuse's own "
        "roles: tokenfuse never blocks it."
    )
    assert record.caller_scp is not None
    pending = record.caller_scp.model_copy(update={"status": "pending"})
    not_yet = record.model_copy(update={"caller_scp": pending})
    assert not not_yet.deny_in_force
