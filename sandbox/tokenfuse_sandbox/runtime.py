"""Emulation: in-process Lambda execution (moto runs Lambda code only in Docker).

Each function's handler is loaded from its CodeUri under a unique module name and called with a
Lambda-like context while the process environment holds the function's resolved environment.
Invocations are serialized by one re-entrant lock and recorded (event, result or error, and the
events the invocation put on EventBridge)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from tokenfuse_sandbox.template import TemplateError

Handler = Callable[[Any, Any], Any]
"""A Lambda handler: (event, context) -> result, each of them JSON of any shape."""


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int = 3
    memory: int = 128
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    function_url: dict[str, Any] | None = None


@dataclass
class Invocation:
    function: str
    event: Any
    trigger: str
    request_id: str
    started_at: str
    result: Any = None
    error: dict[str, Any] | None = None
    bus_events: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "trigger": self.trigger,
            "request_id": self.request_id,
            "started_at": self.started_at,
            "event": self.event,
            "result": self.result,
            "error": self.error,
            "bus_events": self.bus_events,
            "duration_ms": round(self.duration_ms, 1),
        }


class HandlerError(Exception):
    """A handler raised: carries the Lambda-style error payload."""

    def __init__(self, invocation: Invocation, original: BaseException) -> None:
        self.invocation = invocation
        self.original = original
        error = invocation.error or {}
        super().__init__(f"{invocation.function}: {error.get('errorType')}: {error.get('errorMessage')}")


class LambdaContext:
    """What Lambda passes as ``context`` (the attributes Powertools and handlers use)."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Runtime:
    def __init__(self, base_env: dict[str, str] | None = None) -> None:
        self.functions: dict[str, FunctionSpec] = {}
        self.by_name: dict[str, str] = {}
        self.handlers: dict[str, Handler] = {}
        self.invocations: list[Invocation] = []
        self.lock = threading.RLock()
        self.base_env = dict(base_env or {})
        self._current = threading.local()
        self.before_invoke: list[Callable[[FunctionSpec], None]] = []
        self.closed = False  # set when the sandbox stops: a late call (a lingering thread) is refused

    # -- registry -------------------------------------------------------------------------------
    def register(self, spec: FunctionSpec, *, by_arn_only: bool = False) -> None:
        """``by_arn_only``: a function of another account or region (a member stack's), whose name
        alone would be the tooling account's function of that name."""
        self.functions[spec.logical_id] = spec
        if not by_arn_only:
            self.by_name[spec.name] = spec.logical_id
        self.by_name[spec.arn] = spec.logical_id
        self.by_name[spec.logical_id] = spec.logical_id

    def logical_id(self, name_or_arn: str) -> str | None:
        """Function name, ARN (optionally qualified) or logical id -> logical id."""
        if name_or_arn in self.by_name:
            return self.by_name[name_or_arn]
        if name_or_arn.startswith("arn:"):
            unqualified = ":".join(name_or_arn.split(":")[:7])
            if unqualified in self.by_name:
                return self.by_name[unqualified]
            parts = name_or_arn.split(":")
            if len(parts) >= 7:
                return self.by_name.get(parts[6])
        return self.by_name.get(name_or_arn.split(":", maxsplit=1)[0])

    # -- environment ----------------------------------------------------------------------------
    def env_for(self, spec: FunctionSpec) -> dict[str, str]:
        return {
            **self.base_env,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "POWERTOOLS_TRACE_DISABLED": "true",  # emulation: no X-Ray daemon in the sandbox
            **spec.environment,
        }

    @contextlib.contextmanager
    def function_env(self, spec: FunctionSpec) -> Iterator[None]:
        with self.lock:
            saved = dict(os.environ)
            os.environ.update(self.env_for(spec))
            try:
                yield
            finally:
                os.environ.clear()
                os.environ.update(saved)

    # -- loading --------------------------------------------------------------------------------
    def load(self, logical_id: str) -> Handler:
        if logical_id in self.handlers:
            return self.handlers[logical_id]
        spec = self.functions[logical_id]
        module_path, _, attr = spec.handler.rpartition(".")
        if not module_path or not attr:
            raise TemplateError(f"Resources.{logical_id}.Handler: {spec.handler!r} is not module.function")
        file = spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
        if not file.is_file():
            raise TemplateError(
                f"Resources.{logical_id}.Handler: {spec.handler!r} needs {file}, which does not exist"
            )
        module_name = f"tokenfuse_sandbox_fn_{logical_id}_{module_path.replace('.', '_')}"
        with self.function_env(spec):
            module = _import_file(module_name, file, spec.code_dir)
        handler: Handler | None = getattr(module, attr, None)
        if not callable(handler):
            raise TemplateError(
                f"Resources.{logical_id}.Handler: {file.name} has no callable {attr!r} ({spec.handler!r})"
            )
        self.handlers[logical_id] = handler
        return handler

    # -- invoking -------------------------------------------------------------------------------
    @property
    def current(self) -> Invocation | None:
        stack = getattr(self._current, "stack", None)
        return stack[-1] if stack else None

    def invoke(
        self, logical_id: str, event: Any, trigger: str = "direct", raise_errors: bool = False
    ) -> Invocation:
        spec = self.functions.get(logical_id)
        if spec is None:
            lid = self.logical_id(logical_id)
            if lid is None:
                raise KeyError(f"no function {logical_id!r} in the template")
            spec = self.functions[lid]
        if self.closed:
            raise RuntimeError(f"the sandbox has stopped: {spec.logical_id} was not invoked")
        handler = self.load(spec.logical_id)
        request_id = str(uuid.uuid4())
        inv = Invocation(
            function=spec.logical_id,
            event=event,
            trigger=trigger,
            request_id=request_id,
            started_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )
        error: BaseException | None = None
        with self.function_env(spec):
            for hook in self.before_invoke:
                hook(spec)
            stack = self._current.__dict__.setdefault("stack", [])
            stack.append(inv)
            started = time.monotonic()
            context = LambdaContext(spec, request_id, started + spec.timeout)
            try:
                inv.result = handler(event, context)
            except Exception as exc:
                error = exc
                inv.error = {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-6:],
                }
            finally:
                inv.duration_ms = (time.monotonic() - started) * 1000
                stack.pop()
                self.invocations.append(inv)
        if error is not None and raise_errors:
            raise HandlerError(inv, error) from error
        return inv


def _import_file(module_name: str, file: Path, code_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(code_dir))
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        raise TemplateError(f"{file}: import failed: {type(error).__name__}: {error}") from error
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(code_dir))
    return module
