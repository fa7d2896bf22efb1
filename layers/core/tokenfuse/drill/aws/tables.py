"""tokenfuse's own state, read-only: the inventory, the active trips, the deployed team directory,
and the signal topics' subscriptions; IAM's policy simulator."""

from collections.abc import Mapping
from typing import Any

from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import AWS_ERRORS, translate
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.drill.ports import Simulation, Subscription
from tokenfuse.inventory.models import ProfileRecord

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

    def __init__(self, ssm: Any, name: str) -> None:
        self.ssm, self.name = ssm, name

    def raw(self) -> bytes:
        try:
            return str(self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"]).encode()
        except AWS_ERRORS as error:
            raise translate(error) from error


class TopicSubscriptions:
    def __init__(self, sns: Any) -> None:
        self.sns = sns

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        found: list[Subscription] = []
        try:
            for page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
                for sub in page.get("Subscriptions", []):
                    confirmed = str(sub.get("SubscriptionArn")) not in _UNCONFIRMED
                    found.append(Subscription(str(sub.get("Protocol")), str(sub.get("Endpoint")), confirmed))
        except AWS_ERRORS as error:
            raise translate(error) from error
        return found


class IamSimulator:
    """:class:`~tokenfuse.drill.ports.SimulatorPort`: ``SimulatePrincipalPolicy``, whose answer says
    whether the organization's policies (SCPs) allow the call (``OrganizationsDecisionDetail``)."""

    def __init__(self, iam: Any) -> None:
        self.iam = iam

    def simulate(
        self, principal_arn: str, action: str, resource: str, context: Mapping[str, str]
    ) -> Simulation:
        entries = [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in context.items()
        ]
        try:
            answer = self.iam.simulate_principal_policy(
                PolicySourceArn=principal_arn,
                ActionNames=[action],
                ResourceArns=[resource],
                ContextEntries=entries,
            )
        except AWS_ERRORS as error:
            raise translate(error) from error
        result = (answer.get("EvaluationResults") or [{}])[0]
        allowed = (result.get("OrganizationsDecisionDetail") or {}).get("AllowedByOrganizations")
        return Simulation(
            action,
            resource,
            denied_by_organization=allowed is False,
            decision=str(result.get("EvalDecision")),
        )
