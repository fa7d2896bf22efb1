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
  (``moto_patches.retry_on_clock``) so ``IntervalSeconds`` / ``BackoffRate`` cost no wall time; with
  the simulated clock they advance it instead.
- A Wait state sleeps in ``WaitFunction._wait_interval`` (the clock emulation takes it over).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef


def execution_path(sfn: SFNClient, execution_arn: str) -> list[str]:
    """The states an execution entered, in order (from its history)."""
    events: list[HistoryEventTypeDef] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in events
        if e["type"].endswith("StateEntered") and "stateEnteredEventDetails" in e
    ]
