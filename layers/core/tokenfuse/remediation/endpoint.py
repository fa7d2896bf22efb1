"""Wiring of the approve endpoint's domain objects from its environment (the handler stays thin)."""

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from tokenfuse import clock, incidents
from tokenfuse.adapters.anomaly_feedback import AnomalyFeedback
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import assume_role_session, client
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.stepfunctions import TaskCallbacks
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation.approvals import ApprovalDesk, DecisionReply
from tokenfuse.remediation.channels import SlackResponder, secret_text
from tokenfuse.remediation.directory import owner
from tokenfuse.remediation.interactions import EmailLinks, FeedbackHook, RestoreHook, SlackInteractions
from tokenfuse.remediation.settings import ApproveSettings
from tokenfuse.remediation.tasks import get_secret
from tokenfuse.teams import TeamDirectory, deployed_directory


def _now_epoch() -> float:
    return clock.now().timestamp()


def feedback_hook(settings: ApproveSettings) -> FeedbackHook | None:
    """CAD feedback from the alert's buttons: ``ce:ProvideAnomalyFeedback`` for every anomaly of the
    incident (through the management account's role when set); ``planned`` also marks the incident
    planned so it stays quiet."""
    if not settings.incidents_table_name:
        return None
    table_name = settings.incidents_table_name

    def hook(incident_id: str, choice: str, actor: str) -> str:
        table = IncidentsTable(table_name)
        found = table.get(incident_id)
        if found is None:
            return "This incident is unknown. Nothing was changed."
        incident, _ = found
        session = assume_role_session(settings.budgets_role_arn) if settings.budgets_role_arn else None
        sent = AnomalyFeedback(session=session).provide_choice(list(incident.anomaly_ids), choice)
        if choice == "planned":
            incidents.mark_planned(table, incident_id, f"planned activity (<@{actor}>)", clock.now())
        if not sent:
            return f"Noted '{choice}'. No Cost Anomaly Detection anomaly is linked to this incident yet."
        return f"Thanks <@{actor}>: sent '{choice}' to Cost Anomaly Detection for {len(sent)} anomaly(ies)."

    return hook


def restore_hook(settings: ApproveSettings, lambda_client: Any | None = None) -> RestoreHook | None:
    """A Restore click on a detached profile: the owning team's approvers (FinOps's for untagged or
    unknown owners) may lift the trip. The restore itself runs in the remediate function (which holds
    the guard-SCP and member-role permissions), invoked asynchronously so Slack hears back at once."""
    if not settings.remediate_function_name:
        return None
    function_name = settings.remediate_function_name

    def hook(profile_arn: str, user_id: str) -> DecisionReply:
        trip = ApprovalsTable(settings.approvals_table_name).get_trip(profile_arn)
        if trip is None:
            return DecisionReply(200, "This profile has no active trip: nothing to restore.")
        directory = (
            deployed_directory(settings.team_directory_parameter)
            if settings.team_directory_parameter
            else TeamDirectory()
        )
        if user_id not in owner(directory, trip.get("team")).approver_slack_ids:
            refusal = "Only an on-call approver of the owning team can restore it. Nothing was changed."
            return DecisionReply(403, refusal)
        payload = {"task": "restore-profiles", "profile_arn": profile_arn, "actor": f"slack:{user_id}"}
        (lambda_client or client("lambda")).invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        return DecisionReply(200, f"Restoring {profile_arn.rsplit('/', 1)[-1]} for <@{user_id}>: "
                                  "the result follows in this thread.", changed=True)  # fmt: skip

    return hook


class Endpoint:
    def __init__(self, settings: ApproveSettings, now_epoch: Callable[[], float] = _now_epoch) -> None:
        self.settings = settings
        self.desk = ApprovalDesk(
            ApprovalsTable(settings.approvals_table_name),
            TaskCallbacks(client("stepfunctions")),
            now=clock.now,
        )
        self.slack = SlackInteractions(
            self._signing_secret,
            self.desk,
            SlackResponder(base_url=settings.slack_api_base_url),
            feedback_hook(settings),
            now_epoch=now_epoch,
            restore=restore_hook(settings),
        )
        self.email = EmailLinks(self._link_key, self.desk, now_epoch)

    def _signing_secret(self) -> str:
        if not self.settings.slack_signing_secret_arn:
            raise TokenfuseError("SLACK_SIGNING_SECRET_ARN is not set")
        return secret_text(
            get_secret(self.settings.slack_signing_secret_arn), "signing_secret", "SLACK_SIGNING_SECRET"
        )

    def _link_key(self) -> bytes:
        if not self.settings.email_link_key_secret_arn:
            raise TokenfuseError("EMAIL_LINK_KEY_SECRET_ARN is not set")
        return secret_text(get_secret(self.settings.email_link_key_secret_arn), "key").encode()


@cache
def endpoint(settings: ApproveSettings) -> Endpoint:
    return Endpoint(settings)
