"""Starting the remediation state machine for a new incident (one named execution per incident)."""

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import client, translate
from tokenfuse.events import Incident


def execution_name(incident_id: str) -> str:
    """``inc-`` + 40 hex of sha256(incident id): 44 characters, no ``:`` or ``/``, stable per incident."""
    return "inc-" + hashlib.sha256(incident_id.encode()).hexdigest()[:40]


class RemediationStarter:
    def __init__(self, state_machine_arn: str, sfn_client: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = sfn_client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client("stepfunctions")
        return self._client

    def start(self, incident: Incident) -> str | None:
        """Start the incident's execution; its ARN, or None when it was already started."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=execution_name(incident.incident_id),
                input=json.dumps({"incident": incident.to_bus()}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return None
            raise translate(error) from error
        return str(response["executionArn"])
