"""boto3 sessions and clients: built on demand (never at import, so moto can be active first),
with botocore's standard retry mode, and STS role sessions into member accounts."""

from collections.abc import Callable
from functools import cache
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from tokenfuse.errors import AccessDenied, NotFound, TokenfuseError, TransientAwsError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)

_NOT_FOUND = {"ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "ResourceNotFound"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_TRANSIENT = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalServerError",
    "InternalFailure",
    "RequestLimitExceeded",
}


@cache
def default_session() -> boto3.Session:
    return boto3.Session()


def client(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    """A client with tokenfuse's retry config, from the given session or the default one."""
    # The service name is dynamic here, so boto3-stubs' per-service overloads cannot apply.
    return (session or default_session()).client(  # type: ignore[call-overload]
        service, region_name=region, config=RETRY_CONFIG
    )


AWS_ERRORS = (ClientError, BotoCoreError)
"""What a botocore call raises: catch these, then :func:`translate`."""


def translate(error: ClientError | BotoCoreError) -> TokenfuseError:
    """The domain exception for a botocore error (keeps the AWS message, on one line). A read or
    connect time-out that outlasted botocore's own retries is transient."""
    message = " ".join(str(error).split())
    if not isinstance(error, ClientError):
        if isinstance(error, HTTPClientError | BotoConnectionError):
            return TransientAwsError(f"{type(error).__name__}: {message}")
        return TokenfuseError(f"{type(error).__name__}: {message}")
    code = error.response.get("Error", {}).get("Code", "")
    if code in _NOT_FOUND:
        return NotFound(message)
    if code in _DENIED:
        return AccessDenied(message)
    if code in _TRANSIENT:
        return TransientAwsError(message)
    return TokenfuseError(message)


def assume_role_session(
    role_arn: str, session_name: str = "tokenfuse", base: boto3.Session | None = None
) -> boto3.Session:
    """A session in a member account through its tokenfuse role."""
    sts = client("sts", session=base)
    try:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    except AWS_ERRORS as error:
        raise translate(error) from error
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


class MemberSessions:
    """boto3 sessions per account: the function's own session for its own account, the member role's
    (``arn:<partition>:iam::<account>:role/<member_role_name>``) through STS for any other, cached."""

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
        self._assume = assume or (lambda arn, name: assume_role_session(arn, name, self.base))
        self._sessions: dict[str, boto3.Session] = {}

    @property
    def own_account(self) -> str:
        if self._own is None:
            try:
                self._own = str(client("sts", session=self.base).get_caller_identity()["Account"])
            except AWS_ERRORS as error:
                raise translate(error) from error
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

    def client(self, service: str, account_id: str | None, region: str | None = None) -> Any:
        return client(service, region, self.session(account_id))


def share_session_with_parameters(*providers: Literal["ssm", "secrets"]) -> None:
    """Powertools' ``parameters.get_parameter`` / ``get_secret`` read through :func:`default_session`
    (with tokenfuse's retry config) instead of a boto3 session of their own: one botocore session
    per container, whose loaded endpoint data and service models every client shares. Only the
    providers a function reads are built (building one creates its client). A provider already in
    place is kept; after ``parameters.clear_caches()`` Powertools builds its own again."""
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


def get_secret(arn: str) -> Any:
    """A secret through Powertools (cached for 5 minutes across invocations)."""
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(arn, max_age=300)
