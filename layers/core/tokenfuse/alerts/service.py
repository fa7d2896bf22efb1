"""From an attributed spike to the owning team's alert, one incident per culprit profile.

For each culprit: route (team or FinOps) -> open or join the incident -> deliver its alert down
the fallback ladder (:mod:`tokenfuse.alerts.delivery`: the channels render and send) -> for a new
incident, start the remediation execution and put IncidentOpened on the bus. Every step is
resumable: a retried invoke finishes what an earlier one left undone (``announced``,
``remediation_started`` on the incident) and never posts twice. When nothing on the ladder took
the alert, this raises, so the asynchronous invoke retries and then the dead-letter queue keeps
the event.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from tokenfuse import clock, incidents
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.slack import SlackDeliveryError
from tokenfuse.alerts import messages
from tokenfuse.alerts.delivery import Alert, Delivery, FinOpsNotice, IncidentAlert, Thread, deliver, ladder
from tokenfuse.alerts.email_delivery import EmailDelivery
from tokenfuse.alerts.slack_delivery import SlackDelivery
from tokenfuse.alerts.view import FINOPS_LABEL, AlertView, alert_view
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import BusModel, Culprit, Incident, IncidentOpened, ProfileNonCompliant, SpikeAttributed
from tokenfuse.observability import logger
from tokenfuse.teams import FINOPS, PlannedWindow, Route, TeamDirectory


class AlertNotDelivered(TokenfuseError):
    """Nothing on the ladder took the alert (no Slack channel, no inbox): the invoke must fail
    (retry, then the DLQ)."""


class CulpritSignal(BusModel):
    """The unit of idempotency: one signal (by dedup key) about one culprit (``profile_arn`` holds
    its key: the profile ARN, or ``direct-model/<account>/<region>/<model>``)."""

    dedup_key: str
    profile_arn: str
    spike: SpikeAttributed
    culprit_index: int = Field(ge=0)


@dataclass
class CulpritResult:
    incident_id: str
    outcome: str
    team: str
    delivery: Delivery = field(default_factory=Delivery)
    execution_started: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "outcome": self.outcome,
            "team": self.team,
            "messages": [m.as_dict() for m in self.delivery.sent],
            "fallback": self.delivery.first_problem,
            "delivery": [a.as_dict() for a in self.delivery.attempts],
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
        slack: SlackDelivery,
        email: EmailDelivery,
        remediation: RemediationPort | None = None,
        bus: BusPort | None = None,
        quiet_hours: float = incidents.DEFAULT_QUIET_HOURS,
        idempotent: Idempotent = _not_idempotent,
        test: bool = False,
    ) -> None:
        """``directory`` has FinOps's destination resolved (:func:`tokenfuse.teams.deployed_directory`)."""
        self.directory = directory
        self.table = table
        self.slack = slack
        self.email = email
        self.remediation = remediation
        self.bus = bus
        self.quiet_hours = quiet_hours
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
        notice = FinOpsNotice(
            messages.unattributed(item.spike, self.test), messages.unattributed_subject(item.spike)
        )
        delivery = self._tell_finops(notice, f"unattributed spike {item.dedup_key}")
        return CulpritResult("", "unattributed", FINOPS, delivery).as_dict()

    def handle_non_compliant(self, event: ProfileNonCompliant) -> dict[str, Any]:
        """A profile tokenfuse cannot route to a team: FinOps hears of it once (Slack, else email)."""
        notice = FinOpsNotice(messages.non_compliant(event, self.test), messages.non_compliant_subject(event))
        delivery = self._tell_finops(notice, f"non-compliant profile {event.profile_arn}")
        return summarise([CulpritResult("", "non-compliant", FINOPS, delivery).as_dict()])

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
            # A new spike window for the profile: the one before it is over, since its quiet period
            # ended (INCIDENT_QUIET_HOURS after its last signal) if that came first.
            closed_at = min(now, incidents.quiet_period_end(previous, self.quiet_hours))
            changes = {"status": "closed", "closed_at": closed_at}
            incidents.update(self.table, previous.incident_id, changes, now)
        if incident.status == "planned":
            self._start_if_new(incident, now, result, start_remediation=False)
            return result
        if not incident.announced:
            incident = self._announce(self.view(incident, spike, route, planned), route, now, result)
        elif recorded.outcome == "joined":
            incident = self._with_arrival_rate(incident, culprit, spike, now)
            view = self.view(incident, spike, route, planned, reported=culprit)
            incident = self._follow_up(view, route, now, result)
        # spend no profile explains is never tripped: FinOps is told, a person decides
        self._start_if_new(incident, now, result, start_remediation=not incident.is_direct_model)
        return result

    # -- routing and views -------------------------------------------------------------------------

    def route(self, culprit: Culprit) -> Route:
        return self.directory.route(culprit.team if culprit.tagged else None)

    def view(
        self,
        incident: Incident,
        spike: SpikeAttributed | None,
        route: Route,
        planned: PlannedWindow | None = None,
        reported: Culprit | None = None,
    ) -> AlertView:
        return alert_view(
            self.directory,
            incident,
            route,
            signal=spike.signal if spike else None,
            planned=planned,
            test=self.test,
            reported=reported,
            spike_usd=spike.spike_usd if spike else None,
        )

    def _with_arrival_rate(
        self, incident: Incident, culprit: Culprit, spike: SpikeAttributed, now: datetime
    ) -> Incident:
        """The card's rate now: a later signal's rate as it arrived, when it is newer (a rate over a
        window long past is never the card's "now")."""
        card = messages.card_of(incident)
        measured = messages.rate_at_arrival(culprit, spike.signal)
        if measured is None or (card.rate_at is not None and card.rate_at >= measured.at):
            return incident
        card = card.model_copy(update={"rate_usd_per_hour": measured.usd_per_hour, "rate_at": measured.at})
        return incidents.update(self.table, incident.incident_id, {"card": card}, now)

    # -- delivery ----------------------------------------------------------------------------------

    def _announce(self, view: AlertView, route: Route, now: datetime, result: CulpritResult) -> Incident:
        """The incident's first message; where a post started its thread, the incident keeps it, and
        its status card as posted (so a later signal's window never re-dates the card's rate)."""
        result.delivery = self._deliver(IncidentAlert(view), route, None, view.owner_label, _what(view))
        card = messages.card_of(view.incident)
        return self._keep_thread(view.incident, result.delivery, now, announced=True, card=card)

    def _follow_up(self, view: AlertView, route: Route, now: datetime, result: CulpritResult) -> Incident:
        """A later signal: in the incident's thread (updating its root), else as the first message
        would have gone (Slack failed the first time: a post now starts the thread)."""
        incident = view.incident
        thread = (
            Thread(incident.slack_channel, incident.slack_ts, incident.slack_message_ts)
            if incident.slack_channel and incident.slack_ts
            else None
        )
        alert = IncidentAlert(view, follow_up=True)
        result.delivery = self._deliver(alert, route, thread, view.owner_label, _what(view))
        return self._keep_thread(incident, result.delivery, now)

    def _tell_finops(self, notice: FinOpsNotice, what: str) -> Delivery:
        return self._deliver(notice, self.directory.route(None), None, FINOPS_LABEL, what)

    def _deliver(self, alert: Alert, route: Route, thread: Thread | None, owner: str, what: str) -> Delivery:
        """Down the ladder; raises :class:`AlertNotDelivered` when nothing took the alert. ``owner``
        is the owner as people read it, ``what`` names the alert in logs and errors."""
        rungs = ladder(route, self.directory.finops, thread)
        delivery = deliver(rungs, alert, owner, self.slack, self.email)
        if delivery.first_problem is not None:
            logger.warning(
                "alert delivery fell back" if delivery.delivered else "alert not delivered",
                extra={
                    "alert": what,
                    "owner": route.owner,
                    # where each rung went, without the addresses (the summary names them)
                    "attempts": [
                        {key: value for key, value in a.as_dict().items() if key != "to"}
                        for a in delivery.attempts
                    ],
                },
            )
        if not delivery.delivered:
            raise AlertNotDelivered(messages.not_delivered(what, [a.reach(owner) for a in delivery.attempts]))
        return delivery

    def _keep_thread(
        self, incident: Incident, delivery: Delivery, now: datetime, **changes: object
    ) -> Incident:
        thread = delivery.thread
        if thread is not None and not incident.slack_ts:
            changes |= {
                "slack_channel": thread.channel,
                "slack_ts": thread.ts,
                "slack_message_ts": thread.message_ts,
            }
        if not changes:
            return incident
        return incidents.update(self.table, incident.incident_id, changes, now)

    # -- planned activity --------------------------------------------------------------------------

    def mark_planned(self, incident_id: str, note: str = "planned activity") -> Incident:
        """Planned activity (CAD feedback button): the incident stays quiet; its root message says so."""
        incident = incidents.mark_planned(self.table, incident_id, note, clock.now())
        if incident.slack_channel and incident.slack_ts:
            view = self.view(incident, None, self.directory.route(incident.team))
            try:
                thread = Thread(incident.slack_channel, incident.slack_ts, incident.slack_message_ts)
                self.slack.update_root(thread, view)
            except SlackDeliveryError as error:  # the mark is what matters; the message is cosmetic
                logger.warning("could not update the root message", extra={"slack_error": error.code})
        return incident

    # -- remediation -------------------------------------------------------------------------------

    def _start_if_new(
        self, incident: Incident, now: datetime, result: CulpritResult, *, start_remediation: bool
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


def _what(view: AlertView) -> str:
    return f"incident {view.incident.incident_id}"


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the notify function returns: incidents opened, updated and seen again, every message
    sent, the first delivery problem of each alert that had one, and every alert's ladder walk."""
    messages_sent = [m for r in results for m in r["messages"]]
    return {
        "incidents_opened": sorted({r["incident_id"] for r in results if r["outcome"] == "opened"}),
        "incidents_updated": sorted({r["incident_id"] for r in results if r["outcome"] == "joined"}),
        "duplicates": sorted({r["incident_id"] for r in results if r["outcome"] == "duplicate"}),
        "messages_sent": len(messages_sent),
        "messages": messages_sent,
        "fallbacks": [r["fallback"] for r in results if r["fallback"]],
        "deliveries": [
            {"incident_id": r["incident_id"] or None, "team": r["team"], "attempts": r["delivery"]}
            for r in results
            if r["delivery"]
        ],
        "executions_started": sum(1 for r in results if r["execution_started"]),
        "without_increase": sum(1 for r in results if r["outcome"] == "no-increase"),
    }
