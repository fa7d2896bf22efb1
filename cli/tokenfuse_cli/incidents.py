"""`tokenfuse incidents`: open and recent incidents, from the incidents table of a real account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer


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
) -> None:
    """List open and recent incidents (newest first)."""
    import boto3

    from tokenfuse.adapters.incidents_table import IncidentsTable
    from tokenfuse.errors import TokenfuseError
    from tokenfuse.incidents import effective_status

    session = boto3.Session(profile_name=profile, region_name=region)
    try:
        name = table or _table_from_stack(session, stack_name)
        found = IncidentsTable(name, session.client("dynamodb")).incidents()
    except TokenfuseError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    now = datetime.now(UTC)
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
        typer.echo("pass --table or --stack-name", err=True)
        raise typer.Exit(2)
    from tokenfuse.adapters.aws import aws_call

    with aws_call("cloudformation:DescribeStacks", resource=stack_name):
        stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == "IncidentsTableName":
            return str(output["OutputValue"])
    typer.echo(f"stack {stack_name} has no IncidentsTableName output", err=True)
    raise typer.Exit(2)
