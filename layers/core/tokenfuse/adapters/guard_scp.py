"""The tokenfuse-owned guard SCP: one Deny of ``bedrock:InvokeModel`` and
``bedrock:InvokeModelWithResponseStream`` whose ``Resource`` lists the tripped profile ARNs
(resource-level permissions make this certain to work). IAM has no ``bedrock:Converse*`` action:
Converse is authorized as ``bedrock:InvokeModel``, ConverseStream as
``bedrock:InvokeModelWithResponseStream``, so these two actions deny all four APIs.

Only the statement with :data:`STATEMENT_SID` is touched; any other statement in the policy (for
instance the tag-conditioned deny, once confirmed in a real account) is kept as it is. An SCP
must name at least one resource, so an empty list is written as :data:`PLACEHOLDER_ARN`, which
matches no profile. Organizations has no conditional update: each change reads the document
afresh just before writing it, adds or removes exactly one ARN, and reads it back (retrying) so a
concurrent trip or restore that wrote at the same moment cannot silently drop the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import NotFound, TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

STATEMENT_SID = "TokenfuseTrippedProfiles"
DENIED_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
PLACEHOLDER_ARN = "arn:aws:bedrock:*:*:application-inference-profile/tokenfuse-none-tripped"
PRINCIPAL_ARN_KEY = "aws:PrincipalArn"
MAX_SCP_CHARS = 5120  # Organizations' limit on an SCP document
WRITE_ATTEMPTS = 3


class GuardPolicyFull(TokenfuseError):
    """The guard SCP cannot list one more ARN (5,120 characters): restore some, or use inline-deny."""


def empty_document() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [_statement([])]}


def _statement(arns: list[str]) -> dict[str, Any]:
    return {
        "Sid": STATEMENT_SID,
        "Effect": "Deny",
        "Action": list(DENIED_ACTIONS),
        "Resource": list(arns) or [PLACEHOLDER_ARN],
    }


def listed_arns(document: dict[str, Any]) -> list[str]:
    """The tripped ARNs the guard statement lists (the placeholder is not one)."""
    for statement in _statements(document):
        if statement.get("Sid") == STATEMENT_SID:
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else list(resources)
            return [arn for arn in resources if arn != PLACEHOLDER_ARN]
    return []


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def with_arns(document: dict[str, Any], arns: list[str]) -> dict[str, Any]:
    """The document with the guard statement listing exactly ``arns`` (other statements kept)."""
    others = [s for s in _statements(document) if s.get("Sid") != STATEMENT_SID]
    return {"Version": document.get("Version", "2012-10-17"), "Statement": [*others, _statement(arns)]}


def _content(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def document_size(document: dict[str, Any]) -> int:
    """Characters of the document as tokenfuse writes it (Organizations counts them so)."""
    return len(_content(document))


def full(size: int) -> str:
    return f"the guard SCP would be {size:,} characters (limit {MAX_SCP_CHARS:,})"


def caller_statement(sid: str, profile_arn: str, role_arns: list[str]) -> dict[str, Any]:
    """The deny of the two actions on one profile for the listed roles only: ``aws:PrincipalArn``
    is the role's ARN (with its path) for every session of that role."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": list(DENIED_ACTIONS),
        "Resource": [profile_arn],
        "Condition": {"ArnLike": {PRINCIPAL_ARN_KEY: list(role_arns)}},
    }


def listed_callers(document: dict[str, Any], sid: str) -> list[str]:
    """The role ARNs statement ``sid`` denies (``[]`` when there is no such statement)."""
    for statement in _statements(document):
        if statement.get("Sid") == sid:
            condition = statement.get("Condition") or {}
            arns = (condition.get("ArnLike") or {}).get(PRINCIPAL_ARN_KEY, [])
            return [arns] if isinstance(arns, str) else [str(a) for a in arns]
    return []


def with_callers(
    document: dict[str, Any], sid: str, profile_arn: str, role_arns: list[str]
) -> dict[str, Any]:
    """The document with statement ``sid`` denying exactly ``role_arns`` on the profile (removed
    when none); every other statement kept in its place."""
    new = [caller_statement(sid, profile_arn, role_arns)] if role_arns else []
    kept: list[dict[str, Any]] = []
    for statement in _statements(document):
        if statement.get("Sid") != sid:
            kept.append(statement)
        elif new:
            kept.append(new.pop())
    return {"Version": document.get("Version", "2012-10-17"), "Statement": [*kept, *new]}


class GuardScp:
    """Reads and edits the guard SCP's ARN list through Organizations DescribePolicy/UpdatePolicy."""

    def __init__(
        self, organizations: OrganizationsClient, policy_id: str | None, policy_name: str = "tokenfuse-guard"
    ) -> None:
        self.client = organizations
        self._policy_id = policy_id
        self.policy_name = policy_name

    @property
    def policy_id(self) -> str:
        if not self._policy_id:
            self._policy_id = self._find_by_name()
        return self._policy_id

    def _find_by_name(self) -> str:
        pages = self.client.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY")
        with aws_call("organizations:ListPolicies"):
            for page in pages:
                for policy in page.get("Policies", []):
                    if policy.get("Name") == self.policy_name:
                        return str(policy["Id"])
        raise NotFound(f"no service control policy named {self.policy_name!r} (set GUARD_POLICY_ID)")

    def document(self) -> dict[str, Any]:
        with aws_call("organizations:DescribePolicy", resource=self.policy_id):
            policy = self.client.describe_policy(PolicyId=self.policy_id)["Policy"]
        content = policy.get("Content") or "{}"
        parsed: dict[str, Any] = json.loads(content)
        return parsed

    def arns(self) -> list[str]:
        return listed_arns(self.document())

    def _write(self, document: dict[str, Any]) -> None:
        content = _content(document)
        if len(content) > MAX_SCP_CHARS:
            raise GuardPolicyFull(
                f"{full(len(content))}; restore tripped profiles or use TripMechanism=inline-deny"
            )
        with aws_call("organizations:UpdatePolicy", resource=self.policy_id):
            self.client.update_policy(PolicyId=self.policy_id, Content=content)

    def _edit(
        self,
        edit: Callable[[dict[str, Any]], dict[str, Any]],
        done: Callable[[dict[str, Any]], bool],
        lost: str,
    ) -> tuple[dict[str, Any], bool]:
        """Write ``edit(document)`` unless ``done`` already holds, and read it back, retrying while a
        concurrent writer undid it. Returns the document as first read and whether it was written."""
        first = document = self.document()
        if done(document):
            return first, False
        for _ in range(WRITE_ATTEMPTS):
            self._write(edit(document))
            document = self.document()  # read back: a concurrent writer may have undone it
            if done(document):
                return first, True
        raise TokenfuseError(f"the guard SCP kept {lost} through concurrent updates")

    def add(self, arn: str) -> tuple[list[str], bool]:
        """List ``arn``; returns the ARNs listed before and whether this call added it."""
        first, added = self._edit(
            lambda d: with_arns(d, [*listed_arns(d), arn]), lambda d: arn in listed_arns(d), f"losing {arn}"
        )
        return listed_arns(first), added

    def remove(self, arn: str) -> bool:
        """Unlist ``arn`` only (ARNs others added meanwhile stay); False when it was not listed."""
        _, removed = self._edit(
            lambda d: with_arns(d, [a for a in listed_arns(d) if a != arn]),
            lambda d: arn not in listed_arns(d),
            f"re-listing {arn}",
        )
        return removed

    # -- a profile's blocked callers (caller-scope trips) ------------------------------------------

    def callers(self, sid: str) -> list[str]:
        """The role ARNs the profile's caller statement ``sid`` denies."""
        return listed_callers(self.document(), sid)

    def size_with_callers(self, sid: str, profile_arn: str, role_arns: list[str]) -> int:
        """How many characters the document would hold with ``role_arns`` denied (a dry run's plan)."""
        document = self.document()
        planned = with_callers(document, sid, profile_arn, _union(listed_callers(document, sid), role_arns))
        return document_size(planned)

    def deny_callers(self, sid: str, profile_arn: str, role_arns: list[str]) -> bool:
        """Add ``role_arns`` to the profile's caller statement (created when absent); read back.
        :class:`GuardPolicyFull` (nothing written) when the document would pass 5,120 characters."""
        _, added = self._edit(
            lambda d: with_callers(d, sid, profile_arn, _union(listed_callers(d, sid), role_arns)),
            lambda d: set(role_arns) <= set(listed_callers(d, sid)),
            f"losing the callers of {profile_arn}",
        )
        return added

    def undeny_callers(self, sid: str, profile_arn: str, role_arns: list[str]) -> bool:
        """Remove ``role_arns`` from the caller statement (the statement goes when it lists no role
        any more); ARNs others added stay. False when none of them was listed."""
        gone = set(role_arns)
        _, removed = self._edit(
            lambda d: with_callers(d, sid, profile_arn, [a for a in listed_callers(d, sid) if a not in gone]),
            lambda d: not gone & set(listed_callers(d, sid)),
            f"re-listing the callers of {profile_arn}",
        )
        return removed


def _union(listed: list[str], more: list[str]) -> list[str]:
    return list(dict.fromkeys([*listed, *more]))
