"""Where an alert goes, and what happened on the way: the fallback ladder as data, walked by one loop.

:func:`ladder` resolves, once per alert, the ordered destinations: the owner's Slack channel (the
incident's thread once it has one), the owner's email, FinOps's channel, FinOps's email (each
once: FinOps owning the spend, its rungs are the first ones). :func:`deliver` walks them, each
tried by its channel (:class:`~tokenfuse.alerts.slack_delivery.SlackDelivery`,
:class:`~tokenfuse.alerts.email_delivery.EmailDelivery`), and records every :class:`Attempt`:

- the owner's first choice taking the alert ends the walk: nobody else needs it;
- once it has not, the walk goes on until the owner and FinOps each have it, down their own rungs
  (FinOps hears that a team could not be reached where it expects to be);
- a failure that rules a whole channel out (Slack refusing the token, email switched off) marks
  that channel's later rungs skipped, with the same reason, without calling it again.

A message sent after a failure says why it comes where it comes, naming only what already
happened (:func:`tokenfuse.alerts.messages.fallback_note`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from tokenfuse.alerts import messages
from tokenfuse.alerts.view import FINOPS_LABEL, AlertView
from tokenfuse.teams import FINOPS, FinOps, Route

Audience = Literal["owner", "finops"]
Outcome = Literal["delivered", "failed", "skipped"]
SentKind = Literal["post", "update", "reply", "email"]


# -- what is said ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentAlert:
    """An incident's alert: its first message, or a later signal (``follow_up``) about it."""

    view: AlertView
    follow_up: bool = False


@dataclass(frozen=True)
class FinOpsNotice:
    """A note for FinOps that is no incident's alert (a spike no profile explains, a profile no
    team can own)."""

    text: str
    subject: str


Alert = IncidentAlert | FinOpsNotice


# -- where -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    """An incident's Slack thread: the channel, the thread's ts, and the root message's ts (None
    when the incident's alert is a line of a digest in another incident's thread)."""

    channel: str
    ts: str
    message_ts: str | None = None


@dataclass(frozen=True)
class SlackDestination:
    channel: str
    audience: Audience
    team: str
    """Whose message it is: the owning team's name, or ``finops``."""
    thread: Thread | None = None
    """The incident's thread in this channel: a follow-up updates it and replies there."""
    post_budget: bool = False
    """A new top-level post counts against ``team``'s budget (past it: one digest reply)."""

    medium: ClassVar[Literal["slack"]] = "slack"

    @property
    def address(self) -> str:
        return self.channel

    @property
    def key(self) -> frozenset[str]:
        return frozenset({self.channel})


@dataclass(frozen=True)
class EmailDestination:
    addresses: tuple[str, ...]
    audience: Audience
    team: str

    medium: ClassVar[Literal["email"]] = "email"

    @property
    def address(self) -> str:
        return ", ".join(self.addresses)

    @property
    def key(self) -> frozenset[str]:
        return frozenset(address.lower() for address in self.addresses)


Destination = SlackDestination | EmailDestination


def ladder(route: Route, finops: FinOps, thread: Thread | None = None) -> tuple[Destination, ...]:
    """The destinations of one alert, in the order they are tried (see the module's docstring).
    ``finops`` is the directory's FinOps, its channel and inbox resolved when it was loaded."""
    owner: Audience = "finops" if route.is_finops else "owner"
    rungs: list[Destination] = []
    if thread is not None:
        rungs.append(SlackDestination(thread.channel, owner, route.owner, thread=thread))
    elif route.slack_channel:
        rungs.append(SlackDestination(route.slack_channel, owner, route.owner, post_budget=True))
    if route.emails:
        rungs.append(EmailDestination(route.emails, owner, route.owner))
    if finops.slack_channel:
        rungs.append(SlackDestination(finops.slack_channel, "finops", FINOPS))
    if finops.emails:
        rungs.append(EmailDestination(tuple(finops.emails), "finops", FINOPS))
    seen: set[tuple[str, frozenset[str]]] = set()
    distinct: list[Destination] = []
    for rung in rungs:  # a channel or an inbox once: FinOps owning the spend, or sharing a channel
        key = (rung.medium, rung.key)
        if key not in seen:
            seen.add(key)
            distinct.append(rung)
    return tuple(distinct)


# -- what happened ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """One message that went out (the notify summary lists them; the sandbox's demo shows them)."""

    channel: str
    """A Slack channel id, or ``email``."""
    team: str
    text: str
    thread_of: str | None = None
    kind: SentKind = "post"

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "team": self.team,
            "text": self.text,
            "thread_of": self.thread_of,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Attempt:
    """One rung tried (or skipped), and what came of it."""

    destination: Destination
    outcome: Outcome
    problem: str | None = None
    """Slack's or SES's error code, or why the rung was skipped."""
    rules_out_channel: bool = False
    """The failure holds for every destination of this channel (a refused token, no sender)."""
    sent: tuple[SentMessage, ...] = ()
    """What went out, a failed attempt included (an update that went before its reply failed)."""
    thread: Thread | None = None
    """Where a new top-level post started the incident's thread."""

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"

    def rules_out(self, destination: Destination) -> bool:
        return self.rules_out_channel and destination.medium == self.destination.medium

    def reach(self, owner: str) -> messages.Reach:
        who = owner if self.destination.audience == "owner" else FINOPS_LABEL
        return messages.Reach(who, self.destination.medium, self.problem)

    def as_dict(self) -> dict[str, Any]:
        d = self.destination
        return {
            "medium": d.medium,
            "to": d.address,
            "audience": d.audience,
            "outcome": self.outcome,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Delivery:
    """Every attempt of one alert, in ladder order."""

    attempts: tuple[Attempt, ...] = ()

    @property
    def delivered(self) -> bool:
        return any(a.delivered for a in self.attempts)

    @property
    def sent(self) -> list[SentMessage]:
        return [m for a in self.attempts for m in a.sent]

    @property
    def thread(self) -> Thread | None:
        """The thread a new top-level post started (the first, if several rungs posted one)."""
        return next((a.thread for a in self.attempts if a.thread is not None), None)

    @property
    def first_problem(self) -> str | None:
        """Why the first rung that did not take the alert did not (None: nothing failed)."""
        return next((a.problem for a in self.attempts if not a.delivered), None)


class SlackChannel(Protocol):
    def send(self, destination: SlackDestination, alert: Alert, note: str | None) -> Attempt: ...


class EmailChannel(Protocol):
    def send(self, destination: EmailDestination, alert: Alert, note: str | None) -> Attempt: ...


def deliver(
    rungs: Sequence[Destination], alert: Alert, owner: str, slack: SlackChannel, email: EmailChannel
) -> Delivery:
    """Walk the ladder (see the module's docstring). ``owner`` is how people read the owner's
    name (the team's label, or FinOps)."""
    attempts: list[Attempt] = []
    reached: set[Audience] = set()
    for destination in rungs:
        if attempts and attempts[0].delivered:
            break  # the owner's first choice took it
        if destination.audience in reached:
            continue
        ruled_out = next((a for a in attempts if a.rules_out(destination)), None)
        if ruled_out is not None:
            attempt = Attempt(destination, "skipped", ruled_out.problem, rules_out_channel=True)
        else:
            note = fallback_note(owner, attempts, destination)
            if isinstance(destination, SlackDestination):
                attempt = slack.send(destination, alert, note)
            else:
                attempt = email.send(destination, alert, note)
        attempts.append(attempt)
        if attempt.delivered:
            reached.add(destination.audience)
    return Delivery(tuple(attempts))


def fallback_note(owner: str, before: Sequence[Attempt], destination: Destination) -> str | None:
    """Why a message comes to ``destination`` after the earlier rungs (None when none failed)."""
    failed = [a.reach(owner) for a in before if a.outcome == "failed"]
    if not failed:
        return None
    sent = [a.reach(owner) for a in before if a.delivered]
    here = Attempt(destination, "delivered").reach(owner)
    return messages.fallback_note(failed, sent, here)
