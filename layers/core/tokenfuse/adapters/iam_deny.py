"""Inline deny policies on caller roles, for accounts where tokenfuse uses no SCP.

The policy tokenfuse adds is named ``tokenfuse-trip-<profile_id>``; its previous document (or its
absence) is read before writing so restore can put exactly that back.
"""

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate
from tokenfuse.adapters.guard_scp import DENIED_ACTIONS


def policy_name(profile_id: str) -> str:
    return f"tokenfuse-trip-{profile_id}"


def deny_document(profile_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TokenfuseTrippedProfile",
                "Effect": "Deny",
                "Action": list(DENIED_ACTIONS),
                "Resource": [profile_arn],
            }
        ],
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class InlineDeny:
    def __init__(self, iam: Any) -> None:
        self.client = iam

    def get(self, role_name: str, name: str) -> dict[str, Any] | None:
        """The role's inline policy ``name``, or None when it has none by that name."""
        try:
            response = self.client.get_role_policy(RoleName=role_name, PolicyName=name)
        except ClientError as error:
            if _code(error) == "NoSuchEntity":
                return None
            raise translate(error) from error
        document = response["PolicyDocument"]
        if isinstance(document, str):
            parsed: dict[str, Any] = json.loads(unquote(document))
            return parsed
        return dict(document)

    def put(self, role_name: str, name: str, document: dict[str, Any]) -> None:
        try:
            self.client.put_role_policy(
                RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(document)
            )
        except ClientError as error:
            raise translate(error) from error

    def delete(self, role_name: str, name: str) -> bool:
        """Delete the inline policy; False when it was already gone."""
        try:
            self.client.delete_role_policy(RoleName=role_name, PolicyName=name)
        except ClientError as error:
            if _code(error) == "NoSuchEntity":
                return False
            raise translate(error) from error
        return True

    def role_exists(self, role_name: str) -> bool:
        try:
            self.client.get_role(RoleName=role_name)
        except ClientError as error:
            if _code(error) == "NoSuchEntity":
                return False
            raise translate(error) from error
        return True
