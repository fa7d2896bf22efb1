"""boto3 sessions and clients, and the one way tokenfuse calls AWS.

- :func:`client` builds a client on demand (never at import, so moto can be active first) with
  botocore's standard retry mode; its overloads give each service its ``boto3-stubs`` type.
- :func:`aws_call` wraps every AWS call: botocore's errors (``ClientError`` and the errors of a
  call that never got an answer) become :class:`~tokenfuse.errors.AwsError` and its kinds, with
  AWS's error code and the operation kept as ``error.code`` / ``error.operation``. Callers decide
  on ``error.code`` (or the class), never on the message's text.
- :func:`assume_role_session` / :class:`MemberSessions`: STS role sessions into member accounts;
  from the function's own credentials they are kept per container (:func:`kept_role_session`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal, NamedTuple, overload
from weakref import WeakKeyDictionary

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from tokenfuse.adapters.service_models import botocore_session
from tokenfuse.errors import (
    AccessDenied,
    AwsError,
    ConditionFailed,
    CredentialsMissing,
    NotFound,
    TransientAwsError,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_account import AccountClient
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_pricing import PricingClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)

_KINDS: dict[str, type[AwsError]] = {
    **dict.fromkeys(
        ("ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "ResourceNotFound"), NotFound
    ),
    **dict.fromkeys(
        ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"),
        AccessDenied,
    ),
    **dict.fromkeys(
        (
            "Throttling",
            "ThrottlingException",
            "ThrottledException",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "ProvisionedThroughputExceededException",
            "RequestThrottledException",
            "ServiceUnavailable",
            "ServiceUnavailableException",
            "InternalServerError",
            "InternalServerException",
            "InternalFailure",
            "RequestTimeout",
            "RequestTimeoutException",
        ),
        TransientAwsError,
    ),
    "ConditionalCheckFailedException": ConditionFailed,
}
"""AWS error codes and the kind of tokenfuse error each is. A code not listed is a plain
:class:`AwsError` (the caller reads ``error.code``), unless its HTTP status says transient."""

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSACTION_CANCELLED = "TransactionCanceledException"


_KEPT_CLIENTS: WeakKeyDictionary[boto3.Session, dict[tuple[str, str | None], BaseClient]] = (
    WeakKeyDictionary()
)
"""The clients of the sessions a container keeps (its own and its member-role ones), per service and
region; a session no longer kept takes its clients with it."""


@cache
def default_session() -> boto3.Session:
    """The container's session: every client of the function's own credentials comes from it (and is
    kept, :func:`client`), so they share its loaded endpoint data and service models (read lean:
    :mod:`.service_models`)."""
    session = boto3.Session(botocore_session=botocore_session())
    _KEPT_CLIENTS[session] = {}
    return session


# One overload per service tokenfuse calls: each returns that service's boto3-stubs client type.
# fmt: off
@overload
def client(service: Literal["account"], region: str | None = None, session: boto3.Session | None = None) -> AccountClient: ...  # noqa: E501
@overload
def client(service: Literal["bedrock"], region: str | None = None, session: boto3.Session | None = None) -> BedrockClient: ...  # noqa: E501
@overload
def client(service: Literal["bedrock-runtime"], region: str | None = None, session: boto3.Session | None = None) -> BedrockRuntimeClient: ...  # noqa: E501
@overload
def client(service: Literal["budgets"], region: str | None = None, session: boto3.Session | None = None) -> BudgetsClient: ...  # noqa: E501
@overload
def client(service: Literal["ce"], region: str | None = None, session: boto3.Session | None = None) -> CostExplorerClient: ...  # noqa: E501
@overload
def client(service: Literal["cloudformation"], region: str | None = None, session: boto3.Session | None = None) -> CloudFormationClient: ...  # noqa: E501
@overload
def client(service: Literal["cloudwatch"], region: str | None = None, session: boto3.Session | None = None) -> CloudWatchClient: ...  # noqa: E501
@overload
def client(service: Literal["dynamodb"], region: str | None = None, session: boto3.Session | None = None) -> DynamoDBClient: ...  # noqa: E501
@overload
def client(service: Literal["events"], region: str | None = None, session: boto3.Session | None = None) -> EventBridgeClient: ...  # noqa: E501
@overload
def client(service: Literal["iam"], region: str | None = None, session: boto3.Session | None = None) -> IAMClient: ...  # noqa: E501
@overload
def client(service: Literal["lambda"], region: str | None = None, session: boto3.Session | None = None) -> LambdaClient: ...  # noqa: E501
@overload
def client(service: Literal["logs"], region: str | None = None, session: boto3.Session | None = None) -> CloudWatchLogsClient: ...  # noqa: E501
@overload
def client(service: Literal["organizations"], region: str | None = None, session: boto3.Session | None = None) -> OrganizationsClient: ...  # noqa: E501
@overload
def client(service: Literal["pricing"], region: str | None = None, session: boto3.Session | None = None) -> PricingClient: ...  # noqa: E501
@overload
def client(service: Literal["secretsmanager"], region: str | None = None, session: boto3.Session | None = None) -> SecretsManagerClient: ...  # noqa: E501
@overload
def client(service: Literal["ses"], region: str | None = None, session: boto3.Session | None = None) -> SESClient: ...  # noqa: E501
@overload
def client(service: Literal["sesv2"], region: str | None = None, session: boto3.Session | None = None) -> SESV2Client: ...  # noqa: E501
@overload
def client(service: Literal["sns"], region: str | None = None, session: boto3.Session | None = None) -> SNSClient: ...  # noqa: E501
@overload
def client(service: Literal["sqs"], region: str | None = None, session: boto3.Session | None = None) -> SQSClient: ...  # noqa: E501
@overload
def client(service: Literal["ssm"], region: str | None = None, session: boto3.Session | None = None) -> SSMClient: ...  # noqa: E501
@overload
def client(service: Literal["stepfunctions"], region: str | None = None, session: boto3.Session | None = None) -> SFNClient: ...  # noqa: E501
@overload
def client(service: Literal["sts"], region: str | None = None, session: boto3.Session | None = None) -> STSClient: ...  # noqa: E501
# fmt: on
def client(service: str, region: str | None = None, session: boto3.Session | None = None) -> BaseClient:
    """A client with tokenfuse's retry config, from the given session or the container's. The
    container's session (:func:`default_session`) and each kept member-role session
    (:func:`kept_role_session`) keep their clients: one per service and region for as long as the
    session lives, so a warm container builds none. Any other session gets a new client."""
    session = session or default_session()
    kept = _KEPT_CLIENTS.get(session)
    key = (service, region or session.region_name)
    if kept is not None and key in kept:
        return kept[key]
    built: BaseClient = session.client(  # type: ignore[call-overload]
        service, region_name=region, config=RETRY_CONFIG
    )
    if kept is not None:
        kept[key] = built
    return built


# --------------------------------------------------------------------------------------------
# Calling AWS
# --------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _client_error_kind(error: ClientError, code: str) -> type[AwsError]:
    if code == _TRANSACTION_CANCELLED:
        # A transaction cancelled by one of its conditions is a failed condition; by a conflict
        # or throttling, transient. botocore parses the reasons (``CancellationReasons``).
        reasons = {str(r.get("Code")) for r in error.response.get("CancellationReasons", []) or []}
        if "ConditionalCheckFailed" in reasons:
            return ConditionFailed
        if reasons & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}:
            return TransientAwsError
    kind = _KINDS.get(code)
    if kind is not None:
        return kind
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return TransientAwsError if status in _TRANSIENT_STATUS else AwsError


def translate(
    error: ClientError | BotoCoreError,
    operation: str | None = None,
    resource: str | None = None,
    codes: Mapping[str, type[AwsError]] | None = None,
) -> AwsError:
    """The tokenfuse error for a botocore error, with AWS's code and the operation kept.

    ``codes`` maps AWS error codes to the error this call means by them (e.g. Step Functions'
    ``TaskTimedOut`` -> ``TaskNoLongerWaiting``); other codes follow :data:`_KINDS`. A call that
    never got an answer (connection refused, connect or read time-out after botocore's retries) is
    transient, with botocore's exception name as its code; no credentials is
    :class:`~tokenfuse.errors.CredentialsMissing`.
    """
    request_id = None
    if isinstance(error, ClientError):
        request_id = error.response.get("ResponseMetadata", {}).get("RequestId") or None
        code = str(error.response.get("Error", {}).get("Code") or "Unknown")
        detail = _one_line(str(error.response.get("Error", {}).get("Message") or ""))
        kind = (codes or {}).get(code) or _client_error_kind(error, code)
        operation = operation or error.operation_name
    else:
        code = type(error).__name__
        detail = _one_line(str(error))
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            kind = CredentialsMissing
        elif isinstance(error, HTTPClientError | BotoConnectionError):
            kind = TransientAwsError
        else:
            kind = (codes or {}).get(code, AwsError)
        operation = operation or "AWS call"
    where = f"{operation} on {resource}" if resource else operation
    message = f"{where}: {code}: {detail}" if detail else f"{where}: {code}"
    translated = kind(message, code=code, operation=operation, resource=resource)
    translated.request_id = request_id  # set, not passed: a kind may have an __init__ of its own
    return translated


@contextmanager
def aws_call(
    operation: str, *, resource: str | None = None, codes: Mapping[str, type[AwsError]] | None = None
) -> Iterator[None]:
    """Run the AWS call(s) in the block; botocore's errors leave it as tokenfuse's (see :func:`translate`).

    ``operation`` is the call as IAM names it (``bedrock:TagResource``); ``resource`` what it is
    about, for the message. Wrap the whole iteration of a paginator: its pages are fetched lazily.
    """
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error, operation, resource, codes) from error


def error_code(error: BaseException) -> str | None:
    """AWS's error code behind an exception: its own (an :class:`AwsError`), or that of the
    botocore ``ClientError`` it was raised from or while handling (a library that wraps it, such as
    Powertools' ``GetParameterError``). None when there is none."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AwsError) and current.code:
            return current.code
        if isinstance(current, ClientError):
            return str(current.response.get("Error", {}).get("Code") or "") or None
        current = current.__cause__ or current.__context__
    return None


# --------------------------------------------------------------------------------------------
# Member accounts
# --------------------------------------------------------------------------------------------


def assume_role_session(
    role_arn: str, session_name: str = "tokenfuse", base: boto3.Session | None = None
) -> boto3.Session:
    """A session in a member account through its tokenfuse role."""
    return assume_role(role_arn, session_name, base).session


class AssumedRole(NamedTuple):
    session: boto3.Session
    expires: datetime


def assume_role(role_arn: str, session_name: str, base: boto3.Session | None = None) -> AssumedRole:
    """A new member-role session and the moment its credentials expire."""
    sts = client("sts", session=base)
    with aws_call("sts:AssumeRole", resource=role_arn):
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        botocore_session=botocore_session(),  # the models the container already loaded
    )
    return AssumedRole(session, creds["Expiration"])


KEEP_UNTIL_BEFORE_EXPIRY = timedelta(minutes=10)
"""A kept member-role session is assumed afresh this long before its credentials expire (STS's
default lifetime is an hour), so no call starts on credentials about to lapse."""

_KEPT_SESSIONS: dict[tuple[str, str], AssumedRole] = {}


def kept_role_session(role_arn: str, session_name: str = "tokenfuse") -> boto3.Session:
    """The container's session in a member account through its role, from the function's own
    credentials: assumed at the first need and kept across invocations (with its clients) until
    :data:`KEEP_UNTIL_BEFORE_EXPIRY` before its credentials expire, as the function's own session
    and clients are. A warm container's every task in an account then costs no STS call and no new
    client; a failed AssumeRole keeps nothing."""
    key = (role_arn, session_name)
    kept = _KEPT_SESSIONS.get(key)
    if kept is None or kept.expires - KEEP_UNTIL_BEFORE_EXPIRY <= datetime.now(UTC):
        kept = _KEPT_SESSIONS[key] = assume_role(role_arn, session_name)
        _KEPT_CLIENTS[kept.session] = {}
    return kept.session


def forget_kept_sessions(*, own_clients: bool = True) -> None:
    """A cold container's state: no member-role session kept, and no client of any session (tests
    start each case from it; the container's own session stays, with what is registered on it).
    ``own_clients=False`` keeps the clients of the container's own session: all a cold start changes
    in the calls made is the member-role sessions assumed afresh (building a client calls nothing)."""
    for kept in _KEPT_SESSIONS.values():
        _KEPT_CLIENTS.pop(kept.session, None)
    _KEPT_SESSIONS.clear()
    if own_clients:
        for clients in _KEPT_CLIENTS.values():
            clients.clear()


MemberService = Literal[
    "account", "bedrock", "bedrock-runtime", "budgets", "cloudwatch", "events", "logs", "organizations"
]


class MemberSessions:
    """boto3 sessions per account: the function's own session for its own account, the member role's
    (``arn:<partition>:iam::<account>:role/<member_role_name>``) through STS for any other: from the
    function's own credentials the container's kept one (:func:`kept_role_session`), from another
    ``base`` (the CLI's profile) one per instance."""

    def __init__(
        self,
        member_role_name: str,
        session_name: str = "tokenfuse",
        *,
        base: boto3.Session | None = None,
        own_account: str | None = None,
        partition: str = "aws",
        assume: Callable[[str, str], boto3.Session] | None = None,
    ) -> None:
        self.member_role_name = member_role_name
        self.session_name = session_name
        self.base = base
        self.partition = partition
        self._own = own_account
        self._assume = assume or (
            kept_role_session if base is None else lambda arn, name: assume_role_session(arn, name, base)
        )
        self._sessions: dict[str, boto3.Session] = {}

    @property
    def own_account(self) -> str:
        if self._own is None:
            with aws_call("sts:GetCallerIdentity"):
                self._own = str(client("sts", session=self.base).get_caller_identity()["Account"])
        return self._own

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.member_role_name}"

    def session(self, account_id: str | None) -> boto3.Session:
        """The session for an account (None = the function's own)."""
        if account_id is None or account_id == self.own_account:
            return self.base or default_session()
        if account_id not in self._sessions:
            self._sessions[account_id] = self._assume(self.role_arn(account_id), self.session_name)
        return self._sessions[account_id]

    # fmt: off
    @overload
    def client(self, service: Literal["account"], account_id: str | None, region: str | None = None) -> AccountClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["bedrock"], account_id: str | None, region: str | None = None) -> BedrockClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["bedrock-runtime"], account_id: str | None, region: str | None = None) -> BedrockRuntimeClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["budgets"], account_id: str | None, region: str | None = None) -> BudgetsClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["cloudwatch"], account_id: str | None, region: str | None = None) -> CloudWatchClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["events"], account_id: str | None, region: str | None = None) -> EventBridgeClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["logs"], account_id: str | None, region: str | None = None) -> CloudWatchLogsClient: ...  # noqa: E501
    @overload
    def client(self, service: Literal["organizations"], account_id: str | None, region: str | None = None) -> OrganizationsClient: ...  # noqa: E501
    # fmt: on
    def client(self, service: MemberService, account_id: str | None, region: str | None = None) -> BaseClient:
        """A client of ``service`` in the account (its member role's session for another account)."""
        built: BaseClient = client(service, region, self.session(account_id))
        return built


def share_session_with_parameters(*providers: Literal["ssm", "secrets"]) -> None:
    """Powertools' ``parameters.get_parameter`` / ``get_secret`` read through :func:`default_session`
    (with tokenfuse's retry config) instead of a boto3 session of their own: one botocore session
    per container, whose loaded endpoint data and service models every client shares. Building a
    provider creates its client, so :func:`get_parameter` and :func:`get_secret` call this at the
    read, and a function builds only the provider its path reads. A provider already in place is
    kept; after ``parameters.clear_caches()`` the next read builds it again."""
    from aws_lambda_powertools.utilities.parameters import constants

    for name in providers:
        if name in constants.DEFAULT_PROVIDERS:
            continue
        if name == "ssm":
            from aws_lambda_powertools.utilities.parameters.ssm import SSMProvider

            constants.DEFAULT_PROVIDERS[name] = SSMProvider(
                boto3_session=default_session(), boto_config=RETRY_CONFIG
            )
        else:
            from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

            constants.DEFAULT_PROVIDERS[name] = SecretsProvider(
                boto3_session=default_session(), boto_config=RETRY_CONFIG
            )


def get_parameter(name: str, max_age: int = 300) -> str:
    """An SSM parameter's value through Powertools (cached ``max_age`` seconds across invocations)."""
    share_session_with_parameters("ssm")
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_parameter(name, max_age=max_age)


def get_secret(arn: str, max_age: int = 300) -> str | bytes:
    """A secret through Powertools (cached ``max_age`` seconds across invocations): its
    ``SecretString``, or its ``SecretBinary`` for a binary secret."""
    share_session_with_parameters("secrets")
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(arn, max_age=max_age)
