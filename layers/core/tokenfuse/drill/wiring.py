"""Builds the drill's ports and the doctor's sources from a deployment and boto3 sessions.

The CLI (a real account: the operator's credentials; or the sandbox) and DrillFunction build them
here, so every path runs the same adapters. Clients come from one base session, or, in another
account, from the member role (tokenfuse's own :class:`~tokenfuse.adapters.aws.MemberSessions`).
"""

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import boto3

from tokenfuse import clock
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import MemberSessions, assume_role_session, aws_call, client
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.attribution.pricing import load_prices
from tokenfuse.drill.aws.accounts import MemberAccounts
from tokenfuse.drill.aws.billing import Billing
from tokenfuse.drill.aws.organization import CallAs, OrganizationReader, StackSets
from tokenfuse.drill.aws.people import SesMail, SlackProbe
from tokenfuse.drill.aws.remediation import DeployedRemediation
from tokenfuse.drill.aws.runtime import BedrockCanaries, BedrockMetrics, InvocationLogs
from tokenfuse.drill.aws.tables import (
    ActiveTrips,
    DeployedDirectory,
    IamSimulator,
    InventoryRecords,
    TopicSubscriptions,
)
from tokenfuse.drill.deployment import Deployment
from tokenfuse.drill.doctor import DoctorSources
from tokenfuse.drill.drill import DrillConfig, DrillPorts, new_run_id
from tokenfuse.drill.ports import Clock
from tokenfuse.drill.settings import DrillSettings

_ROLE_SESSION = re.compile(r"arn:aws[a-z-]*:sts::\d{12}:assumed-role/([^/]+)/.+")


class RealClock:
    """tokenfuse's clock and real sleep (AWS runs on real time)."""

    def now(self) -> datetime:
        return clock.now()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class DrillTarget:
    """Where the drill runs and what it trips through."""

    account_id: str | None
    """None: the account of the credentials."""
    region: str
    stack_region: str
    state_machine_arn: str
    remediate_function: str
    trip_mechanism: str = "guard-scp"
    member_role_name: str = "tokenfuse-member"
    team_tag_key: str = "team"
    callers_tag_key: str = "tokenfuse:callers"

    @classmethod
    def of_deployment(cls, deployment: Deployment, account_id: str | None = None) -> "DrillTarget":
        return cls(
            account_id=account_id or deployment.drill_account_id,
            region=deployment.region,
            stack_region=deployment.region,
            state_machine_arn=deployment.state_machine_arn,
            remediate_function=deployment.remediate_function,
            trip_mechanism=deployment.trip_mechanism,
            member_role_name=deployment.member_role_name,
            team_tag_key=deployment.team_tag_key,
            callers_tag_key=deployment.callers_tag_key,
        )

    @classmethod
    def of_settings(cls, settings: DrillSettings) -> "DrillTarget":
        return cls(
            account_id=settings.drill_account_id,
            region=settings.drill_region,
            stack_region=settings.drill_region,
            state_machine_arn=settings.remediation_state_machine_arn,
            remediate_function=settings.remediate_function_name,
            trip_mechanism=settings.trip_mechanism,
            member_role_name=settings.member_role_name,
            team_tag_key=settings.team_tag_key,
            callers_tag_key=settings.callers_tag_key,
        )


def role_name_of(caller_arn: str) -> str | None:
    """The role behind an assumed-role session ARN (None for a user or a root identity)."""
    match = _ROLE_SESSION.fullmatch(caller_arn)
    return match[1] if match else None


def build_drill(
    target: DrillTarget,
    *,
    base: boto3.Session | None = None,
    drill_clock: Clock | None = None,
    on_wait: Callable[[], None] | None = None,
    deadline: datetime | None = None,
) -> tuple[DrillPorts, DrillConfig]:
    sessions = MemberSessions(target.member_role_name, "tokenfuse-drill", base=base)
    own = sessions.own_account
    account, region = target.account_id or own, target.region
    if account == own:
        with aws_call("sts:GetCallerIdentity"):
            caller = role_name_of(client("sts", session=base).get_caller_identity()["Arn"])
    else:
        caller = target.member_role_name
    bedrock = sessions.client("bedrock", account, region)
    ticking = drill_clock or RealClock()
    ports = DrillPorts(
        clock=ticking,
        canaries=BedrockCanaries(
            bedrock, sessions.client("bedrock-runtime", account, region), account, region
        ),
        metrics=BedrockMetrics(sessions.client("cloudwatch", account, region)),
        logs=InvocationLogs(bedrock, sessions.client("logs", account, region)),
        remediation=DeployedRemediation(
            client("stepfunctions", target.stack_region, base),
            client("lambda", target.stack_region, base),
            target.state_machine_arn,
            target.remediate_function,
            on_wait=on_wait,
        ),
        organization=OrganizationReader(client("organizations", session=base)),
        prices=load_prices(),
    )
    config = DrillConfig(
        account_id=account,
        region=region,
        run_id=new_run_id(ticking.now(), secrets.token_hex(3)),
        trip_mechanism=target.trip_mechanism,
        caller_role=caller,
        callers_tag_key=target.callers_tag_key,
        team_tag_key=target.team_tag_key,
        deadline=deadline,
    )
    return ports, config


def management_session(role_arn: str | None) -> boto3.Session | None:
    """The session the doctor reads the management account with: ``role_arn`` assumed (the
    ``DoctorRoleArn`` output of org/management.yaml), or None: the default credentials."""
    return assume_role_session(role_arn, "tokenfuse-doctor") if role_arn else None


def build_doctor(
    deployment: Deployment,
    *,
    management: boto3.Session | None = None,
    slack_token: str | None = None,
    slack_base_url: str | None = None,
    now: Callable[[], datetime] = clock.now,
    simulate_as: str | None = None,
    stack_set_region: str | None = None,
    stack_set_call_as: CallAs = "SELF",
) -> DoctorSources:
    """The doctor's sources: this account's default session for tokenfuse's own resources and the
    member role for member accounts; ``management`` (or the default session) for Organizations,
    the member StackSet and billing."""
    region = deployment.region
    sessions = MemberSessions(deployment.member_role_name, "tokenfuse-doctor")
    organization = OrganizationReader(client("organizations", session=management))
    payer = organization.management_account() or deployment.account_id
    return DoctorSources(
        deployment=deployment,
        now=now,
        organization=organization,
        stack_sets=StackSets(
            client("cloudformation", stack_set_region or region, management), stack_set_call_as
        ),
        accounts=MemberAccounts(sessions),
        inventory=InventoryRecords(InventoryTable(deployment.inventory_table, client("dynamodb", region))),
        trips=ActiveTrips(ApprovalsTable(deployment.approvals_table)),
        topics=TopicSubscriptions(client("sns", region)),
        costs=Billing(
            client("ce", "us-east-1", management), client("budgets", "us-east-1", management), payer
        ),
        slack=SlackProbe(slack_token, slack_base_url),
        mail=SesMail(client("ses", region), client("sesv2", region)),
        directory=DeployedDirectory(client("ssm", region), deployment.team_directory_parameter),
        prices=load_prices(),
        simulator=IamSimulator(client("iam")) if simulate_as else None,
        simulate_as=simulate_as,
    )
