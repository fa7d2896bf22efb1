"""The remediation state machine's tasks, dispatched by the payload's ``task``.

Every Task state of ``statemachines/remediation.asl.json`` invokes RemediateFunction with one of
the inputs of :mod:`tokenfuse.remediation.contracts`; :func:`dispatch` parses the payload once
(an input that is none is :class:`InvalidTaskInput`, before anything is done), runs the task,
which audits its step, and returns the task's result model as JSON, which the ASL reads. Errors
propagate with their class name as the Lambda error type: ``TransientAwsError`` is retried by the
ASL, everything else is caught into ``Escalate``.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, assert_never

from tokenfuse import clock
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import client, get_secret
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.cloudwatch import MetricReader
from tokenfuse.adapters.email import EmailSender
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import Decision
from tokenfuse.remediation import approvals, messages, policy, verify
from tokenfuse.remediation.access import AccountAccess
from tokenfuse.remediation.audit import Auditor, BusPort
from tokenfuse.remediation.blocks import restore_blocks
from tokenfuse.remediation.card_steps import CardPort
from tokenfuse.remediation.channels import ChatPort, EmailPort, SesEmail, SlackChat
from tokenfuse.remediation.contracts import (
    ApprovalDecidedTask,
    ApprovalRequested,
    ApprovalTimedOutTask,
    AuditSummary,
    AuditTask,
    EscalateTask,
    EscalationResult,
    ManualRestoreResult,
    PolicyTask,
    RequestApprovalTask,
    RestoreProfilesTask,
    RestoreTask,
    TaskInput,
    TaskResult,
    TripApproval,
    TripTask,
    VerifyStillRunningTask,
    VerifyStoppedTask,
    parse_task,
)
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    TripRecord,
    VerifyResult,
    audited_decision,
    utc_iso,
)
from tokenfuse.remediation.settings import RemediateSettings
from tokenfuse.remediation.verify import MetricReaderPort
from tokenfuse.teams import TeamDirectory, deployed_directory
from tokenfuse.text import secret_value

if TYPE_CHECKING:
    from tokenfuse.adapters.slack import SlackSender
    from tokenfuse.remediation.trip import Tripper


class Deps:
    """Everything the tasks use, built on first use from the settings; any piece can be injected.

    One ``Deps`` serves one invocation (:meth:`for_invocation`): the container keeps only
    :attr:`KEPT` (see :mod:`tokenfuse.composition`). The rest is per invocation: the team
    directory and the Slack token (Powertools' max-age cache: an edit or a rotation reaches a warm
    container) and the member-account access (``access``), with what is built on them (``chat``,
    ``auditor``, ``tripper``). The member-role sessions ``access`` reads through are the
    container's (:func:`tokenfuse.adapters.aws.kept_role_session`: assumed once, renewed before
    their credentials expire)."""

    KEPT = ("table", "bus", "email")
    """The pieces a ``Deps`` hands to the next invocation's: a table, the bus and SES."""

    def __init__(
        self,
        settings: RemediateSettings,
        now: Callable[[], datetime] = clock.now,
        *,
        own_account: str | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings
        self.now = now
        self.own_account = own_account  # the function's account (None: asked of STS when needed)
        for name, value in overrides.items():
            setattr(self, name, value)

    def for_invocation(self, own_account: str | None = None) -> "Deps":
        """A new ``Deps`` for one invocation that shares this one's :attr:`KEPT` pieces."""
        kept = {name: getattr(self, name) for name in self.KEPT}
        return Deps(self.settings, self.now, own_account=own_account, **kept)

    @cached_property
    def table(self) -> ApprovalsTable:
        return ApprovalsTable(self.settings.approvals_table_name)

    @cached_property
    def bus(self) -> BusPort:
        return EventBus(self.settings.event_bus_name)

    @cached_property
    def directory(self) -> TeamDirectory:
        """The deployed directory (Powertools caches the parameter for 5 minutes)."""
        s = self.settings
        return deployed_directory(
            s.team_directory_parameter,
            finops_slack_channel=s.finops_slack_channel,
            finops_email=s.finops_email,
        )

    @cached_property
    def slack(self) -> "SlackSender | None":
        # slack-sdk is imported when a task first speaks to Slack, not by every remediate cold start
        from tokenfuse.adapters.slack import SlackSender, bot_token_from_secret

        token = bot_token_from_secret(self.settings.slack_bot_token_secret_arn)
        return SlackSender(token, self.settings.slack_api_base_url) if token else None

    @cached_property
    def chat(self) -> ChatPort | None:
        return SlackChat(self.slack) if self.slack is not None else None

    @cached_property
    def cards(self) -> CardPort | None:
        """The incidents' status cards (None without the incidents table)."""
        table_name = self.settings.incidents_table_name
        if not table_name:
            return None
        from tokenfuse.adapters.incidents_table import IncidentsTable
        from tokenfuse.alerts.status_cards import StatusCards

        email = EmailSender(self.settings.sender_email) if self.settings.sender_email else None
        return StatusCards(IncidentsTable(table_name), self.directory, self.slack, email, self.now)

    @cached_property
    def email(self) -> EmailPort | None:
        return SesEmail(EmailSender(self.settings.sender_email)) if self.settings.sender_email else None

    def link_key(self) -> bytes:
        arn = self.settings.email_link_key_secret_arn
        if not arn:
            raise TokenfuseError("EMAIL_LINK_KEY_SECRET_ARN is not set: no signed email links")
        try:
            return secret_value(get_secret(arn), "key").encode()
        except ValueError as error:
            raise TokenfuseError(f"the secret in EMAIL_LINK_KEY_SECRET_ARN {error}") from None

    @cached_property
    def auditor(self) -> Auditor:
        from aws_lambda_powertools.metrics import MetricUnit

        from tokenfuse.observability import logger, metrics

        def chat_failed(error: Exception) -> None:
            logger.warning("Slack thread update failed", extra={"error": str(error)})
            metrics.add_metric(name="SlackUpdateFailed", unit=MetricUnit.Count, value=1)

        return Auditor(self.table, self.bus, self.chat, self.now, on_chat_error=chat_failed, cards=self.cards)

    @cached_property
    def access(self) -> AccountAccess:
        return AccountAccess(self.settings.member_role_name, own_account=self.own_account)

    @cached_property
    def tripper(self) -> "Tripper":
        # the trip machinery (guard SCP, inline denies, callers, concurrency) is imported by the
        # first task that trips, restores or settles, not by the approval request a cold start serves
        from tokenfuse.remediation.trip import Tripper

        s = self.settings
        return Tripper(
            self.table,
            self.access,
            lambda: self.access.guard(s.guard_policy_id, s.guard_policy_name),
            mechanism=s.trip_mechanism,
            dry_run=s.dry_run,
            callers_tag_key=s.callers_tag_key,
            protected_tag_key=s.protected_tag_key,
            throttle_concurrency=s.throttle_concurrency,
            member_role_name=s.member_role_name,
            now=self.now,
        )

    def metric_reader(self, incident: RemediationIncident) -> MetricReaderPort:
        session = self.access.session(incident.account_id)
        return MetricReader(client("cloudwatch", incident.region, session))

    @cached_property
    def request_deps(self) -> approvals.RequestDeps:
        s = self.settings
        return approvals.RequestDeps(
            store=self.table,
            directory=self.directory,
            auditor=self.auditor,
            chat=self.chat,
            email=self.email,
            link_key=self.link_key if s.email_link_key_secret_arn else None,
            approve_url=s.approve_url,
            now=self.now,
        )


# -- the tasks ---------------------------------------------------------------------------------


def task_policy(task: PolicyTask, deps: Deps) -> PolicyDecision:
    s = deps.settings
    since = utc_iso(deps.now() - timedelta(hours=1))
    decided = policy.decide(
        task.incident,
        deps.directory,
        dry_run=s.dry_run,
        max_trips_per_hour=s.max_trips_per_hour,
        trips_last_hour=deps.table.trips_since(since),
        mechanism=s.trip_mechanism,
    )
    deps.auditor.record(
        task.incident,
        "policy",
        decided.action,
        decision=decided.decision,
        details={"mode": decided.mode, "team_mode": decided.team_mode, "reasons": decided.reasons},
        say=messages.policy_said(decided, messages.profile_label(task.incident)),
    )
    return decided


def task_request_approval(task: RequestApprovalTask, deps: Deps) -> ApprovalRequested:
    return approvals.request_approval(task.incident, task.policy, task.task_token, deps.request_deps)


def task_approval_decided(task: ApprovalDecidedTask, deps: Deps) -> ApprovalOutcome:
    approvals.approval_decided(task.incident, task.policy, task.approval, deps.auditor)
    return task.approval


def task_approval_timed_out(task: ApprovalTimedOutTask, deps: Deps) -> ApprovalOutcome:
    return approvals.approval_timed_out(task.incident, task.policy, deps.request_deps)


def _trip_decision(record: TripRecord, decided: PolicyDecision, approval: TripApproval) -> Decision:
    if record.dry_run:
        return "dry-run"
    if approval.decision is not None:
        return audited_decision(approval.decision)
    return decided.decision or "auto"


def task_trip(task: TripTask, deps: Deps) -> TripRecord:
    incident, decided, actor = task.incident, task.policy, task.approval.actor
    record = deps.tripper.trip(incident, decided, actor)
    say = messages.trip_said(record)
    told: approvals.Delivery | None = None
    if not record.dry_run and not record.complete:  # a partial trip: FinOps hears it too
        told = approvals.escalate_to_finops(incident, say, deps.request_deps)
        say = f"{say} {told.sentence()}"
    # A detach waits for a person: its reply carries the Restore button.
    detached = not record.dry_run and record.restore_after is None
    deps.auditor.record(
        incident,
        "tripped",
        record.action,
        decision=_trip_decision(record, decided, task.approval),
        actor=actor,
        details={
            "trip": record.to_json(),
            "in_force": messages.in_force(record),
            "problems": record.problems,
            **({"told": list(told.told), "not_told": list(told.failed)} if told else {}),
        },
        say=say,
        blocks=restore_blocks(say, record.profile_arn) if detached else None,
    )
    return record


def task_verify(task: VerifyStoppedTask | VerifyStillRunningTask, deps: Deps) -> VerifyResult:
    now = deps.now()
    remaining_share = 0.0
    if isinstance(task, VerifyStoppedTask):
        split_at = task.trip.tripped_at
        if task.trip.scope == "caller":  # the callers left unblocked go on spending
            remaining_share = 1.0 - task.policy.callers_share
    else:
        split_at = now - timedelta(seconds=task.since_seconds)
    incident = task.incident
    model_ids = [incident.profile_id, incident.profile_arn]
    reader = deps.metric_reader(incident)
    result = verify.verify(reader, model_ids, task.expect, now, split_at, remaining_share=remaining_share)
    say = messages.verified_said(result)
    deps.auditor.record(incident, "verified", task.policy.action, details=result.to_json(), say=say)
    return result


def task_restore(task: RestoreTask, deps: Deps) -> RestoreResult:
    trip = task.trip
    result = deps.tripper.restore(trip.profile_arn, trip.trip_id)
    deps.auditor.record(
        task.incident,
        "restored",
        trip.action,
        actor=task.actor,
        details=result.to_json(),
        say=messages.restored_said(result),
    )
    return result


def _active_trip(deps: Deps, profile_arn: str) -> TripRecord | None:
    stored = deps.table.get_trip(profile_arn)
    return TripRecord.model_validate(stored) if stored else None


def task_escalate(task: EscalateTask, deps: Deps) -> EscalationResult:
    """Tell FinOps and the team what failed and exactly what is in force; returns the trip still in
    force (``trip``) and whether the state machine must still run its automatic restore
    (``restore_due``: a throttle whose trip, or part of it, is in force and whose restore has not
    failed yet). This incident's trip is settled first (its unconfirmed changes read back; a trip
    whose deny is not in force is undone), so what is said is what is in force."""
    state = task.state
    incident = state.incident
    where, what = state.failure() or ("other", "unknown error")
    record = _active_trip(deps, incident.profile_arn)
    other_trip = record is not None and record.incident_id != incident.incident_id
    if record is not None and not other_trip:  # read back what is unconfirmed; undo a deny-less trip
        record = deps.tripper.settle(record)
    ours = None if other_trip else record
    restore_due = ours is not None and ours.action == "throttle" and where != "restore"
    text = messages.failure_said(
        where,
        what,
        ours,
        profile=messages.profile_label(incident),
        team=incident.team or "unknown",
        policy=state.policy,
        restore_due=restore_due,
        other=record if other_trip else None,
    )
    told = approvals.escalate_to_finops(incident, text, deps.request_deps)
    everyone = told + approvals.escalate_to_team_email(incident, text, deps.request_deps)
    deps.auditor.record(
        incident,
        "escalated",
        "none",
        details={
            "failed_step": where,
            "error": what,
            "told": list(everyone.told),
            "not_told": list(everyone.failed),
            "in_force": messages.in_force(ours) if ours else [],
            "restore_due": restore_due,
            "active_trip": ours is not None,
        },
        say=f"{text} {told.sentence()}",
    )
    return EscalationResult(escalated_to=list(told.told), error=what, trip=ours, restore_due=restore_due)


def task_audit(task: AuditTask, deps: Deps) -> AuditSummary:
    state = task.state
    approval = state.approval
    decision = state.decided.policy.decision
    if approval is not None and approval.decision is not None:
        decision = audited_decision(approval.decision)
    failure = state.failure()
    record = state.trip
    restored = state.restored
    outcome = messages.outcome_said(
        record,
        restored.restored if restored else None,
        restored.note if restored else None,
        trip_failed=failure is not None and failure[0] == "trip",
    )
    summary = AuditSummary(
        execution=task.execution,
        decision=decision,
        actor=approval.actor if approval else None,
        outcome=outcome,
        trip_id=record.trip_id if record else None,
        recheck=state.recheck,
        failed=failure is not None,
        failed_step=failure[0] if failure else None,
    )
    said = messages.closed_said(outcome, decision, failure[1] if failure else None)
    deps.auditor.record_summary(state.incident, summary.to_json(), say=said)
    return summary


def _incident_of(record: TripRecord, deps: Deps) -> RemediationIncident:
    """The trip's incident (with its Slack thread, from the incidents table when configured)."""
    table_name = deps.settings.incidents_table_name
    if table_name:
        from tokenfuse.adapters.incidents_table import IncidentsTable

        found = IncidentsTable(table_name).get(record.incident_id)
        if found is not None:
            return RemediationIncident.model_validate(found[0].to_bus())
    return RemediationIncident.of_trip(record)


def _still_in_force(deps: Deps, record: TripRecord) -> str:
    """What the table says is in force after a restore failed before it could say so itself."""
    try:
        left = _active_trip(deps, record.profile_arn)
    except TokenfuseError as error:
        return messages.in_force_unreadable(str(error), record)
    return messages.still_in_force(left)


def task_restore_profiles(task: RestoreProfilesTask, deps: Deps) -> ManualRestoreResult:
    """``tokenfuse restore <arn>`` / ``--all``: lift active trips by hand, each audited with its actor."""
    actor = task.actor
    if task.all:
        records = deps.tripper.active_trips()
    else:
        arn = str(task.profile_arn)
        found = _active_trip(deps, arn)
        if found is None:
            nothing = RestoreResult(
                profile_arn=arn, trip_id=None, restored=False, note=messages.NO_ACTIVE_TRIP
            )
            return ManualRestoreResult(results=[nothing], failed=[])
        records = [found]
    results: list[RestoreResult] = []
    failed: list[str] = []
    for record in records:
        try:
            result = deps.tripper.restore(record.profile_arn, record.trip_id)
        except TokenfuseError as error:
            what = str(error)
            if "Still in force" not in what:  # it failed before it could say
                what = f"{what}. {_still_in_force(deps, record)}"
            failed.append(f"{record.profile_arn}: {what}")
            deps.auditor.record(  # the thread hears it too: what is still in force
                _incident_of(record, deps),
                "escalated",
                record.action,
                actor=actor,
                details={"manual": True, "failed_step": "restore", "error": what},
                say=messages.restore_by_failed(actor, what),
            )
            continue
        deps.auditor.record(
            _incident_of(record, deps),
            "restored",
            record.action,
            actor=actor,
            details=result.to_json() | {"manual": True},
            say=messages.restored_said(result, by=actor),
        )
        results.append(result)
    return ManualRestoreResult(results=results, failed=failed)


def run(task: TaskInput, deps: Deps) -> TaskResult:  # noqa: PLR0911 - one case per task
    """Run one parsed task."""
    match task:
        case PolicyTask():
            return task_policy(task, deps)
        case RequestApprovalTask():
            return task_request_approval(task, deps)
        case ApprovalDecidedTask():
            return task_approval_decided(task, deps)
        case ApprovalTimedOutTask():
            return task_approval_timed_out(task, deps)
        case TripTask():
            return task_trip(task, deps)
        case VerifyStoppedTask() | VerifyStillRunningTask():
            return task_verify(task, deps)
        case RestoreTask():
            return task_restore(task, deps)
        case EscalateTask():
            return task_escalate(task, deps)
        case AuditTask():
            return task_audit(task, deps)
        case RestoreProfilesTask():
            return task_restore_profiles(task, deps)
        case _:
            assert_never(task)


def dispatch(payload: object, deps: Deps) -> dict[str, Any]:
    """Parse the payload (:class:`InvalidTaskInput` when it is no task input), run the task it
    names and return its result as the state machine reads it."""
    return run(parse_task(payload), deps).model_dump(mode="json")
