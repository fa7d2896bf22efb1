"""What tokenfuse says about a trip, in words people read (the incident's thread, FinOps, the CLI).

Pure functions over a :class:`~tokenfuse.remediation.models.TripRecord`. The record lists only
what is in force in AWS (see :mod:`tokenfuse.remediation.trip`), so these words say only that.
"""

from tokenfuse.remediation.models import (
    ConcurrencyChange,
    PolicyDecision,
    RolePolicyChange,
    ScpChange,
    TagChange,
    TripRecord,
    utc_iso,
)

Change = ScpChange | TagChange | RolePolicyChange | ConcurrencyChange
UNCONFIRMED = " (unconfirmed: tokenfuse could not read it back)"


def change_line(change: Change) -> str:
    """One change as a noun phrase: what it puts in force (or, in a dry run, would)."""
    match change:
        case ScpChange(added=True):
            text = f"guard SCP {change.policy_id} lists the profile ARN (deny)"
        case ScpChange():
            text = f"guard SCP {change.policy_id} already listed the profile ARN before the trip (deny)"
        case RolePolicyChange():
            text = f"inline deny {change.policy_name} on role {change.role_name}"
        case TagChange():
            was = "absent" if change.previous is None else repr(change.previous)
            text = f"tag {change.key}={change.set_to} (was {was})"
        case ConcurrencyChange():
            was = "none" if change.previous is None else str(change.previous)
            text = f"reserved concurrency of {change.function_name} at {change.set_to} (was {was})"
    return text + (UNCONFIRMED if change.status == "pending" else "")


def in_force(record: TripRecord) -> list[str]:
    """Every change the record has in force (dry run: every change it would make)."""
    return [change_line(change) for change in record.changes]


def restore_plan(record: TripRecord, cooldown_seconds: int | None = None) -> str:
    """When and how what is in force is lifted (a sentence starting with a capital)."""
    if record.action == "throttle":
        if cooldown_seconds is not None:
            return f"The automatic restore runs after the cooldown ({cooldown_seconds // 60} min)"
        if record.restore_after is not None:
            return f"The automatic restore runs at {utc_iso(record.restore_after)}"
    return f"It stays until a person runs `tokenfuse restore {record.profile_arn}` (or presses Restore)"


def trip_said(record: TripRecord) -> str:
    """The thread's reply to a trip: what is in force, what failed, what a person must do."""
    if record.dry_run:
        say = "DryRun: would apply " + "; ".join(in_force(record) or ["nothing"]) + "."
        if record.problems:
            say += " Problems: " + "; ".join(record.problems)
        return say
    plan = restore_plan(record)
    if record.complete:
        return f":no_entry: Tripped ({record.action}): {'; '.join(in_force(record))}. {plan}."
    return (
        f":warning: Partly tripped ({record.action}): the deny is in force, so the spend stops. "
        f"In force: {'; '.join(in_force(record))}. Not applied: {'; '.join(record.problems) or 'n/a'}. "
        f"A person should fix what failed (tokenfuse does not retry it). {plan}."
    )


def failure_said(
    where: str,
    error: str,
    record: TripRecord | None,
    *,
    profile: str,
    team: str,
    policy: PolicyDecision | None,
    restore_due: bool,
    other: TripRecord | None = None,
) -> str:
    """An escalation: what failed, exactly what is in force now, what a person must do.

    ``where`` is the step that failed (``trip``, ``restore`` or another step); ``record`` is this
    incident's active trip after tokenfuse settled it, or None when nothing of it is in force;
    ``other`` is the profile's active trip when it belongs to another incident.
    """
    head = {
        "trip": f"tokenfuse could not trip `{profile}` (team {team})",
        "restore": f"tokenfuse could not restore `{profile}` (team {team})",
    }.get(where, f"tokenfuse needs a person for `{profile}` (team {team})")
    if record is None and other is not None:
        lines = "; ".join(in_force(other))
        return (
            f":sos: {head}: {error}. Nothing of this incident's trip is in force; the profile's active "
            f"trip {other.trip_id} (incident {other.incident_id}) is: {lines}."
        )
    if record is None:
        if where == "trip":
            now = (
                "Nothing tokenfuse changed is in force: the profile is NOT denied. A person must "
                "contain the spend (fix the cause and trip again, or stop the caller)."
            )
        else:
            now = "Nothing of tokenfuse's is in force on it."
        return f":sos: {head}: {error}. {now}"
    if where == "trip" and record.complete:  # the trip is in force; a step after it failed
        head = f"tokenfuse tripped `{profile}` (team {team}), then failed"
    lines = "; ".join(in_force(record))
    denied = "the profile is denied" if record.deny_in_force else "the profile is NOT fully denied"
    if where == "restore":
        then = f"Fix the cause, then run `tokenfuse restore {record.profile_arn}`."
    elif restore_due:
        cooldown = policy.cooldown_seconds if policy is not None else None
        then = restore_plan(record, cooldown) + " and puts back what was applied."
    else:
        then = f"`tokenfuse restore {record.profile_arn}` (or the Restore button) lifts it."
    return f":sos: {head}: {error}. Still in force ({denied}): {lines}. {then}"
