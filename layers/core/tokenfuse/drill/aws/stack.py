"""A deployed stack as a :class:`~tokenfuse.drill.deployment.Deployment`: its parameters and the
physical ids of its resources (CloudFormation's, or the sandbox's provisioned template's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call
from tokenfuse.drill.deployment import TOPICS, Deployment
from tokenfuse.errors import NotFound, TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

_NO_SUCH_STACK = {"ValidationError": NotFound}
"""CloudFormation has no not-found code: ``DescribeStacks`` of a name it does not know answers
``ValidationError`` ("Stack with id ... does not exist"), and a name is all that call validates."""

_RESOURCES = {
    "state_machine_arn": "RemediationStateMachine",
    "remediate_function": "RemediateFunction",
    "approvals_table": "ApprovalsTable",
    "inventory_table": "InventoryTable",
    "team_directory_parameter": "TeamDirectoryParameter",
}
_PARAMETERS = {
    "finops_slack_channel": "FinOpsSlackChannel",
    "finops_email": "FinOpsEmail",
    "sender_email": "SenderEmail",
    "trip_mechanism": "TripMechanism",
    "guard_policy_id": "GuardPolicyId",
    "dry_run": "DryRun",
    "member_role_name": "MemberRoleName",
    "team_tag_key": "TeamTagKey",
    "feature_tag_key": "FeatureTagKey",
    "callers_tag_key": "CallersTagKey",
    "budgets_role_arn": "BudgetsRoleArn",
    "drill_account_id": "DrillAccountId",
}


def queue_arn(url: str, partition: str = "aws") -> str:
    """``arn:aws:sqs:<region>:<account>:<name>`` from ``https://sqs.<region>.amazonaws.com/<account>/<name>``."""
    host, _, path = url.removeprefix("https://").partition("/")
    account, _, name = path.partition("/")
    region = host.split(".")[1] if host.startswith("sqs.") else host.split(".")[0]
    return f"arn:{partition}:sqs:{region}:{account}:{name}"


def deployment_from(
    physical: Mapping[str, str],
    parameters: Mapping[str, Any],
    *,
    stack_name: str,
    region: str,
    account_id: str,
) -> Deployment:
    """The deployment from logical id -> physical id and the stack's parameter values."""
    missing = [lid for lid in (*_RESOURCES.values(), "IntakeQueue", *TOPICS) if lid not in physical]
    if missing:
        raise TokenfuseError(f"stack {stack_name} has no {', '.join(missing)}: is it a tokenfuse stack?")
    values: dict[str, Any] = {key: physical[lid] for key, lid in _RESOURCES.items()}
    values |= {
        key: parameters[name] for key, name in _PARAMETERS.items() if str(parameters.get(name) or "").strip()
    }
    return Deployment(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        intake_queue_arn=queue_arn(physical["IntakeQueue"]),
        topics={lid: physical[lid] for lid in TOPICS},
        slack_bot_token_secret=physical.get("SlackBotTokenSecret"),
        **values,
    )


def read_stack(
    cloudformation: CloudFormationClient, stack_name: str, region: str, account_id: str
) -> Deployment:
    """The deployment of ``stack_name`` (NotFound when there is no such stack)."""
    try:
        # one named stack: one page, no paginator needed
        with aws_call("cloudformation:DescribeStacks", resource=stack_name, codes=_NO_SUCH_STACK):
            stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except NotFound as error:
        raise NotFound(
            f"no stack {stack_name} in {region}",
            code=error.code,
            operation=error.operation,
            resource=stack_name,
            request_id=error.request_id,
        ) from error
    physical: dict[str, str] = {}
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    with aws_call("cloudformation:ListStackResources", resource=stack_name):
        for page in pages:
            for resource in page.get("StackResourceSummaries", []):
                if resource.get("PhysicalResourceId"):
                    physical[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return deployment_from(physical, parameters, stack_name=stack_name, region=region, account_id=account_id)
