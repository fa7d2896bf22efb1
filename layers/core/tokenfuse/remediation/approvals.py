"""Asking the on-call for a decision, and taking it.

The state machine's ``request-approval`` task hands over its task token. It is stored in the
approvals table under a short approval id (10 url-safe characters) with the incident, the allowed
approvers and the deadline; the Slack buttons (and email links) carry only ``<approval id>:<choice>``,
never the token. :class:`ApprovalDesk` takes a click: checks the clicker is an allowed approver,
marks the approval decided with a conditional write (so a double click, a second link, or a click
after the deadline changes nothing), then resumes the execution with SendTaskSuccess
``{"decision", "actor", "approval_id"}`` exactly once. Every click it turns down says why in its
:class:`DecisionReply` (``refused``), which the endpoint audits.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from tokenfuse import clock
from tokenfuse.adapters.stepfunctions import TaskNoLongerWaiting
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import correlate, logger
from tokenfuse.remediation import directory as teams_view
from tokenfuse.remediation import links
from tokenfuse.remediation.audit import SYSTEM_ACTOR, Auditor
from tokenfuse.remediation.channels import ChatPort, EmailPort
from tokenfuse.remediation.models import ApprovalOutcome, PolicyDecision, RemediationIncident, utc_iso
from tokenfuse.remediation.refusals import ClickRefusal
from tokenfuse.teams import FINOPS as FINOPS_TEAM
from tokenfuse.teams import TeamDirectory

APPROVAL_ID_LENGTH = 10
CHOICES = links.CHOICES
ACTION_ID_PREFIX = "tokenfuse_approval_"
RECORD_TTL = timedelta(days=7)


class ApprovalStore(Protocol):
    def put_approval(self, approval_id: str, item: dict[str, Any]) -> None: ...
    def get_approval(self, approval_id: str) -> dict[str, Any] | None: ...
    def mark_decided(self, approval_id: str, decision: str, actor: str, via: str, now_epoch: int) -> None: ...
    def reopen(self, approval_id: str, actor: str) -> None: ...


class CallbackPort(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...


def correlation_id_of(item: dict[str, Any]) -> str | None:
    """The spike's correlation id, from the incident an approval record stores (None if it has none)."""
    try:
        return RemediationIncident.model_validate_json(str(item.get("incident") or "")).correlation_id
    except ValidationError:
        return None


def new_approval_id() -> str:
    return secrets.token_urlsafe(8)[:APPROVAL_ID_LENGTH]


def button_value(approval_id: str, choice: str) -> str:
    return f"{approval_id}:{choice}"


def approval_action_id(choice: str) -> str:
    """The ``action_id`` of the request's button for ``choice``."""
    return f"{ACTION_ID_PREFIX}{choice}"


def parse_button_value(value: str) -> tuple[str, str] | None:
    """(approval id, choice) of a value :func:`button_value` made, else None."""
    if len(value) > APPROVAL_ID_LENGTH + 1 + max(map(len, CHOICES)):
        return None
    approval_id, sep, choice = value.partition(":")
    if not sep or choice not in CHOICES or not links.APPROVAL_ID_PATTERN.fullmatch(approval_id):
        return None
    return approval_id, choice


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}/h"


def approval_blocks(
    incident: RemediationIncident,
    policy: PolicyDecision,
    approval_id: str,
    approvers: list[str],
    deadline: datetime,
) -> list[dict[str, Any]]:
    """The Block Kit message: what would happen, who may decide, until when; three buttons."""
    name = incident.profile_name or incident.profile_id
    who = " ".join(f"<@{a}>" for a in approvers) or "FinOps on-call"
    default = "trip it" if policy.on_timeout == "trip" else "take no action"
    text = (
        f":rotating_light: *Trip `{name}`?* {policy.action} ({incident.kind}, {incident.severity}), "
        f"now {_money(incident.cost_per_hour_usd)} "
        f"vs {_money(incident.baseline_cost_per_hour_usd)} baseline.\n"
        f"Approvers: {who}. Without a decision by "
        f"<!date^{int(deadline.timestamp())}^{{time}}|{utc_iso(deadline)}> tokenfuse will {default} "
        "and tell FinOps."
    )
    buttons = []
    for choice, label, style in (
        ("approve", f"Approve {policy.action}", "danger"),
        ("decline", "Decline", None),
        ("snooze", f"Snooze {policy.snooze_seconds // 60} min", None),
    ):
        button: dict[str, Any] = {
            "type": "button",
            "action_id": approval_action_id(choice),
            "text": {"type": "plain_text", "text": label},
            "value": button_value(approval_id, choice),
        }
        if style:
            button["style"] = style
        buttons.append(button)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": f"tokenfuse_approval_{approval_id}", "elements": buttons},
    ]


def _block_phrase(policy: PolicyDecision) -> str:
    if policy.action == "throttle":
        return f"block it for {policy.cooldown_seconds // 60} min (restored automatically)"
    return "block it until a person restores it"


def approval_email(
    incident: RemediationIncident,
    policy: PolicyDecision,
    urls: dict[str, str],
    deadline: datetime,
    why_email: str | None = None,
) -> tuple[str, str, str]:
    """Subject, text and HTML of one approver's email (their own signed links). ``why_email`` says
    why the request came by email (Slack failed, FinOps standing in). Every value in the HTML part
    is escaped by the template (Jinja2 autoescape)."""
    from tokenfuse.html_email import render_html

    name = incident.profile_name or incident.profile_id
    subject = f"[tokenfuse] Approve {policy.action} of {name}?"
    default = f"{policy.action} it" if policy.on_timeout == "trip" else "take no action"
    rate_now, rate_baseline = _money(incident.cost_per_hour_usd), _money(incident.baseline_cost_per_hour_usd)
    lines = [
        *([why_email, ""] if why_email else []),
        f"Inference profile {incident.profile_arn} is running away ({incident.kind}, {incident.severity}):",
        f"now {rate_now} vs {rate_baseline} baseline.",
        f"Approving will {_block_phrase(policy)}.",
        f"Decide before {utc_iso(deadline)} (the links expire then and work once); "
        f"without a decision tokenfuse will {default}:",
        *(f"  {choice}: {url}" for choice, url in urls.items()),
    ]
    html = render_html(
        "approval_request.html",
        why_email=why_email,
        subject=subject,
        profile_arn=incident.profile_arn,
        kind=incident.kind,
        severity=incident.severity,
        rate_now=rate_now,
        rate_baseline=rate_baseline,
        action_phrase=_block_phrase(policy),
        deadline=utc_iso(deadline),
        default=default,
        links=[{"label": choice.capitalize(), "url": url} for choice, url in urls.items()],
        incident_id=incident.incident_id,
    )
    return subject, "\n".join(lines), html


@dataclass(frozen=True)
class RequestDeps:
    store: ApprovalStore
    directory: TeamDirectory
    auditor: Auditor
    chat: ChatPort | None
    email: EmailPort | None
    link_key: Callable[[], bytes] | None
    approve_url: str | None
    finops_channel: str | None
    finops_email: str | None
    now: Callable[[], datetime] = clock.now


def _approvers(deps: RequestDeps, policy: PolicyDecision) -> teams_view.Owner:
    return teams_view.owner(deps.directory, policy.approver_team, deps.finops_channel, deps.finops_email)


def _finops(deps: RequestDeps) -> teams_view.Owner:
    return teams_view.finops(deps.directory, deps.finops_channel, deps.finops_email)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


@dataclass(frozen=True)
class Delivery:
    """Where a message went and where it failed, so what tokenfuse says about it is only what happened."""

    told: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def sentence(self, who: str = "FinOps") -> str:
        """One sentence for the thread: e.g. "FinOps was told (Slack C0FINOPS01; email to a@x.com)"."""
        if self.told and self.failed:
            return f"{who} was told ({'; '.join(self.told)}); failed: {'; '.join(self.failed)}."
        if self.told:
            return f"{who} was told ({'; '.join(self.told)})."
        if self.failed:
            return f"{who} could not be told: {'; '.join(self.failed)}."
        return f"{who} has no Slack channel or email configured: nobody else was told."


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
        return Delivery(failed=("no approver has an email address",))
    if deps.email is None or deps.link_key is None or not deps.approve_url:
        return Delivery(failed=("email approval links are not configured (SenderEmail, link key, URL)",))
    key = deps.link_key()
    told: list[str] = []
    failed: list[str] = []
    for email in recipients:
        urls = {
            choice: links.link_url(
                deps.approve_url,
                links.sign(key, links.LinkClaims(approval_id, choice, email, int(deadline.timestamp()))),
            )
            for choice in CHOICES
        }
        subject, text, html = approval_email(incident, policy, urls, deadline, why_email)
        try:
            deps.email.send([email], subject, text, html)
            told.append(email)
        except TokenfuseError as error:
            failed.append(f"email to {email}: {_one_line(error)}")
    return Delivery(tuple(told), tuple(failed))


def request_approval(
    incident: RemediationIncident, policy: PolicyDecision, task_token: str, deps: RequestDeps
) -> dict[str, Any]:
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
    if not (channel and deps.chat is not None and slack_ids):
        slack_problem = "no Slack channel, token or approver Slack id"
    else:
        try:
            deps.chat.post(
                channel,
                f"Approve {policy.action} of {incident.profile_name or incident.profile_id}?",
                thread_ts=incident.slack_ts if channel == incident.slack_channel else None,
                blocks=approval_blocks(incident, policy, approval_id, slack_ids, deadline),
            )
        except TokenfuseError as error:
            slack_problem = f"Slack post failed: {_one_line(error)}"
    details: dict[str, Any] = {
        "approval_id": approval_id,
        "approver_team": team.name,
        "deadline": utc_iso(deadline),
    }
    if slack_problem is None:
        details |= {"via": "slack", "approvers": slack_ids}
    else:
        why = []
        if channel and slack_ids:  # Slack was the way: say why this came by email instead
            why.append(f"Slack could not take this request ({slack_problem}), so it comes by email.")
        if stand_in:
            why.append(f"Team {team.name}'s approvers have no email address: FinOps's approvers decide.")
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
            raise TokenfuseError(
                f"team {team.name} has no approver reachable by Slack or email: nobody can approve "
                f"({'; '.join([slack_problem, *sent.failed])})"
            )
        details |= {
            "via": "email",
            "approvers": list(sent.told),
            "slack_problem": slack_problem,
            "email_failures": list(sent.failed),
            "finops_stand_in": stand_in,
        }
    deps.auditor.record(incident, "approval-requested", policy.action, details=details)
    return {"approval_id": approval_id, "via": details["via"], "deadline": utc_iso(deadline)}


def approval_decided(
    incident: RemediationIncident, policy: PolicyDecision, outcome: ApprovalOutcome, auditor: Auditor
) -> None:
    """Audit the decision a person made (the approve endpoint stays minimal: Slack's 3 s)."""
    who = _who(outcome.actor)
    say = {
        "approve": f"{who} approved: tripping ({policy.action}).",
        "decline": f"{who} declined: no action.",
        "snooze": f"{who} snoozed for {policy.snooze_seconds // 60} min: asking again if it goes on.",
    }.get(outcome.decision)
    auditor.record(
        incident,
        "approval-decided",
        policy.action,
        decision="timeout" if outcome.decision in {"trip", "timeout"} else outcome.decision,  # type: ignore[arg-type]
        actor=outcome.actor,
        details={"approval_id": outcome.approval_id},
        say=say,
    )


def approval_timed_out(
    incident: RemediationIncident, policy: PolicyDecision, deps: RequestDeps
) -> ApprovalOutcome:
    """Nobody decided in time: tell FinOps, apply the policy's ``on_timeout``."""
    decision = "trip" if policy.on_timeout == "trip" else "timeout"
    minutes = policy.approval_timeout_seconds // 60
    default = f"tripping it ({policy.action}) as the policy says" if decision == "trip" else "no action taken"
    text = (
        f":alarm_clock: No decision on `{incident.profile_name or incident.profile_id}` "
        f"(team {policy.team}) within {minutes} min: {default}."
    )
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


def escalate_to_finops(incident: RemediationIncident, text: str, deps: RequestDeps) -> Delivery:
    """Tell FinOps (its channel and its email). Never raises: the :class:`Delivery` says where it
    went and where it failed, so the thread can say exactly that."""
    finops = _finops(deps)
    told: list[str] = []
    failed: list[str] = []
    if finops.slack_channel and deps.chat is not None:
        try:
            deps.chat.post(finops.slack_channel, text)
            told.append(f"Slack {finops.slack_channel}")
        except TokenfuseError as error:
            failed.append(f"Slack {finops.slack_channel}: {_one_line(error)}")
    elif finops.slack_channel:
        failed.append(f"Slack {finops.slack_channel}: no Slack token configured")
    if finops.emails and deps.email is not None:
        try:
            deps.email.send(
                list(finops.emails), f"[tokenfuse] {incident.profile_name or incident.profile_id}", text
            )
            told.append("email to " + ", ".join(finops.emails))
        except TokenfuseError as error:
            failed.append(f"email to {', '.join(finops.emails)}: {_one_line(error)}")
    elif finops.emails:
        failed.append(f"email to {', '.join(finops.emails)}: no SES sender configured")
    return Delivery(tuple(told), tuple(failed))


# -- taking decisions --------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionReply:
    """What the clicker is told. ``changed`` is True only for the one click that decided; ``refused``
    says why a click changed nothing (None for an answer that is no refusal); ``about`` names what
    the click was about (approval_id, incident_id, team, profile_arn), for the audit."""

    status: int
    text: str
    changed: bool = False
    refused: ClickRefusal | None = None
    about: dict[str, str] = field(default_factory=dict)


ApproverOf = Callable[[str], list[str]]
"""(Slack user id or email) -> the teams whose on-call approvers list it (the team directory)."""


class ApprovalDesk:
    def __init__(
        self,
        store: ApprovalStore,
        callbacks: CallbackPort,
        now: Callable[[], datetime] = clock.now,
        approver_of: ApproverOf | None = None,
    ) -> None:
        self.store = store
        self.callbacks = callbacks
        self.now = now
        self.approver_of = approver_of

    def decide(  # noqa: PLR0911 - each early answer is one polite refusal
        self, approval_id: str, choice: str, *, slack_user_id: str | None = None, email: str | None = None
    ) -> DecisionReply:
        about = {"approval_id": approval_id}
        if choice not in CHOICES:
            return DecisionReply(
                400, "Unknown choice. Nothing was changed.", refused="bad-value", about=about
            )
        item = self.store.get_approval(approval_id)
        if item is None:
            return DecisionReply(
                200,
                "This approval request is unknown or has expired. Nothing was changed.",
                refused="unknown-approval",
                about=about,
            )
        about.update({k: str(item[k]) for k in ("incident_id", "team") if item.get(k)})
        correlate(correlation_id_of(item), incident_id=about.get("incident_id"))
        if slack_user_id:
            actor, via = slack_user_id, "slack"
            allowed = slack_user_id in (item.get("approver_slack_ids") or [])
        elif email:
            actor, via = email.lower(), "email"
            allowed = actor in (item.get("approver_emails") or [])
        else:
            return DecisionReply(
                400, "Who is deciding? Nothing was changed.", refused="malformed-click", about=about
            )
        if not allowed:
            return self._not_an_approver(actor, item, about)
        if item.get("status") != "pending":
            return DecisionReply(200, self._already(item), refused="already-decided", about=about)
        now_epoch = int(self.now().timestamp())
        if now_epoch > int(item.get("deadline", 0)):
            return DecisionReply(200, _TIMED_OUT, refused="expired", about=about)
        try:
            self.store.mark_decided(approval_id, choice, actor, via, now_epoch)
        except TokenfuseError:
            fresh = self.store.get_approval(approval_id) or item
            if fresh.get("status") != "pending":
                return DecisionReply(200, self._already(fresh), refused="already-decided", about=about)
            return DecisionReply(200, _TIMED_OUT, refused="expired", about=about)
        try:
            self.callbacks.succeed(
                str(item["task_token"]), {"decision": choice, "actor": actor, "approval_id": approval_id}
            )
        except TaskNoLongerWaiting:
            return DecisionReply(
                200,
                "Too late: this request timed out before your click. Nothing was changed.",
                refused="task-not-waiting",
                about=about,
            )
        except TokenfuseError:
            self.store.reopen(approval_id, actor)
            return DecisionReply(
                503, "tokenfuse could not record your decision just now; please click again.", about=about
            )
        done = {"approve": "Approved: tripping now.", "decline": "Declined: no action.", "snooze": "Snoozed."}
        logger.info("approval decided", approval_id=approval_id, decision=choice, actor=actor, via=via)
        return DecisionReply(200, f"{done[choice]} (by {_who(actor)})", changed=True, about=about)

    def _not_an_approver(self, actor: str, item: dict[str, Any], about: dict[str, str]) -> DecisionReply:
        """Refused: not one of the approvers the request listed. Naming another team the clicker is
        on call for tells the audit a mistaken channel from a stranger."""
        team = item.get("team")
        text = f"Sorry, only on-call approvers of team {team} can decide this one. Nothing was changed."
        others = [t for t in (self.approver_of(actor) if self.approver_of else []) if t != team]
        if others:
            return DecisionReply(
                403, text, refused="other-team-approver", about={**about, "approver_of": " ".join(others)}
            )
        return DecisionReply(403, text, refused="not-an-approver", about=about)

    @staticmethod
    def _already(item: dict[str, Any]) -> str:
        return (
            f"Already decided: {item.get('decision')} by {_who(str(item.get('actor')))}. Nothing was changed."
        )


_TIMED_OUT = "This request has timed out; FinOps has been told. Nothing was changed."


def _who(actor: str) -> str:
    return actor if "@" in actor else f"<@{actor}>"
