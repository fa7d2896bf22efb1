"""Emulation: whether AWS refuses a Bedrock call, from the explicit denies moto holds.

One evaluator decides "denied" for the whole sandbox: the emulated ``bedrock-runtime``
(:mod:`.bedrock_runtime`) asks it for every call, and the story's traffic generator asks it before
each batch. It reads two kinds of policy, both only for their **explicit Deny** statements (AWS's
allows, permission boundaries and session policies are not emulated):

- **Service control policies** in moto's Organizations: every SCP attached to the caller's account,
  to an OU above it or to the root (the management account is exempt, as in AWS), whatever its
  name; the tokenfuse guard (Sid ``TokenfuseTrippedProfiles``, listing profile ARNs) is one of them,
  and a tag-conditioned statement on ``aws:ResourceTag/tokenfuse:state`` is honoured the same way.
- **Inline policies** of the calling identity in moto's IAM: the role behind an assumed-role
  session (the caller's credentials, through moto's STS), or an IAM user.

A change to an SCP (``UpdatePolicy``, ``AttachPolicy``, ``DetachPolicy``, ``DeletePolicy``,
``MoveAccount``...) takes effect :data:`SCP_PROPAGATION_SECONDS` simulated seconds after it was
made (configurable per evaluator): :func:`install` records the organization's SCPs after each such
call, stamped with ``tokenfuse.clock.now()``, and a call at ``t`` is judged by the SCPs as they
stood at ``t - delay``. So "seconds until the deny took effect" is measurable, and equals the delay.
Inline policies take effect at once.

Statements match as IAM matches them: ``Action`` / ``NotAction`` (case-insensitive, ``*`` and
``?`` wildcards), ``Resource`` / ``NotResource`` (case-sensitive wildcards), and ``Condition`` with
the String*, Arn* and ``Null``/``Bool`` operators, ``...IfExists`` and the ``ForAnyValue:`` /
``ForAllValues:`` prefixes (negated operators hold when the key is absent). The context keys are
``aws:ResourceTag/<key>`` (an application profile's tags), ``bedrock:InferenceProfileArn`` (on the
model a profile calls), ``aws:PrincipalArn``, ``aws:PrincipalAccount`` and ``aws:RequestedRegion``.
A statement using another operator is skipped with a warning (AWS would have refused the policy).

What it does NOT prove: that AWS evaluates an SCP for ``InvokeModel`` through an application
inference profile, or a ``aws:ResourceTag`` condition on one (see the README's list of what is not
yet confirmed); how long a real SCP change takes (the delay is an assumption); IAM's own eventual
consistency (inline policies apply at once here); policy variables (``${aws:username}``);
resource-based policies, RCPs, or whether the SCP policy type is enabled on the root.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from tokenfuse import clock
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

if TYPE_CHECKING:
    from moto.iam.models import IAMBackend

__all__ = [
    "SCP_PROPAGATION_SECONDS",
    "AccessEvaluator",
    "Denial",
    "Principal",
    "ResourceCheck",
    "install",
    "installed",
    "principal_for_role",
    "principal_from_access_key",
    "uninstall",
]

LOG = logging.getLogger("tokenfuse.sandbox.bedrock_access")

SCP_PROPAGATION_SECONDS = 5
"""Simulated seconds between a change to an SCP and its effect on calls (an assumption of the
emulation: AWS documents no figure)."""

_PARTITION = "aws"
_HISTORY_ATTR = "_tokenfuse_scp_history"
_BEFORE_ANY_CHANGE = datetime.min.replace(tzinfo=UTC)
_lock = threading.RLock()
_patches = MotoPatches()

# OrganizationsBackend methods that change which SCPs apply to an account.
_SCP_CHANGES = (
    "update_policy",
    "attach_policy",
    "detach_policy",
    "delete_policy",
    "move_account",
    "remove_account_from_organization",
    "delete_organizational_unit",
    "close_account",
    "delete_organization",
)


# --------------------------------------------------------------------------------------------------
# Who calls
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The identity behind a call, as IAM sees it."""

    account_id: str
    arn: str
    """What the error message names: the session ARN of an assumed role, a user's ARN."""
    role_name: str | None = None
    user_name: str | None = None
    principal_arn: str | None = None
    """``aws:PrincipalArn``: the role's ARN (with its path) for a session, the user's ARN."""


def _iam(account_id: str) -> IAMBackend:
    from moto.iam.models import iam_backends

    return iam_backends[account_id][_PARTITION]


def principal_for_role(account_id: str, role_name: str, session_name: str) -> Principal:
    """A session of role ``role_name`` in ``account_id`` (its path read from moto's IAM when the
    role exists)."""
    path = "/"
    with contextlib.suppress(Exception):  # an unknown role keeps the default path (and has no policies)
        path = _iam(account_id).get_role(role_name).path or "/"
    return Principal(
        account_id=account_id,
        arn=f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        role_name=role_name,
        principal_arn=f"arn:aws:iam::{account_id}:role{path}{role_name}",
    )


def principal_from_access_key(account_id: str, access_key_id: str, region: str) -> Principal:
    """The caller of a request signed with ``access_key_id``, as moto's STS names it
    (``GetCallerIdentity``): an assumed-role session, an IAM user, or moto's default identity."""
    from moto.sts.models import sts_backends

    _, arn, account = sts_backends[account_id][_PARTITION].get_caller_identity(access_key_id, region)
    session = re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)", arn)
    if session:
        return principal_for_role(session[1], session[2], session[3])
    user = re.fullmatch(r"arn:aws:iam::(\d{12}):user(/.*/|/)?([^/]+)", arn)
    if user:
        return Principal(account_id=user[1], arn=arn, user_name=user[3], principal_arn=arn)
    return Principal(account_id=str(account), arn=arn, principal_arn=arn)


# --------------------------------------------------------------------------------------------------
# What is asked, what is refused
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceCheck:
    """One resource an action needs permission on, with the condition keys it carries."""

    arn: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Denial:
    """An explicit deny that refuses the call."""

    kind: Literal["service control policy", "identity-based policy"]
    policy: str
    """``p-...`` for an SCP, the inline policy's name otherwise."""
    policy_name: str
    holder: str
    """Where the policy sits: the organization's management account, or ``role/x`` / ``user/x``."""
    statement_sid: str | None
    principal_arn: str
    action: str
    resource: str

    @property
    def message(self) -> str:
        """AWS's AccessDeniedException message."""
        article = "a" if self.kind == "service control policy" else "an"
        return (
            f"User: {self.principal_arn} is not authorized to perform: {self.action} on resource: "
            f"{self.resource} with an explicit deny in {article} {self.kind}"
        )

    @property
    def reason(self) -> str:
        """One line for a person: which policy refused it."""
        sid = f", statement {self.statement_sid}" if self.statement_sid else ""
        if self.kind == "service control policy":
            return f"SCP {self.policy} ({self.policy_name}){sid}"
        return f"inline policy {self.policy_name} on {self.holder}{sid}"


class AccessEvaluator:
    """Decides whether explicit denies refuse ``action`` on resources for a principal."""

    def __init__(
        self,
        scp_propagation_seconds: float = SCP_PROPAGATION_SECONDS,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        if scp_propagation_seconds < 0:
            raise ValueError("scp_propagation_seconds cannot be negative")
        self.scp_propagation = timedelta(seconds=scp_propagation_seconds)
        self.now = now

    def denial(
        self,
        principal: Principal,
        action: str,
        resources: Sequence[ResourceCheck],
        *,
        region: str,
    ) -> Denial | None:
        """The first explicit deny that refuses ``action`` on any of ``resources`` (SCPs first,
        as they bound everything the account does), or None when the call is not denied."""
        scps = _scps_in_force(principal.account_id, self.now() - self.scp_propagation)
        identity = _inline_policies(principal)
        for check in resources:
            context = _context(principal, region, check.context)
            for scp in scps:
                sid = _denying_statement(scp.document, action, check.arn, context)
                if sid is not False:
                    return Denial(
                        "service control policy", scp.policy_id, scp.name, scp.management_account,
                        sid, principal.arn, action, check.arn,
                    )  # fmt: skip
            for holder, name, document in identity:
                sid = _denying_statement(document, action, check.arn, context)
                if sid is not False:
                    return Denial(
                        "identity-based policy", name, name, holder, sid, principal.arn, action, check.arn
                    )
        return None


def _context(principal: Principal, region: str, extra: Mapping[str, str]) -> dict[str, str]:
    context = {
        "aws:principalaccount": principal.account_id,
        "aws:requestedregion": region,
    }
    if principal.principal_arn:
        context["aws:principalarn"] = principal.principal_arn
    context.update({key.lower(): value for key, value in extra.items()})
    return context


# --------------------------------------------------------------------------------------------------
# Statement matching
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(patterns: Iterable[str], value: str, ignore_case: bool) -> bool:
    return any(_wildcard(p, ignore_case).fullmatch(value) for p in patterns)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float, bool)):
        return [str(value).lower() if isinstance(value, bool) else str(value)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        return [statements]
    return [s for s in statements if isinstance(s, Mapping)] if isinstance(statements, list) else []


def _denying_statement(
    document: Mapping[str, Any] | None, action: str, resource: str, context: Mapping[str, str]
) -> str | Literal[False] | None:
    """The Sid (None when it has none) of the first Deny statement of ``document`` that applies,
    or False when none does."""
    for statement in _statements(document):
        if statement.get("Effect") != "Deny":
            continue
        if "NotAction" in statement:
            if _matches(_strings(statement["NotAction"]), action, ignore_case=True):
                continue
        elif not _matches(_strings(statement.get("Action")), action, ignore_case=True):
            continue
        if "NotResource" in statement:
            if _matches(_strings(statement["NotResource"]), resource, ignore_case=False):
                continue
        elif not _matches(_strings(statement.get("Resource")), resource, ignore_case=False):
            continue
        if _conditions_hold(statement.get("Condition"), context, statement.get("Sid")):
            sid = statement.get("Sid")
            return sid if isinstance(sid, str) else None
    return False


_OPERATOR = re.compile(r"(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?")


def _conditions_hold(conditions: Any, context: Mapping[str, str], sid: Any) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, Mapping):
        LOG.warning("statement %s: Condition is not an object; the statement is skipped", sid)
        return False
    for operator, clauses in conditions.items():
        m = _OPERATOR.fullmatch(str(operator))
        test = _OPERATORS.get(m[2]) if m else None
        if m is None or test is None or not isinstance(clauses, Mapping):
            LOG.warning("statement %s: condition operator %s is not emulated; skipped", sid, operator)
            return False
        for key, expected in clauses.items():
            actual = context.get(str(key).lower())
            if actual is None:
                holds = _absent_key_holds(m[2], m[1], bool(m[3]), _strings(expected))
            else:
                holds = test(_strings(expected), actual)
            if not holds:
                return False
    return True


def _absent_key_holds(operator: str, qualifier: str | None, if_exists: bool, expected: list[str]) -> bool:
    """IAM's answer for a condition key the request does not carry."""
    if operator == "Null":
        return "true" in [e.lower() for e in expected]
    if qualifier == "ForAnyValue":
        return False
    return if_exists or qualifier == "ForAllValues" or operator in _NEGATED


def _string_equals(expected: list[str], actual: str) -> bool:
    return actual in expected


def _string_equals_ignore_case(expected: list[str], actual: str) -> bool:
    return actual.lower() in [e.lower() for e in expected]


def _string_like(expected: list[str], actual: str) -> bool:
    return _matches(expected, actual, ignore_case=False)


def _bool(expected: list[str], actual: str) -> bool:
    return actual.lower() in [e.lower() for e in expected]


def _null(expected: list[str], actual: str) -> bool:
    return "false" in [e.lower() for e in expected]  # the key is present


def _negate(test: Callable[[list[str], str], bool]) -> Callable[[list[str], str], bool]:
    return lambda expected, actual: not test(expected, actual)


_OPERATORS: dict[str, Callable[[list[str], str], bool]] = {
    "StringEquals": _string_equals,
    "StringNotEquals": _negate(_string_equals),
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringNotEqualsIgnoreCase": _negate(_string_equals_ignore_case),
    "StringLike": _string_like,
    "StringNotLike": _negate(_string_like),
    "ArnEquals": _string_like,
    "ArnLike": _string_like,
    "ArnNotEquals": _negate(_string_like),
    "ArnNotLike": _negate(_string_like),
    "Bool": _bool,
    "Null": _null,
}
_NEGATED = frozenset(name for name in _OPERATORS if "Not" in name)


# --------------------------------------------------------------------------------------------------
# Inline policies (moto IAM)
# --------------------------------------------------------------------------------------------------


def _parse_document(raw: Any) -> Mapping[str, Any] | None:
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        return None
    for text in (raw, unquote(raw)):
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        return parsed if isinstance(parsed, Mapping) else None
    return None


def _inline_policies(principal: Principal) -> list[tuple[str, str, Mapping[str, Any] | None]]:
    """(holder, policy name, document) for the principal's role or user."""
    iam = _iam(principal.account_id)
    try:
        if principal.role_name:
            holder, policies = f"role {principal.role_name}", iam.get_role(principal.role_name).policies
        elif principal.user_name:
            holder, policies = f"user {principal.user_name}", iam.get_user(principal.user_name).policies
        else:
            return []
    except Exception:
        return []
    return [(holder, name, _parse_document(doc)) for name, doc in dict(policies).items()]


# --------------------------------------------------------------------------------------------------
# Service control policies (moto Organizations), with their history
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scp:
    policy_id: str
    name: str
    management_account: str
    document: Mapping[str, Any] | None
    targets: frozenset[str]


@dataclass(frozen=True)
class _OrgScps:
    """An organization's SCPs and tree at one instant."""

    management_account: str
    members: frozenset[str]
    parents: Mapping[str, str]
    scps: tuple[_Scp, ...]

    def applying_to(self, account_id: str) -> list[_Scp]:
        if account_id == self.management_account or account_id not in self.members:
            return []
        path = {account_id}
        node = account_id
        while node in self.parents and self.parents[node] not in path:
            node = self.parents[node]
            path.add(node)
        return [scp for scp in self.scps if scp.targets & path]


def _capture(backend: Any) -> _OrgScps:
    org = backend.org
    if org is None:
        return _OrgScps(backend.account_id, frozenset(), {}, ())
    parents = {a.id: a.parent_id for a in backend.accounts}
    parents.update({ou.id: ou.parent_id for ou in backend.ou if getattr(ou, "parent_id", None)})
    scps = []
    for policy in backend.policies:
        if policy.type != "SERVICE_CONTROL_POLICY":
            continue
        document = _parse_document(policy.content)
        if document is None:
            LOG.warning(
                "SCP %s (%s) is not a JSON policy document: it denies nothing", policy.id, policy.name
            )
        targets = frozenset(t.id for t in policy.attachments)
        scps.append(_Scp(policy.id, str(policy.name), org.master_account_id, document, targets))
    members = frozenset({org.master_account_id, *(a.id for a in backend.accounts)})
    return _OrgScps(org.master_account_id, members, parents, tuple(scps))


def _organizations() -> list[Any]:
    from moto.organizations.models import organizations_backends

    found = []
    for per_account in list(organizations_backends.values()):
        backend = dict.get(per_account, _PARTITION)
        if backend is not None and backend.org is not None:
            found.append(backend)
    return found


def _history(backend: Any) -> list[tuple[datetime, _OrgScps]]:
    # on the backend itself: moto's reset() (a new mock_aws) starts a fresh history
    with _lock:
        history: list[tuple[datetime, _OrgScps]] = backend.__dict__.setdefault(_HISTORY_ATTR, [])
        return history


def _scps_in_force(account_id: str, at: datetime) -> list[_Scp]:
    for backend in _organizations():
        with _lock:
            history = list(_history(backend))
        if history:
            state = next((s for t, s in reversed(history) if t <= at), history[0][1])
        else:
            state = _capture(backend)
        if account_id in state.members:
            return state.applying_to(account_id)
    return []


def _record_changes(original: Callable[..., Any]) -> Callable[..., Any]:
    def recorded(backend: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            history = _history(backend)
            if not history:
                history.append((_BEFORE_ANY_CHANGE, _capture(backend)))
            result = original(backend, *args, **kwargs)
            now = clock.now()
            history.append((now, _capture(backend)))
            _prune(history, now)
        return result

    return recorded


def _prune(history: list[tuple[datetime, _OrgScps]], now: datetime) -> None:
    """Forget states no call can be judged by any more (older than a day before the newest one
    in force a day ago): keeps the history short through a long story."""
    horizon = now - timedelta(days=1)
    older = [i for i, (t, _) in enumerate(history) if t <= horizon]
    if len(older) > 1:
        del history[: older[-1]]


def install() -> None:
    """Record the organization's SCPs after every change (process-wide; idempotent)."""
    from moto.organizations.models import OrganizationsBackend

    with _patches.lock:
        if _patches.installed:
            return
        for name in _SCP_CHANGES:
            _patches.replace(OrganizationsBackend, name, _record_changes(getattr(OrganizationsBackend, name)))


def uninstall() -> None:
    _patches.restore()


def installed() -> bool:
    return _patches.installed
