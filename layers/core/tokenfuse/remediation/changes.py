"""Each kind of change a trip makes, read back and put back in AWS.

:func:`is_in_force` reads whether AWS has a recorded change in force (the guard SCP lists the ARN,
the tag has the trip's value, the role's policy holds tokenfuse's deny, the function's reserved
concurrency is the cap). :func:`put_back` restores the recorded prior state, only where the current
state is still what the trip set: a change someone made meanwhile survives. Each returns what it
did, in words (:mod:`tokenfuse.remediation.messages`).
"""

from collections.abc import Callable
from typing import Any, Protocol

from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.iam_deny import InlineDeny, has_deny, has_statement, without_deny
from tokenfuse.adapters.lambda_concurrency import LambdaConcurrency
from tokenfuse.adapters.profile_tags import ProfileTags
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import messages
from tokenfuse.remediation.errors import RestoreIncomplete
from tokenfuse.remediation.models import (
    CallerScpChange,
    Change,
    ConcurrencyChange,
    RolePolicyChange,
    ScpChange,
    TagChange,
    TripRecord,
)


class AccessPort(Protocol):
    def tags(self, account_id: str, region: str) -> ProfileTags: ...
    def roles(self, account_id: str) -> InlineDeny: ...
    def functions(self, account_id: str, region: str) -> LambdaConcurrency: ...
    def ssm(self, account_id: str, region: str) -> Any: ...


class MemberPorts:
    """The adapters changes are made through: the guard SCP, and one adapter per account (and
    region) for the life of one Tripper (one Lambda invocation): a boto3 client costs milliseconds
    to build, and a trip and its read-backs reuse each one."""

    def __init__(self, access: AccessPort, guard: Callable[[], GuardScp] | None) -> None:
        self.access = access
        self._guard_factory = guard
        self._guard: GuardScp | None = None
        self._made: dict[tuple[str, ...], Any] = {}

    @property
    def guard(self) -> GuardScp:
        if self._guard is None:
            if self._guard_factory is None:
                raise TokenfuseError("no guard SCP configured (GUARD_POLICY_ID)")
            self._guard = self._guard_factory()
        return self._guard

    def tags(self, account_id: str, region: str) -> ProfileTags:
        return self._port(("tags", account_id, region), lambda: self.access.tags(account_id, region))

    def roles(self, account_id: str) -> InlineDeny:
        return self._port(("roles", account_id), lambda: self.access.roles(account_id))

    def functions(self, account_id: str, region: str) -> LambdaConcurrency:
        key = ("functions", account_id, region)
        return self._port(key, lambda: self.access.functions(account_id, region))

    def _port[P](self, key: tuple[str, ...], make: Callable[[], P]) -> P:
        if key not in self._made:
            self._made[key] = make()
        port: P = self._made[key]
        return port


def is_in_force(record: TripRecord, change: Change, ports: MemberPorts) -> bool:
    """Whether AWS has ``change`` in force now (raises when it cannot be read)."""
    match change:
        case ScpChange():
            return record.profile_arn in ports.guard.arns()
        case CallerScpChange():
            return set(change.role_arns) <= set(ports.guard.callers(change.sid))
        case TagChange():
            tags = ports.tags(record.account_id, record.region).get(record.profile_arn)
            return tags.get(change.key) == change.set_to
        case RolePolicyChange():
            document = ports.roles(record.account_id).get(change.role_name, change.policy_name)
            return has_deny(document, record.profile_arn)
        case ConcurrencyChange():
            functions = ports.functions(record.account_id, record.region)
            return functions.get(change.function_name) == change.set_to


def put_back(record: TripRecord, change: Change, ports: MemberPorts) -> str:
    """Put back what ``change`` replaced; returns what was done."""
    match change:
        case ConcurrencyChange():
            return _restore_concurrency(record, change, ports)
        case TagChange():
            return _restore_tag(record, change, ports)
        case RolePolicyChange():
            return _restore_role_policy(record, change, ports)
        case ScpChange():
            return _restore_scp(record, change, ports)
        case CallerScpChange():
            return _restore_caller_scp(record, change, ports)


def _restore_concurrency(record: TripRecord, change: ConcurrencyChange, ports: MemberPorts) -> str:
    functions = ports.functions(record.account_id, record.region)
    name, previous, set_to = change.function_name, change.previous, change.set_to
    current = functions.get(name)
    if current == set_to and current != previous:
        if previous is None:
            functions.delete(name)
        else:
            functions.put(name, previous)
    return messages.concurrency_put_back(name, previous, current, set_to)


def _restore_tag(record: TripRecord, change: TagChange, ports: MemberPorts) -> str:
    tags = ports.tags(record.account_id, record.region)
    current = tags.get(record.profile_arn).get(change.key)
    if current == change.set_to and current != change.previous:
        if change.previous is None:
            tags.remove(record.profile_arn, change.key)
        else:
            tags.set(record.profile_arn, change.key, change.previous)
    return messages.tag_put_back(change.key, change.previous, current, change.set_to)


def _restore_role_policy(record: TripRecord, change: RolePolicyChange, ports: MemberPorts) -> str:
    """Remove tokenfuse's statement only; the policy's other statements stay (the document it
    had before the trip, and whatever a person added since)."""
    roles = ports.roles(record.account_id)
    role, name = change.role_name, change.policy_name
    current = roles.get(role, name)
    if current is None:
        return messages.role_policy_gone(role, name)
    if not has_statement(current):
        return messages.role_policy_left(role, name)
    rest = without_deny(current)
    if rest is None:
        roles.delete(role, name)
    else:
        roles.put(role, name, rest)
    after = roles.get(role, name)  # read back: never say restored while the deny is there
    if has_statement(after):
        raise RestoreIncomplete(messages.deny_still_there(role, name))
    return messages.role_policy_put_back(
        role,
        name,
        deleted=rest is None,
        as_before=rest == change.previous_document,
        others=len(rest["Statement"]) if rest is not None else 0,
    )


def _restore_scp(record: TripRecord, change: ScpChange, ports: MemberPorts) -> str:
    if not change.added:
        return messages.scp_put_back(added=False, removed=False)
    removed = ports.guard.remove(record.profile_arn)  # reads the document back before returning
    return messages.scp_put_back(added=True, removed=removed)


def _restore_caller_scp(record: TripRecord, change: CallerScpChange, ports: MemberPorts) -> str:
    """Remove only the roles this trip added from the profile's caller statement (roles it listed
    before, or a person added since, stay; the statement goes when it lists none)."""
    if not change.added:
        return messages.caller_scp_put_back(change, removed=False)
    removed = ports.guard.undeny_callers(change.sid, record.profile_arn, change.added)  # read back
    return messages.caller_scp_put_back(change, removed=removed)
