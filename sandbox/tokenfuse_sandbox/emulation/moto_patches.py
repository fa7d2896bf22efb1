"""Every change the sandbox makes inside moto, made and undone here, under the one moto it was
written against.

moto's classes, module globals and URL tables are process-wide, so an emulation's ``install()`` (or
a running :class:`~tokenfuse_sandbox.Sandbox`) replaces a few of them through a :class:`MotoPatches`
and its ``restore()`` puts back exactly those. Nothing else in the sandbox assigns into moto (a test
reads the sources to keep it so). These lean on moto's internals, so they run only under
:data:`PINNED_MOTO` (:func:`require_pinned_moto`): under another moto the sandbox refuses to start
with one line, rather than fail somewhere deep inside a story.

Where each patch is made:

- the Sandbox itself (functions below): ``LambdaSimpleBackend.invoke`` (handlers run in-process),
  ``EventsBackend.put_events`` (what an invocation put on the bus; a put to another account's bus
  by its ARN, :func:`cross_account_put_events`), ``moto.sns.models``' timestamp
  (SNS stamps notifications with the simulated clock), EventBridge fidelity (:func:`fix_eventbridge`),
  Step Functions retry intervals, Wait states and task time-outs / callback waits on the simulated
  clock (:func:`retry_on_clock`, :func:`waits_on_clock`, :func:`task_timeouts_on_clock`,
  :func:`stepfunctions_timestamps_on_clock`);
- the emulations, each with its own :class:`MotoPatches`: ``bedrock_profiles`` (``BedrockResponse``
  operations, ``BedrockBackend._list_arns``), ``bedrock_runtime`` (the bedrock-runtime URL table),
  ``bedrock_access`` (``OrganizationsBackend``'s policy calls, recorded), ``invocation_logs``
  (``LogStream._send_log_events``, ``LogsBackend.put_subscription_filter``), ``metrics_insights``
  (``CloudWatchBackend.get_metric_data``), ``member_stacks`` (``parsing.resource_class_from_type``
  while a member StackSet deploys: custom resources kept for the in-process runtime).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import threading
import types
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import metadata
from typing import Any, Literal, Protocol

__all__ = [
    "PINNED_MOTO",
    "ClockWaits",
    "MotoPatches",
    "UnsupportedMoto",
    "cross_account_put_events",
    "datetime_module_on_clock",
    "fix_eventbridge",
    "keep_action_names",
    "keep_parsed_templates",
    "last_history_event",
    "record_put_events",
    "require_pinned_moto",
    "retry_on_clock",
    "route_lambda_invoke",
    "sns_timestamps_on",
    "stepfunctions_timestamps_on_clock",
    "task_timeouts_on_clock",
    "waits_on_clock",
]

PINNED_MOTO = "5.2.5"
"""The moto these patches were written against (pyproject.toml pins the same; a test checks)."""


class UnsupportedMoto(RuntimeError):
    """The installed moto is not :data:`PINNED_MOTO`."""


@cache
def require_pinned_moto() -> None:
    """Refuse, in one line, to patch any moto but the pinned one."""
    try:
        found = metadata.version("moto")
    except metadata.PackageNotFoundError:
        found = "none"
    if found != PINNED_MOTO:
        raise UnsupportedMoto(
            f"the sandbox patches moto {PINNED_MOTO}'s internals and found moto {found}: "
            f"pip install 'moto[all]=={PINNED_MOTO}'"
        )


_MISSING = object()


class MotoPatches:
    """The replacements made for one owner (an emulation, a sandbox): attributes of classes or
    modules, entries of dicts, each put back by :meth:`restore`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._saved: dict[tuple[int, str], tuple[Any, str, Any]] = {}

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name`` (``owner[name]`` for a dict) to ``value``, adding it if absent; returns
        what was there (the attribute as read, so a method comes back callable)."""
        require_pinned_moto()
        with self.lock:
            if isinstance(owner, MutableMapping):
                raw = owner.get(name, _MISSING)
                current = raw
                owner[name] = value
            else:
                # the owner's own slot: a staticmethod stays one, an inherited attribute is removed
                raw = vars(owner).get(name, _MISSING)
                current = getattr(owner, name, None)
                setattr(owner, name, value)
            self._saved.setdefault((id(owner), name), (owner, name, raw))
            _ACTION_NAMES.clear()  # the owner may be a response class: its operations changed
            return current

    def original(self, owner: Any, name: str) -> Any:
        """What ``owner.name`` was before it was replaced (an absent one reads as None)."""
        raw = self._saved[(id(owner), name)][2]
        if raw is _MISSING:
            return None
        if isinstance(raw, staticmethod | classmethod):
            return raw.__get__(None, owner)
        return raw

    def restore(self) -> None:
        """Put every replaced attribute back (and remove every added one)."""
        with self.lock:
            for owner, name, raw in reversed(list(self._saved.values())):
                if isinstance(owner, MutableMapping):
                    if raw is _MISSING:
                        owner.pop(name, None)
                    else:
                        owner[name] = raw
                elif raw is _MISSING:
                    if name in vars(owner):
                        delattr(owner, name)
                else:
                    setattr(owner, name, raw)
            self._saved.clear()
            _ACTION_NAMES.clear()


# --------------------------------------------------------------------------------------------------
# moto's dispatch: what each request costs
# --------------------------------------------------------------------------------------------------

_ACTION_NAMES: dict[type, frozenset[str]] = {}
"""Each moto response class's functions, by class; forgotten whenever a :class:`MotoPatches`
replaces or restores anything (an emulation adds or removes a response class's operations)."""


def _action_names(cls: type) -> frozenset[str]:
    names = _ACTION_NAMES.get(cls)
    if names is None:
        functions = inspect.getmembers(cls, inspect.isfunction)
        names = _ACTION_NAMES[cls] = frozenset(name for name, _ in functions)
    return names


def keep_action_names(patches: MotoPatches) -> None:
    """moto's ``BaseResponse.call_action`` lists its class's functions (``inspect.getmembers`` over
    the class and its bases) on every request, only to ask whether the action is one of them: about
    a tenth of a test's time against moto. The list is kept per class instead; the answer is the
    same."""
    from moto.core import responses

    patches.replace(responses, "method_names_from_class", _action_names)


_PARSED_TEMPLATES: dict[str, Any] = {}
"""Each CloudFormation template body moto parsed, by its text (a sandbox deploys a handful)."""


def keep_parsed_templates(patches: MotoPatches) -> None:
    """moto's CloudFormation parses a stack's template body with PyYAML's pure-Python loader for every
    stack it creates, and each instance of a stack set is a stack: the member stack set deployed to
    every account and region of a sandbox organization parsed the same 24 KB template six times in a
    demo story (the story's YAML took 0.27 s of CPU, 0.11 s with this patch, of about 11 s). Each body
    is parsed once instead and every stack gets a deep copy of it (moto's resource parsing may write
    into its own); the template dict is the same."""
    from moto.cloudformation.models import Stack

    parse = Stack.parse_template

    def parse_once(body: str) -> dict[str, Any]:
        return _parsed(parse, body)

    patches.replace(Stack, "parse_template", staticmethod(parse_once))


def _parsed(parse: Callable[[str], dict[str, Any]], body: str) -> dict[str, Any]:
    parsed = _PARSED_TEMPLATES.get(body)
    if parsed is None:
        parsed = _PARSED_TEMPLATES[body] = parse(body)
    return copy.deepcopy(parsed)


# --------------------------------------------------------------------------------------------------
# Lambda: the sandbox's handlers run in-process
# --------------------------------------------------------------------------------------------------

LambdaReply = tuple[bytes, bool]
"""An in-process invocation's payload, and whether it is a function error (``X-Amz-Function-Error``)."""

InProcessInvoke = Callable[[str, Any, str | None], LambdaReply | None]
"""(function name or ARN, event, invocation type) -> the reply, or None for a function that is not
the sandbox's (moto's own backend answers)."""


def route_lambda_invoke(patches: MotoPatches, run: InProcessInvoke) -> None:
    """``lambda.Invoke`` (boto3's, and Step Functions' ``lambda:invoke`` tasks) runs ``run``;
    moto needs Docker to run Lambda code."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(  # noqa: PLR0917 - moto's signature
        backend: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        raw = body.decode() if isinstance(body, bytes) else body
        event = json.loads(raw) if raw else {}
        headers = headers or {}
        kind = headers.get("X-Amz-Invocation-Type") or headers.get("x-amz-invocation-type")
        reply = run(function_name, event, kind)
        if reply is None:
            return original(backend, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        payload, function_error = reply
        if function_error:
            # surfaces as a Lambda function error: Step Functions reads errorType for Retry/Catch
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    original = patches.replace(LambdaSimpleBackend, "invoke", invoke)


# --------------------------------------------------------------------------------------------------
# EventBridge: what an invocation put on the bus, and fidelity fixes
# --------------------------------------------------------------------------------------------------


def record_put_events(
    patches: MotoPatches, seen: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]
) -> None:
    """``seen(entries, results)`` after each outer PutEvents (a bus-to-bus forward inside moto is
    not a second call)."""
    from moto.events.models import EventsBackend

    depth = threading.local()

    def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        level = getattr(depth, "n", 0)
        depth.n = level + 1
        try:
            entries: list[dict[str, Any]] = original(backend, events)
        finally:
            depth.n = level
        if level == 0:
            seen(events, entries)
        return entries

    original = patches.replace(EventsBackend, "put_events", put_events)


def cross_account_put_events(patches: MotoPatches) -> None:
    """PutEvents naming another account's (or region's) bus by its ARN lands on that bus, as in
    EventBridge when the bus's policy allows the sender (the policy is not evaluated): moto looks
    the bus up by name in the sender's own backend. The event keeps the sender's account and
    region, as EventBridge delivers it."""
    from moto.core.utils import unix_time
    from moto.events.models import EventsBackend, events_backends
    from moto.events.utils import _BASE_EVENT_MESSAGE
    from moto.moto_api._internal import mock_random
    from moto.utilities.arns import parse_arn

    def foreign(backend: EventsBackend, event: dict[str, Any]) -> Any | None:
        name = event.get("EventBusName") or ""
        if not name.startswith("arn:"):
            return None
        arn = parse_arn(name)
        if (arn.account, arn.region) == (backend.account_id, backend.region_name):
            return None
        return events_backends[arn.account][arn.region].describe_event_bus(arn.resource_id)

    def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        buses = [foreign(backend, event) for event in events]
        if not any(buses):
            return original(backend, events)  # type: ignore[no-any-return]
        entries: list[dict[str, Any]] = []
        for event, bus in zip(events, buses, strict=True):
            if bus is None:
                entries.extend(original(backend, [event]))
                continue
            if not event.get("Source") or not event.get("DetailType") or not event.get("Detail"):
                entries.append({"ErrorCode": "InvalidArgument", "ErrorMessage": "Source, DetailType, Detail"})
                continue
            event_id = str(mock_random.uuid4())
            message: dict[str, Any] = copy.deepcopy(dict(_BASE_EVENT_MESSAGE))  # moto's own event shape
            message |= {
                "id": event_id,
                "detail-type": event["DetailType"],
                "source": event["Source"],
                "account": backend.account_id,
                "time": event.get("Time", unix_time()),
                "region": backend.region_name,
                "resources": event.get("Resources", []),
                "detail": json.loads(event["Detail"]),
                "ingestion-time": unix_time(),
            }
            for rule in list(bus.rules.values()):
                rule.send_to_targets(copy.deepcopy(message))
            entries.append({"EventId": event_id})
        return entries

    original = patches.replace(EventsBackend, "put_events", put_events)


# What EventBridge delivers to a target without an InputTransformer: the whole event, account included
# (moto's default template leaves out "account").
_FULL_EVENT_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)


def _flatten(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    """moto's EventPattern._flatten_dict, descending into arrays of objects as EventBridge does
    (``detail.configuration.metrics[].metricStat.metric.namespace`` matches ``metrics.metricStat...``)."""
    if result is None:
        result = {}
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and v:
                _flatten(v, key, result)
            elif isinstance(v, list) and any(isinstance(x, dict) for x in v):
                for x in v:
                    sub = _flatten(x, key, {}) if isinstance(x, dict) else {key: x}
                    for sk, sv in sub.items():
                        have = result.get(sk)
                        merged = [] if have is None else (have if isinstance(have, list) else [have])
                        merged.extend(sv if isinstance(sv, list) else [sv])
                        result[sk] = merged
            else:
                result[key] = v
    return result


def fix_eventbridge(patches: MotoPatches) -> None:
    """Three fidelity fixes to moto's EventBridge: the whole event (account included) to targets,
    patterns that reach into arrays of objects, and bus -> bus targets that forward the event itself
    (same id, account, time, resources) only from enabled rules."""
    from moto.events.models import EventPattern, Rule, events_backends
    from moto.events.utils import EventTemplateParser
    from moto.utilities.arns import parse_arn

    patches.replace(EventTemplateParser, "DEFAULT_EVENT_INPUT_TEMPLATE", _FULL_EVENT_TEMPLATE)
    patches.replace(EventPattern, "_flatten_dict", staticmethod(_flatten))

    def send_to_targets(rule: Rule, original_event: Any, transform_input: bool = True) -> None:
        if rule.state != "ENABLED":  # moto delivers for disabled rules too
            return None
        buses = [
            t for t in rule.targets if t["Arn"].split(":")[2:3] == ["events"] and ":event-bus/" in t["Arn"]
        ]
        if not buses:
            return original(rule, original_event, transform_input)  # type: ignore[no-any-return]
        if not rule.event_pattern.matches_event(original_event):
            return None
        saved = rule.targets
        rule.targets = [t for t in saved if t not in buses]
        try:
            if rule.targets:
                original(rule, original_event, transform_input)
        finally:
            rule.targets = saved
        for target in buses:
            arn = parse_arn(target["Arn"])
            backend = events_backends[arn.account][arn.region]
            bus = backend.describe_event_bus(arn.resource_id)
            for other in list(bus.rules.values()):
                if other.state == "ENABLED":
                    other.send_to_targets(copy.deepcopy(original_event))
        return None

    original = patches.replace(Rule, "send_to_targets", send_to_targets)


# --------------------------------------------------------------------------------------------------
# SNS and Step Functions on the simulated clock
# --------------------------------------------------------------------------------------------------


class SimulatedTime(Protocol):
    """What the patches need of :class:`~tokenfuse_sandbox.emulation.clock.SimulatedClock`."""

    def now(self) -> datetime: ...
    def advance(self, delta: timedelta | float) -> datetime: ...
    def advance_to(self, t: datetime) -> datetime: ...
    def wait_until(
        self, t: datetime, timeout: float | None = None, interrupted: Callable[[], bool] | None = None
    ) -> bool: ...


def sns_timestamps_on(patches: MotoPatches, now: Callable[[], datetime]) -> None:
    """SNS stamps each notification with wall-clock time; on the simulated clock a Budgets or CAD
    alert published at 22:00 must say 22:00 (intake reads the alert's time from it)."""
    import moto.sns.models as sns_models

    def stamped(value: datetime | None = None) -> str:
        return original(value or now().astimezone(UTC).replace(tzinfo=None))  # type: ignore[no-any-return]

    original = patches.replace(sns_models, "iso_8601_datetime_with_milliseconds", stamped)


def retry_on_clock(patches: MotoPatches, clock: SimulatedTime | None) -> None:
    """Step Functions retry intervals (a plain ``time.sleep`` in ``retrier_decl``) advance the
    simulated clock, or pass at once without one: ``IntervalSeconds`` / ``BackoffRate`` cost no wall
    time."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    real_time = vars(retrier_decl)["time"]

    def sleep(seconds: float) -> None:
        if clock is not None and seconds > 0:
            clock.advance(seconds)

    proxy = types.SimpleNamespace(
        **{k: getattr(real_time, k) for k in dir(real_time) if not k.startswith("__")}
    )
    proxy.sleep = sleep
    patches.replace(retrier_decl, "time", proxy)


@dataclass(frozen=True, eq=False)
class _ClockWait:
    execution_arn: str
    until: datetime
    done: Callable[[], bool]
    parks: bool


class ClockWaits:
    """What moto's Step Functions executions wait for on the simulated clock, so that whoever drives
    the clock can tell a parked execution from a busy one and stop the clock where a wait ends.

    A wait is registered while a thread blocks in it: a Wait state or a task's callback / heartbeat
    (``parks``: the execution is parked on it while it cannot end yet), or a task's overall time-out
    (``parks=False``: it holds the task, the task's own work or callback wait parks or not). An
    execution is parked only while it has a parking wait and none of its waits can end now (the
    clock has reached ``until`` or ``done()`` is true): a wait that may end keeps it busy until its
    thread has moved on, however slow the machine is.
    """

    def __init__(self, clock: SimulatedTime) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waits: list[_ClockWait] = []

    def wait(
        self, execution_arn: str, until: datetime, done: Callable[[], bool], *, parks: bool = True
    ) -> bool:
        """Block until ``done()`` (True) or the simulated clock reaches ``until`` (False)."""
        entry = _ClockWait(execution_arn, until, done, parks)
        with self._lock:
            self._waits.append(entry)
        try:
            while not done():
                if self._clock.now() >= until:
                    return False
                self._clock.wait_until(until, interrupted=done)
            return True
        finally:
            with self._lock:
                self._waits.remove(entry)

    def _may_end(self, entry: _ClockWait) -> bool:
        return self._clock.now() >= entry.until or entry.done()

    def parked(self, execution_arn: str) -> bool:
        """The execution waits on the clock or a callback and none of its waits can end now."""
        with self._lock:
            mine = [w for w in self._waits if w.execution_arn == execution_arn]
        return any(w.parks for w in mine) and not any(self._may_end(w) for w in mine)

    def next_wake(self) -> datetime | None:
        """The earliest instant after now at which a registered wait ends on the clock."""
        now = self._clock.now()
        with self._lock:
            return min((w.until for w in self._waits if w.until > now), default=None)


def last_history_event(execution: Any) -> Any:
    """The last event of a moto execution's history (None before it starts), read under the event
    manager's lock: a read of moto's internals, not a patch, copying one event where moto's own
    ``get_event_history`` deep-copies them all."""
    env = execution.exec_worker.env if execution.exec_worker is not None else None
    if env is None:
        return None
    manager = env.event_manager
    with manager._mutex:
        events = manager._history_event_list
        return copy.deepcopy(events[-1]) if events else None


def _execution_arn(env: Any) -> str:
    return str(env.states.context_object.context_object_data["Execution"]["Id"])


def waits_on_clock(
    patches: MotoPatches, clock: SimulatedTime, mode: Literal["advance", "block"], waits: ClockWaits
) -> None:
    """A Wait state (``WaitFunction._wait_interval``, the one place it sleeps) no longer sleeps: in
    ``"advance"`` mode it moves the clock itself, in ``"block"`` mode it waits (in ``waits``) for
    someone else to; a Timestamp wait is measured against the simulated now."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as ts_mod
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    def _wait_interval(self: WaitFunction, env: Environment, wait_seconds: int) -> None:
        if wait_seconds <= 0:
            return
        target = clock.now() + timedelta(seconds=wait_seconds)
        if mode == "advance":
            clock.advance_to(target)
        else:
            waits.wait(_execution_arn(env), target, done=lambda: not env.is_running())

    def _get_wait_seconds(self: ts_mod.Timestamp, env: Environment) -> int:
        # moto measures "Timestamp - datetime.now()" (naive, wall clock, truncated to whole seconds);
        # measure it against the simulated now instead, rounded up so the wait never ends early
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )

        self.string.eval(env=env)
        text = env.stack.pop()
        timestamp = self._from_timestamp_string(timestamp=text)
        if timestamp is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return math.ceil((timestamp.replace(tzinfo=UTC) - clock.now()).total_seconds())

    patches.replace(WaitFunction, "_wait_interval", _wait_interval)
    patches.replace(ts_mod.Timestamp, "_get_wait_seconds", _get_wait_seconds)


def task_timeouts_on_clock(patches: MotoPatches, clock: SimulatedTime, waits: ClockWaits) -> None:
    """A task's ``TimeoutSeconds`` / ``TimeoutSecondsPath``, its ``.waitForTaskToken`` callback wait
    and its ``HeartbeatSeconds`` end when the simulated clock reaches (start + seconds), or at once
    when the callback (heartbeat) arrives; moto waits on ``threading.Event`` for real seconds."""
    _task_timeout_on_clock(patches, clock, waits)
    _callback_wait_on_clock(patches, clock, waits)


def _task_timeout_on_clock(patches: MotoPatches, clock: SimulatedTime, waits: ClockWaits) -> None:
    """``ExecutionState._evaluate_with_timeout``: the task's overall time-out, on the clock."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.utils import TMP_THREADS

    def _evaluate_with_timeout(self: ExecutionState, env: Environment) -> None:
        # moto's own body (execute_state.py), with "terminated_event.wait(timeout_seconds)" on the clock
        self.timeout.eval(env=env)
        timeout_seconds: int = env.stack.pop()
        deadline = clock.now() + timedelta(seconds=timeout_seconds)

        frame: Environment = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = copy.deepcopy(env.stack)
        execution_outputs: list[Any] = []
        execution_exceptions: list[Exception | None] = [None]
        terminated_event = threading.Event()

        def _exec_and_notify() -> None:
            try:
                self._eval_execution(frame)
                execution_outputs.extend(frame.stack)
            except Exception as ex:
                execution_exceptions.append(ex)
            terminated_event.set()

        thread = threading.Thread(target=_exec_and_notify, daemon=True)
        TMP_THREADS.append(thread)
        thread.start()

        finished_on_time = waits.wait(_execution_arn(env), deadline, terminated_event.is_set, parks=False)
        frame.set_ended()
        env.close_frame(frame)

        execution_exception = execution_exceptions.pop()
        if execution_exception:
            raise execution_exception
        if not finished_on_time:
            raise EvalTimeoutError()

        execution_output = execution_outputs.pop()
        env.stack.append(execution_output)
        if not self._is_language_query_jsonpath():
            env.states.set_result(execution_output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            env.states.reset(input_value=env.stack.pop())

    patches.replace(ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout)


def _callback_wait_on_clock(patches: MotoPatches, clock: SimulatedTime, waits: ClockWaits) -> None:
    """``StateTaskServiceCallback._eval_wait_for_task_token``: the callback and heartbeat waits."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback_mod,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackEndpoint,
        CallbackOutcome,
        CallbackOutcomeTimedOut,
        HeartbeatEndpoint,
        HeartbeatTimedOut,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    def _eval_wait_for_task_token(
        self: callback_mod.StateTaskServiceCallback,
        env: Environment,
        timeout_seconds: int,
        callback_endpoint: CallbackEndpoint,
        heartbeat_endpoint: HeartbeatEndpoint | None,
    ) -> CallbackOutcome:
        arn = _execution_arn(env)

        def answered() -> bool:
            return callback_endpoint.get_outcome() is not None or not env.is_running()

        outcome: CallbackOutcome | HeartbeatTimedOut | None = None
        if heartbeat_endpoint is None:
            waits.wait(arn, clock.now() + timedelta(seconds=timeout_seconds), answered)
            outcome = callback_endpoint.get_outcome()
        else:
            beat = heartbeat_endpoint._next_heartbeat_event  # moto's own attribute (pinned moto)
            while env.is_running() and outcome is None:
                with heartbeat_endpoint._mutex:  # moto's clear_and_wait, on the clock
                    received = beat.is_set()
                    beat.clear()
                if not received:
                    until = clock.now() + timedelta(seconds=heartbeat_endpoint._heartbeat_seconds)
                    received = waits.wait(arn, until, lambda: beat.is_set() or answered())
                if not received and env.is_running():
                    outcome = HeartbeatTimedOut()
                else:
                    outcome = callback_endpoint.get_outcome()
        if outcome is None:
            return CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id)
        return outcome  # type: ignore[return-value]  # moto returns its HeartbeatTimedOut here too

    callback_task = callback_mod.StateTaskServiceCallback
    patches.replace(callback_task, "_eval_wait_for_task_token", _eval_wait_for_task_token)


def datetime_module_on_clock(clock: SimulatedTime) -> types.ModuleType:
    """A stand-in for the ``datetime`` module whose ``datetime.now()`` reads the simulated clock."""
    import datetime as real

    class _SimulatedDatetime(real.datetime):
        @classmethod
        def now(cls, tz: real.tzinfo | None = None) -> real.datetime:  # type: ignore[override]
            t = clock.now()
            return t.astimezone(tz) if tz is not None else t.astimezone().replace(tzinfo=None)

    proxy = types.ModuleType("datetime")
    proxy.__dict__.update(real.__dict__)
    proxy.__dict__["datetime"] = _SimulatedDatetime
    return proxy


def stepfunctions_timestamps_on_clock(patches: MotoPatches, clock: SimulatedTime) -> None:
    """An execution's ``startDate`` / ``stopDate`` and its history timestamps come from the simulated
    clock (moto reads ``datetime.datetime.now`` for them in these two modules and the event manager)."""
    from moto.stepfunctions.parser import models as sfn_models
    from moto.stepfunctions.parser.asl.eval.event import event_manager
    from moto.stepfunctions.parser.backend import execution as sfn_execution

    proxy = datetime_module_on_clock(clock)
    for module in (sfn_models, sfn_execution):
        patches.replace(module, "datetime", proxy)
    patches.replace(event_manager.EventManager, "_get_current_timestamp", staticmethod(clock.now))
