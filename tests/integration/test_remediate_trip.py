"""Trip and restore round trips against moto: the guard SCP, the state tag, inline denies on caller
roles, reserved concurrency on caller functions; prior state put back exactly, and a change made
meanwhile by someone else survives."""

import io
import json
import zipfile
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.guard_scp import PLACEHOLDER_ARN, empty_document, listed_arns
from tokenfuse.adapters.iam_deny import deny_document
from tokenfuse.errors import AccessDenied
from tokenfuse.remediation.access import AccountAccess
from tokenfuse.remediation.errors import NothingToTrip, ProtectedProfile, RestoreIncomplete
from tokenfuse.remediation.models import PolicyDecision, RemediationIncident
from tokenfuse.remediation.trip import STATE_TAG_KEY, Tripper
from tokenfuse_sandbox.emulation import bedrock_profiles

REGION = "us-east-1"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
OTHER_ARN = f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/someoneelse1"
TABLE = "approvals"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bedrock_profiles.install()
    with mock_aws():
        from tokenfuse.adapters import aws as aws_adapter

        aws_adapter.default_session.cache_clear()
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        org = boto3.client("organizations", region_name=REGION)
        org.create_organization(FeatureSet="ALL")
        policy_id = org.create_policy(
            Name="tokenfuse-guard",
            Description="tokenfuse guard",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(empty_document()),
        )["Policy"]["PolicySummary"]["Id"]
        root = org.list_roots()["Roots"][0]["Id"]
        org.attach_policy(PolicyId=policy_id, TargetId=root)
        yield {"policy_id": policy_id}
        aws_adapter.default_session.cache_clear()


def _profile(tags: dict[str, str], region=REGION, session=None) -> str:
    client = (session or boto3).client("bedrock", region_name=region)
    return client.create_inference_profile(
        inferenceProfileName=f"p{len(tags)}-{datetime.now(UTC).timestamp()}".replace(".", ""),
        modelSource={"copyFrom": HAIKU},
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )["inferenceProfileArn"]


def _tags(arn, session=None):
    client = (session or boto3).client("bedrock", region_name=REGION)
    return {t["key"]: t["value"] for t in client.list_tags_for_resource(resourceARN=arn)["tags"]}


def _role(name, session=None):
    iam = (session or boto3).client("iam", region_name=REGION)
    return iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]


def _function(name, role_arn, session=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    (session or boto3).client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )


def _incident(arn, account="123456789012", protected=False):
    return RemediationIncident(
        incident_id="inc-1",
        profile_arn=arn,
        profile_id=arn.rsplit("/", 1)[-1],
        account_id=account,
        region=REGION,
        team="search",
        environment="prod",
        protected=protected,
    )


def _policy(action="detach", dry_run=False, mechanism="guard-scp"):
    return PolicyDecision(
        mode="auto",
        team_mode="auto",
        action=action,
        decision="auto",
        reasons=[],
        team="search",
        approver_team="search",
        environment="prod",
        approval_timeout_seconds=900,
        snooze_seconds=3600,
        verify_delay_seconds=300,
        cooldown_seconds=3600,
        on_timeout="none",
        dry_run=dry_run,
        mechanism=mechanism,
        trips_last_hour=0,
    )


def _tripper(aws, mechanism="guard-scp", dry_run=False, access=None):
    access = access or AccountAccess("tokenfuse-member", base=boto3.Session(region_name=REGION))
    return Tripper(
        ApprovalsTable(TABLE),
        access,
        lambda: access.guard(aws["policy_id"], "tokenfuse-guard"),
        mechanism=mechanism,
        dry_run=dry_run,
        throttle_concurrency=1,
    )


def _scp_arns(aws):
    org = boto3.client("organizations", region_name=REGION)
    return listed_arns(json.loads(org.describe_policy(PolicyId=aws["policy_id"])["Policy"]["Content"]))


def _add_to_scp(aws, arn):
    from tokenfuse.adapters.guard_scp import with_arns

    org = boto3.client("organizations", region_name=REGION)
    doc = json.loads(org.describe_policy(PolicyId=aws["policy_id"])["Policy"]["Content"])
    org.update_policy(PolicyId=aws["policy_id"], Content=json.dumps(with_arns(doc, [*listed_arns(doc), arn])))


def test_guard_scp_trip_and_restore_leaves_someone_elses_arn(aws):
    arn = _profile({"team": "search"})
    tripper = _tripper(aws)

    record = tripper.trip(_incident(arn), _policy(), "U0ALICE001")

    assert record.complete and not record.dry_run
    assert record.scp.arns_before == [] and record.scp.added
    assert _scp_arns(aws) == [arn]
    assert _tags(arn)[STATE_TAG_KEY] == "tripped"
    assert record.tag.previous is None
    stored = ApprovalsTable(TABLE).get_trip(arn)
    assert stored["trip_id"] == record.trip_id

    _add_to_scp(aws, OTHER_ARN)  # someone else lists another profile meanwhile
    result = tripper.restore(arn, record.trip_id)

    assert result.restored
    assert _scp_arns(aws) == [OTHER_ARN]
    assert STATE_TAG_KEY not in _tags(arn)
    assert ApprovalsTable(TABLE).get_trip(arn) is None
    assert tripper.restore(arn, record.trip_id).note == "no active trip"


def test_empty_scp_keeps_a_placeholder_resource(aws):
    arn = _profile({"team": "search"})
    tripper = _tripper(aws)
    record = tripper.trip(_incident(arn), _policy(), "tokenfuse")
    tripper.restore(arn, record.trip_id)
    org = boto3.client("organizations", region_name=REGION)
    doc = json.loads(org.describe_policy(PolicyId=aws["policy_id"])["Policy"]["Content"])
    assert doc["Statement"][-1]["Resource"] == [PLACEHOLDER_ARN]
    # IAM has no bedrock:Converse* action: Converse and ConverseStream are authorized as these two
    assert doc["Statement"][-1]["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def test_tag_prior_value_is_restored(aws):
    arn = _profile({"team": "search", STATE_TAG_KEY: "watching"})
    tripper = _tripper(aws)
    record = tripper.trip(_incident(arn), _policy(), "tokenfuse")
    assert record.tag.previous == "watching"
    assert _tags(arn)[STATE_TAG_KEY] == "tripped"
    tripper.restore(arn)
    assert _tags(arn)[STATE_TAG_KEY] == "watching"


def test_arn_already_listed_is_not_removed_by_restore(aws):
    arn = _profile({"team": "search"})
    _add_to_scp(aws, arn)  # a person listed it before tokenfuse
    tripper = _tripper(aws)
    record = tripper.trip(_incident(arn), _policy(), "tokenfuse")
    assert not record.scp.added
    tripper.restore(arn)
    assert _scp_arns(aws) == [arn]


def test_inline_deny_added_and_removed_and_prior_document_restored(aws):
    _role("caller-a")
    _role("caller-b")
    iam = boto3.client("iam", region_name=REGION)
    arn = _profile({"team": "search", "tokenfuse:callers": "caller-a role/caller-b"})
    name = f"tokenfuse-trip-{arn.rsplit('/', 1)[-1]}"
    previous = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="caller-b", PolicyName=name, PolicyDocument=json.dumps(previous))
    tripper = _tripper(aws, mechanism="inline-deny")

    record = tripper.trip(_incident(arn), _policy(mechanism="inline-deny"), "tokenfuse")

    assert record.scp is None
    assert [(c.role_name, c.previous_document) for c in record.role_policies] == [
        ("caller-a", None),
        ("caller-b", previous),
    ]
    assert iam.get_role_policy(RoleName="caller-a", PolicyName=name)["PolicyDocument"] == deny_document(arn)
    # the policy caller-b held under that name keeps its statements beside tokenfuse's deny
    merged = iam.get_role_policy(RoleName="caller-b", PolicyName=name)["PolicyDocument"]
    assert merged["Statement"] == [*previous["Statement"], *deny_document(arn)["Statement"]]
    assert _scp_arns(aws) == []

    tripper.restore(arn)
    assert iam.list_role_policies(RoleName="caller-a")["PolicyNames"] == []
    assert iam.get_role_policy(RoleName="caller-b", PolicyName=name)["PolicyDocument"] == previous


def test_inline_deny_without_caller_roles_is_nothing_to_trip(aws):
    arn = _profile({"team": "search"})
    with pytest.raises(NothingToTrip):
        _tripper(aws, mechanism="inline-deny").trip(
            _incident(arn), _policy(mechanism="inline-deny"), "tokenfuse"
        )


def test_throttle_caps_concurrency_and_restores_prior_value_and_none(aws):
    role = _role("fn-role")
    _function("reserved-fn", role)
    _function("open-fn", role)
    lam = boto3.client("lambda", region_name=REGION)
    lam.put_function_concurrency(FunctionName="reserved-fn", ReservedConcurrentExecutions=25)
    arn = _profile({"team": "search", "tokenfuse:callers": "function:reserved-fn open-fn"})
    tripper = _tripper(aws)

    record = tripper.trip(_incident(arn), _policy(action="throttle"), "tokenfuse")

    assert [(c.function_name, c.previous, c.set_to) for c in record.concurrency] == [
        ("reserved-fn", 25, 1),
        ("open-fn", None, 1),
    ]
    assert record.restore_after is not None
    assert lam.get_function_concurrency(FunctionName="reserved-fn")["ReservedConcurrentExecutions"] == 1
    assert lam.get_function_concurrency(FunctionName="open-fn")["ReservedConcurrentExecutions"] == 1

    tripper.restore(arn, record.trip_id)
    assert lam.get_function_concurrency(FunctionName="reserved-fn")["ReservedConcurrentExecutions"] == 25
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="open-fn")


def test_a_concurrency_changed_meanwhile_survives_restore(aws):
    role = _role("fn-role")
    _function("busy-fn", role)
    lam = boto3.client("lambda", region_name=REGION)
    arn = _profile({"team": "search", "tokenfuse:callers": "busy-fn"})
    tripper = _tripper(aws)
    tripper.trip(_incident(arn), _policy(action="throttle"), "tokenfuse")
    lam.put_function_concurrency(FunctionName="busy-fn", ReservedConcurrentExecutions=7)  # a person
    result = tripper.restore(arn)
    assert any("changed since the trip" in a for a in result.actions)
    assert lam.get_function_concurrency(FunctionName="busy-fn")["ReservedConcurrentExecutions"] == 7


def test_dry_run_plans_and_changes_nothing(aws):
    _role("caller-a")
    arn = _profile({"team": "search", "tokenfuse:callers": "caller-a"})
    record = _tripper(aws, dry_run=True).trip(_incident(arn), _policy(dry_run=True), "tokenfuse")
    assert record.dry_run and record.scp.added and record.tag.set_to == "tripped"
    assert _scp_arns(aws) == []
    assert STATE_TAG_KEY not in _tags(arn)
    assert ApprovalsTable(TABLE).get_trip(arn) is None


def test_protected_tag_refuses_the_trip(aws):
    arn = _profile({"team": "search", "tokenfuse:protected": "true"})
    with pytest.raises(ProtectedProfile):
        _tripper(aws).trip(_incident(arn), _policy(), "tokenfuse")
    assert _scp_arns(aws) == []


class DeniedTags:
    """The state tag cannot be written (bedrock:TagResource denied); reads work."""

    def __init__(self, real):
        self.real = real

    def get(self, arn):
        return self.real.get(arn)

    def set(self, *args):
        raise AccessDenied("bedrock:TagResource denied")


def _denied_tags_access():
    access = AccountAccess("tokenfuse-member", base=boto3.Session(region_name=REGION))
    real_tags = access.tags
    access.tags = lambda account, region: DeniedTags(real_tags(account, region))  # type: ignore[method-assign]
    return access


def test_a_denied_tag_after_the_deny_is_a_recorded_partial_trip(aws):
    # Given a profile whose state tag tokenfuse may not write
    arn = _profile({"team": "search"})
    tripper = _tripper(aws, access=_denied_tags_access())

    # When it is tripped
    record = tripper.trip(_incident(arn), _policy(), "tokenfuse")

    # Then the deny (what stops the spend) stays, and the record says exactly that and no more
    assert _scp_arns(aws) == [arn] and STATE_TAG_KEY not in _tags(arn)
    stored = ApprovalsTable(TABLE).get_trip(arn)
    assert stored == record.to_json()
    assert not record.complete and record.deny_in_force
    assert record.scp.status == "applied" and record.tag is None
    assert record.problems == ["tokenfuse:state tag not set: AccessDenied: bedrock:TagResource denied"]
    # And restore puts back what was applied
    assert _tripper(aws).restore(arn).restored
    assert _scp_arns(aws) == [] and ApprovalsTable(TABLE).get_trip(arn) is None


def test_a_retried_partial_trip_completes_without_applying_anything_twice(aws):
    arn = _profile({"team": "search", STATE_TAG_KEY: "watching"})
    first = _tripper(aws, access=_denied_tags_access()).trip(_incident(arn), _policy(), "tokenfuse")
    assert not first.complete

    again = _tripper(aws).trip(_incident(arn), _policy(), "tokenfuse")  # the permission is fixed

    assert again.complete and again.trip_id == first.trip_id
    assert again.scp == first.scp  # the deny was not applied twice: same prior list, still ours
    assert again.tag.previous == "watching" and _tags(arn)[STATE_TAG_KEY] == "tripped"
    _tripper(aws).restore(arn)
    assert _scp_arns(aws) == [] and _tags(arn)[STATE_TAG_KEY] == "watching"


def test_cross_account_profile_through_the_member_role(aws):
    member_account = "222222222222"
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member_account}:role/admin", RoleSessionName="setup")[
        "Credentials"
    ]
    member = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    _role("tokenfuse-member", session=member)
    arn = _profile({"team": "search"}, session=member)
    assert f":{member_account}:" in arn
    tripper = _tripper(aws)

    record = tripper.trip(_incident(arn, account=member_account), _policy(), "tokenfuse")

    assert _tags(arn, session=member)[STATE_TAG_KEY] == "tripped"
    assert _scp_arns(aws) == [arn]
    tripper.restore(arn, record.trip_id)
    assert STATE_TAG_KEY not in _tags(arn, session=member)


def test_restore_all_lifts_every_trip(aws):
    arns = [_profile({"team": "search", "n": str(i)}) for i in range(3)]
    tripper = _tripper(aws)
    for arn in arns:
        tripper.trip(_incident(arn), _policy(), "tokenfuse")
    assert sorted(_scp_arns(aws)) == sorted(arns)
    results = tripper.restore_all()
    assert all(r.restored for r in results) and len(results) == 3
    assert _scp_arns(aws) == []
    assert ApprovalsTable(TABLE).list_trips() == []


def test_restore_keeps_statements_a_person_added_to_tokenfuses_inline_policy(aws):
    # Given an inline-deny trip on a caller role
    _role("caller-a")
    iam = boto3.client("iam", region_name=REGION)
    arn = _profile({"team": "search", "tokenfuse:callers": "role/caller-a"})
    tripper = _tripper(aws, mechanism="inline-deny")
    tripper.trip(_incident(arn), _policy(mechanism="inline-deny"), "tokenfuse")
    name = f"tokenfuse-trip-{arn.rsplit('/', 1)[-1]}"
    # And a person adds a statement of their own to that policy meanwhile
    theirs = {"Sid": "OncallAddedThis", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    edited = iam.get_role_policy(RoleName="caller-a", PolicyName=name)["PolicyDocument"]
    edited["Statement"].append(theirs)
    iam.put_role_policy(RoleName="caller-a", PolicyName=name, PolicyDocument=json.dumps(edited))

    # When the trip is restored
    result = tripper.restore(arn)

    # Then only tokenfuse's statement is gone; theirs stays, and restore says so
    left = iam.get_role_policy(RoleName="caller-a", PolicyName=name)["PolicyDocument"]
    assert left["Statement"] == [theirs]
    assert result.restored
    assert f"caller-a: tokenfuse's statement removed from {name}; 1 other statement(s) kept" in result.actions


def test_restore_keeps_what_a_person_added_to_the_guard_scp(aws):
    arn = _profile({"team": "search"})
    tripper = _tripper(aws)
    tripper.trip(_incident(arn), _policy(), "tokenfuse")
    org = boto3.client("organizations", region_name=REGION)
    document = json.loads(org.describe_policy(PolicyId=aws["policy_id"])["Policy"]["Content"])
    theirs = {
        "Sid": "NoDeletes",
        "Effect": "Deny",
        "Action": "bedrock:DeleteInferenceProfile",
        "Resource": "*",
    }
    document["Statement"].insert(0, theirs)
    org.update_policy(PolicyId=aws["policy_id"], Content=json.dumps(document))
    _add_to_scp(aws, OTHER_ARN)

    assert tripper.restore(arn).restored

    after = json.loads(org.describe_policy(PolicyId=aws["policy_id"])["Policy"]["Content"])
    assert theirs in after["Statement"] and listed_arns(after) == [OTHER_ARN]


class StickyRoles:
    """IAM accepts the writes but the policy does not change (what a restore must not miss)."""

    def __init__(self, real):
        self.real = real

    def get(self, role, name):
        return self.real.get(role, name)

    def put(self, role, name, document):
        return None

    def delete(self, role, name):
        return True


def test_restore_never_says_restored_while_tokenfuses_deny_is_still_there(aws):
    _role("caller-a")
    arn = _profile({"team": "search", "tokenfuse:callers": "role/caller-a"})
    _tripper(aws, mechanism="inline-deny").trip(_incident(arn), _policy(mechanism="inline-deny"), "tokenfuse")
    access = AccountAccess("tokenfuse-member", base=boto3.Session(region_name=REGION))
    real_roles = access.roles
    access.roles = lambda account: StickyRoles(real_roles(account))  # type: ignore[method-assign]

    with pytest.raises(RestoreIncomplete, match=r"tokenfuse's deny is still in .* after removing it"):
        _tripper(aws, mechanism="inline-deny", access=access).restore(arn)

    stored = ApprovalsTable(TABLE).get_trip(arn)
    assert [c["role_name"] for c in stored["role_policies"]] == ["caller-a"]  # still recorded: still in force
    iam = boto3.client("iam", region_name=REGION)
    name = f"tokenfuse-trip-{arn.rsplit('/', 1)[-1]}"
    assert iam.get_role_policy(RoleName="caller-a", PolicyName=name)["PolicyDocument"] == deny_document(arn)
