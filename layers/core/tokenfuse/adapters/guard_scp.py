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
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import NotFound, TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

STATEMENT_SID = "TokenfuseTrippedProfiles"
DENIED_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
PLACEHOLDER_ARN = "arn:aws:bedrock:*:*:application-inference-profile/tokenfuse-none-tripped"
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
        content = json.dumps(document, separators=(",", ":"))
        if len(content) > MAX_SCP_CHARS:
            raise GuardPolicyFull(
                f"the guard SCP would be {len(content)} characters (limit {MAX_SCP_CHARS}); "
                "restore tripped profiles or use TripMechanism=inline-deny"
            )
        with aws_call("organizations:UpdatePolicy", resource=self.policy_id):
            self.client.update_policy(PolicyId=self.policy_id, Content=content)

    def add(self, arn: str) -> tuple[list[str], bool]:
        """List ``arn``; returns the ARNs listed before and whether this call added it."""
        document = self.document()
        before = listed_arns(document)
        if arn in before:
            return before, False
        for _ in range(WRITE_ATTEMPTS):
            self._write(with_arns(document, [*listed_arns(document), arn]))
            document = self.document()  # read back: a concurrent writer may have dropped it
            if arn in listed_arns(document):
                return before, True
        raise TokenfuseError(f"the guard SCP kept losing {arn} to concurrent updates")

    def remove(self, arn: str) -> bool:
        """Unlist ``arn`` only (ARNs others added meanwhile stay); False when it was not listed."""
        document = self.document()
        if arn not in listed_arns(document):
            return False
        for _ in range(WRITE_ATTEMPTS):
            self._write(with_arns(document, [a for a in listed_arns(document) if a != arn]))
            document = self.document()  # read back: a concurrent writer may have put it back
            if arn not in listed_arns(document):
                return True
        raise TokenfuseError(f"the guard SCP kept re-listing {arn} through concurrent updates")
