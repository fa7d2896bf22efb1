"""The weekly digest (domain): who is due, what each reads, and sending it.

- When: Monday 08:00 in the team's ``timezone`` (the team directory; UTC by default), never before the
  UTC week it reports has ended (Monday 01:00 UTC: east of UTC+7, 08:00 Monday comes first), at the
  first hourly run at or after that instant. FinOps: Monday 08:00 UTC. So every digest falls on a
  Monday UTC, between 01:00 and 20:00: the schedule (``DigestSchedule``) runs hourly on Mondays.
- What: a team reads its numbers (spend, requests, cost per request, change), its features, its movers
  and its levers; FinOps reads the organization's: totals, attributable %, the unattributed part, the
  biggest movers, every lever, the forecast and the reconciliation.
- How: Slack (Block Kit built with ``slack_sdk.models.blocks``, which checks Slack's limits) to the
  team's channel, else email (SES, HTML + text from Jinja2 templates on disk); a Slack failure falls
  back to the team's email.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from tokenfuse.adapters.email import EmailDeliveryError, EmailSender
from tokenfuse.adapters.slack import SlackDeliveryError, SlackSender
from tokenfuse.errors import TokenfuseError
from tokenfuse.notifications import EmailMessage, SlackMessage
from tokenfuse.showback.models import Lever, Mover, ShowbackReport, TeamFigures
from tokenfuse.showback.render import environment, filters, per_request, percent, signed_usd, usd
from tokenfuse.teams import FINOPS, TeamDirectory

LOCAL_HOUR = time(8)
EARLIEST_UTC = time(1)
HOUR = timedelta(hours=1)


def _ceil_hour(value: datetime) -> datetime:
    floored = value.replace(minute=0, second=0, microsecond=0)
    return floored if floored == value else floored + HOUR


def week_monday(at: datetime) -> date:
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def due_at(monday: date, timezone: str) -> datetime:
    """When a team in ``timezone`` gets the digest of the week ending at ``monday`` 00:00 UTC (UTC)."""
    local = datetime.combine(monday, LOCAL_HOUR, ZoneInfo(timezone)).astimezone(UTC)
    return _ceil_hour(max(local, datetime.combine(monday, EARLIEST_UTC, UTC)))


@dataclass(frozen=True)
class Recipient:
    name: str
    """A team's name, or ``finops``."""
    label: str
    slack_channel: str | None
    emails: tuple[str, ...]


def due_recipients(directory: TeamDirectory, at: datetime) -> list[Recipient]:
    """Who gets a digest on the run of ``at`` (floored to its hour); FinOps's destination is the
    directory's, resolved when it loaded (``deployed_directory``)."""
    hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    monday = week_monday(hour)
    out = [
        Recipient(t.name, t.label, t.slack_channel, tuple(t.emails))
        for t in directory.teams
        if due_at(monday, t.timezone) == hour
    ]
    if due_at(monday, "UTC") == hour:
        finops = directory.finops
        out.append(
            Recipient(FINOPS, "FinOps", finops.slack_channel, tuple(finops.emails)),
        )
    return out


# -- what each reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    recipient: Recipient
    title: str
    headline: str
    rows: tuple[str, ...]
    movers: tuple[str, ...]
    levers: tuple[str, ...]
    forecast: str
    period: str


def _mover(m: Mover) -> str:
    return f"{m.label}: {usd(m.spend_usd)} ({signed_usd(m.change_usd)}, {percent(m.change_percent)})"


def _lever(lever: Lever) -> str:
    return (
        f"{lever.feature} ({lever.environment}) {lever.lever}: about "
        f"{usd(lever.saving_usd_per_month)} a month [{lever.basis}]"
    )


def _period(report: ShowbackReport) -> str:
    last = (report.period.end - timedelta(days=1)).date()
    return f"{report.period.start.date()} to {last} (UTC)"


def team_digest(report: ShowbackReport, team: TeamFigures, recipient: Recipient) -> Digest:
    forecast = report.forecast.teams.get(team.team)
    rows = tuple(
        f"{f.feature} ({f.environment}): {usd(f.spend_usd)} ({percent(f.change_percent)}), "
        f"{f.requests:,} requests at {per_request(f.cost_per_request_usd)}"
        for f in team.features
    )
    return Digest(
        recipient=recipient,
        title=f"{team.display_name}: Bedrock spend, week of {report.period.start.date()}",
        headline=(
            f"{usd(team.spend_usd)} ({signed_usd(team.change_usd)}, {percent(team.change_percent)} against "
            f"the week before), {team.requests:,} requests at {per_request(team.cost_per_request_usd)} each"
        ),
        rows=rows,
        movers=tuple(_mover(m) for m in report.movers if m.team == team.team),
        levers=tuple(_lever(lever) for lever in report.levers if lever.team == team.team),
        forecast=(
            f"{report.forecast.month} month-end, estimated: {usd(forecast.month_end_usd.base)} (optimized "
            f"{usd(forecast.month_end_usd.optimized)}, stress {usd(forecast.month_end_usd.stress)})"
            if forecast else "no forecast"
        ),
        period=_period(report),
    )  # fmt: skip


def finops_digest(report: ShowbackReport, recipient: Recipient) -> Digest:
    u = report.unattributed
    attributable = "-" if report.attributable_percent is None else f"{report.attributable_percent:.2f}%"
    rows = [f"{t.display_name}: {usd(t.spend_usd)} ({percent(t.change_percent)})" for t in report.teams]
    rows.append(
        f"unattributed: {usd(report.unattributed_usd)} (untagged {usd(u.untagged_usd)}, unknown team "
        f"{usd(u.unknown_team_usd)}, direct model calls {usd(u.direct_model_usd)})"
    )
    if report.reconciliation:
        ours = sum(d.metrics_total_usd for d in report.reconciliation.days)
        theirs = sum(d.cost_explorer_total_usd for d in report.reconciliation.days)
        rows.append(
            f"Cost Explorer {usd(theirs)} against {usd(ours)} from metrics "
            f"({signed_usd(round(theirs - ours, 2))})"
        )
    f = report.forecast
    change = round(report.total_spend_usd - report.previous_total_spend_usd, 2)
    return Digest(
        recipient=recipient,
        title=f"Organization: Bedrock spend, week of {report.period.start.date()}",
        headline=(
            f"{usd(report.total_spend_usd)} ({signed_usd(change)} against the week before), "
            f"{attributable} attributable"
        ),
        rows=tuple(rows),
        movers=tuple(_mover(m) for m in report.movers),
        levers=tuple(f"{lever.team}/{_lever(lever)}" for lever in report.levers),
        forecast=(
            f"{f.month} month-end, estimated: {usd(f.month_end_usd.base)} "
            f"(optimized {usd(f.month_end_usd.optimized)}, stress {usd(f.month_end_usd.stress)}); "
            f"{f.quarter}: {usd(f.next_quarter_usd.base)}"
        ),
        period=_period(report),
    )


def digests(report: ShowbackReport, recipients: Sequence[Recipient]) -> list[Digest]:
    """Each recipient's digest (a team with no spend in the period gets none)."""
    teams = {t.team: t for t in report.teams}
    out = []
    for r in recipients:
        if r.name == FINOPS:
            out.append(finops_digest(report, r))
        elif r.name in teams:
            out.append(team_digest(report, teams[r.name], r))
    return out


# -- rendering -----------------------------------------------------------------------------------

SLACK_TEXT_LIMIT = 2900
"""A section's text holds 3,000 characters: lists are cut below that, saying how many were left out."""


def _bullets(items: Sequence[str], empty: str) -> str:
    if not items:
        return empty
    text = ""
    for i, item in enumerate(items):
        line = f"• {item}\n"
        if len(text) + len(line) > SLACK_TEXT_LIMIT:
            return text + f"… and {len(items) - i} more"
        text += line
    return text.rstrip()


def slack_message(digest: Digest) -> SlackMessage:
    blocks = [
        HeaderBlock(text=digest.title[:150]),
        SectionBlock(text=MarkdownTextObject(text=f"*{digest.headline}*\n{digest.period}")),
        SectionBlock(text=MarkdownTextObject(text=_bullets(digest.rows, "no spend"))),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*Biggest movers*\n" + _bullets(digest.movers, "none"))),
        SectionBlock(
            text=MarkdownTextObject(text="*Levers (estimates)*\n" + _bullets(digest.levers, "none found"))
        ),
        ContextBlock(elements=[MarkdownTextObject(text=digest.forecast)]),
    ]
    for block in blocks:
        block.validate_json()
    return SlackMessage(text=f"{digest.title}: {digest.headline}", blocks=[b.to_dict() for b in blocks])


def email_message(digest: Digest) -> EmailMessage:
    env = environment()
    env.filters.update(filters())
    return EmailMessage(
        subject=digest.title,
        text=env.get_template("digest.txt.j2").render(digest=digest),
        html=env.get_template("digest.html.j2").render(digest=digest),
    )


# -- sending -------------------------------------------------------------------------------------


class DigestNotDelivered(TokenfuseError):
    """Some digests reached neither Slack nor email (each named, with why)."""


@dataclass(frozen=True)
class Delivered:
    recipient: str
    via: str
    """``slack:<channel>`` or ``email``."""


def send(digest_list: Sequence[Digest], slack: SlackSender | None, email: EmailSender) -> list[Delivered]:
    """Send each digest to Slack, else email; raise :class:`DigestNotDelivered` (after trying every
    one) naming those that went nowhere."""
    delivered: list[Delivered] = []
    failed: list[str] = []
    for d in digest_list:
        problems = []
        channel = d.recipient.slack_channel
        if channel and slack is not None:
            try:
                slack.post(channel, slack_message(d))
                delivered.append(Delivered(d.recipient.name, f"slack:{channel}"))
                continue
            except SlackDeliveryError as error:
                problems.append(str(error))
        if d.recipient.emails and email.enabled:
            try:
                email.send(list(d.recipient.emails), email_message(d))
                delivered.append(Delivered(d.recipient.name, "email"))
                continue
            except (EmailDeliveryError, TokenfuseError) as error:
                problems.append(str(error))
        failed.append(f"{d.recipient.name}: {'; '.join(problems) or 'no Slack channel or email to send to'}")
    if failed:
        raise DigestNotDelivered("digest not delivered to " + " | ".join(failed))
    return delivered
