"""From an attributed spike to the owning team's alert, one incident per culprit profile.

For each culprit: route (team or FinOps) -> open or join the incident -> post or update its Slack
thread (or email) -> for a new incident, start the remediation execution and put IncidentOpened on
the bus. Every step is resumable: a retried invoke finishes what an earlier one left undone
(``announced``, ``remediation_started`` on the incident) and never posts twice. When Slack fails,
the alert goes by email and to the FinOps channel; when nothing could take it, this raises, so the
asynchronous invoke retries and then the dead-letter queue keeps the event.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from html import escape
from typing import Any, Literal, Protocol

from pydantic import Field

from tokenfuse import clock, incidents
from tokenfuse.adapters.email import EmailMessage, EmailSender
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.slack import SlackDeliveryError, SlackMessage, SlackSender
from tokenfuse.alerts.email_render import render_email, render_update_email
from tokenfuse.alerts.slack_render import (
    digest_line,
    render_alert,
    render_digest,
    render_non_compliant,
    render_signal_reply,
    render_unattributed,
)
from tokenfuse.alerts.view import AlertView, default_links
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import BusModel, Culprit, Incident, IncidentOpened, ProfileNonCompliant, SpikeAttributed
from tokenfuse.observability import logger
from tokenfuse.teams import PlannedWindow, Route, TeamDirectory

WORKSPACE_ERRORS = frozenset(
    {"no_token", "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
"""Slack errors after which no channel of the workspace will work: skip the FinOps channel too."""


class AlertNotDelivered(TokenfuseError):
    """Neither Slack nor email nor the FinOps channel took the alert: the invoke must fail (retry, DLQ)."""


class CulpritSignal(BusModel):
    """The unit of idempotency: one signal (by dedup key) about one culprit (``profile_arn`` holds
    its key: the profile ARN, or ``direct-model/<account>/<region>/<model>``)."""

    dedup_key: str
    profile_arn: str
    spike: SpikeAttributed
    culprit_index: int = Field(ge=0)


@dataclass
class Message:
    """One message sent (the summary lists them; the sandbox's demo shows them)."""

    channel: str
    """A Slack channel id, or ``email``."""
    team: str
    text: str
    thread_of: str | None = None
    kind: Literal["post", "update", "reply", "email"] = "post"

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "team": self.team,
            "text": self.text,
            "thread_of": self.thread_of,
            "kind": self.kind,
        }


@dataclass
class CulpritResult:
    incident_id: str
    outcome: str
    team: str
    messages: list[Message] = field(default_factory=list)
    fallback: str | None = None
    execution_started: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "outcome": self.outcome,
            "team": self.team,
            "messages": [m.as_dict() for m in self.messages],
            "fallback": self.fallback,
            "execution_started": self.execution_started,
        }


class RemediationPort(Protocol):
    def start(self, incident: Incident) -> str | None: ...


class BusPort(Protocol):
    def put(self, *events: BusModel) -> None: ...


Idempotent = Callable[[Callable[..., dict[str, Any]], CulpritSignal], dict[str, Any]]


def _not_idempotent(function: Callable[..., dict[str, Any]], item: CulpritSignal) -> dict[str, Any]:
    return function(item=item)


class AlertService:
    def __init__(
        self,
        *,
        directory: TeamDirectory,
        table: IncidentsTable,
        slack: SlackSender | None,
        email: EmailSender,
        remediation: RemediationPort | None = None,
        bus: BusPort | None = None,
        quiet_hours: float = incidents.DEFAULT_QUIET_HOURS,
        posts_per_team_per_10_minutes: int = 5,
        finops_slack_channel: str | None = None,
        finops_email: str | None = None,
        idempotent: Idempotent = _not_idempotent,
        test: bool = False,
    ) -> None:
        self.directory = directory
        self.table = table
        self.slack = slack
        self.email = email
        self.remediation = remediation
        self.bus = bus
        self.quiet_hours = quiet_hours
        self.post_limit = posts_per_team_per_10_minutes
        self.finops_slack_channel = finops_slack_channel
        self.finops_email = finops_email
        self.idempotent = idempotent
        self.test = test

    # -- entry points ------------------------------------------------------------------------------

    def handle(self, spike: SpikeAttributed) -> dict[str, Any]:
        """Every culprit of the spike; a summary (incidents opened/updated, messages sent)."""
        results = []
        for index, culprit in enumerate(spike.culprits):
            item = CulpritSignal(
                dedup_key=spike.signal.dedup_key,
                profile_arn=culprit.subject_key,
                spike=spike,
                culprit_index=index,
            )
            results.append(self.idempotent(self.process, item))
        if not spike.culprits:  # nothing to open or trip, but FinOps must hear of it
            item = CulpritSignal(
                dedup_key=spike.signal.dedup_key, profile_arn="unattributed", spike=spike, culprit_index=0
            )
            results.append(self.idempotent(self.process_unattributed, item))
        return summarise(results)

    def process_unattributed(self, item: CulpritSignal) -> dict[str, Any]:
        """A spike no profile explains: a note to FinOps (Slack, else email); raises if neither takes it."""
        message = render_unattributed(item.spike, "[TEST] " if self.test else "")
        subject = f"[tokenfuse] Bedrock spend spike with no profile behind it ({item.spike.signal.source})"
        result = CulpritResult("", "unattributed", "finops")
        self._tell_finops(message, subject, f"unattributed spike {item.dedup_key}", result)
        return result.as_dict()

    def handle_non_compliant(self, event: ProfileNonCompliant) -> dict[str, Any]:
        """A profile tokenfuse cannot route to a team: FinOps hears of it once (Slack, else email)."""
        message = render_non_compliant(event, "[TEST] " if self.test else "")
        name = event.profile_name or event.profile_id
        subject = f"[tokenfuse] Inference profile {name} is not attributable"
        result = CulpritResult("", "non-compliant", "finops")
        self._tell_finops(message, subject, f"non-compliant profile {event.profile_arn}", result)
        return summarise([result.as_dict()])

    def _tell_finops(self, message: SlackMessage, subject: str, what: str, result: CulpritResult) -> None:
        """FinOps's channel, else its inbox; raises AlertNotDelivered when neither takes the message."""
        channel = self._finops_channel()
        if channel and self.slack is not None:
            try:
                posted = self.slack.post(channel, message)
                result.messages.append(Message(posted.channel, "finops", message.text))
                return
            except SlackDeliveryError as error:
                result.fallback = error.code
        try:
            self.email.send(
                self._finops_emails(),
                EmailMessage(subject, message.text, f"<pre>{escape(message.text)}</pre>"),
            )
        except TokenfuseError as error:
            raise AlertNotDelivered(f"{what}: FinOps unreachable: {error}") from error
        result.messages.append(Message("email", "finops", message.text, None, "email"))

    def process(self, item: CulpritSignal) -> dict[str, Any]:
        return self.process_culprit(item.spike, item.spike.culprits[item.culprit_index]).as_dict()

    def process_culprit(self, spike: SpikeAttributed, culprit: Culprit) -> CulpritResult:
        now = clock.now()
        route = self.route(culprit)
        planned = route.team.planned_window(spike.window_start, spike.window_end) if route.team else None
        policy = self.directory.policy_for(route.team, culprit.environment)
        increase = incidents.real_increase(culprit, policy.min_spike_usd_per_hour)
        recorded = incidents.record_signal(
            self.table, spike, culprit, route, planned=planned, now=now, may_open=increase
        )
        if recorded is None:
            logger.info(
                "no real increase: no incident opened",
                extra={"culprit": culprit.subject_key, "owner": route.owner, "delta_usd": culprit.delta_usd},
            )
            return CulpritResult("", "no-increase", route.owner)
        incident = recorded.incident
        result = CulpritResult(incident.incident_id, recorded.outcome, route.owner)
        logger.info(
            "incident recorded",
            extra={
                "incident_id": incident.incident_id,
                "outcome": recorded.outcome,
                "owner": route.owner,
                "route": route.reason,
                "status": incident.status,
            },
        )
        previous = recorded.previous
        if recorded.outcome == "opened" and previous is not None and previous.status == "open":
            # A new spike window for the profile: the one before it is over.
            incidents.update(self.table, previous.incident_id, {"status": "closed", "closed_at": now}, now)
        if incident.status == "planned":
            incident = self._start_if_new(incident, recorded.outcome, now, result, start_remediation=False)
            return result
        view = self.view(incident, spike, route, planned)
        if not incident.announced:
            incident = self._announce(view, route, now, result)
        elif recorded.outcome == "joined":
            incident = self._follow_up(view, route, recorded.previous, now, result)
        # spend no profile explains is never tripped: FinOps is told, a person decides
        self._start_if_new(
            incident, recorded.outcome, now, result, start_remediation=not incident.is_direct_model
        )
        return result

    # -- routing and views -------------------------------------------------------------------------

    def route(self, culprit: Culprit) -> Route:
        finops_emails = [self.finops_email] if self.finops_email else []
        return self.directory.route(
            culprit.team if culprit.tagged else None,
            fallback_channel=self.finops_slack_channel,
            fallback_emails=finops_emails,
        )

    def view(
        self,
        incident: Incident,
        spike: SpikeAttributed | None,
        route: Route,
        planned: PlannedWindow | None = None,
    ) -> AlertView:
        owner_label = route.team.label if route.team else "FinOps"
        return AlertView(
            incident=incident,
            signal=spike.signal if spike else None,
            policy=self.directory.policy_for(route.team, incident.environment),
            owner_label=owner_label,
            route_reason=route.reason,
            planned=planned,
            test=self.test,
            links=default_links(incident),
        )

    # -- first message -----------------------------------------------------------------------------

    def _announce(self, view: AlertView, route: Route, now: datetime, result: CulpritResult) -> Incident:
        incident = view.incident
        changes: dict[str, object] = {}
        if route.slack_channel:
            try:
                changes = self._post_root(view, route, now, result)
            except SlackDeliveryError as error:
                changes = self._fallback(view, route, error, result)
        elif route.emails:
            try:
                self._send_email(list(route.emails), view, None, result)
            except AlertNotDelivered as error:
                changes = self._fallback(view, route, SlackDeliveryError("email_failed", str(error)), result)
        else:
            changes = self._fallback(view, route, SlackDeliveryError("no_destination", "no channel"), result)
        return incidents.update(self.table, incident.incident_id, {**changes, "announced": True}, now)

    def _post_root(
        self, view: AlertView, route: Route, now: datetime, result: CulpritResult
    ) -> dict[str, object]:
        if self.slack is None:
            raise SlackDeliveryError("no_token", "Slack is not configured")
        assert route.slack_channel is not None
        slot = self.table.claim_post_slot(route.owner, now, self.post_limit)
        if slot.allowed or not (slot.thread_ts and slot.thread_channel):
            message = render_alert(view)
            posted = self.slack.post(route.slack_channel, message)
            if slot.allowed:
                self.table.record_post(slot, posted.channel, posted.ts)
            result.messages.append(Message(posted.channel, route.owner, message.text))
            return {"slack_channel": posted.channel, "slack_ts": posted.ts, "slack_message_ts": posted.ts}
        # Over the team's budget: one digest reply in the latest post's thread, updated in place.
        lines = [*slot.digest_lines, digest_line(view)]
        digest = render_digest(view.owner_label, lines, self.post_limit)
        if slot.digest_ts:
            self.slack.update(slot.thread_channel, slot.digest_ts, digest)
            result.messages.append(
                Message(slot.thread_channel, route.owner, digest.text, slot.thread_ts, "update")
            )
        else:
            posted = self.slack.post(slot.thread_channel, digest, thread_ts=slot.thread_ts)
            result.messages.append(
                Message(slot.thread_channel, route.owner, digest.text, slot.thread_ts, "reply")
            )
            slot = replace(slot, digest_ts=posted.ts)
        self.table.record_digest(slot, str(slot.digest_ts), lines)
        return {"slack_channel": slot.thread_channel, "slack_ts": slot.thread_ts, "slack_message_ts": None}

    # -- later signals -----------------------------------------------------------------------------

    def _follow_up(
        self, view: AlertView, route: Route, previous: Incident | None, now: datetime, result: CulpritResult
    ) -> Incident:
        incident = view.incident
        if incident.slack_channel and incident.slack_ts:
            try:
                if self.slack is None:
                    raise SlackDeliveryError("no_token", "Slack is not configured")
                if incident.slack_message_ts:
                    message = render_alert(view)
                    self.slack.update(incident.slack_channel, incident.slack_message_ts, message)
                    result.messages.append(
                        Message(incident.slack_channel, route.owner, message.text, None, "update")
                    )
                reply = render_signal_reply(view, previous)
                self.slack.post(incident.slack_channel, reply, thread_ts=incident.slack_ts)
                result.messages.append(
                    Message(incident.slack_channel, route.owner, reply.text, incident.slack_ts, "reply")
                )
                return incident
            except SlackDeliveryError as error:
                self._fallback(view, route, error, result, update_of=previous)
                return incident
        if route.slack_channel:  # Slack failed the first time: post now
            try:
                changes = self._post_root(view, route, now, result)
            except SlackDeliveryError as error:
                self._fallback(view, route, error, result, update_of=previous)
                return incident
            return incidents.update(self.table, incident.incident_id, changes, now)
        recipients = list(route.emails) or self._finops_emails()
        self._send_email(recipients, view, previous, result, update=True)
        return incident

    # -- fallback ----------------------------------------------------------------------------------

    def _fallback(
        self,
        view: AlertView,
        route: Route,
        error: SlackDeliveryError,
        result: CulpritResult,
        update_of: Incident | None = None,
    ) -> dict[str, object]:
        """Slack failed for the owner's channel: email the owner and FinOps, and try FinOps's channel."""
        logger.warning(
            "alert delivery failed: falling back to email and FinOps",
            extra={"incident_id": view.incident.incident_id, "slack_error": error.code, "owner": route.owner},
        )
        note = f"This alert could not reach {view.owner_label} in Slack ({error.code}): sent by email" + (
            " and to the FinOps channel." if self._finops_channel_usable(route, error) else "."
        )
        result.fallback = error.code
        delivered: list[str] = []
        changes: dict[str, object] = {}
        recipients = [*route.emails, *self._finops_emails()]
        if recipients and self.email.enabled:
            try:
                mail = render_update_email(view, update_of) if update_of else render_email(view, note)
                self.email.send(recipients, mail)
                result.messages.append(Message("email", route.owner, mail.text, None, "email"))
                delivered.append("email")
            except TokenfuseError as email_error:
                logger.error("email fallback failed", extra={"error": str(email_error)})
        channel = self._finops_channel()
        if self._finops_channel_usable(route, error) and channel and self.slack is not None:
            message = render_alert(view) if update_of is None else render_signal_reply(view, update_of)
            message = SlackMessage(
                text=f"{note}\n{message.text}",
                blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}, *message.blocks],
            )
            try:
                posted = self.slack.post(channel, message)
                result.messages.append(Message(posted.channel, "finops", message.text))
                delivered.append("finops-slack")
                if update_of is None:
                    changes = {
                        "slack_channel": posted.channel,
                        "slack_ts": posted.ts,
                        "slack_message_ts": posted.ts,
                    }
            except SlackDeliveryError as finops_error:
                logger.error("FinOps channel fallback failed", extra={"slack_error": finops_error.code})
        if not delivered:
            raise AlertNotDelivered(
                f"incident {view.incident.incident_id}: Slack failed ({error.code}), no fallback delivered "
                f"(email {'enabled' if self.email.enabled else 'disabled'}, {len(recipients)} recipient(s))"
            ) from error
        return changes

    def _finops_channel(self) -> str | None:
        return self.directory.finops.slack_channel or self.finops_slack_channel

    def _finops_emails(self) -> list[str]:
        return list(self.directory.finops.emails) or ([self.finops_email] if self.finops_email else [])

    def _finops_channel_usable(self, route: Route, error: SlackDeliveryError) -> bool:
        channel = self._finops_channel()
        return bool(channel) and channel != route.slack_channel and error.code not in WORKSPACE_ERRORS

    def _send_email(
        self,
        recipients: list[str],
        view: AlertView,
        previous: Incident | None,
        result: CulpritResult,
        update: bool = False,
    ) -> None:
        message = render_update_email(view, previous) if update else render_email(view)
        try:
            self.email.send(recipients, message)
        except TokenfuseError as error:
            raise AlertNotDelivered(f"incident {view.incident.incident_id}: email failed: {error}") from error
        result.messages.append(Message("email", result.team, message.text, None, "email"))

    # -- planned activity --------------------------------------------------------------------------

    def mark_planned(self, incident_id: str, note: str = "planned activity") -> Incident:
        """Planned activity (CAD feedback button): the incident stays quiet; its root message says so."""
        incident = incidents.mark_planned(self.table, incident_id, note, clock.now())
        if incident.slack_channel and incident.slack_message_ts and self.slack is not None:
            route = self.directory.route(incident.team, self.finops_slack_channel)
            view = self.view(incident, None, route)
            try:
                self.slack.update(incident.slack_channel, incident.slack_message_ts, render_alert(view))
            except SlackDeliveryError as error:  # the mark is what matters; the message is cosmetic
                logger.warning("could not update the root message", extra={"slack_error": error.code})
        return incident

    # -- remediation -------------------------------------------------------------------------------

    def _start_if_new(
        self,
        incident: Incident,
        outcome: str,
        now: datetime,
        result: CulpritResult,
        *,
        start_remediation: bool,
    ) -> Incident:
        """Start remediation and announce a new incident (or finish what a failed invoke left undone)."""
        if incident.remediation_started:
            return incident
        if start_remediation and self.remediation is not None:
            self.remediation.start(incident)
            result.execution_started = True
        if self.bus is not None:
            self.bus.put(
                IncidentOpened(
                    incident_id=incident.incident_id,
                    profile_arn=incident.profile_arn,
                    team=incident.team,
                    opened_at=incident.opened_at,
                    kind=incident.kind,
                    severity=incident.severity,
                    status=incident.status,
                )
            )
        return incidents.update(self.table, incident.incident_id, {"remediation_started": True}, now)


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    messages = [m for r in results for m in r["messages"]]
    return {
        "incidents_opened": sorted({r["incident_id"] for r in results if r["outcome"] == "opened"}),
        "incidents_updated": sorted({r["incident_id"] for r in results if r["outcome"] == "joined"}),
        "duplicates": sorted({r["incident_id"] for r in results if r["outcome"] == "duplicate"}),
        "messages_sent": len(messages),
        "messages": messages,
        "fallbacks": [r["fallback"] for r in results if r["fallback"]],
        "executions_started": sum(1 for r in results if r["execution_started"]),
        "without_increase": sum(1 for r in results if r["outcome"] == "no-increase"),
    }
