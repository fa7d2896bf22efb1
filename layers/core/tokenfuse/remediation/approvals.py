"""Asking the on-call for a decision, and telling FinOps what it must know.

The state machine's ``request-approval`` task hands over its task token. It is stored in the
approvals table under a short approval id (10 url-safe characters) with the incident, the allowed
approvers and the deadline; the Slack buttons (and email links) carry only ``<approval id>:<choice>``,
never the token. :mod:`tokenfuse.remediation.decisions` takes the click.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tokenfuse import clock
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import directory as teams_view
from tokenfuse.remediation import links, messages
from tokenfuse.remediation.audit import SYSTEM_ACTOR, Auditor
from tokenfuse.remediation.blocks import APPROVAL_ID_LENGTH, approval_blocks
from tokenfuse.remediation.channels import ChatPort, EmailPort
from tokenfuse.remediation.contracts import ApprovalRequested
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    PolicyDecision,
    RemediationIncident,
    TimeoutDecision,
    audited_decision,
    utc_iso,
)
from tokenfuse.teams import FINOPS as FINOPS_TEAM
from tokenfuse.teams import TeamDirectory

RECORD_TTL = timedelta(days=7)


class ApprovalStore(Protocol):
    def put_approval(self, approval_id: str, item: dict[str, Any]) -> None: ...


def new_approval_id() -> str:
    return secrets.token_urlsafe(8)[:APPROVAL_ID_LENGTH]


@dataclass(frozen=True)
class RequestDeps:
    store: ApprovalStore
    directory: TeamDirectory
    auditor: Auditor
    chat: ChatPort | None
    email: EmailPort | None
    link_key: Callable[[], bytes] | None
    approve_url: str | None
    now: Callable[[], datetime] = clock.now


def _approvers(deps: RequestDeps, policy: PolicyDecision) -> teams_view.Owner:
    return teams_view.owner(deps.directory, policy.approver_team)


def _finops(deps: RequestDeps) -> teams_view.Owner:
    return teams_view.finops(deps.directory)


@dataclass(frozen=True)
class Delivery:
    """Where a message went and where it failed, so what tokenfuse says about it is only what happened."""

    told: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def sentence(self, whom: str = "FinOps") -> str:
        """One sentence for the thread: e.g. "FinOps was told (Slack C0FINOPS01; email to a@x.com)"."""
        return messages.told_sentence(self.told, self.failed, whom)

    def __add__(self, other: "Delivery") -> "Delivery":
        return Delivery(self.told + other.told, self.failed + other.failed)


def _email_approval_links(
    incident: RemediationIncident,
    policy: PolicyDecision,
    approval_id: str,
    *,
    recipients: list[str],
    deadline: datetime,
    why_email: str | None,
    deps: RequestDeps,
) -> Delivery:
    """One email per approver, each with their own signed links."""
    if not recipients:
        return Delivery(failed=(messages.NO_APPROVER_EMAIL,))
    if deps.email is None or deps.link_key is None or not deps.approve_url:
        return Delivery(failed=(messages.EMAIL_LINKS_OFF,))
    key = deps.link_key()
    told: list[str] = []
    failed: list[str] = []
    for email in recipients:
        urls = {
            choice: links.link_url(
                deps.approve_url,
                links.sign(key, links.LinkClaims(approval_id, choice, email, int(deadline.timestamp()))),
            )
            for choice in links.CHOICES
        }
        subject, text, html = messages.approval_email(incident, policy, urls, deadline, why_email)
        try:
            deps.email.send([email], subject, text, html)
            told.append(email)
        except TokenfuseError as error:
            failed.append(messages.not_delivered(messages.to_email([email]), messages.said_error(error)))
    return Delivery(tuple(told), tuple(failed))


def request_approval(
    incident: RemediationIncident, policy: PolicyDecision, task_token: str, deps: RequestDeps
) -> ApprovalRequested:
    """Store the token under a new approval id and ask the approvers: buttons in the Slack thread;
    when Slack cannot take them (no channel, no token, or the post failed), signed links by email
    to the team's approvers, or to FinOps's email approvers when the team's approvers have no
    address. Raises only when no approver could be reached (the ASL then escalates)."""
    team = _approvers(deps, policy)
    stand_in = not team.approver_emails and team.name != FINOPS_TEAM
    email_approvers = team.approver_emails or _finops(deps).approver_emails
    slack_ids = team.approver_slack_ids
    now = deps.now()
    deadline = now + timedelta(seconds=policy.approval_timeout_seconds)
    approval_id = new_approval_id()
    deps.store.put_approval(
        approval_id,
        {
            "approval_id": approval_id,
            "status": "pending",
            "task_token": task_token,
            "incident_id": incident.incident_id,
            "profile_arn": incident.profile_arn,
            "team": team.name,
            "action": policy.action,
            "approver_slack_ids": slack_ids,
            "approver_emails": email_approvers,
            "created_at": utc_iso(now),
            "deadline": int(deadline.timestamp()),
            "expires_at": int((deadline + RECORD_TTL).timestamp()),
            "incident": incident.model_dump_json(),
        },
    )
    channel = incident.slack_channel or team.slack_channel or None
    slack_problem: str | None = None
    request_ts: str | None = None
    if not (channel and deps.chat is not None and slack_ids):
        slack_problem = messages.NO_SLACK_APPROVAL
    else:
        try:
            request_ts = deps.chat.post(
                channel,
                messages.approval_fallback(incident, policy),
                thread_ts=incident.slack_ts if channel == incident.slack_channel else None,
                blocks=approval_blocks(incident, policy, approval_id, slack_ids, deadline),
            )
        except TokenfuseError as error:
            slack_problem = messages.slack_post_failed(messages.said_error(error))
    details: dict[str, Any] = {
        "approval_id": approval_id,
        "approver_team": team.name,
        "deadline": utc_iso(deadline),
        "cooldown_seconds": policy.cooldown_seconds,
    }
    if slack_problem is None:  # the request the decision will replace on the status card
        details |= {"via": "slack", "approvers": slack_ids, "slack_channel": channel, "slack_ts": request_ts}
    else:
        why = []
        if channel and slack_ids:  # Slack was the way: say why this came by email instead
            why.append(messages.by_email_instead(slack_problem))
        if stand_in:
            why.append(messages.finops_stands_in(team.name))
        sent = _email_approval_links(
            incident,
            policy,
            approval_id,
            recipients=email_approvers,
            deadline=deadline,
            why_email=" ".join(why) or None,
            deps=deps,
        )
        if not sent.told:
            raise TokenfuseError(messages.nobody_can_approve(team.name, [slack_problem, *sent.failed]))
        details |= {
            "via": "email",
            "approvers": list(sent.told),
            "slack_problem": slack_problem,
            "email_failures": list(sent.failed),
            "finops_stand_in": stand_in,
        }
    deps.auditor.record(incident, "approval-requested", policy.action, details=details)
    return ApprovalRequested(approval_id=approval_id, via=details["via"], deadline=utc_iso(deadline))


def approval_decided(
    incident: RemediationIncident, policy: PolicyDecision, outcome: ApprovalOutcome, auditor: Auditor
) -> None:
    """Audit the decision a person made (the approve endpoint stays minimal: Slack's 3 s)."""
    auditor.record(
        incident,
        "approval-decided",
        policy.action,
        decision=audited_decision(outcome.decision),
        actor=outcome.actor,
        details={"approval_id": outcome.approval_id, "snooze_seconds": policy.snooze_seconds},
        say=messages.decision_said(outcome, policy),
    )


def approval_timed_out(
    incident: RemediationIncident, policy: PolicyDecision, deps: RequestDeps
) -> ApprovalOutcome:
    """Nobody decided in time: tell FinOps, apply the policy's ``on_timeout``."""
    decision: TimeoutDecision = "trip" if policy.on_timeout == "trip" else "timeout"
    text = messages.timed_out_said(incident, policy, trips=decision == "trip")
    delivery = escalate_to_finops(incident, text, deps)
    deps.auditor.record(
        incident,
        "approval-decided",
        policy.action,
        decision="timeout",
        actor=SYSTEM_ACTOR,
        details={
            "on_timeout": policy.on_timeout,
            "applied": decision,
            "told": list(delivery.told),
            "failed": list(delivery.failed),
        },
        say=f"{text} {delivery.sentence()}",
    )
    return ApprovalOutcome(decision=decision, actor=SYSTEM_ACTOR)


def _send_email(email: EmailPort | None, to: list[str], subject: str, text: str) -> Delivery:
    """One email to ``to``; never raises (the :class:`Delivery` says how it went)."""
    where = messages.to_email(to)
    if email is None:
        return Delivery(failed=(messages.not_delivered(where, messages.NO_SES_SENDER),))
    try:
        email.send(to, subject, text)
    except TokenfuseError as error:
        return Delivery(failed=(messages.not_delivered(where, messages.said_error(error)),))
    return Delivery(told=(where,))


def escalate_to_finops(incident: RemediationIncident, text: str, deps: RequestDeps) -> Delivery:
    """Tell FinOps (its channel and its email). Never raises: the :class:`Delivery` says where it
    went and where it failed, so the thread can say exactly that."""
    finops = _finops(deps)
    delivery = Delivery()
    if finops.slack_channel:
        where = messages.to_slack(finops.slack_channel)
        if deps.chat is None:
            delivery += Delivery(failed=(messages.not_delivered(where, messages.NO_SLACK_TOKEN),))
        else:
            try:
                deps.chat.post(finops.slack_channel, text)
                delivery += Delivery(told=(where,))
            except TokenfuseError as error:
                delivery += Delivery(failed=(messages.not_delivered(where, messages.said_error(error)),))
    if finops.emails:
        delivery += _send_email(deps.email, list(finops.emails), messages.finops_subject(incident), text)
    return delivery


def escalate_to_team_email(incident: RemediationIncident, text: str, deps: RequestDeps) -> Delivery:
    """An email-only team (no Slack thread) hears an escalation by email; any other team reads it
    in its thread (nothing is sent)."""
    team = teams_view.owner(deps.directory, incident.team)
    if incident.slack_channel or not (team.known and team.emails) or deps.email is None:
        return Delivery()
    return _send_email(deps.email, list(team.emails), messages.team_escalation_subject(incident), text)
