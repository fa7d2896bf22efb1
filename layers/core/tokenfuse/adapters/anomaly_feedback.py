"""Cost Anomaly Detection feedback (``ce:ProvideAnomalyFeedback``) from the alert's buttons.

The anomalies live in the management (payer) account: pass a session assumed into its role
(stack parameter BudgetsRoleArn) when tokenfuse runs in a delegated account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tokenfuse.adapters.aws import aws_call, client

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_ce import CostExplorerClient

Feedback = Literal["YES", "NO", "PLANNED_ACTIVITY"]
CHOICES: dict[str, Feedback] = {"accurate": "YES", "false-positive": "NO", "planned": "PLANNED_ACTIVITY"}
"""The alert buttons' choices and the feedback each sends."""


class AnomalyFeedback:
    def __init__(
        self, ce_client: CostExplorerClient | None = None, session: boto3.Session | None = None
    ) -> None:
        self._client = ce_client
        self._session = session

    @property
    def client(self) -> CostExplorerClient:
        if self._client is None:
            self._client = client("ce", region="us-east-1", session=self._session)  # CE's one endpoint
        return self._client

    def provide(self, anomaly_id: str, feedback: Feedback) -> None:
        with aws_call("ce:ProvideAnomalyFeedback", resource=anomaly_id):
            self.client.provide_anomaly_feedback(AnomalyId=anomaly_id, Feedback=feedback)

    def provide_choice(self, anomaly_ids: list[str], choice: str) -> list[str]:
        """Send the button's choice for every anomaly of an incident; the ids it was sent for."""
        feedback = CHOICES[choice]
        for anomaly_id in anomaly_ids:
            self.provide(anomaly_id, feedback)
        return list(anomaly_ids)
