"""Organizations (the guard SCP, its targets, the account tree) and the member StackSet's instances."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.organizations import NO_ORGANIZATION, list_active_accounts
from tokenfuse.drill.ports import OrgAccount, StackInstance
from tokenfuse.errors import AwsError, NotFound

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import ParentTypeDef

CallAs = Literal["SELF", "DELEGATED_ADMIN"]


class OrganizationReader:
    """:class:`~tokenfuse.drill.ports.OrganizationPort` with boto3's ``organizations``."""

    def __init__(self, organizations: OrganizationsClient) -> None:
        self.client = organizations

    def management_account(self) -> str | None:
        try:
            with aws_call("organizations:DescribeOrganization"):
                return self.client.describe_organization()["Organization"]["MasterAccountId"]
        except AwsError as error:
            if error.code == NO_ORGANIZATION:
                return None
            raise

    def active_accounts(self) -> list[OrgAccount]:
        return [OrgAccount(a.account_id, a.name) for a in list_active_accounts(self.client) or []]

    def parents(self, account_id: str) -> list[str]:
        chain: list[str] = []
        child = account_id
        while True:
            parents: list[ParentTypeDef] = []
            with aws_call("organizations:ListParents", resource=child):
                for page in self.client.get_paginator("list_parents").paginate(ChildId=child):
                    parents += page.get("Parents", [])
            if not parents:
                return chain
            chain.append(parents[0]["Id"])
            if parents[0].get("Type") == "ROOT" or len(chain) > 6:  # OUs nest at most 5 deep
                return chain
            child = chain[-1]

    def find_policy(self, policy_id: str | None, name: str) -> str | None:
        guard = GuardScp(self.client, policy_id, name)
        try:
            guard.document()  # a given id must exist; a name is looked up
        except NotFound:
            return None
        return guard.policy_id

    def policy_document(self, policy_id: str) -> dict[str, Any]:
        return GuardScp(self.client, policy_id).document()

    def policy_targets(self, policy_id: str) -> list[str]:
        targets: list[str] = []
        with aws_call("organizations:ListTargetsForPolicy", resource=policy_id):
            for page in self.client.get_paginator("list_targets_for_policy").paginate(PolicyId=policy_id):
                targets += [t["TargetId"] for t in page.get("Targets", [])]
        return targets


class StackSets:
    """The member StackSet's instances (``CallAs`` ``SELF`` from the management account,
    ``DELEGATED_ADMIN`` from a StackSets delegated administrator)."""

    def __init__(self, cloudformation: CloudFormationClient, call_as: CallAs = "SELF") -> None:
        self.client = cloudformation
        self.call_as: CallAs = call_as

    def instances(self, stack_set_name: str) -> list[StackInstance]:
        found: list[StackInstance] = []
        pages = self.client.get_paginator("list_stack_instances").paginate(
            StackSetName=stack_set_name, CallAs=self.call_as
        )
        with aws_call("cloudformation:ListStackInstances", resource=stack_set_name):
            for page in pages:
                for summary in page.get("Summaries", []):
                    detailed = (summary.get("StackInstanceStatus") or {}).get("DetailedStatus")
                    found.append(
                        StackInstance(
                            str(summary["Account"]),
                            str(summary["Region"]),
                            str(summary.get("Status")),
                            detailed,
                        )
                    )
        return found
