"""Clients for the account that owns a profile: this account's own session, or the member role's
(``MEMBER_ROLE_NAME``) through STS when the profile lives in another account."""

from collections.abc import Callable
from typing import Any

import boto3

from tokenfuse.adapters.aws import MemberSessions, client
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.iam_deny import InlineDeny
from tokenfuse.adapters.lambda_concurrency import LambdaConcurrency
from tokenfuse.adapters.profile_tags import ProfileTags


class AccountAccess(MemberSessions):
    """The adapters remediation changes things through, in the account that owns the profile."""

    def __init__(
        self,
        member_role_name: str,
        base: boto3.Session | None = None,
        assume: Callable[[str, str], boto3.Session] | None = None,
        partition: str = "aws",
        own_account: str | None = None,
    ) -> None:
        super().__init__(
            member_role_name,
            "tokenfuse-remediate",
            base=base,
            assume=assume,
            partition=partition,
            own_account=own_account,
        )

    def tags(self, account_id: str, region: str) -> ProfileTags:
        return ProfileTags(client("bedrock", region, self.session(account_id)))

    def roles(self, account_id: str) -> InlineDeny:
        return InlineDeny(client("iam", session=self.session(account_id)))

    def functions(self, account_id: str, region: str) -> LambdaConcurrency:
        return LambdaConcurrency(client("lambda", region, self.session(account_id)))

    def ssm(self, account_id: str, region: str) -> Any:
        return client("ssm", region, self.session(account_id))

    def guard(self, policy_id: str | None, policy_name: str) -> GuardScp:
        """The guard SCP, edited from this account (the delegated policy administrator)."""
        return GuardScp(self.client("organizations", None), policy_id, policy_name)
