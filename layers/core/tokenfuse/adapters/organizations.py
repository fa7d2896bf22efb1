"""AWS Organizations and Account Management: the accounts to sweep and the regions enabled in one."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate
from tokenfuse.errors import AccessDenied

_NO_ORGANIZATION = {"AWSOrganizationsNotInUseException"}
_ENABLED = ("ENABLED", "ENABLED_BY_DEFAULT")


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str | None = None


def list_active_accounts(client: Any) -> list[Account] | None:
    """Every ACTIVE account of the organization (paginated), or None when there is no organization.

    A caller that is neither the management account nor a delegated administrator gets
    tokenfuse.errors.AccessDenied.
    """
    accounts: list[Account] = []
    kwargs: dict[str, Any] = {}
    while True:
        try:
            page = client.list_accounts(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NO_ORGANIZATION:
                return None
            raise translate(error) from error
        for account in page.get("Accounts", []):
            # ``State`` replaces ``Status`` (deprecated 2025); accept either.
            state = account.get("State") or account.get("Status")
            if state == "ACTIVE":
                accounts.append(Account(account["Id"], account.get("Name")))
        token = page.get("NextToken")
        if not token:
            return accounts
        kwargs["NextToken"] = token


def enabled_regions(client: Any, candidates: Iterable[str]) -> list[str]:
    """The candidates that ``account:ListRegions`` reports enabled for the caller's account.

    When the API is refused or unavailable, the candidates are returned unchanged: sweeping a
    disabled region only costs an AccessDenied/UnrecognizedClient answer, missing one costs profiles.
    """
    wanted = list(dict.fromkeys(candidates))
    enabled: set[str] = set()
    kwargs: dict[str, Any] = {"RegionOptStatusContains": list(_ENABLED), "MaxResults": 50}
    try:
        while True:
            page = client.list_regions(**kwargs)
            enabled.update(r["RegionName"] for r in page.get("Regions", []))
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    except ClientError as error:
        if isinstance(translate(error), AccessDenied) or error.response.get("Error", {}).get("Code") in {
            "404",
            "NotImplemented",
            "UnknownOperationException",
        }:
            return wanted
        raise translate(error) from error
    return [r for r in wanted if r in enabled] if enabled else wanted
