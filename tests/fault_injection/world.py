"""The world every fault-injection case starts from, in moto: a tooling account holding the guard
SCP, the approvals table and the bus; a member account (reached through its ``tokenfuse-member``
role, so AssumeRole is one of the calls) with the profile, two caller roles, two caller functions,
and an inline policy a person already had under tokenfuse's policy name."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import lambda_backends
from moto.bedrock.models import bedrock_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends

from tests.fault_injection.faults import FaultInjector
from tests.support.moto_state import empty_table
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.guard_scp import empty_document, listed_arns
from tokenfuse.remediation import tasks
from tokenfuse.remediation.models import TripRecord
from tokenfuse.remediation.settings import RemediateSettings, TripMechanism
from tokenfuse.teams import TeamDirectory
from tokenfuse_sandbox.emulation import bedrock_profiles
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
MEMBER = "222222222222"
TABLE = "tokenfuse-approvals-faults"
BUS = "tokenfuse-faults"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
THREAD, FINOPS_CHANNEL = "C0SEARCH01", "C0FINOPS01"
CALLER_ROLES = ("caller-a", "caller-b")
CALLER_SHARES = (0.6, 0.4)  # a caller-scope policy blocks both (each at least 20% of the spend)
FUNCTIONS = {"worker-a": 25, "worker-b": None}  # reserved concurrency before the trip
WORKER_ROLE = "worker-role"
PERSONS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PersonsOwn", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {
                "name": "search",
                "slack_channel": THREAD,
                "approvers": [{"slack_user_id": "U0ALICE001"}],
                "policies": {
                    "throttle": {"mode": "auto", "action": "throttle", "cooldown_minutes": 30},
                    "detach": {"mode": "auto", "action": "detach"},
                    "caller-throttle": {
                        "mode": "auto",
                        "action": "throttle",
                        "scope": "caller",
                        "cooldown_minutes": 30,
                    },
                    "caller-detach": {"mode": "auto", "action": "detach", "scope": "caller"},
                },
            }
        ],
        "finops": {"slack_channel": FINOPS_CHANNEL, "emails": ["finops@example.com"]},
    }
)


class Recorder:
    """Slack and SES as tokenfuse's ports see them: every message kept, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def post(self, channel: str, text: str, *, thread_ts: str | None = None, blocks: Any = None) -> str:
        self.messages.append((channel, text))
        return f"{len(self.messages)}.0"

    def send(self, to: list[str], subject: str, text: str, html: str | None = None) -> None:
        self.messages.append(("email:" + ",".join(to), text))

    def said(self, channel: str) -> list[str]:
        return [text for where, text in self.messages if where == channel]


@dataclass
class World:
    policy_id: str
    profile_arn: str
    member: boto3.Session
    faults: FaultInjector
    guard_document: dict[str, Any]
    recorder: Recorder = field(default_factory=Recorder)
    clients: dict[str, Any] = field(default_factory=dict)
    pristine: dict[str, Any] = field(default_factory=dict)

    @property
    def profile_id(self) -> str:
        return self.profile_arn.rsplit("/", 1)[-1]

    @property
    def policy_name(self) -> str:
        return f"tokenfuse-trip-{self.profile_id}"

    def deps(self, mechanism: TripMechanism) -> tasks.Deps:
        """What the remediate handler builds for each invocation (its member-role session is the
        container's kept one: :func:`tests.fault_injection.flow.remediate` starts each armed task cold)."""
        settings = RemediateSettings(
            approvals_table_name=TABLE,
            event_bus_name=BUS,
            dry_run=False,
            trip_mechanism=mechanism,
            guard_policy_id=self.policy_id,
            finops_slack_channel=FINOPS_CHANNEL,
        )
        return tasks.Deps(
            settings,
            own_account=DEFAULT_ACCOUNT_ID,  # the handler reads it from its context (no STS call)
            chat=self.recorder,
            email=self.recorder,
            directory=DIRECTORY,
            **self._adapters(),
        )

    def _adapters(self) -> dict[str, Any]:
        """The table and bus adapters, plain wrappers of one client each: shared across invocations
        and the world's own reads to keep the suite quick (their calls are made, and faulted, all the
        same)."""
        if "shared" not in self.clients:
            self.clients["shared"] = {"table": ApprovalsTable(TABLE), "bus": EventBus(BUS)}
        adapters: dict[str, Any] = self.clients["shared"]
        return adapters

    def incident(self, action: str) -> dict[str, Any]:
        """The incident; for a ``caller-*`` policy its culprit names the callers (as the meter does)."""
        callers = [
            {"role_arn": f"arn:aws:sts::{MEMBER}:assumed-role/{role}/session-1", "share": share}
            for role, share in zip(CALLER_ROLES, CALLER_SHARES, strict=True)
        ]
        return {
            **({"culprit": {"callers": callers}} if action.startswith("caller-") else {}),
            "incident_id": f"inc-faults-{action}",
            "profile_arn": self.profile_arn,
            "profile_id": self.profile_id,
            "profile_name": "search-answers",
            "account_id": MEMBER,
            "region": REGION,
            "team": "search",
            "environment": action,
            "kind": "output-runaway",
            "severity": "high",
            "cost_per_hour_usd": 120.0,
            "baseline_cost_per_hour_usd": 6.0,
            "slack_channel": THREAD,
            "slack_ts": "100.1",
        }

    def reset(self) -> None:
        """Back to the starting state (an empty approvals table, the guard SCP, tag, policies and
        concurrency as they were), written into moto's own state, where :meth:`observe` reads it: no
        API call, so the injector never sees a reset and a case pays nothing for it. Checked against
        the first reading: no case sees another's."""
        self.recorder = Recorder()
        self.faults.injected, self.faults.plan = [], None
        empty_table(TABLE, REGION)
        guard = organizations_backends[DEFAULT_ACCOUNT_ID]["aws"].get_policy_by_id(self.policy_id)
        guard.content = json.dumps(self.guard_document)
        bedrock_backends[MEMBER][REGION].tagger.tag_resource(
            self.profile_arn, [{"Key": "tokenfuse:state", "Value": "watching"}]
        )
        iam = iam_backends[MEMBER]["aws"]
        for role in (*CALLER_ROLES, WORKER_ROLE):
            iam.get_role(role).policies.pop(self.policy_name, None)
        iam.get_role("caller-b").put_policy(self.policy_name, json.dumps(PERSONS_POLICY))
        functions = lambda_backends[MEMBER][REGION]
        for name, reserved in FUNCTIONS.items():
            functions.get_function(name).reserved_concurrency = reserved
        if not self.pristine:
            self.pristine = self.observe()
        assert self.observe() == self.pristine

    def stored_record(self) -> TripRecord | None:
        """The profile's active trip as the approvals table holds it."""
        with self.faults.disarmed():
            stored = self._adapters()["table"].get_trip(self.profile_arn)
        return TripRecord.model_validate(stored) if stored else None

    def client(self, service: str, member: bool = True) -> Any:
        """A client of the member account (or the tooling account), made once."""
        key = f"{service}:{member}"
        if key not in self.clients:
            session = self.member if member else boto3.Session(region_name=REGION)
            self.clients[key] = session.client(service, region_name=REGION)  # type: ignore[call-overload]
        return self.clients[key]

    def observe(self) -> dict[str, Any]:
        """What is in force in AWS, read from moto's own state (the policy document, the profile's
        tags, the roles' inline policies, the functions' reserved concurrency): no API call, so the
        injector never sees these reads and a case's checks cost it nothing."""
        org = organizations_backends[DEFAULT_ACCOUNT_ID]["aws"]
        document = json.loads(org.get_policy_by_id(self.policy_id).content)
        listed = bedrock_backends[MEMBER][REGION].tagger.list_tags_for_resource(self.profile_arn)["Tags"]
        tags = {t["Key"]: t["Value"] for t in listed}
        iam = iam_backends[MEMBER]["aws"]
        policies: dict[str, Any] = {}
        for role in (*CALLER_ROLES, WORKER_ROLE):
            inline = iam.get_role(role).policies.get(self.policy_name)
            policies[role] = json.loads(inline) if inline is not None else None
        functions = lambda_backends[MEMBER][REGION]
        concurrency = {name: functions.get_function(name).reserved_concurrency for name in FUNCTIONS}
        return {
            "scp_arns": listed_arns(document),
            "other_statements": [
                s for s in document["Statement"] if s.get("Sid") != "TokenfuseTrippedProfiles"
            ],
            "state_tag": tags.get("tokenfuse:state"),
            "policies": policies,
            "concurrency": concurrency,
        }


def _role(iam: Any, name: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


@cache
def _table_properties() -> dict[str, Any]:
    properties: dict[str, Any] = load_yaml(ROOT / "template.yaml")["Resources"]["ApprovalsTable"][
        "Properties"
    ]
    return properties


def _create_table(ddb: Any) -> None:
    """The approvals table with the template's own key schema."""
    props = _table_properties()
    ddb.create_table(
        TableName=TABLE,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )


def build_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "remediate",
        "POWERTOOLS_METRICS_NAMESPACE": "tokenfuse",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bedrock_profiles.install()
    faults = FaultInjector()
    faults.install()
    try:
        with mock_aws():
            aws_adapter.default_session.cache_clear()
            _create_table(boto3.client("dynamodb", region_name=REGION))
            boto3.client("events", region_name=REGION).create_event_bus(Name=BUS)
            org = boto3.client("organizations", region_name=REGION)
            org.create_organization(FeatureSet="ALL")
            person = {
                "Sid": "PersonsGuard",
                "Effect": "Deny",
                "Action": "bedrock:DeleteInferenceProfile",
                "Resource": "*",
            }
            document = empty_document()
            document["Statement"].insert(0, person)
            policy_id = org.create_policy(
                Name="tokenfuse-guard",
                Description="guard",
                Type="SERVICE_CONTROL_POLICY",
                Content=json.dumps(document),
            )["Policy"]["PolicySummary"]["Id"]
            member = aws_adapter.assume_role_session(f"arn:aws:iam::{MEMBER}:role/admin", "setup")
            iam = member.client("iam", region_name=REGION)
            _role(iam, "tokenfuse-member")
            for role in CALLER_ROLES:
                _role(iam, role)
            worker_role = _role(iam, WORKER_ROLE)
            lam = member.client("lambda", region_name=REGION)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("app.py", "def handler(e, c):\n    return e\n")
            for name, reserved in FUNCTIONS.items():
                lam.create_function(
                    FunctionName=name,
                    Runtime="python3.13",
                    Role=worker_role,
                    Handler="app.handler",
                    Code={"ZipFile": buffer.getvalue()},
                )
                if reserved is not None:
                    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
            arn = member.client("bedrock", region_name=REGION).create_inference_profile(
                inferenceProfileName="search-answers",
                modelSource={"copyFrom": HAIKU},
                tags=[
                    {"key": "team", "value": "search"},
                    {"key": "tokenfuse:state", "value": "watching"},
                    {
                        "key": "tokenfuse:callers",
                        "value": "role/caller-a caller-b function:worker-a worker-b",
                    },
                ],
            )["inferenceProfileArn"]
            iam.put_role_policy(
                RoleName="caller-b",
                PolicyName=f"tokenfuse-trip-{arn.rsplit('/', 1)[-1]}",
                PolicyDocument=json.dumps(PERSONS_POLICY),
            )
            aws_adapter.default_session.cache_clear()
            yield World(
                policy_id=policy_id, profile_arn=arn, member=member, faults=faults, guard_document=document
            )
    finally:
        faults.uninstall()
        aws_adapter.default_session.cache_clear()
