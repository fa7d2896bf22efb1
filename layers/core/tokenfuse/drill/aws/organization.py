"""Organizations (the guard SCP, its targets, the account tree) and the member StackSet's instances."""

from typing import Any

from tokenfuse.adapters.aws import AWS_ERRORS, translate
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.organizations import list_active_accounts
from tokenfuse.drill.ports import OrgAccount, StackInstance
from tokenfuse.errors import NotFound

_NO_ORGANIZATION = "AWSOrganizationsNotInUseException"


def _code(error: Any) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


class OrganizationReader:
    """:class:`~tokenfuse.drill.ports.OrganizationPort` with boto3's ``organizations``."""

    def __init__(self, organizations: Any) -> None:
        self.client = organizations

    def management_account(self) -> str | None:
        try:
            return str(self.client.describe_organization()["Organization"]["MasterAccountId"])
        except AWS_ERRORS as error:
            if _code(error) == _NO_ORGANIZATION:
                return None
            raise translate(error) from error

    def active_accounts(self) -> list[OrgAccount]:
        return [OrgAccount(a.account_id, a.name) for a in list_active_accounts(self.client) or []]

    def parents(self, account_id: str) -> list[str]:
        chain: list[str] = []
        child = account_id
        while True:
            try:
                parents = self.client.list_parents(ChildId=child).get("Parents", [])
            except AWS_ERRORS as error:
                raise translate(error) from error
            if not parents:
                return chain
            chain.append(str(parents[0]["Id"]))
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
        try:
            for page in self.client.get_paginator("list_targets_for_policy").paginate(PolicyId=policy_id):
                targets += [str(t["TargetId"]) for t in page.get("Targets", [])]
        except AWS_ERRORS as error:
            raise translate(error) from error
        return targets


class StackSets:
    """The member StackSet's instances (``CallAs`` ``SELF`` from the management account,
    ``DELEGATED_ADMIN`` from a StackSets delegated administrator)."""

    def __init__(self, cloudformation: Any, call_as: str = "SELF") -> None:
        self.client = cloudformation
        self.call_as = call_as

    def instances(self, stack_set_name: str) -> list[StackInstance]:
        found: list[StackInstance] = []
        kwargs: dict[str, Any] = {"StackSetName": stack_set_name, "CallAs": self.call_as}
        try:
            for page in self.client.get_paginator("list_stack_instances").paginate(**kwargs):
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
        except AWS_ERRORS as error:
            raise translate(error) from error
        return found
