"""The story, on the simulated clock: ``run_demo`` (``tokenfuse demo`` and ``make demo`` call it).

1. The organization is seeded (``org``); the inventory arms each profile's token-rate alarms from
   the profiles' CloudTrail CreateInferenceProfile events (the real inventory function).
2. A week of ordinary traffic is written at hourly resolution, then the clock walks minute by
   minute from 30 minutes before the loop: each minute the callers' calls are sent (unless a deny
   is in force), the clock moves (the alarm emulation evaluates), and the sandbox delivers
   everything (``drain``): alarm -> intake -> attribute -> notify -> remediation.
3. The owning team's on-call answers the approval request from Slack: a properly signed
   interactivity request to the approve function's URL, as Slack would send it.
4. Once the loop is over and the remediation has finished, the clock walks hour by hour; the
   Budgets alert arrives 8 hours after the loop's start and the Cost Anomaly Detection alert 24
   hours after it (when each would have caught the loop on its own), built from the measured spike.

Everything the summary reports is read back from the sandbox: metrics (dollars), Slack server
calls (messages), the incidents and approvals tables (incidents, trips), the guard SCP (the deny).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenfuse_sandbox.story import org as org_mod
from tokenfuse_sandbox.story import scenarios
from tokenfuse_sandbox.story.fastpath import (
    SLICE,
    FastCalls,
    caller_role,
    describe_latencies,
    latencies,
    path_line,
)
from tokenfuse_sandbox.story.meter import Meter
from tokenfuse_sandbox.story.observe import Entry, Observer, channel_label
from tokenfuse_sandbox.story.org import FINOPS, Org, Sessions, owner_of
from tokenfuse_sandbox.story.report import DemoReport, TimelineText, build_report, render_summary
from tokenfuse_sandbox.story.signals import budgets_alert, cad_alert
from tokenfuse_sandbox.story.timeline import (
    BUDGETS_AFTER,
    CAD_AFTER,
    HISTORY_START,
    LOOP_START,
    MINUTE_PHASE_CAP,
    MINUTES_BEFORE,
    ONCALL_SECONDS,
    TIMEOUT_APPROVAL_MINUTES,
    PendingApproval,
    StoryState,
)
from tokenfuse_sandbox.story.traffic import HOUR, MINUTE, Batch, Traffic, _rates

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox

DEFAULT_OUTPUT = Path("demo-output")
FAST_LEAD = timedelta(seconds=60)
"""On the invocation-log path the culprit's callers call through the emulated runtime from a minute
before the loop until the team's fix ships, in 5-second slices (the other profiles stay on the
minute-resolution metrics of ``Traffic``)."""


class Story:
    def __init__(  # noqa: PLR0917 - the story's cast, each named at the one call site
        self,
        sb: Sandbox,
        org: Org,
        sessions: Sessions,
        scenario: scenarios.Scenario,
        decision: str,
        policy: str,
        emit: Callable[[Entry], None],
        *,
        invocation_logs: bool = False,
        oncall_seconds: int = ONCALL_SECONDS,
    ) -> None:
        if sb.clock is None or sb.slack is None or sb.alarms is None:
            raise ValueError("the story needs the sandbox's emulations (its clock and Slack server)")
        self.sb = sb
        self.clock, self.slack = sb.clock, sb.slack
        self.org = org
        self.sessions = sessions
        self.scenario = scenario
        self.decision = decision
        self.policy = policy
        self.oncall_delay = timedelta(seconds=oncall_seconds)
        self.culprit = org.profiles[scenario.profile_key]
        self.owner = owner_of(self.culprit.spec)
        self.traffic = Traffic(org, scenario, LOOP_START)
        self.meter = Meter(sessions)
        self.fast = (
            FastCalls(sessions, org, scenario, LOOP_START, (self.culprit.key,)) if invocation_logs else None
        )
        self.state = StoryState(LOOP_START)
        self.observer = Observer(sb, sb.alarms, sb.slack, org, self.traffic, emit)
        self._seen_approval_ts: set[str] = set()

    # -- the clock ------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.sb.now()

    def advance_to(self, t: datetime) -> None:
        """Move the clock to ``t``, stopping (and delivering) wherever something is due on the way: a
        Step Functions wait ends (a Wait state, a task's time-out) or the on-call clicks. So each
        happens at its own instant, not at the driver's next step, however fast the machine is."""
        while (stop := self._next_stop(t)) is not None:
            self._note_timeouts(stop)
            self.clock.advance_to(stop)
            self.settle()
            self._answer_approvals()
        self._note_timeouts(t)
        self.clock.advance_to(t)

    def _next_stop(self, t: datetime) -> datetime | None:
        due = [r.click_at for r in self.state.approvals if not r.answered and r.click_at is not None]
        waits = self.clock.waits
        wake = waits.next_wake() if waits is not None else None
        if wake is not None:
            due.append(wake)
        return min((d for d in due if self.now < d < t), default=None)

    def settle(self) -> None:
        try:
            self.sb.drain(timeout=60)
        except TimeoutError as error:
            self.state.problems.append(f"delivery did not settle at {self.now:%H:%M:%S}: {error}")
            self.observer.note("error", f"delivery did not settle: {error}")
        self.observer.observe()
        self._find_approval_requests()

    def minute(self) -> None:
        """One minute: the callers' calls, the clock, the pipeline, the on-call (on the invocation-log
        path, in 5-second slices while the culprit calls through the emulated runtime)."""
        t = self.now
        if not self._on_fast_path(t):
            self.traffic.send(t, 60)
            self.advance_to(t + MINUTE)
            self.settle()
            self._answer_approvals()
            return
        self.traffic.send(t, 60, skip=frozenset({self.culprit.key}))
        at = t
        while at < t + MINUTE:
            self._fast_slice(at)
            at += SLICE
            self.advance_to(at)
            self.settle()
            self._answer_approvals()

    def _on_fast_path(self, t: datetime) -> bool:
        return self.fast is not None and LOOP_START - FAST_LEAD <= t < LOOP_START + self.scenario.fixed_after

    def _fast_slice(self, t: datetime) -> None:
        """The culprit's calls over one slice through the emulated runtime, kept as a batch."""
        assert self.fast is not None
        denied_before, first_denied = self.fast.denied, self.fast.first_denied_at
        answered = self.fast.send(t, SLICE.total_seconds())
        denied = self.fast.denied - denied_before
        inp, out = sum(a[1] for a in answered), sum(a[2] for a in answered)
        rates = _rates(self.culprit.spec.model_arn, self.culprit.spec.region)
        reason = "AccessDeniedException from the emulated bedrock-runtime" if denied else None
        self.traffic.batches.append(
            Batch(
                self.culprit.key, t, int(SLICE.total_seconds()), len(answered), inp, out, denied, reason,
                rates.cost(inp, out) if rates else 0.0, self.fast.looping(self.culprit, t),
            )
        )  # fmt: skip
        if first_denied is None and self.fast.first_denied_at is not None:
            role = caller_role(self.culprit)
            self.observer.note(
                "deny",
                f"the emulated runtime refuses {role}'s calls on {self.culprit.spec.name} "
                f"(AccessDeniedException): the loop is contained ({describe_latencies(latencies())})",
                where="bedrock-runtime",
            )

    @property
    def contained_at(self) -> datetime | None:
        """When the loop's calls were first refused (invocation-log path: seen call by call in the
        emulated runtime, after the SCP's propagation), else when the deny came into force."""
        if self.fast is not None and self.fast.first_denied_at is not None:
            return self.fast.first_denied_at
        return self.observer.denied_at.get(self.culprit.key)

    def hour(self) -> None:
        t = self.now
        self.traffic.refresh_denials()
        self.traffic.send(t, 3600)
        self.advance_to(t + HOUR)
        self.settle()

    # -- the approval ---------------------------------------------------------------------------
    def _find_approval_requests(self) -> None:
        for channel in {self.owner.channel, FINOPS.channel}:
            for message in self.slack.messages(channel):
                blocks = message.get("blocks") or []
                actions = [b for b in blocks if b.get("type") == "actions"]
                ts = str(message.get("ts"))
                if not actions or ts in self._seen_approval_ts:
                    continue
                buttons = {}
                for element in actions[0].get("elements", []):
                    value = str(element.get("value", ""))
                    approval_id, _, button = value.rpartition(":")
                    if approval_id and button in ("approve", "decline", "snooze"):
                        buttons[button] = element
                if not buttons:
                    continue
                self._seen_approval_ts.add(ts)
                approval_id = str(next(iter(buttons.values()))["value"]).rpartition(":")[0]
                choice = self._choice(len(self.state.approvals))
                posted = self.now
                request = PendingApproval(
                    approval_id, channel, ts, message.get("thread_ts"), posted, buttons, choice,
                    posted + self.oncall_delay if choice else None,
                )  # fmt: skip
                self.state.approvals.append(request)
                self.observer.note(
                    "approval",
                    f"approval request {approval_id} (buttons: {', '.join(buttons)}) waits for the on-call",
                    where=channel_label(channel),
                )

    def _choice(self, index: int) -> str | None:
        if self.decision == "timeout":
            return None
        if self.decision == "snooze":
            return "snooze" if index == 0 else "approve"
        return self.decision

    def _answer_approvals(self) -> None:
        for request in self.state.approvals:
            if request.answered or request.click_at is None or self.now < request.click_at:
                continue
            request.answered = True
            self.click(request)
            self.settle()

    def click(self, request: PendingApproval) -> None:
        """The on-call's click: a signed ``block_actions`` request to the approve Function URL."""
        from tokenfuse_sandbox.emulation.slack_server import block_actions_payload, send_interaction

        choice = request.choice or "approve"
        button = request.buttons.get(choice)
        approver = FINOPS if request.channel == FINOPS.channel else self.owner
        if button is None:
            self.observer.note("error", f"the approval request has no {choice} button")
            return
        payload = block_actions_payload(
            action_id=str(button.get("action_id")),
            value=str(button.get("value")),
            user_id=approver.approver,
            user_name=approver.approver_name,
            channel_id=request.channel,
            channel_name=next(
                (t.channel_name for t in (*org_mod.TEAMS, FINOPS) if t.channel == request.channel), ""
            ),
            message_ts=request.ts,
        )
        url = self.sb.function_url("ApproveFunction").rstrip("/") + "/slack/interactivity"
        secret = self.sb.clients["secretsmanager"].get_secret_value(
            SecretId=self.sb.resources["SlackSigningSecret"]
        )["SecretString"]
        status, _, body = send_interaction(url, payload, secret)
        self.state.clicks.append(
            {
                "at": self.now,
                "asked_at": request.posted_at,
                "user": approver.approver,
                "choice": choice,
                "status": status,
                "body": body,
            }
        )
        answer = body.strip().replace("\n", " ")[:140]
        after = round((self.now - request.posted_at).total_seconds())
        self.observer.note(
            "click",
            f"{approver.approver_name} ({approver.approver}) clicks {choice.upper()}, {after} s after the "
            f"card - signed Slack request to the approve Function URL -> HTTP {status}: {answer}",
            where=channel_label(request.channel),
        )

    def _note_timeouts(self, until: datetime) -> None:
        """Nobody answers (``--decision timeout``): say so at the request's time-out, before the clock
        reaches it (the remediation's own time-out, on the simulated clock, does the rest)."""
        for request in self.state.approvals:
            due = request.posted_at + timedelta(minutes=TIMEOUT_APPROVAL_MINUTES)
            if request.choice is None and not request.answered and due <= until:
                request.answered = True
                self.observer.note(
                    "approval",
                    f"nobody answers approval request {request.approval_id}: it times out "
                    f"{TIMEOUT_APPROVAL_MINUTES} min after it was posted",
                    at=max(due, self.now),
                    where=channel_label(request.channel),
                )

    # -- the phases -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Alarms armed, a week of history, the budget, then minute data up to the story's start."""
        self.settle()
        armed = self._alarms()
        if armed:
            self.observer.note(
                "inventory",
                f"inventory armed {len(armed)} token-rate alarms from the profiles' CloudTrail events, e.g. "
                f"{armed[0]}",
                where="InventoryFunction",
            )
        else:
            armed = self._arm_alarms_as_the_inventory_would()
            self.state.problems.append(
                "the inventory armed no alarm: the story armed the inventory's own alarm definitions itself"
            )
            self.observer.note(
                "error",
                f"inventory unavailable: armed {len(armed)} alarms with the inventory's definitions "
                "(tokenfuse.inventory.thresholds, floor thresholds) instead",
            )
        history_start = HISTORY_START
        minute_start = LOOP_START - MINUTES_BEFORE
        self.traffic.history(history_start, minute_start.replace(minute=0))
        t = minute_start.replace(minute=0)
        while t < minute_start:
            self.traffic.send(t, 60)
            t += MINUTE
        spent = sum(self.meter.total(p, history_start, minute_start) for p in self.org.profiles.values())
        threshold = (int(spent) // 100 + 1) * 100.0
        org_mod.create_budget(self.sessions, threshold)
        self.state.budget_threshold_usd = threshold
        self.advance_to(minute_start)
        self.settle()
        self.observer.skip_to_now()
        self.observer.note(
            "story",
            f"{(minute_start - history_start).days} days of ordinary traffic: ${spent:,.2f} of Bedrock "
            f"across {len(self.org.profiles)} profiles in {len(self.org.accounts)} member accounts; "
            f"budget {org_mod.BUDGET_NAME} alerts above "
            f"${threshold:,.2f}",
        )

    def _arm_alarms_as_the_inventory_would(self) -> list[str]:
        from tokenfuse.adapters.alarms import put_alarm
        from tokenfuse.inventory.thresholds import METRICS, AlarmPolicy, alarm_definition

        settings = AlarmPolicy()
        names = []
        for profile in self.org.profiles.values():
            spec = profile.spec
            cloudwatch = self.sessions.client("cloudwatch", spec.account_id, spec.region)
            for metric in METRICS:
                definition = alarm_definition(
                    profile.profile_id, profile.arn, metric, settings.floor(metric),
                    team=spec.team_tag, source="floor", settings=settings,
                )  # fmt: skip
                put_alarm(cloudwatch, definition)
                names.append(definition.name)
        return names

    def _alarms(self) -> list[str]:
        names = []
        for account in self.org.accounts:
            for region in org_mod.REGIONS:
                cloudwatch = self.sessions.client("cloudwatch", account.account_id, region)
                names += [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
        return sorted(names)

    def _executions_running(self) -> bool:
        return any(status == "RUNNING" for status in self.sb.executions().values())

    def minute_phase(self) -> None:
        loop_end = LOOP_START + self.scenario.fixed_after
        announced_start = announced_fix = False
        while self.now < LOOP_START + MINUTE_PHASE_CAP:
            if not announced_start and self.now >= LOOP_START:
                announced_start = True
                self.observer.note(
                    "story",
                    f"the loop starts: {self.scenario.title} ({self.scenario.describe()}) on "
                    f"{self.culprit.spec.name} ({self.culprit.arn})",
                    where=f"{self.org.account_name(self.culprit.spec.account_id)} {self.culprit.spec.region}",
                )
            if not announced_fix and self.now >= loop_end:
                announced_fix = True
                self.observer.note(
                    "story", f"the {self.owner.name} team's fix ships: the loop is gone from the code"
                )
            if self.now >= loop_end + timedelta(minutes=10) and not self._executions_running():
                break
            self.minute()
            since = self.now - LOOP_START
            if timedelta(0) < since <= self.scenario.fixed_after + timedelta(minutes=15):
                self._spend_tick(every_minute=since <= self.scenario.fixed_after)
        if self._executions_running():
            self.state.problems.append(
                "a remediation execution was still running when the minute phase ended"
            )
        while self.now.minute != 0:
            self.minute()
        self.state.minute_phase_end = self.now

    def _spend_tick(self, every_minute: bool) -> None:
        """The culprit's spend over the last minute and since the loop started, read back from
        CloudWatch: each minute the loop burns, every 5 minutes otherwise."""
        batches = [
            b
            for b in self.traffic.batches
            if b.profile_key == self.culprit.key
            and self.now - MINUTE <= b.start < self.now
            and b.seconds <= 60
        ]
        burning = any(b.denied_by is None and b.looping for b in batches)
        if not (burning and every_minute) and (self.now - LOOP_START).seconds // 60 % 5:
            return
        last = sum(usd for _, usd in self.meter.series(self.culprit, self.now - MINUTE, self.now, 60))
        total = self.meter.total(self.culprit, LOOP_START, self.now)
        refused = sum(b.denied_calls for b in batches)
        if refused and not any(b.invocations for b in batches):
            state = f"{refused} calls refused (AccessDenied), $0.00/h"
        else:
            state = f"${last * 60:,.2f}/h"
        self.observer.note(
            "spend",
            f"{self.culprit.spec.name} over the last minute: {state}; spent since the loop started",
            usd=total,
            where="CloudWatch AWS/Bedrock",
        )

    def hour_phase(self) -> None:
        budgets_at = LOOP_START + BUDGETS_AFTER
        cad_at = LOOP_START + CAD_AFTER
        while self.now < cad_at:
            self.hour()
            if "budget" not in self.state.signals_sent and self.now >= budgets_at:
                self.send_budgets_alert()
        self.send_cad_alert()

    def send_budgets_alert(self) -> None:
        month_start = HISTORY_START
        actual = sum(self.meter.total(p, month_start, self.now) for p in self.org.profiles.values())
        threshold = self.state.budget_threshold_usd or 0.0
        if actual <= threshold:
            self.observer.note(
                "signal",
                f"AWS Budgets: actual ${actual:,.2f} is still under the alert threshold "
                f"${threshold:,.2f}: no alert",
            )
            return
        subject, message = budgets_alert(when=self.now, threshold_usd=threshold, actual_usd=actual)
        self.sb.publish("BudgetsTopic", message, subject=subject)
        self.state.signals_sent["budget"] = self.now
        self.observer.note(
            "signal",
            f"AWS Budgets alert (SNS, plain text): {org_mod.BUDGET_NAME} ACTUAL ${actual:,.2f} > "
            f"${threshold:,.2f}",
            where="BudgetsTopic",
        )
        self.settle()

    def send_cad_alert(self) -> None:
        day = LOOP_START.replace(hour=0, minute=0)
        scope = [
            p
            for p in self.org.profiles.values()
            if (p.spec.account_id, p.spec.region) == (self.culprit.spec.account_id, self.culprit.spec.region)
        ]
        actual = sum(self.meter.total(p, day, day + timedelta(days=1)) for p in scope)
        expected = (
            sum(self.meter.total(p, day - timedelta(days=7), day) for p in scope) / 7.0 if scope else 0.0
        )
        where = f"{self.org.account_name(self.culprit.spec.account_id)} {self.culprit.spec.region}"
        if actual <= expected:
            self.observer.note(
                "signal",
                f"Cost Anomaly Detection for {day:%Y-%m-%d}: actual ${actual:,.2f} is not above the expected "
                f"${expected:,.2f} in {where}: no anomaly, no alert",
            )
            return
        tokens = "input" if self.scenario.input_tokens > self.scenario.output_tokens else "output"
        message = cad_alert(
            self.org, self.culprit, day_start=day, actual_usd=actual, expected_usd=expected, tokens=tokens
        )
        self.sb.publish("CostAnomalyTopic", message)
        self.state.signals_sent["cost-anomaly"] = self.now
        self.observer.note(
            "signal",
            f"Cost Anomaly Detection alert (SNS, IMMEDIATE) for {day:%Y-%m-%d}: actual ${actual:,.2f} vs "
            f"expected ${expected:,.2f} in {where}",
            where="CostAnomalyTopic",
        )
        self.settle()


@contextlib.contextmanager
def handler_output_to(path: Path) -> Iterator[Any]:
    """The handlers log to stdout: point fd 1 at ``path`` while the story runs (``sys.stdout`` stays
    the same object, so loggers that keep a reference to it keep working afterwards); yields a
    writable file on the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    real = os.fdopen(os.dup(saved), "w")
    with path.open("w") as target:
        os.dup2(target.fileno(), 1)
        try:
            yield real
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            real.flush()
            real.close()


def _shown(entry: Entry) -> bool:
    """The printed timeline leaves out the remediation's audit events (its Slack replies say the
    same); the JSON timeline keeps everything."""
    return not (entry.kind == "bus" and entry.text.startswith("remediation step"))


def _check_options(decision: str, policy: str, oncall_seconds: int) -> None:
    if decision not in scenarios.DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(scenarios.DECISIONS)}")
    if policy not in scenarios.POLICIES:
        raise ValueError(f"policy must be one of {', '.join(scenarios.POLICIES)}")
    if oncall_seconds < 0:
        raise ValueError("oncall_seconds must be 0 or more")


def run_demo(  # noqa: PLR0917 - the CLI's options, in the order the issue lists them
    scenario: str = "runaway-loop",
    decision: str = "approve",
    policy: str = "approve",
    json_path: str | Path | None = None,
    chart_path: str | Path | None = None,
    out: Callable[[str], Any] | None = print,
    *,
    template: str | Path | None = None,
    log_path: str | Path | None = None,
    invocation_logs: bool = True,
    oncall_seconds: int = ONCALL_SECONDS,
) -> DemoReport:
    """Tell the story in an ephemeral sandbox; returns the report (and writes the chart / JSON).

    ``oncall_seconds``: how long the scripted on-call takes to click after the card is posted (the
    person's reaction time, a story parameter, not tokenfuse's latency).
    ``invocation_logs``: the sub-minute path (model invocation logs -> the member stacks' meters),
    the default; False tells the story on the token-rate alarms alone.
    ``out`` gets each line as it happens (``print`` writes to the real stdout even while the
    handlers' logs go to ``log_path``, default ``demo-output/<scenario>.log``); None: silent.
    """
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.story import chart

    chosen = scenarios.get(scenario)
    _check_options(decision, policy, oncall_seconds)
    started = time.monotonic()
    chart_file = Path(chart_path) if chart_path else DEFAULT_OUTPUT / f"{scenario}.html"
    log_file = Path(log_path) if log_path else DEFAULT_OUTPUT / f"{scenario}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    timeout_minutes = TIMEOUT_APPROVAL_MINUTES if decision == "timeout" else None
    settings = org_mod.sandbox_settings(policy, approval_timeout_minutes=timeout_minutes)

    with handler_output_to(log_file) as real_stdout, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")

        def say(line: str) -> None:
            if out is None:
                return
            if out is print:
                real_stdout.write(line + "\n")
                real_stdout.flush()
            else:
                out(line)

        say(f"tokenfuse demo: {chosen.name} (decision {decision}, policy {policy}) in the local sandbox")
        say(f"  {chosen.story}")
        say(f"  path: {path_line(latencies() if invocation_logs else None)}")
        say("")
        timeline = TimelineText()

        def show(entry: Entry) -> None:
            if _shown(entry):
                for line in timeline.lines(entry):
                    say(line)

        with Sandbox(
            template,
            clock_start=HISTORY_START - timedelta(hours=1),
            clock_mode="block",
            # The daily inventory sweep would re-derive each alarm's threshold from per-minute data
            # over the last week; the sandbox writes that week at hourly resolution, which would read
            # as one huge minute an hour. The alarms stay as the inventory armed them at creation.
            fire_schedules=False,
            **settings,
        ) as sb:
            if invocation_logs:
                from tokenfuse_sandbox.member_stacks import meter_parameters

                org, sessions = org_mod.seed(sb, member_parameters=meter_parameters(enable_logging=True))
            else:
                org, sessions = org_mod.seed(sb)
            story = Story(
                sb,
                org,
                sessions,
                chosen,
                decision,
                policy,
                show,
                invocation_logs=invocation_logs,
                oncall_seconds=oncall_seconds,
            )
            story.prepare()
            story.minute_phase()
            story.hour_phase()
            report = build_report(story, wall_seconds=time.monotonic() - started)
        report.wall_seconds = round(time.monotonic() - started, 1)
        chart_file.parent.mkdir(parents=True, exist_ok=True)
        chart_file.write_text(chart.render(report))
        report.chart_path = str(chart_file)
        if json_path:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
            Path(json_path).write_text(report.to_json_text())
            report.json_path = str(json_path)
        say("")
        for line in render_summary(report):
            say(line)
        say(f"handler logs: {log_file}")
    return report
