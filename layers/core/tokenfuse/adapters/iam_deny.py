"""Inline deny policies on caller roles, for accounts where tokenfuse uses no SCP.

The policy tokenfuse writes is named ``tokenfuse-trip-<profile_id>`` and tokenfuse's part of it is
one statement, Sid :data:`DENY_SID`, denying :data:`~tokenfuse.adapters.guard_scp.DENIED_ACTIONS`
on the profile ARN. Whatever else the policy holds is not tokenfuse's: a document that existed
under that name before the trip keeps its statements (tokenfuse's statement is added beside them),
and statements a person adds during the trip stay when tokenfuse removes its own
(:func:`with_deny`, :func:`without_deny`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.guard_scp import DENIED_ACTIONS
from tokenfuse.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

DENY_SID = "TokenfuseTrippedProfile"


def policy_name(profile_id: str) -> str:
    return f"tokenfuse-trip-{profile_id}"


def deny_statement(profile_arn: str) -> dict[str, Any]:
    return {"Sid": DENY_SID, "Effect": "Deny", "Action": list(DENIED_ACTIONS), "Resource": [profile_arn]}


def deny_document(profile_arn: str) -> dict[str, Any]:
    """The policy as tokenfuse writes it on a role that had none by that name."""
    return {"Version": "2012-10-17", "Statement": [deny_statement(profile_arn)]}


def _statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    statements = (document or {}).get("Statement", [])
    listed = [statements] if isinstance(statements, dict) else list(statements)
    return [s for s in listed if isinstance(s, dict)]


def others(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The statements that are not tokenfuse's."""
    return [s for s in _statements(document) if s.get("Sid") != DENY_SID]


def has_statement(document: dict[str, Any] | None) -> bool:
    """True when the document holds a statement of tokenfuse's (whatever a person made of it)."""
    return any(s.get("Sid") == DENY_SID for s in _statements(document))


def has_deny(document: dict[str, Any] | None, profile_arn: str) -> bool:
    """True when the document holds tokenfuse's deny of exactly the actions on ``profile_arn``."""
    for statement in _statements(document):
        if statement.get("Sid") != DENY_SID or statement.get("Effect") != "Deny":
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        resources = [resources] if isinstance(resources, str) else list(resources)
        if set(DENIED_ACTIONS) <= set(actions) and profile_arn in resources:
            return True
    return False


def with_deny(document: dict[str, Any] | None, profile_arn: str) -> dict[str, Any]:
    """``document`` (or nothing) plus tokenfuse's deny; every other statement kept."""
    version = (document or {}).get("Version", "2012-10-17")
    return {"Version": version, "Statement": [*others(document), deny_statement(profile_arn)]}


def without_deny(document: dict[str, Any]) -> dict[str, Any] | None:
    """``document`` without tokenfuse's statement; None when nothing else is left in it."""
    kept = others(document)
    return {"Version": document.get("Version", "2012-10-17"), "Statement": kept} if kept else None


@dataclass(frozen=True)
class RoleFacts:
    """What ``iam:GetRole`` says of a role: its ARN (with its path), its path and its tags."""

    arn: str
    path: str
    tags: dict[str, str] = field(default_factory=dict)


class InlineDeny:
    def __init__(self, iam: IAMClient) -> None:
        self.client = iam

    def get(self, role_name: str, name: str) -> dict[str, Any] | None:
        """The role's inline policy ``name``, or None when it has none by that name."""
        try:
            with aws_call("iam:GetRolePolicy", resource=f"{role_name}/{name}"):
                response = self.client.get_role_policy(RoleName=role_name, PolicyName=name)
        except NotFound:  # NoSuchEntity
            return None
        # IAM sends URL-encoded JSON; botocore's json_decode_policies handler makes it a dict.
        document: object = response["PolicyDocument"]
        if isinstance(document, dict):
            return dict(document)
        parsed: dict[str, Any] = json.loads(unquote(str(document)))
        return parsed

    def put(self, role_name: str, name: str, document: dict[str, Any]) -> None:
        with aws_call("iam:PutRolePolicy", resource=f"{role_name}/{name}"):
            self.client.put_role_policy(
                RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(document)
            )

    def delete(self, role_name: str, name: str) -> bool:
        """Delete the inline policy; False when it was already gone."""
        try:
            with aws_call("iam:DeleteRolePolicy", resource=f"{role_name}/{name}"):
                self.client.delete_role_policy(RoleName=role_name, PolicyName=name)
        except NotFound:  # NoSuchEntity
            return False
        return True

    def role_exists(self, role_name: str) -> bool:
        return self.role(role_name) is not None

    def role(self, role_name: str) -> RoleFacts | None:
        """The role's ARN, path and tags, or None when there is no such role."""
        try:
            with aws_call("iam:GetRole", resource=role_name):
                role = self.client.get_role(RoleName=role_name)["Role"]
        except NotFound:  # NoSuchEntity
            return None
        tags = {str(t["Key"]): str(t.get("Value", "")) for t in role.get("Tags") or []}
        return RoleFacts(arn=str(role["Arn"]), path=str(role.get("Path") or "/"), tags=tags)
