"""AWS Organizations and Account Management: the accounts to sweep and the regions enabled in one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import AccessDenied, AwsError

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_organizations import OrganizationsClient

NO_ORGANIZATION = "AWSOrganizationsNotInUseException"
"""What Organizations answers an account that belongs to no organization."""
_LIST_REGIONS_UNAVAILABLE = frozenset({"404", "NotImplemented", "UnknownOperationException"})
"""What an endpoint without ``account:ListRegions`` (an old partition, an emulator) answers."""


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str | None = None


def list_active_accounts(client: OrganizationsClient) -> list[Account] | None:
    """Every ACTIVE account of the organization (botocore's paginator), or None when there is no
    organization.

    A caller that is neither the management account nor a delegated administrator gets
    tokenfuse.errors.AccessDenied.
    """
    accounts: list[Account] = []
    try:
        with aws_call("organizations:ListAccounts"):
            for page in client.get_paginator("list_accounts").paginate():
                for account in page.get("Accounts", []):
                    # ``State`` replaces ``Status`` (deprecated 2025); accept either.
                    state = account.get("State") or account.get("Status")
                    if state == "ACTIVE":
                        accounts.append(Account(account["Id"], account.get("Name")))
    except AwsError as error:
        if error.code == NO_ORGANIZATION:
            return None
        raise
    return accounts


def enabled_regions(client: AccountClient, candidates: Iterable[str]) -> list[str]:
    """The candidates that ``account:ListRegions`` reports enabled for the caller's account.

    When the API is refused or unavailable, the candidates are returned unchanged: sweeping a
    disabled region only costs an AccessDenied/UnrecognizedClient answer, missing one costs profiles.
    """
    wanted = list(dict.fromkeys(candidates))
    enabled: set[str] = set()
    pages = client.get_paginator("list_regions").paginate(
        RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"], PaginationConfig={"PageSize": 50}
    )
    try:
        with aws_call("account:ListRegions"):
            for page in pages:
                enabled.update(r["RegionName"] for r in page.get("Regions", []) if r.get("RegionName"))
    except AwsError as error:
        if isinstance(error, AccessDenied) or error.code in _LIST_REGIONS_UNAVAILABLE:
            return wanted
        raise
    return [r for r in wanted if r in enabled] if enabled else wanted
