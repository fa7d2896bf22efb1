"""Clients for the account that owns a profile: this account's own session, or the member role's
(``MEMBER_ROLE_NAME``) through STS when the profile lives in another account."""

from collections.abc import Callable
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import assume_role_session, client, default_session, translate
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.iam_deny import InlineDeny
from tokenfuse.adapters.lambda_concurrency import LambdaConcurrency
from tokenfuse.adapters.profile_tags import ProfileTags


class AccountAccess:
    def __init__(
        self,
        member_role_name: str,
        base: boto3.Session | None = None,
        assume: Callable[[str, str], boto3.Session] | None = None,
        partition: str = "aws",
    ) -> None:
        self.member_role_name = member_role_name
        self.base = base or default_session()
        self._assume = assume or (lambda arn, name: assume_role_session(arn, name, self.base))
        self.partition = partition
        self._sessions: dict[str, boto3.Session] = {}

    @cached_property
    def own_account(self) -> str:
        try:
            return str(client("sts", session=self.base).get_caller_identity()["Account"])
        except ClientError as error:
            raise translate(error) from error

    def session(self, account_id: str) -> boto3.Session:
        if account_id == self.own_account:
            return self.base
        if account_id not in self._sessions:
            role = f"arn:{self.partition}:iam::{account_id}:role/{self.member_role_name}"
            self._sessions[account_id] = self._assume(role, "tokenfuse-remediate")
        return self._sessions[account_id]

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
        return GuardScp(client("organizations", session=self.base), policy_id, policy_name)
