"""Resuming a waiting ``.waitForTaskToken`` task."""

import json
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate
from tokenfuse.errors import TokenfuseError

_GONE = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class TaskNoLongerWaiting(TokenfuseError):
    """The task timed out, finished, or its execution stopped: the click came too late."""


class TaskCallbacks:
    def __init__(self, stepfunctions: Any) -> None:
        self.client = stepfunctions

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _GONE:
                raise TaskNoLongerWaiting(str(error)) from error
            raise translate(error) from error

    def fail(self, task_token: str, error_name: str, cause: str) -> None:
        try:
            self.client.send_task_failure(taskToken=task_token, error=error_name[:256], cause=cause[:32768])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _GONE:
                raise TaskNoLongerWaiting(str(error)) from error
            raise translate(error) from error
