"""`tokenfuse report`: showback per team, feature and environment; the unattributed part; the
biggest movers; sized levers; the forecast; the reconciliation with Cost Explorer.

Against a real account (standard AWS credentials) it reads, and changes nothing: every ACTIVE account
of the organization (or this account alone) through the member role, in each region given, and the
period's Bedrock cost by team tag from Cost Explorer (``--budgets-role`` for the payer account's).
``--sandbox`` makes the report of the demo organization in a fresh sandbox (five weeks of traffic).
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokenfuse_cli.errors import NO_CREDENTIALS, Refused
from tokenfuse_cli.files import read_text
from tokenfuse_cli.local import stdout_to_stderr

if TYPE_CHECKING:
    from tokenfuse.showback.models import ShowbackReport, Unit
    from tokenfuse.showback.period import Period
    from tokenfuse.teams import TeamDirectory

DEFAULT_REGIONS = "us-east-1,us-west-2"
COLUMNS = (
    ("team / feature", "left"), ("env", "left"), ("spend", "right"), ("change", "right"),
    ("requests", "right"), ("$/req", "right"), ("in/req", "right"), ("out/req", "right"),
    ("cache/req", "right"), ("top model", "left"),
)  # fmt: skip


ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS named profile.")]
RegionsOption = Annotated[str, typer.Option("--regions", help="Comma-separated regions to read.")]
MemberRoleOption = Annotated[str, typer.Option("--member-role", help="Role to assume in member accounts.")]
DirectoryOption = Annotated[Path | None, typer.Option("--team-directory", help="Team directory YAML file.")]


@dataclass(frozen=True)
class LiveOptions:
    profile: str | None
    region: str | None
    regions: list[str]
    member_role: str
    team_directory: Path | None
    budgets_role: str | None
    unit_prices: Path | None


def choose_period(period: str, start: str | None, end: str | None, today: date) -> Period:
    from tokenfuse.showback.period import Period

    if start or end:
        if not (start and end):
            raise Refused("--start and --end go together (YYYY-MM-DD, both days included)")
        try:
            return Period.inclusive(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError as error:
            raise Refused(f"--start/--end: {error}") from None
    if period != "last-week":
        raise Refused(f"--period: only last-week is known (not {period!r}); or give --start and --end")
    return Period.last_week(today)


def read_unit_prices(path: Path | None) -> dict[str, float]:
    """``--unit-prices FILE``: JSON ``{"model id": USD per model-unit hour}``."""
    if path is None:
        return {}
    try:
        data = json.loads(read_text(path))
    except ValueError as error:
        raise Refused(f"--unit-prices {path}: {error}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and v > 0 for k, v in data.items()
    ):
        raise Refused(f"--unit-prices {path}: not an object of model id -> positive USD per model-unit hour")
    return {k: float(v) for k, v in data.items()}


def read_directory(path: Path | None) -> TeamDirectory:
    from tokenfuse.teams import TeamDirectory, TeamDirectoryError, load_directory

    if path is None:
        return TeamDirectory()
    try:
        return load_directory(read_text(path))
    except TeamDirectoryError as error:
        raise Refused(str(error)) from None


def live_report(options: LiveOptions, period: Period, now: datetime) -> ShowbackReport:
    import boto3

    from tokenfuse.adapters.aws import assume_role_session, client
    from tokenfuse.attribution.service import AwsClientFactory
    from tokenfuse.showback.reading import ShowbackReader
    from tokenfuse.showback.report import ReportOptions
    from tokenfuse.showback.service import make_report

    directory = read_directory(options.team_directory)
    unit_prices = read_unit_prices(options.unit_prices)
    session = boto3.Session(profile_name=options.profile, region_name=options.region or "us-east-1")
    if session.get_credentials() is None:
        raise Refused(NO_CREDENTIALS)
    accounts = organization_accounts(session)
    factory = AwsClientFactory(options.member_role, base=session)
    payer = (
        assume_role_session(options.budgets_role, "tokenfuse-report", session)
        if options.budgets_role
        else session
    )
    scopes = [(a, r) for a in accounts for r in options.regions]
    return make_report(
        ShowbackReader(factory), scopes, period, now=now, directory=directory,
        options=ReportOptions(unit_prices=unit_prices),
        cost_explorer=client("ce", region="us-east-1", session=payer),
    )  # fmt: skip


def organization_accounts(session: Any) -> list[str | None]:
    """The organization's ACTIVE accounts, or [None] (this account) when Organizations refuses to be
    read (not in an organization, not allowed); no credentials or no answer at all raise."""
    from tokenfuse.adapters.aws import aws_call
    from tokenfuse.errors import AwsError, CredentialsMissing, TransientAwsError

    try:
        with aws_call("organizations:ListAccounts"):
            pages = session.client("organizations").get_paginator("list_accounts").paginate()
            found = [str(a["Id"]) for page in pages for a in page["Accounts"] if a.get("Status") == "ACTIVE"]
    except (CredentialsMissing, TransientAwsError):
        raise
    except AwsError:
        return [None]
    return list(found) or [None]


def sandbox_report(period: Period | None, unit_prices: dict[str, float]) -> ShowbackReport:
    from tokenfuse.adapters.aws import client
    from tokenfuse.attribution.service import AwsClientFactory
    from tokenfuse.showback.period import Period
    from tokenfuse.showback.reading import ShowbackReader
    from tokenfuse.showback.report import ReportOptions
    from tokenfuse.showback.service import make_report
    from tokenfuse.teams import load_directory
    from tokenfuse_sandbox.story import org as org_mod
    from tokenfuse_sandbox.story.driver import handler_output_to
    from tokenfuse_sandbox.story.showback import NOW, queue_cost_explorer_answer, showback_sandbox

    chosen = period or Period.last_week(NOW.date())
    # the handlers' JSON logs (the inventory recording the profiles) are not the report's output
    with (
        handler_output_to(Path(os.devnull)),
        warnings.catch_warnings(),
        showback_sandbox() as (sb, seeded, _),
    ):
        warnings.simplefilter("ignore")
        queue_cost_explorer_answer(sb.account_id, seeded, chosen.start, chosen.end)
        scopes = [(a.account_id, r) for a in org_mod.ACCOUNTS for r in org_mod.REGIONS]
        return make_report(
            ShowbackReader(AwsClientFactory(org_mod.MEMBER_ROLE)), scopes, chosen, now=NOW,
            directory=load_directory(org_mod.directory_yaml("notify")),
            options=ReportOptions(unit_prices=unit_prices), cost_explorer=client("ce", region="us-east-1"),
            source="sandbox (CloudWatch metrics of the demo organization)",
        )  # fmt: skip


def _top_model(unit: Unit) -> str:
    return unit.models[0].model_id if unit.models else ""


def _cells(label: str, environment: str, unit: Unit, model: str) -> list[str]:
    from tokenfuse.showback.render import per_request, percent, tokens, usd

    return [
        label, environment, usd(unit.spend_usd), percent(unit.change_percent), f"{unit.requests:,}",
        per_request(unit.cost_per_request_usd), tokens(unit.input_tokens_per_request),
        tokens(unit.output_tokens_per_request), tokens(unit.cache_read_tokens_per_request), model,
    ]  # fmt: skip


def render_terminal(report: ShowbackReport, width: int = 160) -> str:
    from rich.console import Console
    from rich.table import Table

    from tokenfuse.showback.render import signed_usd, usd

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None, markup=False)
    start = report.period.start.date()
    last = report.period.end.date().fromordinal(report.period.end.date().toordinal() - 1)
    table = Table(title=f"Bedrock showback {start} to {last} (UTC)", title_justify="left")
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for team in report.teams:
        table.add_row(*_cells(team.display_name, "", team, ""), style="bold")
        for f in team.features:
            table.add_row(*_cells(f"  {f.feature}", f.environment, f, _top_model(f)))
    for item in report.unattributed.items:
        table.add_row(*_cells(f"{item.kind}: {item.label}", "", item, _top_model(item)))
    console.print(table)
    u = report.unattributed
    attributable = "-" if report.attributable_percent is None else f"{report.attributable_percent:.2f}%"
    change = signed_usd(report.total_spend_usd - report.previous_total_spend_usd)
    breakdown = (
        f"untagged {usd(u.untagged_usd)}, unknown team {usd(u.unknown_team_usd)}, "
        f"direct model calls {usd(u.direct_model_usd)}"
    )
    console.print(
        f"total {usd(report.total_spend_usd)} ({change} vs the period before); attributable {attributable}; "
        f"unattributed {usd(report.unattributed_usd)} ({breakdown})"
    )
    if report.movers:
        console.print(
            "biggest movers: " + "; ".join(f"{m.label} {signed_usd(m.change_usd)}" for m in report.movers)
        )
    forecast = report.forecast
    console.print(
        f"forecast {forecast.month} month-end [estimate]: base {usd(forecast.month_end_usd.base)}, "
        f"optimized {usd(forecast.month_end_usd.optimized)}, stress {usd(forecast.month_end_usd.stress)}; "
        f"{forecast.quarter}: base {usd(forecast.next_quarter_usd.base)} ({forecast.trend_model})"
    )
    for lever in report.levers:
        saving = usd(lever.saving_usd_per_month)
        console.print(f"lever {lever.team}/{lever.feature} {lever.lever}: {saving} a month [{lever.basis}]")
    if report.reconciliation:
        totals: dict[str, tuple[float, float]] = {}
        for day in report.reconciliation.days:
            for row in day.teams:
                ours, theirs = totals.get(row.team_tag, (0.0, 0.0))
                totals[row.team_tag] = (ours + row.metrics_usd, theirs + row.cost_explorer_usd)
        parts = [
            f"{tag or '(untagged)'} {signed_usd(round(theirs - ours, 2))}"
            for tag, (ours, theirs) in sorted(totals.items())
        ]
        console.print("Cost Explorer minus metrics, by team tag over the period: " + "; ".join(parts))
    for note in report.notes:
        console.print(f"note: {note}")
    return console.export_text()


def report(  # noqa: PLR0917 - typer options
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Report on the demo organization in a fresh sandbox.")
    ] = False,
    period: Annotated[
        str, typer.Option("--period", help="last-week: the previous Monday to Sunday (UTC).")
    ] = "last-week",
    start: Annotated[
        str | None, typer.Option("--start", help="First day (YYYY-MM-DD, UTC) instead of --period.")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day, included (YYYY-MM-DD, UTC).")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON ('-' = stdout).")
    ] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write one row per feature as CSV.")] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML page.")
    ] = None,
    profile: ProfileOption = None,
    region: Annotated[str | None, typer.Option("--region", help="Region for the API clients.")] = None,
    regions: RegionsOption = DEFAULT_REGIONS,
    member_role: MemberRoleOption = "tokenfuse-member",
    team_directory: DirectoryOption = None,
    budgets_role: Annotated[
        str | None, typer.Option("--budgets-role", help="Payer-account role for Cost Explorer.")
    ] = None,
    unit_prices: Annotated[
        Path | None,
        typer.Option(
            "--unit-prices", help="JSON: model id -> USD per Provisioned Throughput model-unit hour."
        ),
    ] = None,
) -> None:
    """Showback per team, feature and environment, with movers, sized levers and the forecast."""
    with stdout_to_stderr() as out:
        now = datetime.now(UTC)
        if sandbox:
            from tokenfuse_sandbox.story.showback import NOW

            chosen = choose_period(period, start, end, NOW.date())
            made = sandbox_report(chosen, read_unit_prices(unit_prices))
        else:
            chosen = choose_period(period, start, end, now.date())
            live = LiveOptions(profile, region, [r.strip() for r in regions.split(",") if r.strip()],
                               member_role, team_directory, budgets_role, unit_prices)  # fmt: skip
            made = live_report(live, chosen, now)
        write_outputs(made, out, json_path, csv_path, html_path)


def write_outputs(
    made: ShowbackReport, out: Any, json_path: Path | None, csv_path: Path | None, html_path: Path | None
) -> None:
    from tokenfuse.showback.render import to_csv, to_html

    text = made.model_dump_json(indent=2) + "\n"
    if json_path is not None and str(json_path) == "-":
        out.write(text)
    else:
        out.write(render_terminal(made))
        if json_path is not None:
            _write(json_path, text)
    if csv_path is not None:
        _write(csv_path, to_csv(made))
    if html_path is not None:
        _write(html_path, to_html(made))


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as error:
        raise Refused(f"cannot write {path}: {error.strerror or error}") from None
