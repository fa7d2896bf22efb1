"""The demo's organization, seeded into the sandbox (moto): accounts, profiles, teams, the guard.

- the tokenfuse account (the sandbox's own, 111122223333) plus two member accounts, made members
  of an AWS Organization whose management account is the tokenfuse account (emulation: in a real
  organization tokenfuse runs in a delegated FinOps account; moto has no delegated administrators);
- two regions; application inference profiles created through boto3's own ``bedrock`` client in
  each member account (the Bedrock emulation), tagged for four teams, plus one untagged profile
  and one of a team the directory does not know; every model has a price in ``prices.json``;
- the team directory (the template's SSM parameter, from ``config/teams.sandbox.yaml``) with Slack
  channels registered in the Slack server and on-call approvers with Slack user ids;
- what ``org/member.yaml`` puts in each member account and region: the rules forwarding alarm
  state changes and profile CloudTrail events to tokenfuse's bus (the member role itself is not
  created: moto's STS does not check it);
- the guard SCP tokenfuse owns (Deny statement ``TokenfuseTrippedProfiles``, listing no profile);
- a monthly AWS Budget in the management account counting the member accounts' Bedrock spend.

Cross-account calls: the sandbox pins moto to its account (``MOTO_ACCOUNT_ID``); the story lifts
the pin so that STS role sessions act in the account of their role, as in AWS (moto's own mapping
of assumed-role keys), while the default credentials stay in the tokenfuse account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from tokenfuse.adapters.aws import MemberService, MemberSessions, client

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.member_stacks import MemberStacks

TOKENFUSE_ACCOUNT = "111122223333"
MEMBER_ROLE = "tokenfuse-member"
REGIONS = ("us-east-1", "us-west-2")
BUDGET_NAME = "genai-bedrock-monthly"
GUARD_POLICY_NAME = "tokenfuse-guard"


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    name: str


ACCOUNTS = (
    AccountSpec("444455556666", "genai-prod"),
    AccountSpec("777788889999", "genai-dev"),
)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    display_name: str
    channel: str
    channel_name: str
    approver: str
    """The on-call approver's Slack user id."""
    approver_name: str


TEAMS = (
    TeamSpec("search", "Search", "C0SEARCH01", "search-alerts", "U0SEARCH01", "priya"),
    TeamSpec("support-bot", "Support Bot", "C0SUPPORT1", "support-bot-oncall", "U0SUPPORT1", "alex"),
    TeamSpec("docs-summarizer", "Docs Summarizer", "C0DOCSUM01", "docs-ai", "U0DOCSUM01", "sam"),
    TeamSpec("analytics", "Analytics", "C0ANALYT01", "analytics-ml", "U0ANALYT01", "kim"),
)
FINOPS = TeamSpec("finops", "FinOps", "C0FINOPS01", "finops-alerts", "U0FINOPS01", "dana")


@dataclass(frozen=True)
class ProfileSpec:
    """One application inference profile and its ordinary traffic at the diurnal peak."""

    key: str
    name: str
    account_id: str
    region: str
    model: str
    tags: dict[str, str]
    requests_per_minute: float
    input_per_request: int
    output_per_request: int

    @property
    def model_arn(self) -> str:
        return f"arn:aws:bedrock:{self.region}::foundation-model/{self.model}"

    @property
    def team_tag(self) -> str | None:
        return self.tags.get("team")


def _tags(team: str, feature: str, env: str, cost_center: str) -> dict[str, str]:
    return {"team": team, "feature": feature, "environment": env, "cost-center": cost_center}


PROD, DEV = ACCOUNTS[0].account_id, ACCOUNTS[1].account_id
# Peak per-minute token rates stay under the inventory's alarm floors (20,000 output and 100,000
# input tokens a minute) so that ordinary days never alarm; a runaway crosses them.
PROFILES = (
    ProfileSpec(
        "support-bot", "support-agent", PROD, "us-east-1", "anthropic.claude-sonnet-4-20250514-v1:0",
        _tags("support-bot", "agent-answers", "prod", "cc-1001"), 12, 500, 1_500,
    ),
    ProfileSpec(
        "search", "search-answers", PROD, "us-east-1", "amazon.nova-pro-v1:0",
        _tags("search", "answers", "prod", "cc-1002"), 40, 1_200, 250,
    ),
    ProfileSpec(
        "docs-summarizer", "docs-summaries", PROD, "us-west-2", "anthropic.claude-3-5-haiku-20241022-v1:0",
        _tags("docs-summarizer", "summaries", "prod", "cc-1003"), 10, 8_000, 150,
    ),
    ProfileSpec(
        "analytics", "analytics-insights", DEV, "us-east-1", "meta.llama3-3-70b-instruct-v1:0",
        _tags("analytics", "insights", "dev", "cc-1004"), 6, 3_000, 600,
    ),
    ProfileSpec(
        "untagged", "batch-experiments", DEV, "us-east-1", "anthropic.claude-3-5-sonnet-20241022-v2:0",
        {}, 8, 1_500, 1_000,
    ),
    ProfileSpec(
        "unknown-team", "ml-research-eval", DEV, "us-west-2", "anthropic.claude-3-haiku-20240307-v1:0",
        {"team": "ml-research", "environment": "dev"}, 12, 2_500, 400,
    ),
)  # fmt: skip


@dataclass
class SeededProfile:
    spec: ProfileSpec
    arn: str
    profile_id: str

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass
class Org:
    """What the seeding created, as the story needs it."""

    accounts: tuple[AccountSpec, ...]
    profiles: dict[str, SeededProfile]
    guard_policy_id: str
    budget_threshold_usd: float | None = None
    notes: list[str] = field(default_factory=list)
    member_stacks: MemberStacks | None = None
    """org/member.yaml's StackSet, where the seeding deployed it."""

    def profile_by_arn(self, arn: str) -> SeededProfile | None:
        return next((p for p in self.profiles.values() if p.arn == arn), None)

    def account_name(self, account_id: str) -> str:
        if account_id == TOKENFUSE_ACCOUNT:
            return "tokenfuse"
        return next((a.name for a in self.accounts if a.account_id == account_id), account_id)


def team_for_channel(channel: str | None) -> str | None:
    if channel == FINOPS.channel:
        return FINOPS.name
    return next((t.name for t in TEAMS if t.channel == channel), None)


def owner_of(spec: ProfileSpec) -> TeamSpec:
    """The team the directory routes a profile to (FinOps for untagged / unknown teams)."""
    return next((t for t in TEAMS if t.name == spec.team_tag), FINOPS)


def slack_channels() -> dict[str, str]:
    return {t.channel: t.channel_name for t in (*TEAMS, FINOPS)}


DIRECTORY_FILE = Path(__file__).resolve().parents[3] / "config" / "teams.sandbox.yaml"


def directory_yaml(mode: str, *, approval_timeout_minutes: int | None = None) -> str:
    """The team directory for the template's SSM parameter: ``config/teams.sandbox.yaml`` with
    every policy's mode set to ``mode`` (validated by tokenfuse.teams, and checked against the
    channels and approvers the story's Slack side uses)."""
    from tokenfuse.teams import TeamDirectory

    document = yaml.safe_load(DIRECTORY_FILE.read_text())
    policies = [document["finops"]["policy"]]
    policies += [p for team in document["teams"] for p in team.get("policies", {}).values()]
    for chosen in policies:
        chosen["mode"] = mode
        if approval_timeout_minutes is not None:
            chosen["approval_timeout_minutes"] = approval_timeout_minutes
    directory = TeamDirectory.model_validate(document)
    wanted = {(t.name, t.channel, t.approver) for t in TEAMS}
    found = {(t.name, t.slack_channel, t.approvers[0].slack_user_id) for t in directory.teams}
    finops = (directory.finops.slack_channel, directory.finops.approvers[0].slack_user_id)
    if wanted != found or finops != (FINOPS.channel, FINOPS.approver):
        raise ValueError(f"{DIRECTORY_FILE} and story.org.TEAMS disagree on channels or approvers")
    return yaml.safe_dump(document, sort_keys=False)


# --------------------------------------------------------------------------------------------------
# Cross-account sessions
# --------------------------------------------------------------------------------------------------


SandboxService = MemberService | Literal["ce", "cloudformation", "ses", "sesv2", "sts"]
"""The member services, and those the proving ground seeds in the tooling and management accounts
(the member StackSet, Cost Anomaly Detection, SES identities and the SES sandbox)."""


class Sessions(MemberSessions):
    """The functions' own MemberSessions, with each client kept: the traffic generator and the story
    call CloudWatch and Organizations every simulated minute."""

    def __init__(self, own_account: str) -> None:
        super().__init__(MEMBER_ROLE, "tokenfuse-demo-traffic", own_account=own_account)
        self._clients: dict[tuple[SandboxService, str | None, str | None], Any] = {}

    def client(
        self, service: SandboxService, account_id: str | None, region: str | None = "us-east-1"
    ) -> Any:
        key = (service, account_id, region)
        if key not in self._clients:
            self._clients[key] = client(service, region, self.session(account_id))
        return self._clients[key]


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------
def _organization(sessions: Sessions) -> None:
    from moto.organizations.models import organizations_backends

    org = sessions.client("organizations", TOKENFUSE_ACCOUNT)
    org.create_organization(FeatureSet="ALL")
    wanted = {a.name: a.account_id for a in ACCOUNTS}
    for account in ACCOUNTS:
        org.create_account(Email=f"{account.name}@example.com", AccountName=account.name)
    # moto draws account ids at random: give the members the story's ids.
    for backend in organizations_backends[TOKENFUSE_ACCOUNT].values():
        for fake in getattr(backend, "accounts", []):
            if fake.name in wanted:
                fake.id = wanted[fake.name]


def _guard_policy(sessions: Sessions) -> str:
    from tokenfuse.adapters.guard_scp import empty_document

    org = sessions.client("organizations", TOKENFUSE_ACCOUNT)
    policy = org.create_policy(
        Name=GUARD_POLICY_NAME,
        Description="tokenfuse guard: denies Bedrock invocation of tripped inference profiles",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(empty_document()),
        Tags=[{"Key": "tokenfuse:guard", "Value": "true"}],
    )["Policy"]["PolicySummary"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.attach_policy(PolicyId=policy["Id"], TargetId=root)
    return str(policy["Id"])


def _forwarding_rules(sessions: Sessions, bus_arn: str) -> None:
    """org/member.yaml's two forwarding rules, in every member account and region."""
    patterns = {
        "tokenfuse-forward-alarms": {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"state": {"value": ["ALARM"]}},
        },
        "tokenfuse-forward-profile-changes": {
            "source": ["aws.bedrock"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["bedrock.amazonaws.com"],
                "eventName": [
                    "CreateInferenceProfile",
                    "DeleteInferenceProfile",
                    "TagResource",
                    "UntagResource",
                ],
            },
        },
    }
    for account in ACCOUNTS:
        for region in REGIONS:
            events = sessions.client("events", account.account_id, region)
            for name, pattern in patterns.items():
                events.put_rule(Name=name, EventBusName="default", EventPattern=json.dumps(pattern))
                events.put_targets(
                    Rule=name,
                    EventBusName="default",
                    Targets=[{"Id": "TokenfuseBus", "Arn": bus_arn}],
                )


def _cloudtrail_create_event(spec: ProfileSpec, arn: str, when: datetime) -> dict[str, Any]:
    """The CloudTrail record EventBridge delivers for CreateInferenceProfile (as in
    events/cloudtrail-create-inference-profile.json)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Source": "aws.bedrock",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(
            {
                "eventVersion": "1.11",
                "userIdentity": {
                    "type": "AssumedRole",
                    "arn": f"arn:aws:sts::{spec.account_id}:assumed-role/platform-deployer/demo",
                    "accountId": spec.account_id,
                },
                "eventTime": stamp,
                "eventSource": "bedrock.amazonaws.com",
                "eventName": "CreateInferenceProfile",
                "awsRegion": spec.region,
                "requestParameters": {
                    "inferenceProfileName": spec.name,
                    "modelSource": {"copyFrom": spec.model_arn},
                    "tags": [{"key": k, "value": v} for k, v in spec.tags.items()],
                },
                "responseElements": {"inferenceProfileArn": arn, "status": "ACTIVE"},
                "readOnly": False,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": spec.account_id,
                "eventCategory": "Management",
            }
        ),
        "EventBusName": "default",
        "Time": when,
    }


def _profiles(sessions: Sessions, now: datetime, specs: Sequence[ProfileSpec]) -> dict[str, SeededProfile]:
    out: dict[str, SeededProfile] = {}
    for spec in specs:
        bedrock = sessions.client("bedrock", spec.account_id, spec.region)
        kwargs: dict[str, Any] = {
            "inferenceProfileName": spec.name,
            "modelSource": {"copyFrom": spec.model_arn},
        }
        if spec.tags:
            kwargs["tags"] = [{"key": k, "value": v} for k, v in spec.tags.items()]
        arn = str(bedrock.create_inference_profile(**kwargs)["inferenceProfileArn"])
        out[spec.key] = SeededProfile(spec, arn, arn.rsplit("/", 1)[-1])
        # CloudTrail records the call; the member account's rule forwards it to tokenfuse's bus.
        sessions.client("events", spec.account_id, spec.region).put_events(
            Entries=[_cloudtrail_create_event(spec, arn, now)]
        )
    return out


def seed(
    sb: Sandbox,
    profiles: Sequence[ProfileSpec] = PROFILES,
    *,
    member_parameters: Mapping[str, str] | None = None,
    accounts_own_setup: Callable[[Sessions], None] | None = None,
) -> tuple[Org, Sessions]:
    """Seed the organization into a running sandbox (the directory and Slack channels are passed
    to the Sandbox itself: see :func:`sandbox_settings`). With ``member_parameters``, the member
    side is ``org/member.yaml`` deployed as the StackSet (its rules instead of the hand-made ones;
    :func:`tokenfuse_sandbox.member_stacks.meter_parameters` deploys the meter too).
    ``accounts_own_setup`` runs once the accounts exist and before anything of tokenfuse's is
    deployed in them: what the member accounts had already (a logging configuration, say)."""
    sb.enable_cross_account()
    sessions = Sessions(sb.account_id)
    _organization(sessions)
    guard = _guard_policy(sessions)
    if accounts_own_setup is not None:
        accounts_own_setup(sessions)
    member_stacks = None
    if member_parameters is None:
        _forwarding_rules(sessions, str(sb.attr("TokenfuseBus", "Arn")))
    else:
        from tokenfuse_sandbox import member_stacks as members

        if member_parameters.get("ArtifactBucketPrefix"):
            members.upload_artifacts(sessions, TOKENFUSE_ACCOUNT, REGIONS)
        member_stacks = members.deploy_member_stack_set(
            sb, sessions, TOKENFUSE_ACCOUNT, REGIONS, member_parameters
        )
    seeded = _profiles(sessions, sb.now(), profiles)
    return Org(ACCOUNTS, seeded, guard, member_stacks=member_stacks), sessions


def create_budget(sessions: Sessions, threshold_usd: float) -> None:
    """The organization's monthly Bedrock budget (management account), alerting on ACTUAL spend
    above ``threshold_usd`` (80% of the budgeted amount)."""
    budgets = sessions.client("budgets", TOKENFUSE_ACCOUNT, "us-east-1")
    amount = round(threshold_usd / 0.8, 2)
    budgets.create_budget(
        AccountId=TOKENFUSE_ACCOUNT,
        Budget={
            "BudgetName": BUDGET_NAME,
            "BudgetLimit": {"Amount": f"{amount:.2f}", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": {
                "LinkedAccount": [a.account_id for a in ACCOUNTS],
                "Region": list(REGIONS),
                "Service": ["Amazon Bedrock"],
            },
        },
    )


def sandbox_settings(mode: str, *, approval_timeout_minutes: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Sandbox(...)``: stack parameters, the directory, Slack channels."""
    return {
        "parameters": {"DryRun": "false", "FinOpsSlackChannel": FINOPS.channel},
        "secrets": {
            "TeamDirectoryParameter": directory_yaml(mode, approval_timeout_minutes=approval_timeout_minutes)
        },
        "slack_channels": slack_channels(),
    }
