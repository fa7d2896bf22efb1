"""Caller-scope trips against moto (Organizations, IAM, STS, the Bedrock profile API): the guard
SCP's statement for the profile on the caller's role ARN with its path, nothing else changed; the
inline deny where the guard would pass 5,120 characters; refusals; restore that keeps what a person
added to the SCP meanwhile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import MAX_SCP_CHARS, empty_document
from tokenfuse.adapters.iam_deny import policy_name
from tokenfuse.remediation.access import AccountAccess
from tokenfuse.remediation.caller_scope import caller_sid
from tokenfuse.remediation.errors import NothingToTrip
from tokenfuse.remediation.models import PolicyDecision, RemediationIncident
from tokenfuse.remediation.settings import TripMechanism
from tokenfuse.remediation.trip import STATE_TAG_KEY, Tripper
from tokenfuse_sandbox.emulation import bedrock_profiles
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account: the profile, the roles and the guard
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
TABLE = "approvals"
DENIED = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
WORKER = f"arn:aws:iam::{ACCOUNT}:role/workloads/checkout-worker"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/checkout-worker/i-0abc1234"
PERSONS = {"Sid": "PersonsOwn", "Effect": "Deny", "Action": "bedrock:DeleteInferenceProfile", "Resource": "*"}


class Org:
    """The guard SCP (with a person's statement of their own), the profile and its caller roles."""

    def __init__(self) -> None:
        self.org = boto3.client("organizations", region_name=REGION)
        self.org.create_organization(FeatureSet="ALL")
        document = empty_document()
        document["Statement"].insert(0, PERSONS)
        self.policy_id: str = self.org.create_policy(
            Name="tokenfuse-guard",
            Description="guard",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(document),
        )["Policy"]["PolicySummary"]["Id"]
        self.iam = boto3.client("iam", region_name=REGION)
        for name, path in [
            ("checkout-worker", "/workloads/"),
            ("search-indexer", "/"),
            ("tokenfuse-member", "/"),
        ]:
            self.iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument="{}")
        self.slr = self.iam.create_service_linked_role(AWSServiceName="bedrock.amazonaws.com")["Role"]
        self.profile_arn: str = boto3.client("bedrock", region_name=REGION).create_inference_profile(
            inferenceProfileName="support-bot",
            modelSource={"copyFrom": HAIKU},
            tags=[{"key": "team", "value": "support-bot"}, {"key": STATE_TAG_KEY, "value": "watching"}],
        )["inferenceProfileArn"]
        self.profile_id = self.profile_arn.rsplit("/", 1)[-1]
        self.sid = caller_sid(self.profile_arn, self.profile_id)

    def document(self) -> dict[str, Any]:
        content = self.org.describe_policy(PolicyId=self.policy_id)["Policy"]["Content"]
        parsed: dict[str, Any] = json.loads(content)
        return parsed

    def write(self, document: dict[str, Any]) -> None:
        self.org.update_policy(PolicyId=self.policy_id, Content=json.dumps(document, separators=(",", ":")))

    def tag(self) -> str | None:
        listed = boto3.client("bedrock", region_name=REGION).list_tags_for_resource(
            resourceARN=self.profile_arn
        )
        return {t["key"]: t["value"] for t in listed["tags"]}.get(STATE_TAG_KEY)

    def inline(self, role: str) -> dict[str, Any] | None:
        names = self.iam.list_role_policies(RoleName=role)["PolicyNames"]
        if policy_name(self.profile_id) not in names:
            return None
        got = self.iam.get_role_policy(RoleName=role, PolicyName=policy_name(self.profile_id))[
            "PolicyDocument"
        ]
        document: dict[str, Any] = json.loads(got) if isinstance(got, str) else dict(got)
        return document

    def incident(self) -> RemediationIncident:
        return RemediationIncident.model_validate(
            {
                "incident_id": "inc-caller-1",
                "profile_arn": self.profile_arn,
                "profile_id": self.profile_id,
                "profile_name": "support-bot",
                "account_id": ACCOUNT,
                "region": REGION,
                "team": "support-bot",
                "culprit": {"callers": [{"role_arn": SESSION, "share": 0.9}]},
            }
        )


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bedrock_profiles.install()
    with mock_aws():
        aws_adapter.default_session.cache_clear()
        table = load_yaml(ROOT / "template.yaml")["Resources"]["ApprovalsTable"]["Properties"]
        boto3.client("dynamodb", region_name=REGION).create_table(  # the template's own key schema
            TableName=TABLE,
            KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Org()
        aws_adapter.default_session.cache_clear()


def _policy(callers: list[str], action: str = "throttle", dry_run: bool = False) -> PolicyDecision:
    return PolicyDecision.model_validate(
        {
            "mode": "auto",
            "team_mode": "auto",
            "action": action,
            "decision": "auto",
            "reasons": [],
            "team": "support-bot",
            "approver_team": "support-bot",
            "environment": "prod",
            "approval_timeout_seconds": 900,
            "snooze_seconds": 3600,
            "verify_delay_seconds": 60,
            "cooldown_seconds": 900,
            "on_timeout": "none",
            "dry_run": dry_run,
            "mechanism": "guard-scp",
            "trips_last_hour": 0,
            "scope": "caller",
            "callers": callers,
            "callers_share": 0.9,
        }
    )


def _tripper(org: Org, mechanism: TripMechanism = "guard-scp", dry_run: bool = False) -> Tripper:
    access = AccountAccess("tokenfuse-member", base=boto3.Session(region_name=REGION), own_account=ACCOUNT)
    return Tripper(
        ApprovalsTable(TABLE),
        access,
        lambda: access.guard(org.policy_id, "tokenfuse-guard"),
        mechanism=mechanism,
        dry_run=dry_run,
    )


def test_the_guard_denies_the_profile_to_the_callers_role_with_its_path(org: Org) -> None:
    # When the caller trip runs for a session of checkout-worker (path /workloads/)
    record = _tripper(org).trip(org.incident(), _policy([SESSION]), "tokenfuse")

    # Then the guard holds one statement more: the profile, denied to that role's ARN with its path
    assert record.complete and record.scope == "caller" and record.deny_in_force
    assert [(t.role_name, t.role_arn, t.named_as) for t in record.callers] == [
        ("checkout-worker", WORKER, SESSION)
    ]
    statements = org.document()["Statement"]
    assert statements[0] == PERSONS
    assert statements[-1] == {
        "Sid": org.sid,
        "Effect": "Deny",
        "Action": DENIED,
        "Resource": [org.profile_arn],
        "Condition": {"ArnLike": {"aws:PrincipalArn": [WORKER]}},
    }
    assert len(statements) == 3  # the person's, the (empty) profile list, the caller statement
    # And nothing else changed: no state tag (it would block every caller), no inline deny
    assert org.tag() == "watching" and record.tag is None and record.scp is None
    assert org.inline("checkout-worker") is None and org.inline("search-indexer") is None
    assert record.caller_scp is not None and record.caller_scp.added == [WORKER]


def test_restore_removes_only_the_trips_role_and_keeps_what_a_person_added(org: Org) -> None:
    tripper = _tripper(org)
    record = tripper.trip(org.incident(), _policy([SESSION]), "tokenfuse")
    # Given a person who meanwhile denies another role in the same statement, and adds a statement
    document = org.document()
    other = f"arn:aws:iam::{ACCOUNT}:role/search-indexer"
    document["Statement"][-1]["Condition"]["ArnLike"]["aws:PrincipalArn"].append(other)
    late = {
        "Sid": "PersonsLate",
        "Effect": "Deny",
        "Action": "bedrock:CreateModelCustomizationJob",
        "Resource": "*",
    }
    document["Statement"].append(late)
    org.write(document)

    # When the trip is restored
    result = tripper.restore(org.profile_arn, record.trip_id)

    # Then only checkout-worker is gone from the statement; the person's role and statements stay
    assert result.restored and result.actions == [
        "guard SCP: role/checkout-worker no longer denied on the profile"
    ]
    statements = {s["Sid"]: s for s in org.document()["Statement"]}
    assert statements[org.sid]["Condition"] == {"ArnLike": {"aws:PrincipalArn": [other]}}
    assert statements["PersonsOwn"] == PERSONS and statements["PersonsLate"] == late
    assert ApprovalsTable(TABLE).get_trip(org.profile_arn) is None


def test_restore_removes_the_statement_when_it_denies_nobody_else(org: Org) -> None:
    before = org.document()
    tripper = _tripper(org)
    record = tripper.trip(org.incident(), _policy([SESSION]), "tokenfuse")
    tripper.restore(org.profile_arn, record.trip_id)
    assert org.document() == before


def test_where_the_guard_would_pass_5120_characters_each_role_gets_an_inline_deny(org: Org) -> None:
    # Given a guard SCP 100 characters short of Organizations' limit
    document = org.document()
    filler: dict[str, Any] = {"Sid": "Filler", "Effect": "Deny", "Action": "s3:GetObject", "Resource": ["x"]}
    document["Statement"].append(filler)
    size = len(json.dumps(document, separators=(",", ":")))
    filler["Resource"] = ["x" * (1 + MAX_SCP_CHARS - 100 - size)]
    org.write(document)
    full = org.document()

    # When the caller trip runs
    record = _tripper(org).trip(org.incident(), _policy([SESSION]), "tokenfuse")

    # Then the guard is untouched and the role carries tokenfuse's deny of the profile instead
    assert org.document() == full
    assert record.complete and record.deny_in_force and record.caller_scp is None
    assert org.inline("checkout-worker") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TokenfuseTrippedProfile",
                "Effect": "Deny",
                "Action": DENIED,
                "Resource": [org.profile_arn],
            }
        ],
    }
    assert org.inline("search-indexer") is None
    # And the audit says why: the record's notes, in the thread's words
    (note,) = record.notes
    assert note.startswith("the guard SCP would be ") and "(limit 5,120)" in note
    assert note.endswith("an inline deny on role/checkout-worker instead of the guard SCP statement")

    # And restore deletes the inline policy tokenfuse wrote
    assert _tripper(org).restore(org.profile_arn, record.trip_id).restored
    assert org.inline("checkout-worker") is None and org.document() == full


def test_inline_deny_mechanism_blocks_the_role_inline(org: Org) -> None:
    record = _tripper(org, mechanism="inline-deny").trip(org.incident(), _policy([SESSION]), "tokenfuse")
    assert record.complete and record.notes == [] and record.role_policies[0].role_name == "checkout-worker"
    assert org.inline("checkout-worker") is not None and org.inline("search-indexer") is None
    assert len(org.document()["Statement"]) == 2  # the guard untouched


def test_roles_never_blocked_are_refused_in_one_line_each_and_the_rest_is_blocked(org: Org) -> None:
    slr = f"arn:aws:sts::{ACCOUNT}:assumed-role/{org.slr['RoleName']}/bedrock-session"
    callers = [
        SESSION,
        slr,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/tokenfuse-member/tokenfuse-remediate",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/gone-role/s1",
    ]
    record = _tripper(org).trip(org.incident(), _policy(callers), "tokenfuse")
    assert [t.role_name for t in record.callers] == ["checkout-worker"]
    assert record.notes == [
        f"role/{org.slr['RoleName']} is a service-linked role: tokenfuse never blocks it",
        "role/tokenfuse-member is one of tokenfuse's own roles: tokenfuse never blocks it",
        f"'arn:aws:iam::{ACCOUNT}:user/alice' is no role or role session ARN: "
        "a caller trip blocks roles only",
        f"role/gone-role: no such role in account {ACCOUNT}: not blocked",
    ]
    assert record.caller_scp is not None and record.caller_scp.role_arns == [WORKER]


def test_nobody_left_to_block_changes_nothing(org: Org) -> None:
    before = org.document()
    slr = f"arn:aws:sts::{ACCOUNT}:assumed-role/{org.slr['RoleName']}/s1"
    with pytest.raises(NothingToTrip, match=r"no caller of .* can be blocked .*service-linked role"):
        _tripper(org).trip(org.incident(), _policy([slr]), "tokenfuse")
    assert org.document() == before and ApprovalsTable(TABLE).get_trip(org.profile_arn) is None


def test_a_dry_run_plans_the_block_and_changes_nothing(org: Org) -> None:
    before = org.document()
    record = _tripper(org, dry_run=True).trip(org.incident(), _policy([SESSION], dry_run=True), "tokenfuse")
    assert record.dry_run and record.complete and record.caller_scp is not None
    assert record.caller_scp.role_arns == [WORKER] and record.caller_scp.status == "pending"
    assert org.document() == before and ApprovalsTable(TABLE).get_trip(org.profile_arn) is None


def test_a_second_trip_of_the_same_incident_is_the_same_record(org: Org) -> None:
    tripper = _tripper(org)
    first = tripper.trip(org.incident(), _policy([SESSION]), "tokenfuse")
    again = tripper.trip(org.incident(), _policy([SESSION]), "tokenfuse")
    assert again.to_json() == first.to_json()
    assert len(org.document()["Statement"]) == 3
