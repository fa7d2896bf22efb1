"""Step Functions in the sandbox: moto's interpreter runs the real ASL; this module adds what the
sandbox needs around it.

Facts about moto 5.2.5's interpreter (checked in its source):

- ``lambda:invoke`` tasks call ``lambda.Invoke`` through boto3, which reaches
  ``LambdaSimpleBackend.invoke`` (the sandbox runs the handler there). A response with the
  ``X-Amz-Function-Error`` header raises ``LambdaFunctionErrorException``; the state's error name is
  the payload's ``errorType`` (so a handler raising ``TransientAwsError`` is caught by
  ``"ErrorEquals": ["TransientAwsError"]``), the cause is the payload JSON.
- ``.waitForTaskToken`` waits on a ``threading.Event`` of the callback endpoint for the state's
  ``TimeoutSeconds`` / ``TimeoutSecondsPath`` in real seconds (default 99999999); SendTaskSuccess /
  SendTaskFailure notify it from any thread. A time-out raises ``States.Timeout``.
- Retry intervals are a plain ``time.sleep`` in ``retrier_decl.py``: the sandbox takes it over
  (:func:`patch_retry_intervals`) so ``IntervalSeconds`` / ``BackoffRate`` cost no wall time; with
  the simulated clock they advance it instead.
- A Wait state sleeps in ``WaitFunction._wait_interval`` (the clock emulation takes it over).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any


def patch_retry_intervals(clock: Any | None) -> Callable[[], None]:
    """Retry intervals advance the simulated clock (or pass at once without one)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    original = retrier_decl.time

    def sleep(seconds: float) -> None:
        if clock is not None and seconds > 0:
            clock.advance(seconds)

    proxy = types.SimpleNamespace(
        **{k: getattr(original, k) for k in dir(original) if not k.startswith("__")}
    )
    proxy.sleep = sleep
    retrier_decl.time = proxy  # type: ignore[assignment]

    def undo() -> None:
        retrier_decl.time = original

    return undo


def execution_path(sfn: Any, execution_arn: str) -> list[str]:
    """The states an execution entered, in order (from its history)."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            break
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in events
        if e.get("type", "").endswith("StateEntered") and "stateEnteredEventDetails" in e
    ]
