"""What a command says when it cannot run: one line on stderr and an exit code, never a traceback.

The root command's group (:class:`tokenfuse_cli.shell.TokenfuseGroup`) catches whatever a command
raises and asks :func:`explain` for the line and the code:

- exit 2: something the user has to give or fix first: a missing AWS credential or region, an AWS
  profile that does not exist, a file that is missing, unreadable or not UTF-8, input of the wrong
  shape, an AWS resource that is not there (a table, a stack, a secret), AWS refusing the caller;
- exit 1: the command ran and failed (an AWS error, an unexpected exception). Set
  ``TOKENFUSE_DEBUG=1`` to get the traceback of an unexpected one.

Commands raise :class:`Refused` (exit 2) or :class:`Failed` (exit 1) for their own refusals, and
let botocore's, pydantic's, YAML's and the OS's exceptions through: they are explained here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tokenfuse.text import one_line

EXIT_FAILED = 1
EXIT_REFUSED = 2
DEBUG_VARIABLE = "TOKENFUSE_DEBUG"

NO_CREDENTIALS = (
    "no AWS credentials: set AWS_PROFILE (or pass --profile) or the AWS_ACCESS_KEY_ID pair, "
    "or try it without AWS with --sandbox"
)
NO_REGION = "no AWS region: pass --region or set AWS_REGION"

_REFUSED_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidSignatureException",
}
_MISSING = {
    "ResourceNotFoundException",
    "NotFoundException",
    "NoSuchEntity",
    "ResourceNotFound",
    "ParameterNotFound",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound",
    "NoSuchBucket",
    "StateMachineDoesNotExist",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}


class Refused(Exception):
    """A missing credential, region, file or table, or input of the wrong shape: one line, exit 2."""


class Failed(Exception):
    """The command ran and did not succeed (what is still in force, what AWS answered): exit 1."""


@dataclass(frozen=True)
class Explained:
    line: str
    code: int


def _squeeze(value: object) -> str:
    return one_line(" ".join(str(value).split()))


def explain(error: BaseException) -> Explained | None:  # noqa: PLR0911 - one answer per kind of error
    """The line and exit code for ``error``; None for an error nobody planned for (exit 1, and the
    traceback with ``TOKENFUSE_DEBUG=1``)."""
    if isinstance(error, Refused):
        return Explained(_squeeze(error), EXIT_REFUSED)
    if isinstance(error, Failed):
        return Explained(_squeeze(error), EXIT_FAILED)
    aws = _explain_aws(error)
    if aws is not None:
        return aws
    if isinstance(error, UnicodeDecodeError):
        return Explained(
            f"not UTF-8 text: byte 0x{error.object[error.start]:02x} at offset {error.start}", EXIT_REFUSED
        )
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return Explained(f"{_squeeze(error.filename)}: {_squeeze(reason)}", EXIT_REFUSED)
    if isinstance(error, json.JSONDecodeError):
        return Explained(f"not JSON: {_squeeze(error)}", EXIT_REFUSED)
    shaped = _explain_shape(error)
    if shaped is not None:
        return shaped
    from tokenfuse.errors import AccessDenied, CredentialsMissing, NotFound, TokenfuseError

    cause = _refused_cause(error)
    if cause is not None:  # the domain's translation of a missing credential, region, table
        return cause
    if isinstance(error, NotFound | AccessDenied | CredentialsMissing):
        return Explained(_squeeze(error), EXIT_REFUSED)
    if isinstance(error, TokenfuseError):
        return Explained(_squeeze(error), EXIT_FAILED)
    return None


def _refused_cause(error: BaseException) -> Explained | None:
    """What the error was raised from, when that is a refusal (the adapters translate botocore's
    errors into the domain's, ``raise ... from`` the original)."""
    cause = error.__cause__
    if cause is None or cause is error:
        return None
    explained = explain(cause)
    return explained if explained is not None and explained.code == EXIT_REFUSED else None


def _explain_aws(error: BaseException) -> Explained | None:  # noqa: PLR0911 - one per kind
    from botocore import exceptions as boto

    if isinstance(
        error,
        boto.NoCredentialsError
        | boto.PartialCredentialsError
        | boto.CredentialRetrievalError
        | boto.TokenRetrievalError
        | boto.SSOTokenLoadError
        | boto.UnauthorizedSSOTokenError,
    ):
        return Explained(NO_CREDENTIALS, EXIT_REFUSED)
    if isinstance(error, boto.NoRegionError):
        return Explained(NO_REGION, EXIT_REFUSED)
    if isinstance(error, boto.ProfileNotFound):
        return Explained(f"{_squeeze(error)} (see `aws configure list-profiles`)", EXIT_REFUSED)
    if isinstance(error, boto.EndpointConnectionError):
        return Explained(f"cannot reach AWS: {_squeeze(error)}", EXIT_FAILED)
    if isinstance(error, boto.ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _REFUSED_CREDENTIALS:
            return Explained(f"AWS refused the credentials: {_squeeze(error)}", EXIT_REFUSED)
        if code in _MISSING or code.endswith("NotFound") or code.endswith("NotFoundException"):
            return Explained(f"not found: {_squeeze(error)}", EXIT_REFUSED)
        if code in _DENIED:
            return Explained(f"AWS denied the call: {_squeeze(error)}", EXIT_REFUSED)
        if code == "ValidationError" and "does not exist" in str(error):  # CloudFormation's missing stack
            return Explained(f"not found: {_squeeze(error)}", EXIT_REFUSED)
        return Explained(_squeeze(error), EXIT_FAILED)
    if isinstance(error, boto.BotoCoreError):
        return Explained(_squeeze(error), EXIT_FAILED)
    return None


def _explain_shape(error: BaseException) -> Explained | None:
    """Input of the wrong shape: YAML that does not parse, a model that does not validate."""
    import yaml
    from pydantic import ValidationError

    if isinstance(error, yaml.YAMLError):
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or error
        return Explained(f"not valid YAML: {where}{_squeeze(problem)}", EXIT_REFUSED)
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or error.title
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return Explained(f"{error.title}: {where}: {_squeeze(first['msg'])}{more}", EXIT_REFUSED)
    return None
