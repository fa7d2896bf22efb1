"""The digest function's work (the handler only wires): build the organization's report for the week
that ended, send the digests due this hour; or reconcile yesterday with Cost Explorer."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tokenfuse.adapters.aws import assume_role_session, client
from tokenfuse.adapters.cost_explorer import daily_cost_by_tag
from tokenfuse.adapters.email import EmailSender
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.adapters.slack import SlackSender, bot_token_from_secret
from tokenfuse.attribution.service import AwsClientFactory
from tokenfuse.showback import digest
from tokenfuse.showback.models import ShowbackReport
from tokenfuse.showback.period import Period
from tokenfuse.showback.reading import ShowbackReader
from tokenfuse.showback.reconcile import reconcile
from tokenfuse.showback.report import ReportOptions
from tokenfuse.showback.service import directory_lookups, make_report
from tokenfuse.showback.settings import DigestRun, DigestSettings
from tokenfuse.teams import deployed_directory


def _reader(settings: DigestSettings) -> tuple[ShowbackReader, list[tuple[str | None, str]]]:
    inventory = InventoryTable(settings.inventory_table_name)
    records = inventory.all()
    tags = {r.profile_arn: dict(r.tags) for r in records}
    scopes: list[tuple[str | None, str]] = sorted({(r.account_id, r.region) for r in records})
    return ShowbackReader(AwsClientFactory(settings.member_role_name), known_tags=tags.get), scopes


def _cost_explorer(settings: DigestSettings) -> Any:
    session = (
        assume_role_session(settings.budgets_role_arn, "tokenfuse-digest")
        if settings.budgets_role_arn
        else None
    )
    return client("ce", region="us-east-1", session=session)


def weekly_report(settings: DigestSettings, at: datetime) -> ShowbackReport:
    reader, scopes = _reader(settings)
    directory = deployed_directory(settings.team_directory_parameter)
    return make_report(
        reader, scopes, Period.last_week(at.astimezone(UTC).date()), now=at, directory=directory,
        options=ReportOptions(tag_keys=settings.tag_keys), cost_explorer=_cost_explorer(settings),
    )  # fmt: skip


def weekly_digest(settings: DigestSettings, run: DigestRun) -> dict[str, Any]:
    directory = deployed_directory(
        settings.team_directory_parameter,
        finops_slack_channel=settings.finops_slack_channel,
        finops_email=settings.finops_email,
    )
    due = digest.due_recipients(directory, run.scheduled_time)
    if not due:
        return {"action": run.action, "due": [], "delivered": []}
    report = weekly_report(settings, run.scheduled_time)
    token = bot_token_from_secret(settings.slack_bot_token_secret_arn)
    slack = SlackSender(token, settings.slack_api_base_url) if token else None
    delivered = digest.send(digest.digests(report, due), slack, EmailSender(settings.sender_email))
    return {
        "action": run.action,
        "period": report.period.model_dump(mode="json"),
        "due": [r.name for r in due],
        "delivered": [{"recipient": d.recipient, "via": d.via} for d in delivered],
    }


def daily_reconciliation(settings: DigestSettings, run: DigestRun) -> dict[str, Any]:
    """Yesterday (UTC): metrics priced per team tag against Cost Explorer's cost by the team tag."""
    today = run.scheduled_time.astimezone(UTC).date()
    day = Period(today - timedelta(days=1), today)
    reader, scopes = _reader(settings)
    lines = reader.read(scopes, day.start, day.end)
    team_for, _ = directory_lookups(deployed_directory(settings.team_directory_parameter))
    billed = daily_cost_by_tag(_cost_explorer(settings), day.start, day.end, settings.team_tag_key)
    result = reconcile(lines, billed, day, tag_keys=settings.tag_keys, team_for=team_for)
    return {"action": run.action, **result.model_dump(mode="json")}
