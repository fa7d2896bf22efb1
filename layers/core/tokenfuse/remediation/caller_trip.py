"""A caller-scope trip: the profile denied to the offending callers' roles only.

1. **Targets**: each caller the policy names (a session or role ARN) becomes its role, looked up
   with ``iam:GetRole`` in the profile's account for its ARN with its path; a role tokenfuse never
   blocks is refused in one line (:mod:`tokenfuse.remediation.caller_scope`), noted on the record
   and in the audit. None left: :class:`NothingToTrip`.
2. **Deny** (``guard-scp``): the guard SCP gets one statement for the profile (Sid
   :func:`~tokenfuse.remediation.caller_scope.caller_sid`) denying its ARN under ``ArnLike
   aws:PrincipalArn`` on those role ARNs, so every session of each role is refused, on that profile
   only. Where that statement would take the guard past its 5,120 characters (nothing is written),
   or with ``inline-deny``, each role gets tokenfuse's inline deny of the profile instead (the
   record's notes say so).

No ``tokenfuse:state`` tag (the tag-conditioned SCP would block every caller) and no concurrency
cap: the deny of those roles is the whole trip. The record is written ``pending`` before each AWS
call and ``applied`` after, as every trip (:mod:`tokenfuse.remediation.trip`), so a failure is
settled all or nothing and restore removes only the roles this trip added.
"""

from collections.abc import Callable

from tokenfuse.adapters.guard_scp import MAX_SCP_CHARS, GuardPolicyFull, full
from tokenfuse.adapters.iam_deny import InlineDeny
from tokenfuse.remediation import messages
from tokenfuse.remediation.caller_scope import CallerRefused, caller_sid, refusal, role_of
from tokenfuse.remediation.changes import MemberPorts
from tokenfuse.remediation.models import CallerScpChange, CallerTarget, TripRecord

Save = Callable[[TripRecord, bool], TripRecord]
DenyInline = Callable[[TripRecord, bool], TripRecord]


def targets(
    callers: list[str], account_id: str, roles: InlineDeny, member_role_name: str
) -> tuple[list[CallerTarget], list[str]]:
    """The roles to block (their ARNs with paths) and a line for each caller refused."""
    found: list[CallerTarget] = []
    refused: list[str] = []
    for arn in callers:
        try:
            role = role_of(arn)
        except CallerRefused as error:
            refused.append(str(error))
            continue
        why = refusal(role, profile_account=account_id, member_role_name=member_role_name)
        if why is None:
            facts = roles.role(role.name)
            if facts is None:
                why = messages.no_such_role(role.label, account_id)
            else:
                why = refusal(
                    role,
                    profile_account=account_id,
                    member_role_name=member_role_name,
                    path=facts.path,
                    tags=facts.tags,
                )
                if why is None and all(t.role_arn != facts.arn for t in found):
                    found.append(CallerTarget(named_as=arn, role_name=role.name, role_arn=facts.arn))
        if why is not None:
            refused.append(why)
    return found, refused


def deny(
    record: TripRecord,
    dry_run: bool,
    *,
    ports: MemberPorts,
    inline_only: bool,
    save: Save,
    deny_inline: DenyInline,
) -> TripRecord:
    """Deny the profile to the record's callers: through the guard SCP, or inline on each role."""
    if not inline_only and not record.caller_roles:  # caller_roles set: the inline deny took over
        try:
            return _by_scp(record, dry_run, ports, save)
        except GuardPolicyFull as error:
            record = save(record.without_change(record.caller_scp) if record.caller_scp else record, dry_run)
            record = _inline_instead(record, messages.said_error(error))
    elif not record.caller_roles:
        record = record.model_copy(update={"caller_roles": [t.role_name for t in record.callers]})
    return deny_inline(record, dry_run)


def _inline_instead(record: TripRecord, why: str) -> TripRecord:
    roles = [t.role_name for t in record.callers]
    note = messages.caller_scp_full(why, [t.label for t in record.callers])
    return record.model_copy(update={"caller_roles": roles, "notes": [*record.notes, note]})


def _by_scp(record: TripRecord, dry_run: bool, ports: MemberPorts, save: Save) -> TripRecord:
    change = record.caller_scp
    if change is not None and change.status == "applied":
        return record
    guard = ports.guard
    arns = [t.role_arn for t in record.callers]
    if change is None:
        sid = caller_sid(record.profile_arn, record.profile_id)
        before = guard.callers(sid)
        missing = [a for a in arns if a not in before]
        if dry_run and missing:
            size = guard.size_with_callers(sid, record.profile_arn, arns)
            if size > MAX_SCP_CHARS:
                raise GuardPolicyFull(full(size))
        change = CallerScpChange(
            policy_id=guard.policy_id,
            sid=sid,
            role_arns=arns,
            arns_before=before,
            added=missing,
            status="pending" if missing else "applied",
        )
        record = save(record.with_change(change), dry_run)
        if not missing or dry_run:
            return record
    guard.deny_callers(change.sid, record.profile_arn, arns)  # reads the statement back before returning
    # the roles missing when first read are ours, even when an earlier attempt listed them
    return save(record.with_change(change.applied()), False)
