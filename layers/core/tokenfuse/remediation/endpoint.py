"""Wiring of the approve endpoint's domain objects from its environment (the handler stays thin)."""

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, GetSecretError

from tokenfuse import clock
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import (
    assume_role_session,
    aws_call,
    client,
    get_secret,
)
from tokenfuse.adapters.stepfunctions import TaskCallbacks
from tokenfuse.composition import composition_root
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import correlate, logger
from tokenfuse.remediation import messages
from tokenfuse.remediation.channels import SlackResponder
from tokenfuse.remediation.contracts import RestoreProfilesTask
from tokenfuse.remediation.decisions import ApprovalDesk, ApproverOf, DecisionReply
from tokenfuse.remediation.directory import owner
from tokenfuse.remediation.email_links import EmailLinks
from tokenfuse.remediation.interactions import (
    EndpointMisconfigured,
    FeedbackHook,
    RestoreHook,
    SlackInteractions,
)
from tokenfuse.remediation.refusals import Refusals, printable
from tokenfuse.remediation.settings import ApproveSettings
from tokenfuse.teams import FINOPS, TeamDirectory, deployed_directory
from tokenfuse.text import secret_value

if TYPE_CHECKING:
    from tokenfuse.adapters.anomaly_feedback import AnomalyFeedback


def _now_epoch() -> float:
    return clock.now().timestamp()


def team_directory(settings: ApproveSettings) -> TeamDirectory:
    """The deployed directory (cached by Powertools), or an empty one where none is configured.
    An SSM failure becomes a :class:`TokenfuseError`, so a click hears "try again"."""
    if not settings.team_directory_parameter:
        return TeamDirectory()
    try:
        return deployed_directory(settings.team_directory_parameter)
    except GetParameterError as error:
        raise TokenfuseError(f"the team directory cannot be read: {error}") from error


def approver_of(settings: ApproveSettings) -> ApproverOf | None:
    """Which teams list a Slack user id or email among their on-call approvers (for the audit of a
    refused click). Only asked on a refusal; an unreadable directory answers "none"."""
    if not settings.team_directory_parameter:
        return None

    def teams_of(actor: str) -> list[str]:
        try:
            directory = team_directory(settings)
        except TokenfuseError as error:
            logger.warning(f"approver teams unknown: {printable(error, 300)}")
            return []
        rosters = [(t.name, t.approvers) for t in directory.teams] + [(FINOPS, directory.finops.approvers)]
        return [
            name
            for name, approvers in rosters
            if any(actor in (a.slack_user_id, (a.email or "").lower()) for a in approvers)
        ]

    return teams_of


def feedback_hook(settings: ApproveSettings) -> FeedbackHook | None:
    """CAD feedback from the alert's buttons (:func:`tokenfuse.alerts.feedback.apply_feedback`):
    ``ce:ProvideAnomalyFeedback`` for every anomaly of the incident (through the management
    account's role when set); ``planned``, from an on-call approver only, also marks the incident
    planned so it stays quiet. A refusal is audited like an approval's."""
    if not settings.incidents_table_name:
        return None
    table_name = settings.incidents_table_name

    def anomaly_feedback() -> "AnomalyFeedback":
        from tokenfuse.adapters.anomaly_feedback import AnomalyFeedback

        session = assume_role_session(settings.budgets_role_arn) if settings.budgets_role_arn else None
        return AnomalyFeedback(session=session)

    def hook(incident_id: str, choice: str, actor: str) -> DecisionReply:
        # the incidents (their models, the alert's view) are imported by the first feedback click
        from tokenfuse.adapters.incidents_table import IncidentsTable
        from tokenfuse.alerts.feedback import apply_feedback

        about = {"incident_id": incident_id}
        result = apply_feedback(
            incident_id,
            choice,
            actor,
            table=IncidentsTable(table_name),
            feedback=anomaly_feedback,
            directory=lambda: team_directory(settings),
            planned_note=messages.planned_by(actor),
            now=clock.now(),
        )
        if result.incident is not None:
            dedup_keys = result.incident.dedup_keys
            correlate(dedup_keys[0] if dedup_keys else None, incident_id=incident_id)
        match result.outcome:
            case "unknown-incident":
                return DecisionReply(200, messages.UNKNOWN_INCIDENT, refused="unknown-incident", about=about)
            case "not-an-approver":
                team = owner(team_directory(settings), result.team).name
                text = messages.only_team_approvers(team)
                return DecisionReply(403, text, refused="not-an-approver", about={**about, "team": team})
        text = messages.feedback_sent(choice, actor, len(result.anomaly_ids))
        return DecisionReply(200, text, changed=True, about=about)

    return hook


def restore_hook(settings: ApproveSettings, lambda_client: Any | None = None) -> RestoreHook | None:
    """A Restore click on a detached profile: the owning team's approvers (FinOps's for untagged or
    unknown owners) may lift the trip. The restore itself runs in the remediate function (which holds
    the guard-SCP and member-role permissions), invoked asynchronously so Slack hears back at once."""
    if not settings.remediate_function_name:
        return None
    function_name = settings.remediate_function_name

    def hook(profile_arn: str, user_id: str) -> DecisionReply:
        about = {"profile_arn": profile_arn}
        trip = ApprovalsTable(settings.approvals_table_name).get_trip(profile_arn)
        if trip is None:
            return DecisionReply(200, messages.NOTHING_TO_RESTORE, refused="no-active-trip", about=about)
        correlate(trip.get("correlation_id"), incident_id=trip.get("incident_id"))
        team = owner(team_directory(settings), trip.get("team"))
        about["team"] = team.name
        if user_id not in team.approver_slack_ids:
            refusal = messages.ONLY_TEAM_RESTORES
            return DecisionReply(403, refusal, refused="not-an-approver", about=about)
        payload = RestoreProfilesTask(
            task="restore-profiles", profile_arn=profile_arn, actor=f"slack:{user_id}"
        ).model_dump_json(exclude_defaults=True)
        with aws_call("lambda:InvokeFunction", resource=function_name):
            (lambda_client or client("lambda")).invoke(
                FunctionName=function_name, InvocationType="Event", Payload=payload.encode()
            )
        return DecisionReply(200, messages.restoring(profile_arn, user_id), changed=True, about=about)

    return hook


class _Callbacks:
    """Step Functions' task callbacks, its client created with the first decision that resumes an
    execution (a refused or stale click never needs it)."""

    @cached_property
    def _callbacks(self) -> TaskCallbacks:
        return TaskCallbacks(client("stepfunctions"))

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        self._callbacks.succeed(task_token, output)


class Endpoint:
    def __init__(self, settings: ApproveSettings, now_epoch: Callable[[], float] = _now_epoch) -> None:
        self.settings = settings
        table = ApprovalsTable(settings.approvals_table_name)
        self.desk = ApprovalDesk(table, _Callbacks(), now=clock.now, approver_of=approver_of(settings))
        refusals = Refusals(table, now=clock.now)
        self.slack = SlackInteractions(
            self._signing_secret,
            self.desk,
            refusals,
            responder=SlackResponder(base_url=settings.slack_api_base_url),
            feedback=feedback_hook(settings),
            restore=restore_hook(settings),
            now_epoch=now_epoch,
        )
        self.email = EmailLinks(self._link_key, self.desk, refusals, now_epoch)

    def _signing_secret(self) -> str:
        arn = self.settings.slack_signing_secret_arn
        return _secret(arn, "SLACK_SIGNING_SECRET_ARN", "signing_secret", "SLACK_SIGNING_SECRET")

    def _link_key(self) -> bytes:
        return _secret(self.settings.email_link_key_secret_arn, "EMAIL_LINK_KEY_SECRET_ARN", "key").encode()


def _secret(arn: str | None, variable: str, *keys: str) -> str:
    """A secret's text (Powertools, cached), or :class:`EndpointMisconfigured` naming what is wrong."""
    if not arn:
        raise EndpointMisconfigured(f"{variable} is not set")
    try:
        raw = get_secret(arn)
    except (GetParameterError, GetSecretError, TokenfuseError) as error:
        raise EndpointMisconfigured(f"the secret in {variable} cannot be loaded: {error}") from error
    try:
        text = secret_value(raw, *keys)
    except ValueError as error:
        raise EndpointMisconfigured(f"the secret in {variable} {error}") from None
    if not text:
        raise EndpointMisconfigured(f"the secret in {variable} is empty")
    return text


@composition_root
def dependencies(settings: ApproveSettings) -> Endpoint:
    """ApproveFunction's composition root (:mod:`tokenfuse.composition`). Nothing it holds outlives
    what it may: the directory and the secrets are read per request (Powertools' max-age cache), and
    the management-account session of a CAD feedback click per click."""
    return Endpoint(settings)
