"""The words people read in the remediation stage: the incident's thread, FinOps's channel and
email, the approval request, the answers to a click or a link, and what ``tokenfuse restore``
prints. Functions over values, returning text; no I/O.

A trip record lists only what is in force in AWS (see :mod:`tokenfuse.remediation.trip`), and
a delivery only where a message really went, so the words built from them say only that.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

from tokenfuse.alerts.messages import at_time, block_words, blocked_words, duration, who
from tokenfuse.canaries import CANARY_NAME_PREFIX, DRILL_TAG_KEY, DRILL_TAG_VALUE
from tokenfuse.remediation.caller_scope import caller_label
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    CallerScpChange,
    Change,
    ConcurrencyChange,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    RolePolicyChange,
    ScpChange,
    TagChange,
    TripRecord,
    VerifyResult,
    utc_iso,
)
from tokenfuse.text import sentence

NOTHING_CHANGED = "Nothing was changed."
UNCONFIRMED = " (unconfirmed: tokenfuse could not read it back)"


def money_per_hour(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}/h"


def profile_label(incident: RemediationIncident) -> str:
    return incident.profile_name or incident.profile_id


def said_error(error: BaseException) -> str:
    """An error's message on one line (its whitespace collapsed)."""
    return said(str(error))


def said(text: str) -> str:
    """Text on one line (its whitespace collapsed)."""
    return " ".join(text.split())


def policy_block(policy: PolicyDecision) -> str:
    """The policy's action as people read it: ``block for 15 min``, ``block until restored``."""
    return block_words(policy.action, policy.cooldown_seconds)


def trip_cooldown(record: TripRecord) -> int:
    """A throttle's block, from its record (a detach has none: 0)."""
    if record.restore_after is None:
        return 0
    return max(1, int((record.restore_after - record.tripped_at).total_seconds()))


def record_blocked(record: TripRecord, what: str | None = None) -> str:
    """``blocked for 15 min`` / ``blocked until restored``, from what the record has in force
    (``what``: what was blocked, for a caller-scope trip)."""
    return blocked_words(record.action, trip_cooldown(record) or 1, what)


def still_running(tokens_per_minute: float) -> str:
    return f"{tokens_per_minute:,.0f} tokens/min after the block"


def error_line(error: BaseException) -> str:
    """``<error type>: <message>`` on one line."""
    return f"{type(error).__name__}: {said_error(error)}"


def listed(items: Iterable[str], empty: str = "nothing") -> str:
    return "; ".join(items) or empty


# -- the policy ------------------------------------------------------------------------------------


def callers_on(labels: Iterable[str], profile: str) -> str:
    """What a caller-scope trip blocks: ``role/checkout-worker on support-bot``."""
    return f"{', '.join(labels)} on {profile}"


def caller_block(policy: PolicyDecision, profile: str) -> str | None:
    """What a caller-scope policy will block (``block role/checkout-worker on support-bot for 15
    min``), or None for a profile-scope one and for one whose action is none (it blocks nothing)."""
    if policy.scope != "caller" or policy.action == "none":
        return None
    return block_words(policy.action, policy.cooldown_seconds, callers_on(policy.caller_labels, profile))


def policy_said(decided: PolicyDecision, profile: str | None = None) -> str:
    callers = caller_block(decided, profile or "the profile")
    if callers and decided.mode in {"approve", "auto", "dry-run"}:
        return {
            "approve": f"Asking {decided.approver_team} on-call to approve: {callers}.",
            "auto": f"Policy: automatically {callers}.",
            "dry-run": f"DryRun: planning to {callers}; nothing will be changed.",
        }[decided.mode]
    words = policy_block(decided)
    if decided.mode == "approve":
        return f"Asking {decided.approver_team} on-call to approve: {words}."
    if decided.mode == "auto":
        return f"Policy: {words}, automatically."
    if decided.mode == "dry-run":
        return f"DryRun: planning to {words}; nothing will be changed."
    if decided.decision == "protected":
        return "This profile is protected: tokenfuse never blocks it."
    return "Policy: notify only; no action."


# -- the approval request --------------------------------------------------------------------------


def approval_fallback(incident: RemediationIncident, policy: PolicyDecision) -> str:
    """The request's plain text (notifications, clients without Block Kit)."""
    return block_question(incident, policy)


def block_question(incident: RemediationIncident, policy: PolicyDecision, mark: str = "") -> str:
    """``Block support-agent for 15 min?`` / ``Block support-agent until restored?`` (``mark``
    around the profile: a backtick in mrkdwn); a caller-scope policy names whom it blocks:
    ``Block role/checkout-worker on support-agent for 15 min?``."""
    if callers := caller_block(policy, f"{mark}{profile_label(incident)}{mark}"):
        return f"B{callers.removeprefix('b')}?"
    words = policy_block(policy).removeprefix("block ")
    return f"Block {mark}{profile_label(incident)}{mark} {words}?"


def approval_request(
    incident: RemediationIncident, policy: PolicyDecision, approvers: list[str], deadline: datetime
) -> str:
    """The request's section (mrkdwn): what would happen, who may decide, until when."""
    mentions = " ".join(f"<@{a}>" for a in approvers) or "FinOps on-call"
    words = caller_block(policy, f"`{profile_label(incident)}`") or policy_block(policy).replace(
        "block", "block it", 1
    )
    default = words if policy.on_timeout == "trip" else "take no action"
    return (
        f":rotating_light: *{block_question(incident, policy, '`')}* "
        f"({incident.kind}, {incident.severity}) at {money_per_hour(incident.cost_per_hour_usd)} "
        f"vs {money_per_hour(incident.baseline_cost_per_hour_usd)} baseline.\n"
        f"Approvers: {mentions}. Without a decision by "
        f"<!date^{int(deadline.timestamp())}^{{time}}|{utc_iso(deadline)}> tokenfuse will {default} "
        "and tell FinOps."
    )


def approval_button_labels(policy: PolicyDecision) -> dict[str, str]:
    """Each choice's button label."""
    return {
        "approve": sentence(policy_block(policy)),
        "decline": "Decline",
        "snooze": f"Snooze {duration(policy.snooze_seconds)}",
    }


BLOCK_ENDS = {"throttle": " (restored automatically)", "detach": " (a person restores it)", "none": ""}


def block_phrase(policy: PolicyDecision) -> str:
    """What approving does: ``block it for 15 min (restored automatically)``; ``no action``."""
    what = callers_on(policy.caller_labels, "it") if policy.scope == "caller" else "it"
    return block_words(policy.action, policy.cooldown_seconds, what) + BLOCK_ENDS[policy.action]


def approval_email(
    incident: RemediationIncident,
    policy: PolicyDecision,
    urls: Mapping[str, str],
    deadline: datetime,
    why_email: str | None = None,
) -> tuple[str, str, str]:
    """Subject, text and HTML of one approver's email (their own signed links). ``why_email`` says
    why the request came by email (Slack failed, FinOps standing in). Every value in the HTML part
    is escaped by the template (Jinja2 autoescape)."""
    from tokenfuse.html_email import render_html

    subject = f"[tokenfuse] {block_question(incident, policy)}"
    default = block_phrase(policy) if policy.on_timeout == "trip" else "take no action"
    rate_now = money_per_hour(incident.cost_per_hour_usd)
    rate_baseline = money_per_hour(incident.baseline_cost_per_hour_usd)
    lines = [
        *([why_email, ""] if why_email else []),
        f"Inference profile {incident.profile_arn} is running away ({incident.kind}, {incident.severity}):",
        f"now {rate_now} vs {rate_baseline} baseline.",
        f"Approving will {block_phrase(policy)}.",
        f"Decide before {utc_iso(deadline)} (the links expire then and work once); "
        f"without a decision tokenfuse will {default}:",
        *(f"  {choice}: {url}" for choice, url in urls.items()),
    ]
    html = render_html(
        "approval_request.html",
        why_email=why_email,
        subject=subject,
        profile_arn=incident.profile_arn,
        kind=incident.kind,
        severity=incident.severity,
        rate_now=rate_now,
        rate_baseline=rate_baseline,
        action_phrase=block_phrase(policy),
        deadline=utc_iso(deadline),
        default=default,
        links=[{"label": choice.capitalize(), "url": url} for choice, url in urls.items()],
        incident_id=incident.incident_id,
    )
    return subject, "\n".join(lines), html


def by_email_instead(slack_problem: str) -> str:
    return f"Slack could not take this request ({slack_problem}), so it comes by email."


def finops_stands_in(team: str) -> str:
    return f"Team {team}'s approvers have no email address: FinOps's approvers decide."


NO_SLACK_APPROVAL = "no Slack channel, token or approver Slack id"
NO_APPROVER_EMAIL = "no approver has an email address"
EMAIL_LINKS_OFF = "email approval links are not configured (SenderEmail, link key, URL)"


def slack_post_failed(error: str) -> str:
    return f"Slack post failed: {error}"


def nobody_can_approve(team: str, problems: Iterable[str]) -> str:
    return f"team {team} has no approver reachable by Slack or email: nobody can approve ({listed(problems)})"


# -- decisions -------------------------------------------------------------------------------------


def decision_said(outcome: ApprovalOutcome, policy: PolicyDecision) -> str | None:
    """The thread's reply to a person's decision (None for a timeout: its own task says it)."""
    if outcome.decision == "approve":
        return f"{who(outcome.actor)} approved: {policy_block(policy).replace('block', 'blocking', 1)}."
    if outcome.decision == "decline":
        return f"{who(outcome.actor)} declined: no action."
    if outcome.decision == "snooze":
        snoozed = duration(policy.snooze_seconds)
        return f"{who(outcome.actor)} snoozed for {snoozed}: asking again if it goes on."
    return None


def timed_out_said(incident: RemediationIncident, policy: PolicyDecision, trips: bool) -> str:
    blocking = policy_block(policy).replace("block", "blocking it", 1)
    default = f"{blocking} as the policy says" if trips else "no action taken"
    return (
        f":alarm_clock: No decision on `{profile_label(incident)}` (team {policy.team}) "
        f"within {duration(policy.approval_timeout_seconds)}: {default}."
    )


# -- who was told ----------------------------------------------------------------------------------


def told_sentence(told: Iterable[str], failed: Iterable[str], whom: str = "FinOps") -> str:
    """One sentence for the thread: e.g. "FinOps was told (Slack C0FINOPS01; email to a@x.com)"."""
    told, failed = list(told), list(failed)
    if told and failed:
        return f"{whom} was told ({'; '.join(told)}); failed: {'; '.join(failed)}."
    if told:
        return f"{whom} was told ({'; '.join(told)})."
    if failed:
        return f"{whom} could not be told: {'; '.join(failed)}."
    return f"{whom} has no Slack channel or email configured: nobody else was told."


def to_slack(channel: str) -> str:
    return f"Slack {channel}"


def to_email(addresses: Iterable[str]) -> str:
    return "email to " + ", ".join(addresses)


def not_delivered(where: str, why: str) -> str:
    return f"{where}: {why}"


NO_SLACK_TOKEN = "no Slack token configured"  # noqa: S105 - words, not a token
NO_SES_SENDER = "no SES sender configured"


def finops_subject(incident: RemediationIncident) -> str:
    return f"[tokenfuse] {profile_label(incident)}"


def team_escalation_subject(incident: RemediationIncident) -> str:
    return f"[tokenfuse] needs a person: {incident.profile_id}"


# -- the trip --------------------------------------------------------------------------------------


def change_line(change: Change) -> str:
    """One change as a noun phrase: what it puts in force (or, in a dry run, would)."""
    match change:
        case ScpChange(added=True):
            text = f"guard SCP {change.policy_id} lists the profile ARN (deny)"
        case ScpChange():
            text = f"guard SCP {change.policy_id} already listed the profile ARN before the trip (deny)"
        case CallerScpChange():
            labels = ", ".join(caller_label(arn) for arn in change.role_arns)
            text = f"guard SCP {change.policy_id} denies the profile to {labels} (ArnLike aws:PrincipalArn)"
        case RolePolicyChange():
            text = f"inline deny {change.policy_name} on role {change.role_name}"
        case TagChange():
            was = "absent" if change.previous is None else repr(change.previous)
            text = f"tag {change.key}={change.set_to} (was {was})"
        case ConcurrencyChange():
            was = "none" if change.previous is None else str(change.previous)
            text = f"cap concurrency: {change.function_name} reserved at {change.set_to} (was {was})"
    return text + (UNCONFIRMED if change.status == "pending" else "")


def in_force(record: TripRecord) -> list[str]:
    """Every change the record has in force (dry run: every change it would make)."""
    return [change_line(change) for change in record.changes]


def restore_plan(record: TripRecord) -> str:
    """When and how what is in force is lifted (a sentence starting with a capital): a throttle's
    automatic restore runs at its ``restore_after`` (the state machine waits until then)."""
    if record.action == "throttle" and record.restore_after is not None:
        return f"The block lifts at {at_time(record.restore_after, record.tripped_at)} (automatic restore)"
    return f"It stays until a person runs `tokenfuse restore {record.profile_arn}` (or presses Restore)"


def trip_said(record: TripRecord) -> str:
    """The thread's reply to a trip: what is in force, what failed, what a person must do."""
    if record.dry_run:
        say = f"DryRun: would apply {listed(in_force(record))}."
        if record.problems:
            say += " Problems: " + "; ".join(record.problems)
        return say
    plan = restore_plan(record)
    blocked = record_blocked(record)
    notes = f" Note: {'; '.join(record.notes)}." if record.notes else ""
    if record.complete and record.scope == "caller":
        callers = callers_on([t.label for t in record.callers], record.profile_name or record.profile_id)
        who = sentence(record_blocked(record, callers))
        return f":no_entry: {who}: {'; '.join(in_force(record))}. {plan}.{notes}"
    if record.complete:
        return f":no_entry: {sentence(blocked)}: {'; '.join(in_force(record))}. {plan}.{notes}"
    return (
        f":warning: Partly {blocked}: the deny is in force, so the spend stops. "
        f"In force: {'; '.join(in_force(record))}. Not applied: {listed(record.problems, 'n/a')}. "
        f"A person should fix what failed (tokenfuse does not retry it). {plan}."
    )


def deny_not_applied(error: str) -> str:
    return f"deny not applied: {error}"


def tag_not_set(key: str, error: str) -> str:
    return f"{key} tag not set: {error}"


def not_capped(function_name: str, error: str) -> str:
    return f"{function_name} not capped: {error}"


def undo_failed(line: str) -> str:
    return f"undo failed: {line}"


def protected(profile_arn: str, tag: str | None = None) -> str:
    if tag:
        return f"{profile_arn} is tagged {tag}=true"
    return f"{profile_arn} is tagged protected: tokenfuse never blocks it"


def no_such_role(label: str, account_id: str) -> str:
    return f"{label}: no such role in account {account_id}: not blocked"


def no_caller_to_block(profile_arn: str, refused: Iterable[str]) -> str:
    return f"no caller of {profile_arn} can be blocked ({listed(refused, 'none named')})"


def caller_scp_full(why: str, labels: Iterable[str]) -> str:
    return f"{why}: an inline deny on {', '.join(labels)} instead of the guard SCP statement"


def not_a_canary(profile_arn: str) -> str:
    return (
        f"{profile_arn} is not a drill canary (tagged {DRILL_TAG_KEY}={DRILL_TAG_VALUE}, "
        f"named {CANARY_NAME_PREFIX}...): a drill trips only its own canary"
    )


def no_caller_roles(profile_arn: str, callers_tag_key: str) -> str:
    return f"{profile_arn} names no caller roles in {callers_tag_key}: inline-deny has nothing to deny"


# -- verify ----------------------------------------------------------------------------------------


def verified_said(result: VerifyResult) -> str:
    if result.expect == "stopped":
        if result.still_running:
            return (
                f":warning: Still running after the trip: {result.after_tokens_per_minute:,.0f} tokens/min."
            )
        return (
            f"Verified: token rate {result.before_tokens_per_minute:,.0f} -> "
            f"{result.after_tokens_per_minute:,.0f}/min."
        )
    if result.still_running:
        return "Snooze over: the spike goes on, asking again."
    return "Snooze over: the spike has subsided; no action."


# -- restore ---------------------------------------------------------------------------------------

RESTORE_BUTTON = "Restore"
RESTORE_CONFIRM_TITLE = "Restore this profile?"
RESTORE_CONFIRM_TEXT = "tokenfuse puts back what the trip changed."
RESTORE_CONFIRM_DENY = "Cancel"

NO_ACTIVE_TRIP = "no active trip"
PRIOR_STATE_PUT_BACK = "prior state put back"


def other_trip_active(active_trip_id: str, asked_trip_id: str) -> str:
    return f"the active trip is {active_trip_id}, not {asked_trip_id}: left in place"


def restored_said(result: RestoreResult, by: str | None = None) -> str:
    if not result.restored:
        return f"Restore: {result.note}."
    by_whom = f" by {by}" if by else ""
    return f":white_check_mark: Restored{by_whom}: {listed(result.actions, 'nothing was in force')}."


def restore_incomplete(failures: list[str], remaining: TripRecord, put_back: list[str]) -> str:
    return (
        f"{'; '.join(failures)}. Still in force: {'; '.join(in_force(remaining))}. "
        f"Put back: {listed(put_back)}"
    )


def gone_after_failure(change: Change) -> str:
    return f"{change_line(change)}: no longer in force (read back after a failure)"


def put_back_failed(change: Change, error: str) -> str:
    return f"{change_line(change)}: {error}"


def concurrency_put_back(function_name: str, previous: int | None, current: int | None, set_to: int) -> str:
    """What restoring one function's reserved concurrency did (``current``: what it was found at)."""
    if current == previous:
        return f"{function_name}: reserved concurrency already back to {current}"
    if current != set_to:
        return (
            f"{function_name}: reserved concurrency is {current}, "
            f"not the trip's {set_to} (changed since the trip): left"
        )
    if previous is None:
        return f"{function_name}: reserved concurrency removed (none before)"
    return f"{function_name}: reserved concurrency back to {previous}"


def tag_put_back(key: str, previous: str | None, current: str | None, set_to: str) -> str:
    """What restoring the state tag did (``current``: the value it was found at)."""
    if current == previous:
        return f"tag {key} already back to {current!r}"
    if current != set_to:
        return f"tag {key} is {current!r}, not {set_to!r} (changed since the trip): left"
    if previous is None:
        return f"tag {key} removed (absent before)"
    return f"tag {key} back to {previous!r}"


def role_policy_gone(role: str, name: str) -> str:
    return f"{role}: {name} already gone"


def role_policy_left(role: str, name: str) -> str:
    return f"{role}: {name} holds no tokenfuse statement (removed since the trip): left"


def role_policy_put_back(role: str, name: str, *, deleted: bool, as_before: bool, others: int) -> str:
    if deleted:
        return f"{role}: {name} deleted"
    if as_before:
        return f"{role}: {name} back to its previous document"
    return f"{role}: tokenfuse's statement removed from {name}; {others} other statement(s) kept"


def deny_still_there(role: str, name: str) -> str:
    return f"{role}: tokenfuse's deny is still in {name} after removing it"


def scp_put_back(*, added: bool, removed: bool) -> str:
    if not added:
        return "guard SCP: the ARN was listed before the trip, so it stays listed (still denied by that)"
    return "guard SCP: ARN removed" if removed else "guard SCP: ARN no longer listed"


def caller_scp_put_back(change: CallerScpChange, *, removed: bool) -> str:
    labels = ", ".join(caller_label(arn) for arn in change.added)
    if not change.added:
        return "guard SCP: the callers were denied before the trip, so they stay denied (by that)"
    if removed:
        return f"guard SCP: {labels} no longer denied on the profile"
    return f"guard SCP: {labels} already not denied on the profile"


def restore_by_failed(actor: str, what: str) -> str:
    return f":warning: Restore by {actor} failed: {what}"


def still_in_force(left: TripRecord | None) -> str:
    """What the table says is in force after a restore failed before it could say so itself."""
    if left is None:
        return "Nothing of tokenfuse's is in force on it."
    return f"Still in force: {'; '.join(in_force(left))}"


def in_force_unreadable(error: str, before: TripRecord) -> str:
    return (
        f"Could not read what is still in force ({error}); before the restore: {'; '.join(in_force(before))}"
    )


def stack_delete_restored(count: int) -> str:
    return f"restored {count} trip(s)"


def stack_delete_failed(error: str) -> str:
    return f"restore --all failed: {error}"


# -- escalation and the close ----------------------------------------------------------------------


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
        return (
            f":sos: {head}: {error}. Nothing of this incident's trip is in force; the profile's active "
            f"trip {other.trip_id} (incident {other.incident_id}) is: {'; '.join(in_force(other))}."
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
    denied = "the profile is denied" if record.deny_in_force else "the profile is NOT fully denied"
    if where == "restore":
        then = f"Fix the cause, then run `tokenfuse restore {record.profile_arn}`."
    elif restore_due:
        then = restore_plan(record) + ": it puts back what was applied."
    else:
        then = f"`tokenfuse restore {record.profile_arn}` (or the Restore button) lifts it."
    return f":sos: {head}: {error}. Still in force ({denied}): {'; '.join(in_force(record))}. {then}"


def outcome_said(
    record: TripRecord | None, restored: bool | None, restore_note: str | None, trip_failed: bool
) -> str:
    """The run's outcome in words, from what the state says happened."""
    if record is None:
        return "trip failed: nothing is in force" if trip_failed else "no action"
    if record.dry_run:
        return "dry run: planned, nothing changed"
    what = record_blocked(record)
    if not record.complete:
        what = f"partly {what} ({listed(record.problems, 'not every change applied')})"
    if record.action != "throttle":
        return what
    if restored:
        return f"{what}, then restored"
    return f"{what}; restore: {restore_note or 'did not run'}"


def closed_said(outcome: str, decision: str | None, failure: str | None) -> str:
    decided = f" (decision: {decision})" if decision else ""
    if failure:
        return f"Closed after a failure ({failure}): {outcome}{decided}."
    return f"Closed: {outcome}{decided}."


# -- answers to a click or a link ------------------------------------------------------------------

UNKNOWN_CHOICE = f"Unknown choice. {NOTHING_CHANGED}"
UNKNOWN_APPROVAL = f"This approval request is unknown or has expired. {NOTHING_CHANGED}"
WHO_IS_DECIDING = f"Who is deciding? {NOTHING_CHANGED}"
TIMED_OUT = f"This request has timed out, so the policy's default applies. {NOTHING_CHANGED}"
TOO_LATE = f"Too late: this request timed out before your click. {NOTHING_CHANGED}"
NOT_RECORDED = "tokenfuse could not record your decision just now; please click again."
UNREADABLE_CLICK = f"tokenfuse could not read this click. {NOTHING_CHANGED}"
UNKNOWN_BUTTON = f"tokenfuse does not know this button. {NOTHING_CHANGED}"
TRY_AGAIN = "tokenfuse could not take your click just now. Nothing was changed; please click again."
FEEDBACK_OFF = f"Feedback is not configured here. {NOTHING_CHANGED}"
RESTORE_OFF = f"Restore is not configured here. {NOTHING_CHANGED}"
NOTHING_TO_RESTORE = "This profile has no active trip: nothing to restore."
ONLY_TEAM_RESTORES = f"Only an on-call approver of the owning team can restore it. {NOTHING_CHANGED}"
UNKNOWN_INCIDENT = f"This incident is unknown. {NOTHING_CHANGED}"

DECIDED = {"approve": "Approved: blocking now.", "decline": "Declined: no action.", "snooze": "Snoozed."}


def decided_reply(choice: str, actor: str) -> str:
    """The one click that decided: what happens now, and by whom."""
    return f"{DECIDED[choice]} (by {who(actor)})"


def only_team_approvers(team: str | None) -> str:
    return f"Sorry, only on-call approvers of team {team} can decide this one. {NOTHING_CHANGED}"


def already_decided(decision: str | None, actor: str) -> str:
    return f"Already decided: {decision} by {who(actor)}. {NOTHING_CHANGED}"


def restoring(profile_arn: str, user_id: str) -> str:
    return f"Restoring {profile_arn.rsplit('/', 1)[-1]} for <@{user_id}>: the result follows in this thread."


def feedback_sent(choice: str, actor: str, anomalies: int) -> str:
    if not anomalies:
        return f"Noted '{choice}'. No Cost Anomaly Detection anomaly is linked to this incident yet."
    return f"Thanks <@{actor}>: sent '{choice}' to Cost Anomaly Detection for {anomalies} anomaly(ies)."


def planned_by(actor: str) -> str:
    return f"planned activity (<@{actor}>)"


# The approve endpoint's HTTP answers to what is no click (not shown in Slack) and its email pages.
INVALID_SIGNATURE = "invalid signature"
NOT_AN_INTERACTION = "not an interaction tokenfuse takes"
CANNOT_HANDLE = "tokenfuse cannot handle this request right now; nothing was changed"
LINK_INCOMPLETE = ("Missing link token", f"This link is incomplete. {NOTHING_CHANGED}")
LINK_EXPIRED = ("Link expired", f"This approval link has expired. {NOTHING_CHANGED}")
LINK_INVALID = ("Invalid link", f"This link is not valid. {NOTHING_CHANGED}")
TRY_AGAIN_PAGE = ("Try again", TRY_AGAIN)
NOT_THE_FORM = ("Not a form", f"This request is not the confirmation form. {NOTHING_CHANGED}")
