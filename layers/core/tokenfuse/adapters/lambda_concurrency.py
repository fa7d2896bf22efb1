"""Reserved concurrency of caller Lambda functions (a throttle caps it; restore puts back the prior
value, or removes the reservation when there was none)."""

from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import AWS_ERRORS, translate


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class LambdaConcurrency:
    def __init__(self, lambda_client: Any) -> None:
        self.client = lambda_client

    def exists(self, function_name: str) -> bool:
        try:
            self.client.get_function_configuration(FunctionName=function_name)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise translate(error) from error
        except AWS_ERRORS as error:
            raise translate(error) from error
        return True

    def role_name(self, function_name: str) -> str | None:
        """The name of the function's execution role."""
        try:
            role = self.client.get_function_configuration(FunctionName=function_name).get("Role")
        except AWS_ERRORS as error:
            raise translate(error) from error
        return str(role).rsplit("/", 1)[-1] if role else None

    def get(self, function_name: str) -> int | None:
        """The function's reserved concurrency, or None when it has no reservation."""
        try:
            response = self.client.get_function_concurrency(FunctionName=function_name)
        except AWS_ERRORS as error:
            raise translate(error) from error
        value = response.get("ReservedConcurrentExecutions")
        return None if value is None else int(value)

    def put(self, function_name: str, value: int) -> None:
        try:
            self.client.put_function_concurrency(
                FunctionName=function_name, ReservedConcurrentExecutions=value
            )
        except AWS_ERRORS as error:
            raise translate(error) from error

    def delete(self, function_name: str) -> None:
        try:
            self.client.delete_function_concurrency(FunctionName=function_name)
        except AWS_ERRORS as error:
            raise translate(error) from error
