"""A small interpreter for the subset of Amazon States Language that
``statemachines/remediation.asl.json`` uses, so the fault-injection suite walks the real
definition (its Retry, Catch, Choice and ResultPath wiring) hundreds of times in seconds, with
each Lambda task run in-process. moto's own interpreter runs the same definition in the e2e tests.

Semantics followed (AWS's documentation): a Task's error name is the Lambda ``errorType`` (the
exception's class name); a Retrier matches by name, a Catcher by name or ``States.ALL`` and puts
``{"Error", "Cause"}`` at its ``ResultPath``; ``ResultSelector`` shapes ``{"Payload": ...}``;
``ResultPath: null`` discards the result. Wait states pass at once (they are counted). A
``.waitForTaskToken`` Task invokes its Lambda, then takes its output from ``callback`` (the
SendTaskSuccess output), which may raise :class:`States` (``States.Timeout``) instead.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
Callback = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(state name, the payload the Lambda got) -> what SendTaskSuccess returns."""
_MISSING = object()


def read_path(data: Any, path: str) -> Any:
    """``$`` or ``$.a.b``: the value, or :data:`_MISSING`."""
    assert path == "$" or path.startswith("$."), f"unsupported path {path!r}"
    value = data
    for part in path[2:].split(".") if path != "$" else []:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _resolve(template: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                source = context if value.startswith("$$.") else data
                found = read_path(source, value[1:] if value.startswith("$$.") else value)
                if found is _MISSING:
                    raise States("States.Runtime", f"path {value} not found")
                out[key[:-2]] = found
            else:
                out[key] = _resolve(value, data, context)
        return out
    return template


def _put(data: dict[str, Any], path: str | None, value: Any) -> dict[str, Any]:
    if path is None:
        return data
    if path == "$":
        replaced: dict[str, Any] = value
        return replaced
    out = copy.deepcopy(data)
    target = out
    parts = path[2:].split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return out


class States(Exception):
    def __init__(self, name: str, cause: str) -> None:
        super().__init__(f"{name}: {cause}")
        self.name, self.cause = name, cause


@dataclass
class Execution:
    status: str = "RUNNING"
    path: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)


def _choose(state: dict[str, Any], data: dict[str, Any]) -> str:
    for rule in state["Choices"]:
        value = read_path(data, rule["Variable"])
        if "IsPresent" in rule:
            matched = (value is not _MISSING) == rule["IsPresent"]
        elif "IsNull" in rule:
            matched = value is not _MISSING and (value is None) == rule["IsNull"]
        elif "StringEquals" in rule:
            matched = value == rule["StringEquals"]
        elif "BooleanEquals" in rule:
            matched = value is rule["BooleanEquals"]
        else:
            raise AssertionError(f"unsupported choice rule {rule}")
        if matched:
            return str(rule["Next"])
    return str(state["Default"])


def _catches(catcher: dict[str, Any], error: str) -> bool:
    """States.ALL catches every error but States.Runtime (a path that is not there), which fails
    the execution unless named."""
    names = set(catcher["ErrorEquals"])
    return error in names or ("States.ALL" in names and error != "States.Runtime")


def run(
    asl: dict[str, Any],
    invoke: Invoke,
    execution_input: dict[str, Any],
    on_state: Callable[[str, dict[str, Any]], None] | None = None,
    max_steps: int = 200,
    callback: Callback | None = None,
) -> Execution:
    """Run the definition; ``on_state(name, data)`` sees the data after each state; ``callback``
    answers the Tasks that wait for a token (without one, such a Task is refused)."""
    states = asl["States"]
    execution = Execution()
    context = {"Execution": {"Id": "arn:aws:states:::execution:faults:run"}, "Task": {"Token": "token"}}
    data: dict[str, Any] = copy.deepcopy(execution_input)
    name = asl["StartAt"]
    for _ in range(max_steps):
        state = states[name]
        execution.path.append(name)
        kind = state["Type"]
        if kind == "Succeed":
            execution.status, execution.output = "SUCCEEDED", data
            return execution
        if kind == "Fail":
            execution.status, execution.error = "FAILED", state.get("Error")
            return execution
        if kind == "Choice":
            name = _choose(state, data)
            continue
        if kind == "Wait":
            name = state["Next"]
            continue
        if kind == "Pass":
            data = _put(data, state.get("ResultPath", "$"), state.get("Result", data))
        elif kind == "Task":
            waits = state["Resource"].endswith(".waitForTaskToken")
            assert callback is not None or not waits, "no callback: approvals are not interpreted"
            try:
                data = _task(state, data, context, invoke, execution, name, callback if waits else None)
            except States as error:
                catcher = next((c for c in state.get("Catch", []) if _catches(c, error.name)), None)
                if catcher is None:
                    execution.status, execution.error = "FAILED", error.name
                    return execution
                data = _put(data, catcher.get("ResultPath", "$"), {"Error": error.name, "Cause": error.cause})
                name = catcher["Next"]
                continue
        else:
            raise AssertionError(f"unsupported state type {kind}")
        if on_state:
            on_state(name, data)
        if state.get("End"):
            execution.status, execution.output = "SUCCEEDED", data
            return execution
        name = state["Next"]
    raise AssertionError(f"no end after {max_steps} states: {execution.path}")


def _task(
    state: dict[str, Any],
    data: dict[str, Any],
    context: dict[str, Any],
    invoke: Invoke,
    execution: Execution,
    name: str,
    callback: Callback | None = None,
) -> dict[str, Any]:
    payload = _resolve(state["Parameters"], data, context)["Payload"]
    tries: dict[int, int] = {}
    while True:
        execution.attempts[name] = execution.attempts.get(name, 0) + 1
        try:
            result = json.loads(json.dumps(invoke(payload)))  # what Lambda would serialise
            break
        except BaseException as error:  # Lambda reports whatever ended the function
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            error_name = str(getattr(error, "error_type", type(error).__name__))
            cause = json.dumps({"errorType": error_name, "errorMessage": str(error)})
            retrier = next(
                (i for i, r in enumerate(state.get("Retry", [])) if error_name in r["ErrorEquals"]), None
            )
            if retrier is not None and tries.get(retrier, 0) < state["Retry"][retrier]["MaxAttempts"]:
                tries[retrier] = tries.get(retrier, 0) + 1
                continue
            raise States(error_name, cause) from error
    if callback is not None:  # the Lambda's own result is not the state's: SendTaskSuccess's is
        return _put(data, state.get("ResultPath", "$"), json.loads(json.dumps(callback(name, payload))))
    shaped: Any = {"Payload": result}
    if "ResultSelector" in state:
        shaped = _resolve(state["ResultSelector"], shaped, context)
    return _put(data, state.get("ResultPath", "$"), shaped)
