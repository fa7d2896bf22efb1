"""One member account and region, read through the member role: profiles, alarms, series, logging."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import MemberSessions, aws_call
from tokenfuse.adapters.bedrock import iter_application_profiles, profile_tags
from tokenfuse.adapters.cloudwatch import model_id_series
from tokenfuse.drill.aws.runtime import invocation_log_group
from tokenfuse.drill.ports import LiveProfile
from tokenfuse.drill.report import said
from tokenfuse.errors import TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_cloudwatch import CloudWatchClient

SERIES_METRIC = "Invocations"


class AccountReader:
    """:class:`~tokenfuse.drill.ports.AccountPort` with one account's ``bedrock`` and ``cloudwatch``."""

    def __init__(self, bedrock: BedrockClient, cloudwatch: CloudWatchClient) -> None:
        self.bedrock = bedrock
        self.cloudwatch = cloudwatch

    def profiles(self) -> list[LiveProfile]:
        return [
            LiveProfile(p.arn, p.profile_id, p.name, p.created_at)
            for p in iter_application_profiles(self.bedrock)
        ]

    def tags(self, arn: str) -> dict[str, str]:
        return profile_tags(self.bedrock, arn)

    def alarm_names(self, prefix: str) -> set[str]:
        names: set[str] = set()
        pages = self.cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
        with aws_call("cloudwatch:DescribeAlarms", resource=f"{prefix}*"):
            for page in pages:
                names |= {a["AlarmName"] for a in page.get("MetricAlarms", [])}
        return names

    def model_id_series(self) -> set[str]:
        return model_id_series(self.cloudwatch, SERIES_METRIC)[0]

    def invocation_log_group(self) -> str | None:
        return invocation_log_group(self.bedrock)


class MemberAccounts:
    """:class:`~tokenfuse.drill.ports.AccountsPort`: the function's own session for its own
    account, the member role through STS for any other (tokenfuse's own MemberSessions)."""

    def __init__(self, sessions: MemberSessions) -> None:
        self.sessions = sessions

    def assume_error(self, account_id: str) -> str | None:
        try:
            self.sessions.session(account_id)
        except TokenfuseError as error:
            return said(error)
        return None

    def account(self, account_id: str, region: str) -> AccountReader:
        return AccountReader(
            self.sessions.client("bedrock", account_id, region),
            self.sessions.client("cloudwatch", account_id, region),
        )
