"""Faults at the AWS call, through botocore's own event system.

:class:`FaultInjector` registers a ``before-call`` and an ``after-call`` handler in botocore's
``BUILTIN_HANDLERS``, so every session created afterwards (tokenfuse's default session, each
assumed member-role session, moto's clients) carries them. While armed it numbers each call and
makes the planned one fail, the way AWS and botocore fail it *after botocore's own retries*:

- ``access-denied``: an ``AccessDenied`` error response (``before-call`` answers instead of AWS:
  the request never reaches moto, nothing changes);
- ``throttling``: a ``ThrottlingException`` error response, likewise before anything changes;
- ``connect-timeout``: botocore's ``ConnectTimeoutError`` (the request never left);
- ``read-timeout``: botocore's ``ReadTimeoutError`` raised from ``after-call``: AWS (moto) applied
  the request and the response was lost, the worst case a caller has to read back;
- ``lambda-timeout``: the function dies right after AWS applied the call (:class:`LambdaTimedOut`,
  a ``BaseException`` no ``except Exception`` catches: no cleanup of tokenfuse's runs), as Lambda
  ends a function at its time-out; Step Functions sees ``Sandbox.Timedout``.

tokenfuse's own functions are never replaced: only what AWS answers changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

ErrorKind = Literal["access-denied", "throttling", "connect-timeout", "read-timeout", "lambda-timeout"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("access-denied", "throttling", "connect-timeout", "read-timeout")
_ERROR_RESPONSES = {
    "access-denied": (403, "AccessDenied", "User is not authorized to perform this action (injected)"),
    "throttling": (400, "ThrottlingException", "Rate exceeded (injected)"),
}
_INDEX_KEY = "tokenfuse_fault_index"
# DynamoDB's errors reach tokenfuse through one adapter whatever the call: a throttled call and a
# time-out after it was applied take its two paths (a ClientError, a botocore error).
DYNAMODB_KINDS: tuple[ErrorKind, ...] = ("throttling", "read-timeout")
# On a read, a connect time-out and a read time-out are the same fault (nothing was changed either
# way, botocore raises a time-out): reads take access-denied, throttling and read-timeout.
READ_KINDS: tuple[ErrorKind, ...] = ("access-denied", "throttling", "read-timeout")
WRITES = frozenset(
    {
        "organizations.UpdatePolicy",
        "iam.PutRolePolicy",
        "iam.DeleteRolePolicy",
        "bedrock.TagResource",
        "bedrock.UntagResource",
        "lambda.PutFunctionConcurrency",
        "lambda.DeleteFunctionConcurrency",
        "events.PutEvents",
    }
)


def kinds_for(operation: str) -> tuple[ErrorKind, ...]:
    if operation.startswith("dynamodb."):
        return DYNAMODB_KINDS
    return ERROR_KINDS if operation in WRITES else READ_KINDS


def matrix(calls: dict[tuple[str, str], list[str]]) -> list[Any]:
    """``pytest.param(mechanism, action, index, operation, kind)`` for every call of every
    (mechanism, action) and every error kind, each with a readable id."""
    import pytest

    cases = []
    for (mechanism, action), operations in calls.items():
        for index, operation in enumerate(operations):
            cases += [
                pytest.param(
                    mechanism,
                    action,
                    index,
                    operation,
                    kind,
                    id=f"{mechanism}-{action}-{index:02d}-{operation}-{kind}",
                )
                for kind in kinds_for(operation)
            ]
    return cases


class LambdaTimedOut(BaseException):
    """The function was stopped mid-call (Lambda's time-out): nothing after this line runs."""

    error_type = "Sandbox.Timedout"


@dataclass
class Plan:
    """Fail call number ``index`` of the armed window (or, ``persistent``, every call of
    ``operation``) with ``kind``."""

    kind: ErrorKind
    index: int | None = None
    operation: str | None = None
    persistent: bool = False
    spent: bool = False  # a single fault fires once, however often the window is re-armed (a retry)


@dataclass
class FaultInjector:
    calls: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    plan: Plan | None = None
    armed: bool = False

    def install(self) -> None:
        botocore.handlers.BUILTIN_HANDLERS.append(("before-call", self._before_call))
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call", self._after_call))

    def uninstall(self) -> None:
        for event, handler in (("before-call", self._before_call), ("after-call", self._after_call)):
            botocore.handlers.BUILTIN_HANDLERS.remove((event, handler))

    @contextmanager
    def armed_for(self, plan: Plan | None) -> Iterator[None]:
        """Number (and, per ``plan``, fail) the calls made inside the block; ``calls`` starts afresh."""
        self.calls, self.plan, self.armed = [], plan, True
        try:
            yield
        finally:
            self.armed = False

    @contextmanager
    def disarmed(self) -> Iterator[None]:
        """The test's own reads inside an armed window are neither counted nor faulted."""
        armed, self.armed = self.armed, False
        try:
            yield
        finally:
            self.armed = armed

    def _fails(self, index: int, operation: str, kind_filter: set[str]) -> ErrorKind | None:
        plan = self.plan
        if not self.armed or plan is None or plan.kind not in kind_filter:
            return None
        if plan.persistent:
            return plan.kind if operation == plan.operation else None
        if plan.spent or index != plan.index:
            return None
        plan.spent = True
        return plan.kind

    def _before_call(
        self, model: Any, context: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not self.armed:
            return None
        operation = f"{model.service_model.service_name}.{model.name}"
        index = len(self.calls)
        self.calls.append(operation)
        context[_INDEX_KEY] = index
        kind = self._fails(index, operation, {"access-denied", "throttling", "connect-timeout"})
        if kind is None:
            return None
        self.injected.append(f"{index}:{operation}:{kind}")
        if kind == "connect-timeout":
            raise ConnectTimeoutError(
                endpoint_url=f"https://{model.service_model.endpoint_prefix}.amazonaws.com/"
            )
        status, code, message = _ERROR_RESPONSES[kind]
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        }
        return AWSResponse("https://injected.invalid/", status, HTTPHeaders(), None), parsed

    def _after_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        index = context.get(_INDEX_KEY)
        if index is None:
            return
        operation = f"{model.service_model.service_name}.{model.name}"
        kind = self._fails(index, operation, {"read-timeout", "lambda-timeout"})
        if kind == "lambda-timeout":
            self.injected.append(f"{index}:{operation}:lambda-timeout")
            raise LambdaTimedOut(f"stopped after {operation}")
        if kind == "read-timeout":
            self.injected.append(f"{index}:{operation}:read-timeout")
            raise ReadTimeoutError(
                endpoint_url=f"https://{model.service_model.endpoint_prefix}.amazonaws.com/"
            )
