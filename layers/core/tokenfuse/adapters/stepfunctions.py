"""Resuming a waiting ``.waitForTaskToken`` task."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class TaskNoLongerWaiting(AwsError):
    """The task timed out, finished, or its execution stopped: the click came too late."""


_GONE: dict[str, type[AwsError]] = dict.fromkeys(
    ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"), TaskNoLongerWaiting
)


class TaskCallbacks:
    def __init__(self, stepfunctions: SFNClient) -> None:
        self.client = stepfunctions

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        with aws_call("states:SendTaskSuccess", codes=_GONE):
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))

    def fail(self, task_token: str, error_name: str, cause: str) -> None:
        with aws_call("states:SendTaskFailure", codes=_GONE):
            self.client.send_task_failure(taskToken=task_token, error=error_name[:256], cause=cause[:32768])
