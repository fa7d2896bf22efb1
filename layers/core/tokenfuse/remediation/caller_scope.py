"""A caller-scope trip's targets: which callers a policy blocks, and which roles it never blocks.

Model invocation logs name each request's caller in ``identity.arn``: for a role, the session ARN
``arn:aws:sts::<account>:assumed-role/<name>/<session>``; the meter reports role ARNs
(``arn:aws:iam::<account>:role/<name>``, the path unknown to it). A caller trip blocks the role,
so every session of it: the guard SCP's statement for the profile names the role's ARN **with its
path** (read with ``iam:GetRole``) under ``ArnLike aws:PrincipalArn``, which IAM sets to the role
ARN (path included) for a session of that role.

Never targets, refused in one line each: principals that are no role (IAM users, the root, STS
federated users), roles of another account than the profile's, service-linked roles (path
``/aws-service-role/``, names ``AWSServiceRoleFor...``) and tokenfuse's own roles (the member role
and its forwarder, roles named ``tokenfuse-*`` like tokenfuse's functions, roles tagged
``tokenfuse:component``). Pure functions: no AWS.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from tokenfuse.arns import ACCOUNT_PATTERN, PARTITION_PATTERN

Scope = Literal["profile", "caller"]

_NAME = r"[\w+=,.@-]{1,64}"
SESSION_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):sts::(?P<account>{ACCOUNT_PATTERN}):"
    rf"assumed-role/(?P<name>{_NAME})/(?P<session>[\w+=,.@-]{{2,64}})"
)
ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):iam::(?P<account>{ACCOUNT_PATTERN}):"
    rf"role(?P<path>/(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>{_NAME})"
)
SERVICE_LINKED_PATH = "/aws-service-role/"
SERVICE_LINKED_PREFIX = "AWSServiceRoleFor"
OWN_ROLE_PREFIX = "tokenfuse-"
OWN_ROLE_TAG = "tokenfuse:component"
MAX_CALLERS = 5
"""At most this many callers per trip (a share threshold of 0.2 allows no more)."""


class CallerRefused(ValueError):
    """A caller tokenfuse never blocks, or an ARN that names no role (the message is one line)."""


@dataclass(frozen=True)
class CallerRole:
    """The role behind a caller ARN, as far as the ARN tells (``path``: None when it does not)."""

    partition: str
    account_id: str
    name: str
    path: str | None

    @property
    def label(self) -> str:
        """How people read it: ``role/checkout-worker``."""
        return role_label(self.name)


def role_label(role_name: str) -> str:
    return f"role/{role_name}"


def role_of(arn: str) -> CallerRole:
    """The role a session ARN or role ARN names; :class:`CallerRefused` for anything else."""
    text = arn.strip()
    if m := SESSION_ARN.fullmatch(text):
        return CallerRole(m["partition"], m["account"], m["name"], None)
    if m := ROLE_ARN.fullmatch(text):
        return CallerRole(m["partition"], m["account"], m["name"], m["path"])
    shown = text[:120] + ("..." if len(text) > 120 else "")
    raise CallerRefused(f"{shown!r} is no role or role session ARN: a caller trip blocks roles only")


def refusal(
    role: CallerRole,
    *,
    profile_account: str,
    member_role_name: str,
    path: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str | None:
    """Why tokenfuse never blocks this role (one line), or None when it may. Asked first with what
    the ARN tells (no IAM call for a role refused by its name), then with ``iam:GetRole``'s path
    and tags."""
    label = role.label
    path = path or role.path or "/"
    tags = tags or {}
    if role.account_id != profile_account:
        return f"{label} is in account {role.account_id}, not the profile's {profile_account}: not blocked"
    if path.startswith(SERVICE_LINKED_PATH) or role.name.startswith(SERVICE_LINKED_PREFIX):
        return f"{label} is a service-linked role: tokenfuse never blocks it"
    own = (
        role.name in {member_role_name, f"{member_role_name}-forwarder"}
        or role.name.startswith(OWN_ROLE_PREFIX)
        or OWN_ROLE_TAG in tags
    )
    if own:
        return f"{label} is one of tokenfuse's own roles: tokenfuse never blocks it"
    return None


def offending(callers: Iterable[tuple[str, float]], min_share: float) -> list[tuple[str, float]]:
    """The callers a caller trip blocks, with their share: each role's sessions added up (the ARN
    kept is the first seen), those with at least ``min_share`` of the spend, most first, at most
    :data:`MAX_CALLERS`."""
    shares: dict[tuple[str, str], tuple[str, float]] = {}
    for arn, share in callers:
        try:
            role = role_of(arn)
        except CallerRefused:
            key = ("", arn)  # no role: kept as named, refused by the trip in one line
        else:
            key = (role.account_id, role.name)
        first, total = shares.get(key, (arn, 0.0))
        shares[key] = (first, total + share)
    ranked = sorted(shares.values(), key=lambda c: -c[1])
    return [(arn, min(1.0, share)) for arn, share in ranked if share >= min_share][:MAX_CALLERS]


def caller_label(arn: str) -> str:
    """``role/<name>`` for a role or session ARN; the ARN itself otherwise."""
    try:
        return role_of(arn).label
    except CallerRefused:
        return arn


def caller_sid(profile_arn: str, profile_id: str) -> str:
    """The guard statement's Sid for this profile's blocked callers (Sids are alphanumeric): the
    profile id to read it by, a hash of the ARN so profiles of other accounts never share one."""
    digest = hashlib.sha256(profile_arn.encode()).hexdigest()[:8]
    return f"TokenfuseCallers{profile_id}{digest}"
