"""The shapes of the identifiers tokenfuse acts on, checked the same way wherever one arrives (an
alarm's ModelId, a CloudTrail record, a Restore button's value).

An application inference profile's id is 12 lowercase letters or digits (botocore's model and every
public ARN agree); its ARN is ``arn:<partition>:bedrock:<region>:<account>:application-inference-
profile/<id>``. Patterns use ``[0-9]``, not ``\\d``, which also matches other scripts' digits.
"""

import re

APPLICATION_PROFILE = "application-inference-profile"
PARTITION_PATTERN = r"aws(?:-[a-z]+)*"
REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
ACCOUNT_PATTERN = r"[0-9]{12}"
PROFILE_ID_PATTERN = r"[a-z0-9]{12}"

PROFILE_ID = re.compile(PROFILE_ID_PATTERN)
"""Use with ``fullmatch``."""
PROFILE_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):bedrock:(?P<region>{REGION_PATTERN}):"
    rf"(?P<account>{ACCOUNT_PATTERN}):{APPLICATION_PROFILE}/(?P<profile_id>{PROFILE_ID_PATTERN})"
)
"""Use with ``fullmatch``; groups ``partition``, ``region``, ``account``, ``profile_id``."""


def profile_arn(profile_id: str, *, account: str, region: str, partition: str = "aws") -> str:
    """The ARN of an application inference profile (its parts are not checked here)."""
    return f"arn:{partition}:bedrock:{region}:{account}:{APPLICATION_PROFILE}/{profile_id}"


_ASSUMED_ROLE = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):sts::(?P<account>{ACCOUNT_PATTERN}):assumed-role/"
    r"(?P<role>[\w+=,.@-]{1,64})/[\w+=,.@-]{1,64}"
)
_IAM_PRINCIPAL = re.compile(
    rf"arn:{PARTITION_PATTERN}:iam::{ACCOUNT_PATTERN}:(?:role|user)(?:/[\w+=,.@-]+)+|"
    rf"arn:{PARTITION_PATTERN}:iam::{ACCOUNT_PATTERN}:root"
)


def caller_role_arn(identity_arn: str) -> str | None:
    """The IAM principal behind a caller identity, as model invocation logs name it
    (``identity.arn``): an assumed-role session ``arn:aws:sts::<account>:assumed-role/<role>/<session>``
    is its role ``arn:aws:iam::<account>:role/<role>`` (every session of the role; the role's path
    is not in the session ARN: whoever writes a policy on it looks the path up); an IAM user, a
    role or the root ARN is itself. None for anything else."""
    session = _ASSUMED_ROLE.fullmatch(identity_arn)
    if session is not None:
        return f"arn:{session['partition']}:iam::{session['account']}:role/{session['role']}"
    if _IAM_PRINCIPAL.fullmatch(identity_arn):
        return identity_arn
    return None
