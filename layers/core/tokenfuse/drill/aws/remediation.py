"""The deployed remediation, as the drill uses it: its state machine trips, its function restores."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse.adapters.aws import aws_call
from tokenfuse.drill.ports import RestoreOutcome, TripOutcome
from tokenfuse.drill.report import said
from tokenfuse.errors import TokenfuseError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

POLL_SECONDS = 2.0


class _Restored(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    profile_arn: str
    restored: bool
    note: str | None = None


class _RestoreAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    results: list[_Restored] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)


class DeployedRemediation:
    """:class:`~tokenfuse.drill.ports.RemediationPort`: ``StartExecution`` of the remediation state
    machine (polled with ``DescribeExecution`` in real seconds: an execution runs on AWS's clock),
    and ``Invoke`` of RemediateFunction with the ``restore-profiles`` task ``tokenfuse restore`` sends."""

    def __init__(
        self,
        stepfunctions: SFNClient,
        lambda_client: LambdaClient,
        state_machine_arn: str,
        remediate_function: str,
        *,
        on_wait: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sfn = stepfunctions
        self.lam = lambda_client
        self.state_machine_arn = state_machine_arn
        self.remediate_function = remediate_function
        self.on_wait = on_wait
        self.sleep = sleep
        self.monotonic = monotonic

    def trip(self, incident: Mapping[str, Any], execution_name: str, wait_seconds: float) -> TripOutcome:
        with aws_call("states:StartExecution", resource=self.state_machine_arn):
            arn = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=execution_name, input=json.dumps(incident)
            )["executionArn"]
        deadline = self.monotonic() + wait_seconds
        while True:
            with aws_call("states:DescribeExecution", resource=arn):
                described = self.sfn.describe_execution(executionArn=arn)
            status = str(described.get("status"))
            if status != "RUNNING" or self.monotonic() >= deadline:
                break
            if self.on_wait is not None:
                self.on_wait()
            self.sleep(POLL_SECONDS)
        output = _json(described.get("output"))
        trip = ((output or {}).get("tripped") or {}).get("trip")
        failure = None
        if status != "SUCCEEDED":
            failure = said(f"{described.get('error') or ''} {described.get('cause') or ''}") or None
        return TripOutcome(execution=arn.rsplit(":", 1)[-1], status=status, trip=trip, error=failure)

    def restore(self, profile_arn: str, actor: str) -> RestoreOutcome:
        payload = {"task": "restore-profiles", "profile_arn": profile_arn, "all": False, "actor": actor}
        with aws_call("lambda:InvokeFunction", resource=self.remediate_function):
            response = self.lam.invoke(
                FunctionName=self.remediate_function, Payload=json.dumps(payload).encode()
            )
            raw = response["Payload"].read()  # the stream is read off the same connection
        body = _json(raw)
        if response.get("FunctionError"):
            refused = said(f"{(body or {}).get('errorType')}: {(body or {}).get('errorMessage')}")
            return RestoreOutcome(restored=False, note=refused, failed=(refused,))
        try:
            answer = _RestoreAnswer.model_validate(body)
        except ValidationError as error:
            raise TokenfuseError(f"RemediateFunction's restore answer: {error.errors()[0]['msg']}") from None
        mine = [r for r in answer.results if r.profile_arn == profile_arn]
        restored = any(r.restored for r in mine)
        note = "; ".join(r.note or "" for r in mine) or "; ".join(answer.failed) or "no answer for the canary"
        return RestoreOutcome(restored=restored, note=note, failed=tuple(answer.failed))


def _json(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
