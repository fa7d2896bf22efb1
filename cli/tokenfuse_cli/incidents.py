"""`tokenfuse incidents`: open and recent incidents, from the incidents table of a real account (or of
the running sandbox, with ``--sandbox``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokenfuse_cli.errors import Refused

if TYPE_CHECKING:
    from tokenfuse.events import Incident


def incidents(
    *,
    stack_name: Annotated[
        str | None, typer.Option("--stack-name", help="Read the table name from this stack's outputs.")
    ] = None,
    table: Annotated[str | None, typer.Option("--table", help="The incidents table name.")] = None,
    days: Annotated[int, typer.Option("--days", help="Also list incidents closed in the last N days.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document (the Incident models).")] = False,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    quiet_hours: Annotated[float, typer.Option("--quiet-hours", help="The stack's IncidentQuietHours.")] = 6,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="The running sandbox's table (`tokenfuse sandbox up`).")
    ] = False,
) -> None:
    """List open and recent incidents (newest first)."""
    if sandbox:
        from tokenfuse_cli.sandbox import NOT_UP, aws_of, running

        state = running()
        if state is None:
            raise Refused(NOT_UP)
        with aws_of(state):
            found = _read(None, state.resources["IncidentsTable"], None, None)
            now = state.clock
    else:
        found = _read(stack_name, table, profile, region)
        now = datetime.now(UTC)
    _print(found, now, days, quiet_hours, as_json)


def _read(
    stack_name: str | None, table: str | None, profile: str | None, region: str | None
) -> list[Incident]:
    import boto3

    from tokenfuse.adapters.incidents_table import IncidentsTable

    session = boto3.Session(profile_name=profile, region_name=region)
    name = table or _table_from_stack(session, stack_name)
    return IncidentsTable(name, session.client("dynamodb")).incidents()


def _print(found: list[Incident], now: datetime, days: int, quiet_hours: float, as_json: bool) -> None:
    from tokenfuse.incidents import effective_status

    rows = []
    for incident in found:
        status = effective_status(incident, now, quiet_hours)
        if status == "open" or incident.last_signal_at >= now - timedelta(days=days):
            rows.append((status, incident))
    if as_json:
        typer.echo(json.dumps([{**i.to_bus(), "status": s} for s, i in rows], indent=2))
        return
    if not rows:
        typer.echo(f"no open incidents, none in the last {days} days")
        return
    header = ("STATUS", "OPENED", "OWNER", "PROFILE", "$/H", "KIND", "SIGNALS", "INCIDENT")
    typer.echo(_row(*header))
    for status, i in rows:
        rate = f"{i.cost_per_hour_usd:,.2f}" if i.cost_per_hour_usd is not None else "n/a"
        opened = f"{i.opened_at:%Y-%m-%d %H:%MZ}"
        profile_name = i.profile_name or i.profile_id or "direct model calls"
        typer.echo(
            _row(
                status,
                opened,
                i.team or "finops",
                profile_name,
                rate,
                i.kind,
                str(i.signal_count),
                i.incident_id,
            )
        )


def _row(*cells: str) -> str:
    widths = (8, 17, 12, 28, 9, 15, 7, 0)
    return " ".join(
        cell[:width].rjust(width) if index == 4 else cell[:width].ljust(width) if width else cell
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def _table_from_stack(session: Any, stack_name: str | None) -> str:
    if not stack_name:
        raise Refused("pass --table or --stack-name (or --sandbox)")
    from tokenfuse.adapters.aws import aws_call

    with aws_call("cloudformation:DescribeStacks", resource=stack_name):
        stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == "IncidentsTableName":
            return str(output["OutputValue"])
    raise Refused(f"stack {stack_name} has no IncidentsTableName output")
