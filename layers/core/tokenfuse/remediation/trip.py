"""Trip and restore a profile, recording the prior state of everything a trip changes.

A trip, in this order (the deny first: it is what stops the spend):

1. **deny** ``bedrock:InvokeModel*`` / ``bedrock:Converse*`` on the profile ARN: by default its ARN
   is added to the guard SCP tokenfuse owns (prior list recorded); with ``inline-deny`` a policy
   ``tokenfuse-trip-<profile id>`` goes on each caller role the ``tokenfuse:callers`` tag names
   (and on the execution role of each caller function), each role's previous document recorded;
2. **tag** ``tokenfuse:state=tripped`` on the profile (previous value or absence recorded);
3. **throttle only**: reserved concurrency capped on the caller functions (previous value or
   absence recorded).

The record is saved in the approvals table *before* each change, so a trip that stops half-way
(AccessDenied, throttling) still leaves a record restore can use. Restore walks it backwards and
puts back exactly the prior state, and only where the current state is still what the trip set:
a change someone made meanwhile survives (another ARN added to the SCP, a tag or concurrency
changed by a person, a role policy edited).

In DryRun the same reads happen and the record says what *would* change; nothing is written to
AWS and the record is not stored as an active trip.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tokenfuse import clock
from tokenfuse.adapters.guard_scp import GuardScp
from tokenfuse.adapters.iam_deny import InlineDeny, deny_document, policy_name
from tokenfuse.adapters.lambda_concurrency import LambdaConcurrency
from tokenfuse.adapters.profile_tags import ProfileTags
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation.errors import NothingToTrip, ProtectedProfile, RestoreIncomplete
from tokenfuse.remediation.models import (
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

STATE_TAG_KEY = "tokenfuse:state"
STATE_TRIPPED = "tripped"


class TripStore(Protocol):
    def put_trip(self, profile_arn: str, record: dict[str, Any]) -> None: ...
    def get_trip(self, profile_arn: str) -> dict[str, Any] | None: ...
    def delete_trip(self, profile_arn: str, trip_id: str) -> None: ...
    def list_trips(self) -> list[dict[str, Any]]: ...
    def log_trip(self, profile_arn: str, at_iso: str, now_epoch: int) -> None: ...


class AccessPort(Protocol):
    def tags(self, account_id: str, region: str) -> ProfileTags: ...
    def roles(self, account_id: str) -> InlineDeny: ...
    def functions(self, account_id: str, region: str) -> LambdaConcurrency: ...
    def ssm(self, account_id: str, region: str) -> Any: ...


@dataclass(frozen=True)
class Callers:
    roles: tuple[str, ...]
    functions: tuple[str, ...]


def parse_callers(value: str | None) -> list[str]:
    """Caller names from the tag (or the SSM parameter it points to). Bedrock tag values allow no
    comma (``[a-zA-Z0-9\\s._:/=+@-]``), so spaces separate names as well as commas."""
    return [part for part in re.split(r"[,\s]+", value or "") if part]


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
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.store = store
        self.access = access
        self._guard_factory = guard
        self._guard: GuardScp | None = None
        self.mechanism = mechanism
        self.dry_run = dry_run
        self.callers_tag_key = callers_tag_key
        self.protected_tag_key = protected_tag_key
        self.throttle_concurrency = throttle_concurrency
        self.now = now

    @property
    def guard(self) -> GuardScp:
        if self._guard is None:
            if self._guard_factory is None:
                raise TokenfuseError("no guard SCP configured (GUARD_POLICY_ID)")
            self._guard = self._guard_factory()
        return self._guard

    # -- trip ------------------------------------------------------------------------------------

    def trip(self, incident: RemediationIncident, policy: PolicyDecision, actor: str) -> TripRecord:
        """Deny the profile and record what changed (or, in DryRun, what would)."""
        dry_run = self.dry_run or policy.dry_run
        if incident.protected:
            raise ProtectedProfile(f"{incident.profile_arn} is tagged protected: tokenfuse never trips it")
        if not dry_run:
            existing = self.store.get_trip(incident.profile_arn)
            if existing is not None:
                previous = TripRecord.model_validate(existing)
                if previous.complete:
                    return previous  # already tripped: one record, one restore
                self.restore(previous.profile_arn, previous.trip_id)  # a half-done trip (retried): undo, redo
        at = self.now()
        record = TripRecord(
            trip_id=secrets.token_hex(6),
            incident_id=incident.incident_id,
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
            complete=False,
        )
        problems: list[str] = []

        def step(fn: Callable[[], TripRecord]) -> None:
            nonlocal record
            try:
                record = fn()
            except TokenfuseError as error:
                if not dry_run:
                    raise
                problems.append(f"{type(error).__name__}: {error}")

        tags = self.access.tags(incident.account_id, incident.region)
        current_tags: dict[str, str] = {}
        try:
            current_tags = tags.get(incident.profile_arn)
        except TokenfuseError as error:
            if not dry_run:
                raise
            problems.append(f"{type(error).__name__}: {error}")
        if current_tags.get(self.protected_tag_key, "").lower() == "true":
            raise ProtectedProfile(f"{incident.profile_arn} is tagged {self.protected_tag_key}=true")

        if self.mechanism == "guard-scp":
            step(lambda: self._deny_by_scp(record, dry_run))
        callers: Callers | None = None
        if self.mechanism == "inline-deny" or policy.action == "throttle":
            callers = self._callers(incident, current_tags)
        if self.mechanism == "inline-deny":
            assert callers is not None
            step(lambda: self._deny_inline(record, callers, dry_run))
        step(lambda: self._tag(record, tags, current_tags, dry_run))
        if policy.action == "throttle":
            assert callers is not None
            step(lambda: self._cap(record, callers, dry_run))

        record = record.model_copy(update={"complete": True, "problems": problems})
        if not dry_run:
            self.store.put_trip(record.profile_arn, record.to_json())
            self.store.log_trip(record.profile_arn, utc_iso(at), int(at.timestamp()))
        return record

    def _save(self, record: TripRecord, dry_run: bool) -> None:
        if not dry_run:
            self.store.put_trip(record.profile_arn, record.to_json())

    def _deny_by_scp(self, record: TripRecord, dry_run: bool) -> TripRecord:
        before = self.guard.arns()
        change = ScpChange(
            policy_id=self.guard.policy_id, arns_before=before, added=record.profile_arn not in before
        )
        record = record.model_copy(update={"scp": change})
        self._save(record, dry_run)
        if change.added and not dry_run:
            self.guard.add(record.profile_arn)
        return record

    def _deny_inline(self, record: TripRecord, callers: Callers, dry_run: bool) -> TripRecord:
        if not callers.roles:
            raise NothingToTrip(
                f"{record.profile_arn} names no caller roles in {self.callers_tag_key}: "
                "inline-deny has nothing to deny"
            )
        roles = self.access.roles(record.account_id)
        name = policy_name(record.profile_id)
        document = deny_document(record.profile_arn)
        for role in callers.roles:
            change = RolePolicyChange(
                account_id=record.account_id,
                role_name=role,
                policy_name=name,
                previous_document=roles.get(role, name),
            )
            record = record.model_copy(update={"role_policies": [*record.role_policies, change]})
            self._save(record, dry_run)
            if not dry_run:
                roles.put(role, name, document)
        return record

    def _tag(
        self, record: TripRecord, tags: ProfileTags, current: dict[str, str], dry_run: bool
    ) -> TripRecord:
        change = TagChange(key=STATE_TAG_KEY, previous=current.get(STATE_TAG_KEY), set_to=STATE_TRIPPED)
        record = record.model_copy(update={"tag": change})
        self._save(record, dry_run)
        if not dry_run:
            tags.set(record.profile_arn, STATE_TAG_KEY, STATE_TRIPPED)
        return record

    def _cap(self, record: TripRecord, callers: Callers, dry_run: bool) -> TripRecord:
        functions = self.access.functions(record.account_id, record.region)
        for name in callers.functions:
            previous = functions.get(name)
            cap = self.throttle_concurrency if previous is None else min(previous, self.throttle_concurrency)
            change = ConcurrencyChange(
                account_id=record.account_id,
                region=record.region,
                function_name=name,
                previous=previous,
                set_to=cap,
            )
            record = record.model_copy(update={"concurrency": [*record.concurrency, change]})
            self._save(record, dry_run)
            if not dry_run:
                functions.put(name, cap)
        return record

    def _callers(self, incident: RemediationIncident, tags: dict[str, str]) -> Callers:
        """Roles and functions the callers tag names: ``role/x``, ``function:x``, ARNs, bare names
        (looked up as both), or ``ssm:<parameter>`` / ``/<parameter>`` holding the same list."""
        entries = parse_callers(tags.get(self.callers_tag_key))
        expanded: list[str] = []
        for entry in entries:
            if entry.startswith(("ssm:", "/")):
                parameter = entry.removeprefix("ssm:")
                ssm = self.access.ssm(incident.account_id, incident.region)
                value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
                expanded.extend(parse_callers(value))
            else:
                expanded.append(entry)
        roles: list[str] = []
        functions: list[str] = []
        iam = self.access.roles(incident.account_id)
        lam = self.access.functions(incident.account_id, incident.region)
        for entry in expanded:
            if entry.startswith("role/") or ":role/" in entry:
                roles.append(entry.rsplit("/", 1)[-1])
            elif entry.startswith("function:") or ":function:" in entry:
                functions.append(entry.split("function:", 1)[1].split(":", 1)[0])
            else:
                if iam.role_exists(entry):
                    roles.append(entry)
                if lam.exists(entry):
                    functions.append(entry)
        if self.mechanism == "inline-deny":
            for function in functions:
                role = lam.role_name(function)
                if role and role not in roles:
                    roles.append(role)
        return Callers(roles=tuple(dict.fromkeys(roles)), functions=tuple(dict.fromkeys(functions)))

    # -- restore ---------------------------------------------------------------------------------

    def restore(self, profile_arn: str, trip_id: str | None = None) -> RestoreResult:
        """Put back the recorded prior state of the profile's active trip (``trip_id``: only that one)."""
        stored = self.store.get_trip(profile_arn)
        if stored is None:
            return RestoreResult(
                profile_arn=profile_arn, trip_id=trip_id, restored=False, note="no active trip"
            )
        record = TripRecord.model_validate(stored)
        if trip_id and record.trip_id != trip_id:
            return RestoreResult(
                profile_arn=profile_arn,
                trip_id=trip_id,
                restored=False,
                note=f"the active trip is {record.trip_id}, not {trip_id}: left in place",
            )
        actions: list[str] = []
        failures: list[str] = []

        def attempt(label: str, fn: Callable[[], str]) -> None:
            try:
                actions.append(fn())
            except TokenfuseError as error:
                failures.append(f"{label}: {type(error).__name__}: {error}")

        if record.concurrency:
            functions = self.access.functions(record.account_id, record.region)
            for change in reversed(record.concurrency):
                attempt(change.function_name, lambda c=change: self._restore_concurrency(functions, c))  # type: ignore[misc]
        if record.tag is not None:
            tags = self.access.tags(record.account_id, record.region)
            tag = record.tag
            attempt("tag", lambda: self._restore_tag(tags, record.profile_arn, tag))
        if record.role_policies:
            roles = self.access.roles(record.account_id)
            for rp in reversed(record.role_policies):
                attempt(rp.role_name, lambda c=rp: self._restore_role_policy(roles, record.profile_arn, c))  # type: ignore[misc]
        if record.scp is not None and record.scp.added:
            attempt("guard SCP", lambda: self._restore_scp(record.profile_arn))
        if failures:
            raise RestoreIncomplete("; ".join(failures) + f" (restored: {'; '.join(actions) or 'nothing'})")
        self.store.delete_trip(profile_arn, record.trip_id)
        return RestoreResult(
            profile_arn=profile_arn,
            trip_id=record.trip_id,
            restored=True,
            note="prior state put back",
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

    def _restore_concurrency(self, functions: LambdaConcurrency, change: ConcurrencyChange) -> str:
        current = functions.get(change.function_name)
        if current != change.set_to:
            return f"{change.function_name}: concurrency is {current} (changed since the trip), left"
        if change.previous is None:
            functions.delete(change.function_name)
            return f"{change.function_name}: reserved concurrency removed (none before)"
        functions.put(change.function_name, change.previous)
        return f"{change.function_name}: reserved concurrency back to {change.previous}"

    def _restore_tag(self, tags: ProfileTags, arn: str, change: TagChange) -> str:
        current = tags.get(arn).get(change.key)
        if current != change.set_to:
            return f"tag {change.key} is {current!r} (changed since the trip), left"
        if change.previous is None:
            tags.remove(arn, change.key)
            return f"tag {change.key} removed (absent before)"
        tags.set(arn, change.key, change.previous)
        return f"tag {change.key} back to {change.previous!r}"

    def _restore_role_policy(self, roles: InlineDeny, arn: str, change: RolePolicyChange) -> str:
        current = roles.get(change.role_name, change.policy_name)
        if current is None:
            return f"{change.role_name}: {change.policy_name} already gone"
        if current != deny_document(arn):
            return f"{change.role_name}: {change.policy_name} edited since the trip, left"
        if change.previous_document is None:
            roles.delete(change.role_name, change.policy_name)
            return f"{change.role_name}: {change.policy_name} deleted"
        roles.put(change.role_name, change.policy_name, change.previous_document)
        return f"{change.role_name}: {change.policy_name} back to its previous document"

    def _restore_scp(self, arn: str) -> str:
        removed = self.guard.remove(arn)
        return "guard SCP: ARN removed" if removed else "guard SCP: ARN no longer listed"
