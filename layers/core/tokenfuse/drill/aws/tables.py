"""tokenfuse's own state, read-only: the inventory, the active trips, the deployed team directory,
and the signal topics' subscriptions; IAM's policy simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.drill.ports import Simulation, Subscription
from tokenfuse.inventory.models import ProfileRecord

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import ContextEntryTypeDef, EvaluationResultTypeDef
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient

_UNCONFIRMED = {"PendingConfirmation", "Deleted"}


class InventoryRecords:
    def __init__(self, table: InventoryTable) -> None:
        self.table = table

    def records(self) -> list[ProfileRecord]:
        return self.table.all()


class ActiveTrips:
    def __init__(self, table: ApprovalsTable) -> None:
        self.table = table

    def active_trips(self) -> list[dict[str, Any]]:
        return self.table.list_trips()


class DeployedDirectory:
    """The team directory's SSM parameter value, as deployed."""

    def __init__(self, ssm: SSMClient, name: str) -> None:
        self.ssm, self.name = ssm, name

    def raw(self) -> bytes:
        with aws_call("ssm:GetParameter", resource=self.name):
            return self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"].encode()


class TopicSubscriptions:
    def __init__(self, sns: SNSClient) -> None:
        self.sns = sns

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        found: list[Subscription] = []
        pages = self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        with aws_call("sns:ListSubscriptionsByTopic", resource=topic_arn):
            for page in pages:
                for sub in page.get("Subscriptions", []):
                    confirmed = str(sub.get("SubscriptionArn")) not in _UNCONFIRMED
                    found.append(Subscription(str(sub.get("Protocol")), str(sub.get("Endpoint")), confirmed))
        return found


class IamSimulator:
    """:class:`~tokenfuse.drill.ports.SimulatorPort`: ``SimulatePrincipalPolicy``, whose answer says
    whether the organization's policies (SCPs) allow the call (``OrganizationsDecisionDetail``)."""

    def __init__(self, iam: IAMClient) -> None:
        self.iam = iam

    def simulate(
        self, principal_arn: str, action: str, resource: str, context: Mapping[str, str]
    ) -> Simulation:
        entries: list[ContextEntryTypeDef] = [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in context.items()
        ]
        results: list[EvaluationResultTypeDef] = []
        pages = self.iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=principal_arn,
            ActionNames=[action],
            ResourceArns=[resource],
            ContextEntries=entries,
        )
        with aws_call("iam:SimulatePrincipalPolicy", resource=principal_arn):
            for page in pages:
                results += page.get("EvaluationResults", [])
        # one action on one resource: one result
        detail = results[0].get("OrganizationsDecisionDetail") if results else None
        allowed = detail.get("AllowedByOrganizations") if detail else None
        return Simulation(
            action,
            resource,
            denied_by_organization=allowed is False,
            decision=str(results[0].get("EvalDecision")) if results else "None",
        )
