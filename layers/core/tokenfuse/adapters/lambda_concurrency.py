"""Reserved concurrency of caller Lambda functions (a throttle caps it; restore puts back the prior
value, or removes the reservation when there was none)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaConcurrency:
    def __init__(self, lambda_client: LambdaClient) -> None:
        self.client = lambda_client

    def exists(self, function_name: str) -> bool:
        try:
            with aws_call("lambda:GetFunctionConfiguration", resource=function_name):
                self.client.get_function_configuration(FunctionName=function_name)
        except NotFound:
            return False
        return True

    def role_name(self, function_name: str) -> str | None:
        """The name of the function's execution role."""
        with aws_call("lambda:GetFunctionConfiguration", resource=function_name):
            role = self.client.get_function_configuration(FunctionName=function_name).get("Role")
        return str(role).rsplit("/", 1)[-1] if role else None

    def get(self, function_name: str) -> int | None:
        """The function's reserved concurrency, or None when it has no reservation."""
        with aws_call("lambda:GetFunctionConcurrency", resource=function_name):
            response = self.client.get_function_concurrency(FunctionName=function_name)
        value = response.get("ReservedConcurrentExecutions")
        return None if value is None else int(value)

    def put(self, function_name: str, value: int) -> None:
        with aws_call("lambda:PutFunctionConcurrency", resource=function_name):
            self.client.put_function_concurrency(
                FunctionName=function_name, ReservedConcurrentExecutions=value
            )

    def delete(self, function_name: str) -> None:
        with aws_call("lambda:DeleteFunctionConcurrency", resource=function_name):
            self.client.delete_function_concurrency(FunctionName=function_name)
