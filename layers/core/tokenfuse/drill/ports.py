"""What the drill and the doctor need of AWS, Slack and time: Protocols the domain calls.

:mod:`tokenfuse.drill.adapters` implements them with boto3 and slack-sdk (in Lambda, the CLI, and
the sandbox alike); the tests give in-memory fakes. Every value crossing these ports is already
parsed: the domain never sees a botocore response.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# --------------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Wait (real seconds in AWS; the simulated clock moves in the sandbox)."""


# --------------------------------------------------------------------------------------------------
# The drill
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    arn: str
    profile_id: str
    name: str
    account_id: str
    region: str
    model_id: str | None = None
    created_at: datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallOutcome:
    """One minimal call through a canary: it went through (with the tokens AWS reported), or it was
    refused (``denied``: AccessDeniedException), or it failed otherwise (``error``: one line)."""

    at: datetime
    ok: bool
    denied: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    request_id: str | None = None
    error: str | None = None


class CanaryPort(Protocol):
    """Canary profiles in the drill's account and region, and calls through them."""

    def create(self, name: str, model_arn: str, tags: Mapping[str, str]) -> Canary: ...

    def canaries(self) -> list[Canary]:
        """Application profiles here named like canaries and tagged ``tokenfuse:drill=true``."""

    def delete(self, arn: str) -> None:
        """Delete the profile (a profile already gone is not an error)."""

    def exists(self, arn: str) -> bool: ...

    def call(self, canary: Canary, prompt: str, max_tokens: int) -> CallOutcome: ...


class MetricsPort(Protocol):
    def invocations(self, model_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, float]:
        """``AWS/Bedrock`` ``Invocations`` summed over [start, end) per ``ModelId`` value asked."""


class InvocationLogPort(Protocol):
    def log_group(self) -> str | None:
        """The CloudWatch Logs group model invocation logging writes to here (None: logging is off
        or goes to S3 only)."""

    def record(
        self, log_group: str, request_id: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        """The invocation log record of one request (parsed JSON), or None when not there (yet)."""


@dataclass(frozen=True)
class TripOutcome:
    """How the remediation state machine's execution ended, and the trip record it wrote."""

    execution: str
    status: str
    """SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or RUNNING when the wait ran out."""
    trip: Mapping[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class RestoreOutcome:
    restored: bool
    note: str
    failed: tuple[str, ...] = ()


class RemediationPort(Protocol):
    """The deployed remediation: its state machine (the trip) and its function (the restore), so the
    functions' own IAM is what the drill proves."""

    def trip(self, incident: Mapping[str, Any], execution_name: str, wait_seconds: float) -> TripOutcome:
        """Start the execution and wait for its end (real seconds: it runs on AWS's clock)."""

    def restore(self, profile_arn: str, actor: str) -> RestoreOutcome: ...


class ReportPort(Protocol):
    """Where the scheduled drill says how it went (FinOps)."""

    def post(self, text: str) -> str:
        """Post ``text``; returns where it went (one line). Raises TokenfuseError when it could not."""


# --------------------------------------------------------------------------------------------------
# The doctor
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgAccount:
    account_id: str
    name: str | None = None


class ManagementAccountPort(Protocol):
    def management_account(self) -> str | None:
        """The organization's management account (None: this account is in no organization)."""


class OrganizationPort(ManagementAccountPort, Protocol):
    """Organizations, read from the management account (or its delegated administrator)."""

    def active_accounts(self) -> list[OrgAccount]: ...

    def parents(self, account_id: str) -> list[str]:
        """The account's OUs up to the root, nearest first (ids)."""

    def find_policy(self, policy_id: str | None, name: str) -> str | None:
        """The guard SCP's id (by id when given, else by name); None when there is none."""

    def policy_document(self, policy_id: str) -> dict[str, Any]: ...

    def policy_targets(self, policy_id: str) -> list[str]:
        """Root, OU and account ids the policy is attached to."""


@dataclass(frozen=True)
class StackInstance:
    account_id: str
    region: str
    status: str
    detailed_status: str | None


class StackSetPort(Protocol):
    def instances(self, stack_set_name: str) -> list[StackInstance]: ...


@dataclass(frozen=True)
class LiveProfile:
    arn: str
    profile_id: str
    name: str | None
    created_at: datetime | None


class AccountPort(Protocol):
    """What the doctor reads in one member account and region (through the member role)."""

    def profiles(self) -> list[LiveProfile]: ...

    def tags(self, arn: str) -> dict[str, str]: ...

    def alarm_names(self, prefix: str) -> set[str]: ...

    def model_id_series(self) -> set[str]:
        """The ``ModelId`` values with ``AWS/Bedrock`` series here in the last two weeks."""

    def invocation_log_group(self) -> str | None: ...


class AccountsPort(Protocol):
    def assume_error(self, account_id: str) -> str | None:
        """None when the member role can be assumed in the account, else why not (one line)."""

    def account(self, account_id: str, region: str) -> AccountPort: ...


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    confirmed: bool


class TopicsPort(Protocol):
    def subscriptions(self, topic_arn: str) -> list[Subscription]: ...


@dataclass(frozen=True)
class AnomalySubscription:
    name: str
    frequency: str
    sns_topics: tuple[str, ...]


class CostsPort(Protocol):
    """Billing, read in the management (payer) account."""

    def anomaly_subscriptions(self) -> list[AnomalySubscription]: ...

    def budget_topics(self) -> dict[str, list[str]]:
        """Budget name -> the SNS topics its notifications publish to."""

    def cost_allocation_tags(self, keys: Sequence[str]) -> dict[str, str]:
        """Tag key -> its status (``Active`` / ``Inactive``); a key Billing has never seen is absent."""


@dataclass(frozen=True)
class SlackAuth:
    ok: bool
    error: str | None = None
    team: str | None = None
    bot_user: str | None = None


@dataclass(frozen=True)
class ChannelMembership:
    channel: str
    member: bool
    error: str | None = None
    name: str | None = None


class SlackPort(Protocol):
    def auth(self) -> SlackAuth: ...

    def membership(self, channel: str) -> ChannelMembership: ...


IdentityStatus = Literal["Success", "Pending", "Failed", "TemporaryFailure", "NotStarted", "absent"]


class MailPort(Protocol):
    def identity_status(self, identity: str) -> IdentityStatus: ...

    def production_access(self) -> bool | None:
        """True out of the SES sandbox, False in it, None when SES does not say."""


@dataclass(frozen=True)
class Simulation:
    action: str
    resource: str
    denied_by_organization: bool
    decision: str


class SimulatorPort(Protocol):
    """IAM's policy simulator (in a real account only: moto has none)."""

    def simulate(
        self, principal_arn: str, action: str, resource: str, context: Mapping[str, str]
    ) -> Simulation: ...
