"""The fire drill: prove in the organization itself that the breaker trips, and that it lets go.

Each step is a named check with what it saw (``report.Check``), in this order:

``leftovers``
    canaries an interrupted drill left behind (older than any drill runs) are restored and deleted
    first, so a drill cut short never stays blocked or behind for long;
``account``
    the drill's account is not the organization's management account (no SCP applies there);
``canary``
    two application inference profiles on the cheapest text model the price table knows, tagged
    ``tokenfuse:drill=true`` (never a team's profile): the canary, and the tag canary that also
    carries ``tokenfuse:drill-deny=true``;
``first-call``
    one minimal request (a one-word prompt, one output token) goes through; its cost is priced from
    the tokens AWS reports;
``metric``
    its ``AWS/Bedrock`` datapoint arrives (up to 10 minutes): which ``ModelId`` form it carries
    (profile id, ARN, both), and whether the model's own series moved too;
``invocation-log``
    its model invocation log record arrives, and what its ``modelId`` is;
``trip``
    the deployed remediation state machine is started with a drill incident (so the functions' own
    IAM is what is proven); the trip record it writes has the deny in force;
``denied``
    a call is refused (AccessDeniedException) within 5 minutes: ``seconds_to_deny`` from the trip;
``tag-guard``
    the tag canary, listed nowhere, is refused by the guard's tag-conditioned statement (guard-scp
    mechanism only);
``restore`` / ``restored``
    the deployed RemediateFunction lifts the trip, and a call goes through again within 5 minutes;
``delete``
    both canaries are deleted.

Whatever happens (a failed step, an exception), the drill restores what it tripped and deletes what
it created before it returns; what it could not is said in a ``cleanup`` check, and the next drill,
``tokenfuse restore --all`` or deleting the stack lifts it.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tokenfuse.attribution.pricing import PriceTable, load_prices
from tokenfuse.drill.canary import TAG_GUARD_SID, TAG_GUARD_TAG_KEY, canary_name, canary_tags, is_left_behind
from tokenfuse.drill.model import DRILL_MAX_OUTPUT_TOKENS, DRILL_PROMPT, DrillModel, cheapest_text_model
from tokenfuse.drill.ports import (
    CallOutcome,
    Canary,
    CanaryPort,
    Clock,
    InvocationLogPort,
    ManagementAccountPort,
    MetricsPort,
    RemediationPort,
)
from tokenfuse.drill.report import Check, DrillReport, ModelIdForm, error_said
from tokenfuse.remediation.models import TripRecord

CHECKS = (
    "leftovers", "account", "canary", "first-call", "metric", "invocation-log", "trip", "denied",
    "tag-guard", "restore", "restored", "delete",
)  # fmt: skip
"""Every check of a drill, in order (``tag-guard`` only with the guard-scp mechanism)."""

GATES = frozenset({"account", "canary", "first-call"})
"""A failed gate ends the steps: without a canary that answers, nothing after can be proven."""
ACTOR = "tokenfuse-drill"
FAST_POLL_SECONDS = 1.0
FAST_POLL_FOR = 30.0
SLOW_POLL_SECONDS = 5.0
METRIC_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class DrillConfig:
    account_id: str
    region: str
    run_id: str
    trip_mechanism: str = "guard-scp"
    caller_role: str | None = None
    """The role the drill calls Bedrock as (tagged as the canaries' caller for inline-deny)."""
    callers_tag_key: str = "tokenfuse:callers"
    team_tag_key: str = "team"
    partition: str = "aws"
    metric_wait_seconds: float = 600
    log_wait_seconds: float = 300
    trip_wait_seconds: float = 180
    deny_wait_seconds: float = 300
    allow_wait_seconds: float = 300
    deadline: datetime | None = None
    """When the drill must be done (a Lambda's end): every wait stops in time for the cleanup."""
    cleanup_reserve_seconds: float = 90


@dataclass
class DrillPorts:
    clock: Clock
    canaries: CanaryPort
    metrics: MetricsPort
    logs: InvocationLogPort
    remediation: RemediationPort
    organization: ManagementAccountPort | None = None
    prices: PriceTable | None = None


def _usd(value: float) -> str:
    return f"${value:.8f}"


@dataclass
class _State:
    checks: dict[str, Check] = field(default_factory=dict)
    model: DrillModel | None = None
    canary: Canary | None = None
    tag_canary: Canary | None = None
    first: CallOutcome | None = None
    trip: TripRecord | None = None
    trip_attempted: bool = False
    restored: bool = False
    deleted: bool = False
    cost_usd: float = 0.0
    model_id_form: ModelIdForm | None = None
    denied_confirmed: bool | None = None
    restored_confirmed: bool | None = None
    seconds_to_deny: float | None = None


class Drill:
    def __init__(self, ports: DrillPorts, config: DrillConfig) -> None:
        self.ports = ports
        self.config = config
        self.clock = ports.clock
        self.state = _State()

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> DrillReport:
        try:
            for step in self._steps():
                step()
                if any(not check.passed for name, check in self.state.checks.items() if name in GATES):
                    break  # no canary, or one that does not answer: nothing after can be proven
        except Exception as error:  # a step's port failed in a way the step did not expect
            self._record(Check.failed(self._current_step(), f"the drill stopped: {error_said(error)}"))
        finally:
            self._finish()
        return self._report()

    def _steps(self) -> Iterator[Callable[[], bool]]:
        """The steps up to ``restored``, each recording its check (the restore and the delete
        happen whatever happened: :meth:`_finish`)."""
        yield self._leftovers
        yield self._account
        yield self._create
        yield self._first_call
        yield self._metric
        yield self._invocation_log
        yield self._trip
        yield self._denied
        if self.config.trip_mechanism == "guard-scp":
            yield self._tag_guard
        yield self._restore
        yield self._restored

    def _current_step(self) -> str:
        return next((name for name in self._names() if name not in self.state.checks), "drill")

    def _names(self) -> list[str]:
        skip = set() if self.config.trip_mechanism == "guard-scp" else {"tag-guard"}
        return [name for name in CHECKS if name not in skip]

    def _record(self, check: Check) -> bool:
        self.state.checks[check.name] = check
        return check.passed

    def _report(self) -> DrillReport:
        checks = list(self.state.checks.values())
        stopped = next((c.name for c in checks if not c.passed), None)
        for name in self._names():  # what never ran is named, so no check reads as proven
            if name not in self.state.checks:
                checks.append(Check.failed(name, f"not run: {stopped or 'the drill'} failed first"))
        extra = [c for c in checks if c.name not in self._names()]
        ordered = [next(c for c in checks if c.name == name) for name in self._names()] + extra
        s = self.state
        return DrillReport(
            passed=all(c.passed for c in ordered),
            checks=ordered,
            model_id_form=s.model_id_form,
            denied_confirmed=s.denied_confirmed,
            restored_confirmed=s.restored_confirmed,
            seconds_to_deny=s.seconds_to_deny,
            cost_usd=round(s.cost_usd, 10) if s.first is not None else None,
        )

    # -- time ------------------------------------------------------------------------------------

    def _budget(self, wanted: float) -> float:
        """Seconds a wait may take: ``wanted``, or less so that the cleanup fits before the deadline."""
        if self.config.deadline is None:
            return wanted
        left = (self.config.deadline - self.clock.now()).total_seconds() - self.config.cleanup_reserve_seconds
        return max(0.0, min(wanted, left))

    def _poll[T](
        self, attempt: Callable[[], T | None], wanted: float, interval: Callable[[float], float]
    ) -> tuple[T | None, float, bool]:
        """Call ``attempt`` until it returns something or the wait is over: (what it returned, seconds
        waited, whether the deadline cut the wait short)."""
        budget = self._budget(wanted)
        start = self.clock.now()
        while True:
            found = attempt()
            waited = (self.clock.now() - start).total_seconds()
            if found is not None:
                return found, waited, False
            if waited >= budget:
                return None, waited, budget < wanted
            self.clock.sleep(min(interval(waited), max(0.1, budget - waited)))

    @staticmethod
    def _deny_interval(waited: float) -> float:
        return FAST_POLL_SECONDS if waited < FAST_POLL_FOR else SLOW_POLL_SECONDS

    def _call(self, canary: Canary) -> CallOutcome:
        outcome = self.ports.canaries.call(canary, DRILL_PROMPT, DRILL_MAX_OUTPUT_TOKENS)
        if outcome.ok and self.state.model is not None:
            self.state.cost_usd += self.state.model.cost(outcome.input_tokens, outcome.output_tokens)
        return outcome

    # -- the steps -------------------------------------------------------------------------------

    def _leftovers(self) -> bool:
        now = self.clock.now()
        found = self.ports.canaries.canaries()
        left = [
            c for c in found if is_left_behind(c.name, c.tags, c.created_at, now, self.config.team_tag_key)
        ]
        young = len([c for c in found if c not in left and c.name.startswith("tokenfuse-drill-")])
        problems: list[str] = []
        for canary in left:
            problems += lift_and_delete(self.ports, canary)
        said = (
            f"cleaned {len(left)} canary(ies) an interrupted drill left: {', '.join(c.name for c in left)}"
            if left
            else "no canary left behind"
        )
        if young:
            said += f"; {young} canary(ies) of a drill still running left alone"
        if problems:
            self._record(
                Check.failed(
                    "leftovers",
                    f"{said}, but: {'; '.join(problems)}",
                    "tokenfuse restore --all, then delete the tokenfuse-drill-* profiles",
                )
            )
            return False
        return self._record(Check.ok("leftovers", said))

    def _account(self) -> bool:
        account = self.config.account_id
        if self.ports.organization is None:
            return self._record(
                Check.ok("account", f"{account} {self.config.region} (organization not read)")
            )
        try:
            management = self.ports.organization.management_account()
        except Exception as error:
            return self._record(
                Check.ok(
                    "account",
                    f"{account} {self.config.region}; the organization is not readable here "
                    f"({error_said(error)}): if this is the management account, no SCP can deny in it "
                    "(the denied check tells)",
                )
            )
        if management == account and self.config.trip_mechanism == "guard-scp":
            return self._record(
                Check.failed(
                    "account",
                    f"{account} is the organization's management account: SCPs never apply there, so "
                    "the guard cannot deny the canary",
                    "run the drill in a member account (tokenfuse drill --account, stack parameter "
                    "DrillAccountId)",
                )
            )
        where = "no organization" if management is None else f"a member of {management}'s organization"
        return self._record(Check.ok("account", f"{account} {self.config.region}: {where}"))

    def _create(self) -> bool:
        config = self.config
        try:
            model = cheapest_text_model(self.ports.prices or load_prices(), config.region)
        except Exception as error:
            return self._record(Check.failed("canary", error_said(error), "add the region to prices.json"))
        self.state.model = model
        arn = model.model_arn(config.region, config.partition)
        tags = canary_tags(config.caller_role, callers_tag_key=config.callers_tag_key)
        try:
            self.state.canary = self.ports.canaries.create(canary_name(config.run_id), arn, tags)
            guard_tags = canary_tags(
                config.caller_role, tag_guard=True, callers_tag_key=config.callers_tag_key
            )
            if config.trip_mechanism == "guard-scp":
                name = canary_name(config.run_id, tag_guard=True)
                self.state.tag_canary = self.ports.canaries.create(name, arn, guard_tags)
        except Exception as error:
            return self._record(
                Check.failed(
                    "canary",
                    f"could not create the canary on {model.model_id}: {error_said(error)}",
                    "grant the drill's role bedrock:CreateInferenceProfile and bedrock:TagResource on "
                    "application-inference-profile/* with aws:RequestTag/tokenfuse:drill = true (README)",
                )
            )
        names = ", ".join(c.name for c in (self.state.canary, self.state.tag_canary) if c)
        rates = model.rates
        return self._record(
            Check.ok(
                "canary",
                f"{names} on {model.model_id} ({model.name}, the cheapest text model priced in "
                f"{config.region}: ${rates.input:g} in / ${rates.output:g} out per million tokens); "
                f"canary {self.state.canary.arn}",
            )
        )

    def _first_call(self) -> bool:
        canary = self._canary()
        outcome = self._call(canary)
        self.state.first = outcome
        if outcome.ok:
            cost = (
                self.state.model.cost(outcome.input_tokens, outcome.output_tokens) if self.state.model else 0
            )
            return self._record(
                Check.ok(
                    "first-call",
                    f"went through: {outcome.input_tokens} input + {outcome.output_tokens} output tokens = "
                    f"{_usd(cost)} (request {outcome.request_id})",
                )
            )
        if outcome.denied:
            return self._record(
                Check.failed(
                    "first-call",
                    f"refused before any trip: {outcome.error}",
                    "something else denies invocation of the canaries (an SCP or the drill role's policy): "
                    "the drill cannot tell a trip's deny from it",
                )
            )
        return self._record(
            Check.failed(
                "first-call",
                f"failed: {outcome.error}",
                f"check model access to {self.state.model.model_id if self.state.model else 'the model'} "
                f"in {self.config.region} and the drill role's bedrock:InvokeModel on canaries",
            )
        )

    def _canary(self) -> Canary:
        if self.state.canary is None:
            raise RuntimeError("no canary")
        return self.state.canary

    def _metric(self) -> bool:
        canary, first = self._canary(), self.state.first
        assert first is not None
        model_id = self.state.model.model_id if self.state.model else ""
        forms = [canary.profile_id, canary.arn, model_id]
        start = first.at - timedelta(minutes=5)

        def arrived() -> dict[str, float] | None:
            sums = self.ports.metrics.invocations(forms, start, self.clock.now() + timedelta(minutes=1))
            return sums if sums.get(canary.profile_id, 0) > 0 or sums.get(canary.arn, 0) > 0 else None

        sums, waited, cut = self._poll(
            arrived, self.config.metric_wait_seconds, lambda _: METRIC_POLL_SECONDS
        )
        if sums is None:
            why = (
                "the function's time ran out" if cut else f"{self.config.metric_wait_seconds / 60:g} minutes"
            )
            self._record(
                Check.failed(
                    "metric",
                    f"no AWS/Bedrock datapoint for the canary under ModelId {canary.profile_id} or its ARN "
                    f"after {waited:.0f} s ({why}): tokenfuse's token-rate alarms watch ModelId = the "
                    "profile id, so they would never fire",
                    "check that CloudWatch receives AWS/Bedrock metrics in this account and region (the "
                    "console's Bedrock metrics), then drill again",
                )
            )
            return False
        by_id, by_arn = sums.get(canary.profile_id, 0) > 0, sums.get(canary.arn, 0) > 0
        form: ModelIdForm = "both" if by_id and by_arn else "profile-id" if by_id else "profile-arn"
        self.state.model_id_form = form
        moved = sums.get(model_id, 0) > 0
        model_said = (
            f"the model's own series (ModelId {model_id}) moved too: AWS may count a call through a "
            "profile under the model as well (or someone called the model directly in that minute)"
            if moved
            else f"the model's own series (ModelId {model_id}) did not move: a call through a profile is "
            "counted under the profile only"
        )
        return self._record(
            Check.ok(
                "metric",
                f"datapoint after {waited:.0f} s under ModelId = {form} "
                f"({canary.profile_id if by_id else canary.arn}); {model_said}",
            )
        )

    def _invocation_log(self) -> bool:
        canary, first = self._canary(), self.state.first
        assert first is not None
        where = f"{self.config.account_id} {self.config.region}"
        group = self.ports.logs.log_group()
        if group is None:
            self._record(
                Check.failed(
                    "invocation-log",
                    f"model invocation logging is off in {where} (or writes to S3 only): direct-model "
                    "callers cannot be named, and the invocation-log meter has nothing to read",
                    "turn it on with a CloudWatch Logs destination (Bedrock console > Settings, or "
                    "PutModelInvocationLoggingConfiguration)",
                )
            )
            return False
        request = first.request_id or ""
        start = first.at - timedelta(minutes=1)

        def logged() -> dict[str, Any] | None:
            return self.ports.logs.record(group, request, start, self.clock.now() + timedelta(minutes=1))

        record, waited, _ = self._poll(logged, self.config.log_wait_seconds, lambda _: METRIC_POLL_SECONDS)
        if record is None:
            self._record(
                Check.failed(
                    "invocation-log",
                    f"no record of request {request} in {group} after {waited:.0f} s",
                    "check the logging configuration's role can write to the group",
                )
            )
            return False
        model_id = str(record.get("modelId"))
        form = "the profile ARN" if model_id == canary.arn else f"{model_id!r}, not the profile ARN"
        return self._record(
            Check.ok("invocation-log", f"record in {group} after {waited:.0f} s; its modelId is {form}")
        )

    def _trip(self) -> bool:
        canary = self._canary()
        incident = drill_incident(canary, self.config.run_id)
        self.state.trip_attempted = True
        outcome = self.ports.remediation.trip(
            incident,
            f"tokenfuse-drill-{self.config.run_id}",
            self._budget(self.config.trip_wait_seconds),
        )
        record = TripRecord.model_validate(outcome.trip) if outcome.trip else None
        self.state.trip = record
        fix = "read the execution's history in the Step Functions console; tokenfuse doctor"
        if record is None or outcome.status != "SUCCEEDED":
            said = f"the remediation execution {outcome.execution} ended {outcome.status}"
            if outcome.error:
                said += f": {outcome.error}"
            self._record(Check.failed("trip", said, fix))
            return False
        if record.dry_run:
            self._record(
                Check.failed(
                    "trip",
                    f"execution {outcome.execution} only planned the trip (DryRun): the deployed "
                    "RemediateFunction does not know drill incidents",
                    "update the stack",
                )
            )
            return False
        if not record.deny_in_force:
            self._record(
                Check.failed(
                    "trip", f"execution {outcome.execution} left no deny in force: {record.problems}", fix
                )
            )
            return False
        how = (
            "the guard SCP lists its ARN"
            if record.mechanism == "guard-scp"
            else "an inline deny on its caller"
        )
        return self._record(
            Check.ok(
                "trip",
                f"execution {outcome.execution} (the deployed state machine and RemediateFunction) detached "
                f"the canary at {record.tripped_at:%H:%M:%S}Z: {how}",
            )
        )

    def _tripped(self) -> TripRecord | None:
        """The trip record, when the trip put a deny in force (the checks that need one ask)."""
        trip = self.state.trip
        return trip if trip is not None and not trip.dry_run and trip.deny_in_force else None

    def _denied(self) -> bool:
        canary, trip = self._canary(), self._tripped()
        if trip is None:
            self._record(Check.failed("denied", "not run: the trip put no deny in force"))
            return False
        last: list[CallOutcome] = []

        def refused() -> CallOutcome | None:
            outcome = self._call(canary)
            last[:] = [outcome]
            return outcome if outcome.denied else None

        outcome, waited, cut = self._poll(refused, self.config.deny_wait_seconds, self._deny_interval)
        if outcome is None:
            self.state.denied_confirmed = False
            seen = last[0].error if last and last[0].error else "went through"
            self._record(
                Check.failed(
                    "denied",
                    f"calls through the canary were not refused {waited:.0f} s after the trip (last: {seen})"
                    + (" before the function's time ran out" if cut else ""),
                    "attach the guard SCP to the root or to every OU above the accounts that call Bedrock "
                    "(tokenfuse doctor names the accounts it misses)"
                    if trip.mechanism == "guard-scp"
                    else "check the caller role named in the canary's callers tag",
                )
            )
            return False
        self.state.denied_confirmed = True
        self.state.seconds_to_deny = round(max(0.0, (outcome.at - trip.tripped_at).total_seconds()), 3)
        return self._record(
            Check.ok("denied", f"refused {self.state.seconds_to_deny:g} s after the trip: {outcome.error}")
        )

    def _tag_guard(self) -> bool:
        canary = self.state.tag_canary
        if canary is None:
            self._record(Check.failed("tag-guard", "no tag canary was created"))
            return False

        def refused() -> CallOutcome | None:
            outcome = self._call(canary)
            return outcome if outcome.denied else None

        outcome, waited, _ = self._poll(refused, self.config.deny_wait_seconds, self._deny_interval)
        if outcome is None:
            self._record(
                Check.failed(
                    "tag-guard",
                    f"the tag canary (tagged {TAG_GUARD_TAG_KEY}=true, listed nowhere) was not refused in "
                    f"{waited:.0f} s",
                    f"make sure the guard SCP holds the {TAG_GUARD_SID} statement of org/guard-scp.json "
                    "(tokenfuse doctor: guard-scp); if it does, AWS does not evaluate aws:ResourceTag in an "
                    "SCP here: keep the ARN-listed guard",
                )
            )
            return False
        return self._record(
            Check.ok(
                "tag-guard",
                f"the tag canary, listed nowhere, was refused after {waited:.0f} s by the tag-conditioned "
                f"statement {TAG_GUARD_SID} (only profiles tagged tokenfuse:drill=true and "
                f"{TAG_GUARD_TAG_KEY}=true): an SCP condition on aws:ResourceTag is evaluated for this "
                f"call ({outcome.error})",
            )
        )

    def _restore(self) -> bool:
        canary = self._canary()
        outcome = self.ports.remediation.restore(canary.arn, ACTOR)
        self.state.restored = outcome.restored or not outcome.failed
        if not outcome.restored and not outcome.failed and self._tripped() is None:
            return self._record(Check.ok("restore", f"nothing of the drill's was in force ({outcome.note})"))
        if not outcome.restored:
            return self._record(
                Check.failed(
                    "restore",
                    f"RemediateFunction did not restore the canary: {outcome.note}"
                    + (f" ({'; '.join(outcome.failed)})" if outcome.failed else ""),
                    f"tokenfuse restore {canary.arn}",
                )
            )
        return self._record(Check.ok("restore", f"RemediateFunction lifted the trip: {outcome.note}"))

    def _restored(self) -> bool:
        canary = self._canary()
        if self._tripped() is None:
            return self._record(Check.failed("restored", "not run: the trip put no deny in force"))
        last: list[CallOutcome] = []

        def allowed() -> CallOutcome | None:
            outcome = self._call(canary)
            last[:] = [outcome]
            return outcome if outcome.ok else None

        outcome, waited, _ = self._poll(allowed, self.config.allow_wait_seconds, self._deny_interval)
        self.state.restored_confirmed = outcome is not None
        if outcome is None:
            seen = last[0].error if last else "no call"
            self._record(
                Check.failed(
                    "restored",
                    f"calls through the canary still failed {waited:.0f} s after the restore ({seen})",
                    "check that the guard SCP no longer lists the canary's ARN",
                )
            )
            return False
        return self._record(Check.ok("restored", f"a call went through {waited:.0f} s after the restore"))

    def _delete(self) -> bool:
        problems = self._delete_canaries()
        if problems:
            return self._record(
                Check.failed(
                    "delete",
                    "; ".join(problems),
                    "delete the tokenfuse-drill-* profiles (the next drill will)",
                )
            )
        names = ", ".join(c.name for c in (self.state.canary, self.state.tag_canary) if c)
        return self._record(Check.ok("delete", f"deleted {names}"))

    def _delete_canaries(self) -> list[str]:
        problems = []
        for canary in (self.state.canary, self.state.tag_canary):
            if canary is None:
                continue
            try:
                self.ports.canaries.delete(canary.arn)
                if self.ports.canaries.exists(canary.arn):
                    problems.append(f"{canary.name} still exists after its delete")
            except Exception as error:
                problems.append(f"{canary.name}: {error_said(error)}")
        self.state.deleted = not problems
        return problems

    # -- whatever happened -----------------------------------------------------------------------

    def _finish(self) -> None:
        """Whatever happened: restore what the drill tripped (if the steps did not) and delete the
        canaries (a tripped canary is deleted only once restored: its record must not outlive it)."""
        problems: list[str] = []
        canary = self.state.canary
        if canary is not None and self.state.trip_attempted and not self.state.restored:
            try:
                if "restore" not in self.state.checks:
                    self._restore()
                else:
                    problems += list(self.ports.remediation.restore(canary.arn, ACTOR).failed)
                    self.state.restored = not problems
            except Exception as error:
                problems.append(f"restore of {canary.name} failed: {error_said(error)}")
            if not self.state.restored and not problems:
                problems.append(f"{canary.name} is still tripped")
        if self.state.canary is not None or self.state.tag_canary is not None:
            if problems:
                self._record(Check.failed("delete", "canaries kept: the canary's trip is not lifted"))
            else:
                try:
                    self._delete()
                except Exception as error:
                    problems.append(f"delete failed: {error_said(error)}")
        if problems or (not self.state.deleted and self.state.canary is not None):
            left = problems or ["the canaries were not deleted"]
            self.state.checks["cleanup"] = Check.failed(
                "cleanup",
                f"left behind: {'; '.join(left)}",
                "the next drill cleans it up, as do tokenfuse restore --all and deleting the stack",
            )


def drill_incident(canary: Canary, run_id: str) -> dict[str, Any]:
    """The remediation state machine's input for a drill: the canary as the culprit, ``drill`` set
    (detach at once, even under DryRun; only a profile tagged tokenfuse:drill=true)."""
    return {
        "incident": {
            "incident_id": f"drill-{run_id}",
            "profile_arn": canary.arn,
            "profile_id": canary.profile_id,
            "profile_name": canary.name,
            "account_id": canary.account_id,
            "region": canary.region,
            "team": None,
            "environment": "drill",
            "kind": "unknown",
            "severity": "low",
            "drill": True,
        }
    }


def lift_and_delete(ports: DrillPorts, canary: Canary) -> list[str]:
    """Restore a canary's trip (through RemediateFunction) and delete it; what failed, one line each
    (a canary whose trip could not be lifted is kept: its record must not outlive it)."""
    problems = []
    try:
        problems += list(ports.remediation.restore(canary.arn, ACTOR).failed)
    except Exception as error:
        problems.append(f"{canary.name}: restore failed: {error_said(error)}")
    if not problems:
        try:
            ports.canaries.delete(canary.arn)
        except Exception as error:
            problems.append(f"{canary.name}: delete failed: {error_said(error)}")
    return problems


def run_drill(ports: DrillPorts, config: DrillConfig) -> DrillReport:
    return Drill(ports, config).run()


def new_run_id(now: datetime, suffix: str) -> str:
    """``20261201t132000-<suffix>``: sortable, and a valid part of a profile and an execution name."""
    return f"{now:%Y%m%dt%H%M%S}-{suffix}"
