"""Starting the remediation state machine for a new incident (one named execution per incident)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call, client
from tokenfuse.errors import AwsError
from tokenfuse.events import Incident

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_name(incident_id: str) -> str:
    """``inc-`` + 40 hex of sha256(incident id): 44 characters, no ``:`` or ``/``, stable per incident."""
    return "inc-" + hashlib.sha256(incident_id.encode()).hexdigest()[:40]


class RemediationStarter:
    def __init__(self, state_machine_arn: str, sfn_client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = sfn_client

    @property
    def client(self) -> SFNClient:
        if self._client is None:
            self._client = client("stepfunctions")
        return self._client

    def start(self, incident: Incident) -> str | None:
        """Start the incident's execution; its ARN, or None when it was already started."""
        name = execution_name(incident.incident_id)
        try:
            with aws_call("states:StartExecution", resource=name):
                response = self.client.start_execution(
                    stateMachineArn=self.state_machine_arn,
                    name=name,
                    input=json.dumps({"incident": incident.to_bus()}),
                )
        except AwsError as error:
            if error.code == "ExecutionAlreadyExists":
                return None
            raise
        return str(response["executionArn"])
