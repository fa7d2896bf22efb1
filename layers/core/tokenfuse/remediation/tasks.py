"""The remediation state machine's tasks, dispatched by the payload's ``task``.

Every Task state of ``statemachines/remediation.asl.json`` invokes RemediateFunction with
``{"task": ..., ...}``; :func:`dispatch` parses the input into models, runs the task, audits the
step and returns what the ASL reads. Errors propagate with their class name as the Lambda error
type: ``TransientAwsError`` is retried by the ASL, everything else is caught into ``Escalate``.
"""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from tokenfuse import clock
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import client, get_secret
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.cloudwatch import MetricReader
from tokenfuse.adapters.email import EmailSender
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import Decision
from tokenfuse.remediation import approvals, policy, verify, wording
from tokenfuse.remediation.access import AccountAccess
from tokenfuse.remediation.audit import SYSTEM_ACTOR, Auditor, BusPort
from tokenfuse.remediation.channels import ChatPort, EmailPort, SesEmail, SlackChat, secret_text
from tokenfuse.remediation.directory import owner
from tokenfuse.remediation.errors import InvalidTaskInput
from tokenfuse.remediation.interactions import restore_blocks
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    TripRecord,
    utc_iso,
)
from tokenfuse.remediation.settings import RemediateSettings
from tokenfuse.remediation.trip import Tripper
from tokenfuse.remediation.verify import MetricReaderPort
from tokenfuse.teams import TeamDirectory, deployed_directory


class Deps:
    """Everything the tasks use, built on first use from the settings; any piece can be injected.

    One ``Deps`` serves one invocation (:meth:`for_invocation`): the container keeps only
    :attr:`KEPT` (see :mod:`tokenfuse.composition`). The rest is per invocation: the team
    directory and the Slack token (Powertools' max-age cache: an edit or a rotation reaches a warm
    container) and the member-account sessions (``access``: assumed roles whose credentials expire
    within the hour), with what is built on them (``chat``, ``auditor``, ``tripper``)."""

    KEPT = ("table", "bus", "email")
    """The pieces a container keeps across invocations: a table, the bus and SES, no credentials."""

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
        if self.settings.team_directory_parameter:
            return deployed_directory(self.settings.team_directory_parameter)
        return TeamDirectory()

    @cached_property
    def chat(self) -> ChatPort | None:
        # slack-sdk is imported when a task first speaks to Slack, not by every remediate cold start
        from tokenfuse.adapters.slack import SlackSender, bot_token_from_secret

        token = bot_token_from_secret(self.settings.slack_bot_token_secret_arn)
        if not token:
            return None
        return SlackChat(SlackSender(token, self.settings.slack_api_base_url))

    @cached_property
    def email(self) -> EmailPort | None:
        return SesEmail(EmailSender(self.settings.sender_email)) if self.settings.sender_email else None

    def link_key(self) -> bytes:
        arn = self.settings.email_link_key_secret_arn
        if not arn:
            raise TokenfuseError("EMAIL_LINK_KEY_SECRET_ARN is not set: no signed email links")
        return secret_text(get_secret(arn), "key").encode()

    @cached_property
    def auditor(self) -> Auditor:
        from aws_lambda_powertools.metrics import MetricUnit

        from tokenfuse.observability import logger, metrics

        def chat_failed(error: Exception) -> None:
            logger.warning("Slack thread update failed", extra={"error": str(error)})
            metrics.add_metric(name="SlackUpdateFailed", unit=MetricUnit.Count, value=1)

        return Auditor(self.table, self.bus, self.chat, self.now, on_chat_error=chat_failed)

    @cached_property
    def access(self) -> AccountAccess:
        return AccountAccess(self.settings.member_role_name, own_account=self.own_account)

    @cached_property
    def tripper(self) -> Tripper:
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
            finops_channel=s.finops_slack_channel,
            finops_email=s.finops_email,
            now=self.now,
        )


# -- the tasks ---------------------------------------------------------------------------------


def _incident(payload: dict[str, Any]) -> RemediationIncident:
    return RemediationIncident.model_validate(payload["incident"])


def _policy(payload: dict[str, Any]) -> PolicyDecision:
    return PolicyDecision.model_validate(payload["policy"])


def task_policy(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    incident = _incident(payload)
    s = deps.settings
    since = utc_iso(deps.now() - timedelta(hours=1))
    decided = policy.decide(
        incident,
        deps.directory,
        dry_run=s.dry_run,
        max_trips_per_hour=s.max_trips_per_hour,
        trips_last_hour=deps.table.trips_since(since),
        mechanism=s.trip_mechanism,
    )
    say = {
        "approve": f"Asking {decided.approver_team} on-call to approve a {decided.action}.",
        "auto": f"Policy: {decided.action} automatically.",
        "dry-run": f"DryRun: planning a {decided.action}; nothing will be changed.",
        "notify": "Policy: notify only; no action."
        if decided.decision != "protected"
        else "This profile is protected: tokenfuse never trips it.",
    }[decided.mode]
    deps.auditor.record(
        incident,
        "policy",
        decided.action,
        decision=decided.decision,
        details={"mode": decided.mode, "team_mode": decided.team_mode, "reasons": decided.reasons},
        say=say,
    )
    return decided.to_json()


def task_request_approval(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    token = payload.get("task_token")
    if not token:
        raise InvalidTaskInput("request-approval needs the task token")
    return approvals.request_approval(_incident(payload), _policy(payload), str(token), deps.request_deps)


def task_approval_decided(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    outcome = ApprovalOutcome.model_validate(payload["approval"])
    approvals.approval_decided(_incident(payload), _policy(payload), outcome, deps.auditor)
    return outcome.to_json()


def task_approval_timed_out(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    return approvals.approval_timed_out(_incident(payload), _policy(payload), deps.request_deps).to_json()


def _trip_decision(record: TripRecord, decided: PolicyDecision, approval: dict[str, Any]) -> Decision:
    if record.dry_run:
        return "dry-run"
    by_person = approval.get("decision")
    if by_person == "approve":
        return "approve"
    if by_person in {"trip", "timeout"}:
        return "timeout"
    return decided.decision or "auto"


def task_trip(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    incident, decided = _incident(payload), _policy(payload)
    approval = payload.get("approval") or {}
    actor = str(approval.get("actor") or SYSTEM_ACTOR)
    record = deps.tripper.trip(incident, decided, actor)
    say = wording.trip_said(record)
    told: approvals.Delivery | None = None
    if not record.dry_run and not record.complete:  # a partial trip: FinOps hears it too
        told = approvals.escalate_to_finops(incident, say, deps.request_deps)
        say = f"{say} {told.sentence()}"
    # A detach waits for a person: its reply carries the Restore button.
    detached = not record.dry_run and record.restore_after is None
    blocks = restore_blocks(say, record.profile_arn) if detached else None
    deps.auditor.record(
        incident,
        "tripped",
        record.action,
        decision=_trip_decision(record, decided, approval),
        actor=actor,
        details={
            "trip": record.to_json(),
            "in_force": wording.in_force(record),
            "problems": record.problems,
            **({"told": list(told.told), "not_told": list(told.failed)} if told else {}),
        },
        say=say,
        blocks=blocks,
    )
    return record.to_json()


def task_verify(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    incident = _incident(payload)
    expect = payload.get("expect", "stopped")
    now = deps.now()
    if expect == "stopped":
        trip = TripRecord.model_validate(payload["trip"])
        split_at = trip.tripped_at
    elif expect == "still-running":
        split_at = now - timedelta(
            seconds=int(payload.get("since_seconds") or _policy(payload).snooze_seconds)
        )
    else:
        raise InvalidTaskInput(f"unknown expect {expect!r}")
    result = verify.verify(
        deps.metric_reader(incident), [incident.profile_id, incident.profile_arn], expect, now, split_at
    )
    if expect == "stopped":
        say = (
            f"Verified: token rate {result.before_tokens_per_minute:,.0f} -> "
            f"{result.after_tokens_per_minute:,.0f}/min."
            if not result.still_running
            else f":warning: Still running after the trip: {result.after_tokens_per_minute:,.0f} tokens/min."
        )
    else:
        say = (
            "Snooze over: the spike goes on, asking again."
            if result.still_running
            else "Snooze over: the spike has subsided; no action."
        )
    deps.auditor.record(incident, "verified", _policy(payload).action, details=result.to_json(), say=say)
    return result.to_json()


def _restored_said(result: RestoreResult, by: str | None = None) -> str:
    if not result.restored:
        return f"Restore: {result.note}."
    who = f" by {by}" if by else ""
    return f":white_check_mark: Restored{who}: {'; '.join(result.actions) or 'nothing was in force'}."


def task_restore(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    incident = _incident(payload)
    trip = TripRecord.model_validate(payload["trip"])
    result = deps.tripper.restore(trip.profile_arn, trip.trip_id)
    deps.auditor.record(
        incident,
        "restored",
        trip.action,
        actor=str(payload.get("actor") or SYSTEM_ACTOR),
        details=result.to_json(),
        say=_restored_said(result),
    )
    return result.to_json()


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    name = str(error.get("Error", "Error"))
    cause = error.get("Cause", "")
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            name = str(parsed.get("errorType", name))
            cause = str(parsed.get("errorMessage", cause))
    except (TypeError, ValueError):
        pass
    return f"{name}: {cause}".strip(": ")


FAILURE_KEYS = (("restore_error", "restore"), ("error", "other"), ("trip_error", "trip"))
"""Where the ASL's Catches put an error, latest first: Restore's, any other step's, Trip's."""


def _failure(state: dict[str, Any]) -> tuple[str, str] | None:
    """The step that failed last (``restore`` / ``other`` / ``trip``) and its error, if any."""
    for key, where in FAILURE_KEYS:
        if state.get(key):
            return where, _error_text(state[key])
    return None


def _active_trip(deps: Deps, profile_arn: str) -> TripRecord | None:
    stored = deps.table.get_trip(profile_arn)
    return TripRecord.model_validate(stored) if stored else None


def task_escalate(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Tell FinOps and the team what failed and exactly what is in force; returns the trip still in
    force (``trip``) and whether the state machine must still run its automatic restore
    (``restore_due``: a throttle whose trip, or part of it, is in force and whose restore has not
    failed yet). This incident's trip is settled first (its unconfirmed changes read back; a trip
    whose deny is not in force is undone), so what is said is what is in force."""
    state = payload.get("state") or payload  # the ASL passes its whole state; {incident, error} too
    incident = RemediationIncident.model_validate(state["incident"])
    decided = (state.get("decided") or {}).get("policy")
    policy_decided = PolicyDecision.model_validate(decided) if decided else None
    where, what = _failure(state) or ("other", "unknown error")
    record = _active_trip(deps, incident.profile_arn)
    other_trip = record is not None and record.incident_id != incident.incident_id
    if record is not None and not other_trip:  # read back what is unconfirmed; undo a deny-less trip
        record = deps.tripper.settle(record)
    ours = None if other_trip else record
    restore_due = ours is not None and ours.action == "throttle" and where != "restore"
    text = wording.failure_said(
        where,
        what,
        ours,
        profile=incident.profile_name or incident.profile_id,
        team=incident.team or "unknown",
        policy=policy_decided,
        restore_due=restore_due,
        other=record if other_trip else None,
    )
    told = approvals.escalate_to_finops(incident, text, deps.request_deps)
    team_told = _email_team(deps, incident, text)
    deps.auditor.record(
        incident,
        "escalated",
        "none",
        details={
            "failed_step": where,
            "error": what,
            "told": [*told.told, *team_told.told],
            "not_told": [*told.failed, *team_told.failed],
            "in_force": wording.in_force(ours) if ours else [],
            "restore_due": restore_due,
            "active_trip": ours is not None,
        },
        say=f"{text} {told.sentence()}",
    )
    return {
        "escalated_to": list(told.told),
        "error": what,
        "trip": ours.to_json() if ours else None,
        "restore_due": restore_due,
    }


def _email_team(deps: Deps, incident: RemediationIncident, text: str) -> approvals.Delivery:
    """An email-only team (no Slack thread) hears an escalation by email."""
    team = owner(deps.directory, incident.team)
    if incident.slack_channel or not (team.known and team.emails) or deps.email is None:
        return approvals.Delivery()
    try:
        deps.email.send(list(team.emails), f"[tokenfuse] needs a person: {incident.profile_id}", text)
    except TokenfuseError as error:
        return approvals.Delivery(failed=(f"team email: {' '.join(str(error).split())}",))
    return approvals.Delivery(told=("email to " + ", ".join(team.emails),))


def _outcome(record: TripRecord | None, restored: dict[str, Any], failure: tuple[str, str] | None) -> str:
    """The run's outcome in words, from what the state says happened."""
    if record is None:
        return "trip failed: nothing is in force" if failure and failure[0] == "trip" else "no action"
    if record.dry_run:
        return "dry run: planned, nothing changed"
    what = {"throttle": "throttled", "detach": "detached"}.get(record.action, record.action)
    if not record.complete:
        what = f"partly {what} ({'; '.join(record.problems) or 'not every change applied'})"
    if record.action != "throttle":
        return f"{what}, until a person restores it"
    if restored.get("restored"):
        return f"{what}, then restored after the cooldown"
    return f"{what}; restore: {restored.get('note') or 'did not run'}"


def task_audit(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    state = payload.get("state") or {}
    incident = RemediationIncident.model_validate(state["incident"])
    decided = PolicyDecision.model_validate(state["decided"]["policy"])
    approval = state.get("approval") or {}
    trip = (state.get("tripped") or {}).get("trip")
    record = TripRecord.model_validate(trip) if trip else None
    decision: str | None = decided.decision
    if approval.get("decision"):
        decision = "timeout" if approval["decision"] in {"trip", "timeout"} else approval["decision"]
    failure = _failure(state)
    outcome = _outcome(record, state.get("restored") or {}, failure)
    summary = {
        "execution": payload.get("execution"),
        "decision": decision,
        "actor": approval.get("actor"),
        "outcome": outcome,
        "trip_id": record.trip_id if record else None,
        "recheck": state.get("recheck"),
        "failed": failure is not None,
        "failed_step": failure[0] if failure else None,
    }
    said = f"Closed: {outcome} (decision: {decision})."
    if failure:
        said = f"Closed after a failure ({failure[1]}): {outcome} (decision: {decision})."
    deps.auditor.record_summary(incident, summary, say=said)
    return summary


def _incident_of(record: TripRecord, deps: Deps) -> RemediationIncident:
    """The trip's incident (with its Slack thread, from the incidents table when configured)."""
    table_name = deps.settings.incidents_table_name
    if table_name:
        from tokenfuse.adapters.incidents_table import IncidentsTable

        found = IncidentsTable(table_name).get(record.incident_id)
        if found is not None:
            return RemediationIncident.model_validate(found[0].to_bus())
    return record_incident(record)


def _still_in_force(deps: Deps, record: TripRecord) -> str:
    """What the table says is in force after a restore failed before it could say so itself."""
    try:
        left = _active_trip(deps, record.profile_arn)
    except TokenfuseError as error:
        was = "; ".join(wording.in_force(record))
        return f"Could not read what is still in force ({error}); before the restore: {was}"
    if left is None:
        return "Nothing of tokenfuse's is in force on it."
    return f"Still in force: {'; '.join(wording.in_force(left))}"


def record_incident(record: TripRecord) -> RemediationIncident:
    return RemediationIncident(
        incident_id=record.incident_id,
        profile_arn=record.profile_arn,
        profile_id=record.profile_id,
        account_id=record.account_id,
        region=record.region,
    )


def task_restore_profiles(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """``tokenfuse restore <arn>`` / ``--all``: lift active trips by hand, each audited with its actor."""
    actor = str(payload.get("actor") or SYSTEM_ACTOR)
    if payload.get("all"):
        records = deps.tripper.active_trips()
    else:
        arn = str(payload.get("profile_arn") or "")
        if not arn:
            raise InvalidTaskInput("restore-profiles needs profile_arn or all=true")
        stored = deps.table.get_trip(arn)
        if stored is None:
            return {
                "results": [{"profile_arn": arn, "restored": False, "note": "no active trip"}],
                "failed": [],
            }
        records = [TripRecord.model_validate(stored)]
    results: list[dict[str, Any]] = []
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
                say=f":warning: Restore by {actor} failed: {what}",
            )
            continue
        deps.auditor.record(
            _incident_of(record, deps),
            "restored",
            record.action,
            actor=actor,
            details=result.to_json() | {"manual": True},
            say=_restored_said(result, by=actor),
        )
        results.append(result.to_json())
    return {"results": results, "failed": failed}


TASKS: dict[str, Callable[[dict[str, Any], Deps], dict[str, Any]]] = {
    "policy": task_policy,
    "request-approval": task_request_approval,
    "approval-decided": task_approval_decided,
    "approval-timed-out": task_approval_timed_out,
    "trip": task_trip,
    "verify": task_verify,
    "restore": task_restore,
    "escalate": task_escalate,
    "audit": task_audit,
    "restore-profiles": task_restore_profiles,
}


def dispatch(payload: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Run the task the payload names and return what the state machine reads."""
    name = payload.get("task")
    task = TASKS.get(str(name))
    if task is None:
        raise InvalidTaskInput(f"unknown task {name!r}")
    try:
        return task(payload, deps)
    except (KeyError, ValidationError) as error:
        raise InvalidTaskInput(f"{name}: {error}".replace("\n", " ")) from error
