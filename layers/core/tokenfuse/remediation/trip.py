"""Trip and restore a profile; the trip record always equals what is in force in AWS.

A trip, in this order (the deny first: it is what stops the spend):

1. **deny** ``bedrock:InvokeModel`` and ``bedrock:InvokeModelWithResponseStream`` on the profile
   ARN (Converse and ConverseStream are authorized as those two): by default its ARN is added to
   the guard SCP tokenfuse owns (prior list recorded); with ``inline-deny`` a policy
   ``tokenfuse-trip-<profile id>`` on each caller role the ``tokenfuse:callers`` tag names (and on
   the execution role of each caller function) gets tokenfuse's deny statement beside whatever
   that policy held before (its previous document recorded);
2. **tag** ``tokenfuse:state=tripped`` on the profile (previous value or absence recorded);
3. **throttle only**: reserved concurrency capped on the caller functions (previous value or
   absence recorded).

A policy of ``scope: caller`` denies the profile to the offending callers' roles only (a guard SCP
statement on ``aws:PrincipalArn``, or an inline deny on each role): no tag, no cap
(:mod:`tokenfuse.remediation.caller_trip`).

**All or nothing, and the record says what is in force.** Each change is written to the record
(the approvals table) as ``pending`` before its AWS call and as ``applied`` once AWS confirmed it.
When a call fails (AccessDenied, throttling, a time-out, a lost member role), tokenfuse reads AWS
back: a change that took effect anyway is ``applied``, one that did not is dropped from the
record, one that cannot be read stays ``pending`` (and is said to be unconfirmed). Then:

- **the deny could not be applied in full** (the guard SCP update failed, or one caller role's
  policy did): the trip is undone completely (every change it applied is put back) and the error
  is raised; the record is gone, so nothing is said to be in force. A throttled or timed-out call
  raises :class:`~tokenfuse.errors.TransientAwsError`, which the state machine retries: the retry
  starts afresh. If the undo itself fails, the record keeps exactly what is still in force;
- **the deny is in force but a later step failed** (the tag, a concurrency cap): the deny is what
  stops the spend, so the trip stays as a *partial* trip: ``complete`` is false, ``problems``
  names what failed, the thread and FinOps are told, and a throttle's automatic restore still
  puts back whatever was applied.

A trip that finds a half-done record of an earlier attempt (a Lambda that timed out, a retried
invocation) settles it first (:meth:`Tripper.settle`), then carries on from it with the prior
values it recorded: nothing is applied twice, nothing recorded is lost.

**Restore** walks the record backwards and puts back exactly the prior state, only where the
current state is still what the trip set: a change someone made meanwhile survives (another ARN
or statement added to the guard SCP, a tag or concurrency changed by a person, statements a person
added to tokenfuse's inline policy: only tokenfuse's statement is removed). It reads back the
deny after removing it and never reports restored while tokenfuse's deny is still in force; when
a step fails, the record keeps exactly what is still in force and :class:`RestoreIncomplete` says
so.

In DryRun the same reads happen and the record says what *would* change; nothing is written to
AWS and the record is not stored as an active trip.
"""

import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any, Protocol

from tokenfuse import clock
from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.iam_deny import policy_name, with_deny, without_deny
from tokenfuse.adapters.profile_tags import ProfileTags
from tokenfuse.canaries import is_drill_profile
from tokenfuse.errors import TokenfuseError, TransientAwsError
from tokenfuse.remediation import caller_trip, messages
from tokenfuse.remediation.callers import NO_CALLERS, Callers, resolve_callers
from tokenfuse.remediation.changes import AccessPort, MemberPorts, is_in_force, put_back
from tokenfuse.remediation.errors import NothingToTrip, ProtectedProfile, RestoreIncomplete
from tokenfuse.remediation.models import (
    CallerTarget,
    Change,
    ConcurrencyChange,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    RolePolicyChange,
    ScpChange,
    TagChange,
    TripRecord,
    utc_iso,
)
from tokenfuse.remediation.settings import TripMechanism

Step = tuple[Callable[[str], str], Callable[[TripRecord], TripRecord], Callable[[TripRecord], bool]]
"""A step after the deny: (what a failure means, the step, whether it is in force)."""

STATE_TAG_KEY = "tokenfuse:state"
STATE_TRIPPED = "tripped"


class TripStore(Protocol):
    def put_trip(self, profile_arn: str, record: dict[str, Any]) -> None: ...
    def get_trip(self, profile_arn: str) -> dict[str, Any] | None: ...
    def delete_trip(self, profile_arn: str, trip_id: str) -> None: ...
    def list_trips(self) -> list[dict[str, Any]]: ...
    def log_trip(self, profile_arn: str, at_iso: str, now_epoch: int) -> None: ...


class Tripper:
    def __init__(
        self,
        store: TripStore,
        access: AccessPort,
        guard: Callable[[], GuardScp] | None,
        *,
        mechanism: TripMechanism,
        dry_run: bool,
        callers_tag_key: str = "tokenfuse:callers",
        protected_tag_key: str = "tokenfuse:protected",
        throttle_concurrency: int = 1,
        member_role_name: str = "tokenfuse-member",
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.store = store
        self.access = access
        self.ports = MemberPorts(access, guard)
        self.mechanism = mechanism
        self.dry_run = dry_run
        self.callers_tag_key = callers_tag_key
        self.protected_tag_key = protected_tag_key
        self.throttle_concurrency = throttle_concurrency
        self.member_role_name = member_role_name
        self.now = now
        self._written: TripRecord | None = None

    @property
    def guard(self) -> GuardScp:
        return self.ports.guard

    # -- trip ------------------------------------------------------------------------------------

    def trip(self, incident: RemediationIncident, policy: PolicyDecision, actor: str) -> TripRecord:
        """Deny the profile and record what is in force (or, in DryRun, what would be)."""
        # A drill acts even under DryRun, and only on a canary (its live tags are checked first).
        dry_run = policy.dry_run or (self.dry_run and not policy.drill)
        if incident.protected:
            raise ProtectedProfile(messages.protected(incident.profile_arn))
        resumed = None if dry_run else self._resumable(incident.profile_arn)
        if resumed is not None and resumed.complete:
            return resumed  # already tripped: one record, one restore
        problems: list[str] = []
        tags, current_tags, callers = self._preconditions(incident, policy, resumed, dry_run, problems)
        targets, refused = self._caller_targets(incident, policy, resumed, dry_run, problems)
        record = self._start(resumed, incident, policy, actor=actor, callers=callers, dry_run=dry_run)
        record = self._with_targets(record, policy, targets, refused)
        self._written = None

        try:
            record = self._deny(record, dry_run)
        except Exception as error:
            if dry_run:
                problems.append(messages.deny_not_applied(messages.error_line(error)))
            else:
                record = self._after_failed_deny(self._written or record, error)

        steps = self._after_deny(record, policy, tags, current_tags, dry_run)
        for label, step, in_force_now in steps:
            try:
                record = step(record)
            except Exception as error:
                if not dry_run:  # read back: a call that failed may have taken effect anyway
                    record = self._reconcile(self._written or record)
                if dry_run or not in_force_now(record):
                    problems.append(label(messages.error_line(error)))

        if dry_run:
            return record.model_copy(update={"complete": not problems, "problems": problems})
        record = record.model_copy(update={"problems": problems})
        record = record.model_copy(update={"complete": record.all_applied and not problems})
        self._save(record)
        at = record.tripped_at
        if not policy.drill:  # a drill's canary is outside the trips-per-hour bound
            self.store.log_trip(record.profile_arn, utc_iso(at), int(at.timestamp()))
        return record

    def _after_deny(
        self,
        record: TripRecord,
        policy: PolicyDecision,
        tags: ProfileTags,
        current_tags: dict[str, str],
        dry_run: bool,
    ) -> list[Step]:
        """The steps after the deny, each (what a failure means, the step, whether it is in force):
        the state tag and, for a throttle, the concurrency caps; none for a caller-scope trip."""
        steps: list[Step] = []
        if record.scope == "profile":
            steps.append(
                (
                    lambda line: messages.tag_not_set(STATE_TAG_KEY, line),
                    lambda r: self._tag(r, tags, current_tags, dry_run),
                    lambda r: r.tag is not None and r.tag.status == "applied",
                )
            )
        if policy.action == "throttle" and record.scope == "profile":
            steps += [
                (
                    lambda line, n=name: messages.not_capped(n, line),  # type: ignore[misc]
                    lambda r, n=name: self._cap(r, n, dry_run),  # type: ignore[misc]
                    lambda r, n=name: any(  # type: ignore[misc]
                        c.function_name == n and c.status == "applied" for c in r.concurrency
                    ),
                )
                for name in record.caller_functions
            ]
        return steps

    def _preconditions(
        self,
        incident: RemediationIncident,
        policy: PolicyDecision,
        resumed: TripRecord | None,
        dry_run: bool,
        problems: list[str],
    ) -> tuple[ProfileTags, dict[str, str], Callers]:
        """The profile's tags (is it protected?) and its callers, read before anything changes."""
        tags = self.ports.tags(incident.account_id, incident.region)
        no_tags: dict[str, str] = {}
        current_tags = self._read(lambda: tags.get(incident.profile_arn), no_tags, dry_run, problems)
        if current_tags.get(self.protected_tag_key, "").lower() == "true":
            if resumed is not None:
                self.settle(resumed, keep_deny=False)
            raise ProtectedProfile(messages.protected(incident.profile_arn, self.protected_tag_key))
        if policy.drill and not is_drill_profile(incident.profile_name, current_tags):
            raise NothingToTrip(messages.not_a_canary(incident.profile_arn))
        callers = NO_CALLERS
        if policy.scope == "profile" and (self.mechanism == "inline-deny" or policy.action == "throttle"):
            callers = self._read(lambda: self._callers(incident, current_tags), callers, dry_run, problems)
        return tags, current_tags, callers

    def _caller_targets(
        self,
        incident: RemediationIncident,
        policy: PolicyDecision,
        resumed: TripRecord | None,
        dry_run: bool,
        problems: list[str],
    ) -> tuple[list[CallerTarget], list[str]]:
        """A caller-scope trip's roles (and a line per caller refused); :class:`NothingToTrip` when
        none is left to block and no earlier attempt of this trip is in force."""
        if policy.scope != "caller":
            return [], []
        roles = self.ports.roles(incident.account_id)
        nobody: tuple[list[CallerTarget], list[str]] = ([], [])
        found, refused = self._read(
            lambda: caller_trip.targets(policy.callers, incident.account_id, roles, self.member_role_name),
            nobody,
            dry_run,
            problems,
        )
        if not found and resumed is None and not dry_run:
            raise NothingToTrip(messages.no_caller_to_block(incident.profile_arn, refused))
        return found, refused

    @staticmethod
    def _with_targets(
        record: TripRecord, policy: PolicyDecision, targets: list[CallerTarget], refused: list[str]
    ) -> TripRecord:
        """A caller-scope trip's record with its roles and what was refused (others: as it is)."""
        if policy.scope != "caller":
            return record
        known = {t.role_arn for t in record.callers}
        return record.model_copy(
            update={
                "scope": "caller",
                "callers": [*record.callers, *(t for t in targets if t.role_arn not in known)],
                "notes": list(dict.fromkeys([*record.notes, *refused])),
            }
        )

    @staticmethod
    def _read[T](read: Callable[[], T], default: T, dry_run: bool, problems: list[str]) -> T:
        """A read the trip needs before changing anything: it raises (nothing is applied yet), except
        in a dry run, which notes the problem and plans on."""
        try:
            return read()
        except TokenfuseError as error:
            if not dry_run:
                raise
            problems.append(messages.error_line(error))
            return default

    def _resumable(self, profile_arn: str) -> TripRecord | None:
        """The profile's active trip, settled: complete, partial with its deny in force, or None."""
        stored = self.store.get_trip(profile_arn)
        if stored is None:
            return None
        previous = TripRecord.model_validate(stored)
        return previous if previous.complete else self.settle(previous)

    def _start(
        self,
        resumed: TripRecord | None,
        incident: RemediationIncident,
        policy: PolicyDecision,
        *,
        actor: str,
        callers: Callers,
        dry_run: bool,
    ) -> TripRecord:
        if resumed is not None:  # carry on from it: its prior values are the real ones
            return resumed.model_copy(
                update={
                    "caller_roles": list(dict.fromkeys([*resumed.caller_roles, *callers.roles])),
                    "caller_functions": list(dict.fromkeys([*resumed.caller_functions, *callers.functions])),
                    "problems": [],
                }
            )
        at = self.now()
        return TripRecord(
            trip_id=secrets.token_hex(6),
            incident_id=incident.incident_id,
            correlation_id=incident.correlation_id,
            team=incident.team,
            profile_arn=incident.profile_arn,
            profile_id=incident.profile_id,
            account_id=incident.account_id,
            region=incident.region,
            action=policy.action,
            mechanism=self.mechanism,
            dry_run=dry_run,
            actor=actor,
            tripped_at=at,
            restore_after=at + timedelta(seconds=policy.cooldown_seconds)
            if policy.action == "throttle"
            else None,
            caller_roles=list(callers.roles),
            caller_functions=list(callers.functions),
            profile_name=incident.profile_name,
            complete=False,
        )

    def _after_failed_deny(self, record: TripRecord, error: Exception) -> TripRecord:
        """Settle after a deny call failed: carry on when the deny took effect anyway (a time-out
        after AWS applied it), else raise ``error`` once the trip is undone (or what is left of it
        recorded)."""
        try:
            settled = self.settle(record)
        except Exception as cleanup:
            raise error from cleanup
        if settled is None or not settled.deny_in_force:
            raise error
        return settled

    def _save(self, record: TripRecord, dry_run: bool = False) -> TripRecord:
        """Write the record; :attr:`_written` keeps the latest one meant for the table even when
        the step that wrote it fails afterwards (its pending change is then read back)."""
        if not dry_run:
            self._written = record
            self.store.put_trip(record.profile_arn, record.to_json())
        return record

    def _deny(self, record: TripRecord, dry_run: bool) -> TripRecord:
        if record.scope == "caller":
            return caller_trip.deny(
                record,
                dry_run,
                ports=self.ports,
                inline_only=self.mechanism == "inline-deny",
                save=self._save,
                deny_inline=self._deny_inline,
            )
        if self.mechanism == "guard-scp":
            return self._deny_by_scp(record, dry_run)
        return self._deny_inline(record, dry_run)

    def _deny_by_scp(self, record: TripRecord, dry_run: bool) -> TripRecord:
        change = record.scp
        if change is not None and change.status == "applied":
            return record
        if change is None:
            before = self.guard.arns()
            listed = record.profile_arn in before
            change = ScpChange(
                policy_id=self.guard.policy_id,
                arns_before=before,
                added=not listed,
                status="applied" if listed else "pending",
            )
            record = self._save(record.with_change(change), dry_run)
            if listed or dry_run:
                return record
        _, added = self.guard.add(record.profile_arn)  # reads the ARN back before returning
        # a pending change was ours (an earlier attempt may have listed it): it stays ours
        change = change.model_copy(update={"status": "applied", "added": change.added or added})
        return self._save(record.with_change(change))

    def _deny_inline(self, record: TripRecord, dry_run: bool) -> TripRecord:
        if not record.caller_roles:
            raise NothingToTrip(messages.no_caller_roles(record.profile_arn, self.callers_tag_key))
        roles = self.ports.roles(record.account_id)
        name = policy_name(record.profile_id)
        for role in record.caller_roles:
            change = next((c for c in record.role_policies if c.role_name == role), None)
            if change is not None and change.status == "applied":
                continue
            current = roles.get(role, name)
            if change is None:
                change = RolePolicyChange(
                    account_id=record.account_id,
                    role_name=role,
                    policy_name=name,
                    # a deny left by a trip whose record is gone is not part of the prior state
                    previous_document=without_deny(current) if current is not None else None,
                )
                record = self._save(record.with_change(change), dry_run)
            if not dry_run:
                try:
                    roles.put(role, name, with_deny(current, record.profile_arn))
                except Exception:
                    if not self._is_in_force_now(record, change):  # failed, and did not take effect
                        raise
                record = self._save(record.with_change(change.applied()))
        return record

    def _tag(
        self, record: TripRecord, tags: ProfileTags, current: dict[str, str], dry_run: bool
    ) -> TripRecord:
        change = record.tag
        if change is not None and change.status == "applied":
            return record
        if change is None:
            change = TagChange(key=STATE_TAG_KEY, previous=current.get(STATE_TAG_KEY), set_to=STATE_TRIPPED)
            record = self._save(record.with_change(change), dry_run)
        if dry_run:
            return record
        tags.set(record.profile_arn, STATE_TAG_KEY, STATE_TRIPPED)
        return self._save(record.with_change(change.applied()))

    def _cap(self, record: TripRecord, name: str, dry_run: bool) -> TripRecord:
        change = next((c for c in record.concurrency if c.function_name == name), None)
        if change is not None and change.status == "applied":
            return record
        functions = self.ports.functions(record.account_id, record.region)
        if change is None:
            previous = functions.get(name)
            cap = self.throttle_concurrency if previous is None else min(previous, self.throttle_concurrency)
            change = ConcurrencyChange(
                account_id=record.account_id,
                region=record.region,
                function_name=name,
                previous=previous,
                set_to=cap,
            )
            record = self._save(record.with_change(change), dry_run)
        if dry_run:
            return record
        functions.put(name, change.set_to)
        return self._save(record.with_change(change.applied()))

    def _callers(self, incident: RemediationIncident, tags: dict[str, str]) -> Callers:
        """The roles and functions the profile's callers tag names."""

        def parameter(name: str) -> str:
            ssm = self.access.ssm(incident.account_id, incident.region)
            with aws_call("ssm:GetParameter", resource=f"callers parameter {name}"):
                return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])

        return resolve_callers(
            tags.get(self.callers_tag_key),
            roles=self.ports.roles(incident.account_id),
            functions=self.ports.functions(incident.account_id, incident.region),
            parameter=parameter,
            with_function_roles=self.mechanism == "inline-deny",
        )

    # -- settling a half-done trip ---------------------------------------------------------------

    def settle(self, record: TripRecord, *, keep_deny: bool = True) -> TripRecord | None:
        """Make the stored record equal what is in force, and the trip all or nothing.

        Each pending change is read back (in force: applied; not: dropped; unreadable: left
        pending); an applied one was confirmed by AWS and is not second-guessed by a read that IAM's
        eventual consistency may serve stale. A trip whose deny is in force stays (a partial trip:
        ``keep_deny``); any other is undone. Returns what is left in force, or None when nothing is
        (the record is then deleted).
        """
        record = self._reconcile(record)
        if keep_deny and record.deny_in_force:
            complete = record.all_applied and not record.problems
            return self._save(record.model_copy(update={"complete": complete}))
        remaining, _, failures = self._undo(record)
        if remaining is None:
            self.store.delete_trip(record.profile_arn, record.trip_id)
            return None
        problems = [*remaining.problems, *(messages.undo_failed(line) for line, _ in failures)]
        return self._save(remaining.model_copy(update={"complete": False, "problems": problems}))

    def _reconcile(self, record: TripRecord) -> TripRecord:
        """Read back each pending change: applied if AWS has it in force, dropped if not, left
        pending if it cannot be read."""
        for change in record.changes:
            if change.status != "pending":
                continue
            try:
                now_in_force = self._is_in_force(record, change)
            except Exception:  # noqa: S112 - unreadable now: it stays pending, said to be unconfirmed
                continue
            record = record.with_change(change.applied()) if now_in_force else record.without_change(change)
        return record

    def _is_in_force(self, record: TripRecord, change: Change) -> bool:
        return is_in_force(record, change, self.ports)

    # -- restore ---------------------------------------------------------------------------------

    def restore(self, profile_arn: str, trip_id: str | None = None) -> RestoreResult:
        """Put back the recorded prior state of the profile's active trip (``trip_id``: only that one)."""
        stored = self.store.get_trip(profile_arn)
        if stored is None:
            return RestoreResult(
                profile_arn=profile_arn, trip_id=trip_id, restored=False, note=messages.NO_ACTIVE_TRIP
            )
        record = TripRecord.model_validate(stored)
        if trip_id and record.trip_id != trip_id:
            return RestoreResult(
                profile_arn=profile_arn,
                trip_id=trip_id,
                restored=False,
                note=messages.other_trip_active(record.trip_id, trip_id),
            )
        remaining, actions, failures = self._undo(record)
        if remaining is not None:
            lines = [line for line, _ in failures]
            self._save(remaining.model_copy(update={"complete": False, "problems": lines}))
            message = messages.restore_incomplete(lines, remaining, actions)
            if all(isinstance(error, TransientAwsError) for _, error in failures):
                raise TransientAwsError(message)  # the state machine retries: the rest is put back
            raise RestoreIncomplete(message)
        try:
            self.store.delete_trip(profile_arn, record.trip_id)
        except Exception:
            # everything is put back but the record could not go: leave it saying nothing is in force
            emptied = record.model_copy(update={"complete": False})
            for change in record.changes:
                emptied = emptied.without_change(change)
            with suppress(Exception):
                self._save(emptied)
            raise
        return RestoreResult(
            profile_arn=profile_arn,
            trip_id=record.trip_id,
            restored=True,
            note=messages.PRIOR_STATE_PUT_BACK,
            actions=actions,
        )

    def restore_all(self) -> list[RestoreResult]:
        """Lift every active trip; raises :class:`RestoreIncomplete` at the end if any failed."""
        results: list[RestoreResult] = []
        failures: list[str] = []
        for stored in self.store.list_trips():
            try:
                results.append(self.restore(stored["profile_arn"], stored["trip_id"]))
            except TokenfuseError as error:
                failures.append(f"{stored['profile_arn']}: {error}")
        if failures:
            raise RestoreIncomplete("; ".join(failures))
        return results

    def active_trips(self) -> list[TripRecord]:
        return [TripRecord.model_validate(item) for item in self.store.list_trips()]

    def _undo(self, record: TripRecord) -> tuple[TripRecord | None, list[str], list[tuple[str, Exception]]]:
        """Put back each change, last first. Returns what is still in force (None: nothing), what
        was put back, and what failed (one line and the error each)."""
        remaining = record
        actions: list[str] = []
        failures: list[tuple[str, Exception]] = []
        for change in reversed(record.changes):
            try:
                actions.append(put_back(record, change, self.ports))
            except Exception as error:
                if self._gone(record, change):  # the call failed, yet it took effect (read back)
                    actions.append(messages.gone_after_failure(change))
                else:
                    failures.append((messages.put_back_failed(change, messages.error_line(error)), error))
                    continue
            remaining = remaining.without_change(change)
        return (remaining if remaining.changes else None), actions, failures

    def _gone(self, record: TripRecord, change: Change) -> bool:
        """True when AWS shows ``change`` no longer in force; False when it is, or cannot be read."""
        try:
            return not self._is_in_force(record, change)
        except Exception:
            return False

    def _is_in_force_now(self, record: TripRecord, change: Change) -> bool:
        """True when AWS shows ``change`` in force; False when it is not, or cannot be read."""
        try:
            return self._is_in_force(record, change)
        except Exception:
            return False
