"""`tokenfuse audit`: the organization's inference profiles by account and team, the non-compliant
ones, and the attributable share of Bedrock spend.

Against a real account (standard AWS credentials, ``--profile`` / ``--region``) it reads, and
changes nothing: the organization's ACTIVE accounts (or this account alone), each through the
member role, every region given, and yesterday's Bedrock cost by team tag from Cost Explorer.

``--sandbox`` runs the inventory function for real in the sandbox (moto, the template's own
wiring): it seeds a small organization (the management account and two members, profiles in two
regions, one untagged, one of an unknown team, a day of Bedrock cost), fires the daily schedule,
lets the sweep run, and reports from the inventory table.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokenfuse_cli.local import stdout_to_stderr

if TYPE_CHECKING:
    import boto3

    from tokenfuse.inventory.config import InventorySettings
    from tokenfuse_sandbox.core import Sandbox

DEFAULT_REGIONS = "us-east-1,us-west-2"
SANDBOX_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SANDBOX_TEAMS = """\
teams:
  - name: search
    display_name: Search
    slack_channel: C0SEARCH01
  - name: ranking
    tag_values: [ranking-eng]
    slack_channel: C0RANKING1
finops:
  slack_channel: C0FINOPS01
"""
# (account key, region, name, tags, yesterday's cost in USD)
SANDBOX_PROFILES: tuple[tuple[str, str, str, dict[str, str], float], ...] = (
    ("member-1", "us-east-1", "search-answers", {"team": "search", "environment": "prod"}, 120.0),
    ("member-1", "us-west-2", "support-bot", {}, 30.0),
    ("member-2", "us-east-1", "mystery-agent", {"team": "ghost", "environment": "dev"}, 4.5),
    ("member-2", "us-west-2", "rerank", {"team": "ranking-eng", "environment": "prod"}, 45.5),
    ("management", "us-east-1", "finops-notebook", {"team": "search", "environment": "dev"}, 0.0),
)


def audit(  # noqa: PLR0917 - typer options
    sandbox: Annotated[bool, typer.Option("--sandbox", help="Audit a seeded sandbox org (no AWS).")] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this path ('-' = stdout).")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS named profile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Region for the API clients.")] = None,
    regions: Annotated[
        str, typer.Option("--regions", help="Comma-separated regions to read profiles in (real account).")
    ] = DEFAULT_REGIONS,
    member_role: Annotated[
        str, typer.Option("--member-role", help="Role to assume in member accounts.")
    ] = "tokenfuse-member",
    team_directory: Annotated[
        Path | None, typer.Option("--team-directory", help="Team directory YAML file.")
    ] = None,
    team_directory_parameter: Annotated[
        str | None,
        typer.Option("--team-directory-parameter", help="SSM parameter with the directory."),
    ] = None,
    budgets_role: Annotated[
        str | None, typer.Option("--budgets-role", help="Management-account role for Cost Explorer.")
    ] = None,
    team_tag: Annotated[str, typer.Option("--team-tag", help="Tag key naming the owning team.")] = "team",
    mandatory_tags: Annotated[
        str, typer.Option("--mandatory-tags", help="Comma-separated mandatory tag keys.")
    ] = "team,environment",
) -> None:
    """Profiles by account and team, the non-compliant ones, and the attributable %."""
    with stdout_to_stderr() as out:
        try:
            if sandbox:
                report = sandbox_report(team_tag=team_tag, mandatory_tags=mandatory_tags)
            else:
                report = live_report(
                    profile=profile,
                    region=region,
                    regions=[r.strip() for r in regions.split(",") if r.strip()],
                    member_role=member_role,
                    team_directory=team_directory,
                    team_directory_parameter=team_directory_parameter,
                    budgets_role=budgets_role,
                    team_tag=team_tag,
                    mandatory_tags=mandatory_tags,
                )
        except Exception as error:
            typer.echo(f"tokenfuse audit: {' '.join(str(error).split())}", err=True)
            raise typer.Exit(1) from error
        from tokenfuse.inventory.report import render_text

        text = json.dumps(report, indent=2) + "\n"
        if json_path is not None and str(json_path) == "-":
            out.write(text)
            return
        out.write(render_text(report))
        if json_path is not None:
            json_path.write_text(text)


# --------------------------------------------------------------------------------------------------
# Real account
# --------------------------------------------------------------------------------------------------
def _settings(**values: Any) -> InventorySettings:
    from tokenfuse.inventory.config import InventorySettings

    return InventorySettings.model_validate(values)


def live_report(
    *,
    profile: str | None,
    region: str | None,
    regions: list[str],
    member_role: str,
    team_directory: Path | None,
    team_directory_parameter: str | None,
    budgets_role: str | None,
    team_tag: str,
    mandatory_tags: str,
) -> dict[str, Any]:
    import boto3

    from tokenfuse import clock
    from tokenfuse.adapters.aws import MemberSessions, client
    from tokenfuse.inventory.owners import DirectoryTeams
    from tokenfuse.inventory.report import audit_report
    from tokenfuse.inventory.service import Inventory
    from tokenfuse.teams import TeamDirectory

    session = boto3.Session(profile_name=profile, region_name=region)
    if session.region_name is None:  # Organizations and STS still need an endpoint
        session = boto3.Session(profile_name=profile, region_name="us-east-1")
    warnings: list[str] = []
    if team_directory is not None:
        teams = DirectoryTeams.from_yaml(team_directory.read_text())
    elif team_directory_parameter:
        value = client("ssm", session=session).get_parameter(Name=team_directory_parameter)["Parameter"][
            "Value"
        ]
        teams = DirectoryTeams.from_yaml(value)
    else:
        teams = DirectoryTeams(TeamDirectory())
        warnings.append("no team directory given (--team-directory): every team counts as unknown")
    settings = _settings(
        INVENTORY_TABLE_NAME="(audit: read-only)",
        MEMBER_ROLE_NAME=member_role,
        TEAM_TAG_KEY=team_tag,
        MANDATORY_TAG_KEYS=mandatory_tags,
        INVENTORY_REGIONS=",".join(regions),
        BUDGETS_ROLE_ARN=budgets_role or "",
    )
    inventory = Inventory(
        settings,
        table=None,  # type: ignore[arg-type]  # the audit only reads AWS: it never reaches the table
        teams=teams,
        bus=None,
        sessions=MemberSessions(member_role, "tokenfuse-audit", base=session),
    )
    accounts = inventory.accounts()
    records = []
    for account in accounts:
        try:
            found, skipped = inventory.observe_account(account.account_id, regions)
        except Exception as error:
            warnings.append(f"account {account.account_id}: {' '.join(str(error).split())}")
            continue
        records.extend(found)
        warnings.extend(f"account {account.account_id} region {r}: {why}" for r, why in skipped.items())
    day = clock.now().date() - timedelta(days=1)
    share = None
    try:
        share = inventory.attributable(day)
    except Exception as error:
        warnings.append(f"attributable % unknown: {' '.join(str(error).split())}")
    return audit_report(
        records,
        share,
        day=day,
        generated_at=clock.now(),
        source="live",
        account_names={a.account_id: a.name for a in accounts},
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------------
# Sandbox
# --------------------------------------------------------------------------------------------------
def _member_session(account_id: str, own: str) -> boto3.Session:
    import boto3

    if account_id == own:
        return boto3.Session()
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/tokenfuse-member", RoleSessionName="tokenfuse-seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed_organization(sb: Sandbox, day: date) -> dict[str, str]:
    """A small organization in the sandbox: accounts, profiles, the team directory, a day of cost.

    Returns account key -> account id. (Until the sandbox seeds its own default organization.)"""
    import boto3
    from moto.ce.models import ce_backends

    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    accounts = {"management": sb.account_id}
    for key in ("member-1", "member-2"):
        status = org.create_account(Email=f"{key}@example.com", AccountName=key)["CreateAccountStatus"]
        accounts[key] = status["AccountId"]
    cost_by_tag: dict[str, float] = {}
    for key, region, name, tags, usd in SANDBOX_PROFILES:
        bedrock = _member_session(accounts[key], sb.account_id).client("bedrock", region_name=region)
        bedrock.create_inference_profile(
            inferenceProfileName=name,
            modelSource={"copyFrom": f"arn:aws:bedrock:{region}::foundation-model/{SANDBOX_MODEL}"},
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )
        group = f"team${tags.get('team', '')}"
        cost_by_tag[group] = cost_by_tag.get(group, 0.0) + usd
    sb.clients["ssm"].put_parameter(
        Name=sb.resources["TeamDirectoryParameter"], Value=SANDBOX_TEAMS, Type="String", Overwrite=True
    )
    # Emulation: Cost Explorer's answer for that day (moto's CE answers from a queue of results).
    ce_backends[sb.account_id]["global"].cost_usage_results_queue.append(
        {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                    "Total": {},
                    "Groups": [
                        {"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": f"{v:.2f}", "Unit": "USD"}}}
                        for k, v in cost_by_tag.items()
                    ],
                    "Estimated": True,
                }
            ],
            "DimensionValueAttributes": [],
        }
    )
    return accounts


def sandbox_report(*, team_tag: str = "team", mandatory_tags: str = "team,environment") -> dict[str, Any]:
    from tokenfuse import clock
    from tokenfuse.adapters.inventory_table import InventoryTable
    from tokenfuse.inventory.attributable import attributable_share
    from tokenfuse.inventory.owners import DirectoryTeams
    from tokenfuse.inventory.report import audit_report
    from tokenfuse_sandbox.core import Sandbox

    channels = {"C0SEARCH01": "search", "C0RANKING1": "ranking", "C0FINOPS01": "finops"}  # of SANDBOX_TEAMS
    with Sandbox(function_urls=False, slack_channels=channels) as sb:
        sb.enable_cross_account()
        day = clock.now().date() - timedelta(days=1)
        accounts = seed_organization(sb, day)
        invocations = sb.fire_schedule("InventoryFunction")
        errors = [i.error for i in invocations if getattr(i, "error", None)]
        sb.drain()
        errors += [i.error for i in sb.invocations if getattr(i, "error", None)]
        records = InventoryTable(sb.resources["InventoryTable"]).all()
        percent = next(
            (i.result.get("attributable_percent") for i in invocations if isinstance(i.result, dict)), None
        )
        teams = DirectoryTeams.from_yaml(SANDBOX_TEAMS)
        from tokenfuse.adapters.aws import client
        from tokenfuse.adapters.cost_explorer import cost_by_tag
        from tokenfuse.canaries import DRILL_COST_TAGS

        ce = client("ce", region="us-east-1")
        # the function's own query: drill canaries are in no figure
        groups = cost_by_tag(ce, day, day + timedelta(days=1), team_tag, exclude_tags=DRILL_COST_TAGS)
        share = attributable_share(groups, teams.team_for)
        warnings = [f"inventory function error: {e}" for e in errors]
        if percent is not None and share.percent != percent:
            warnings.append(f"the function published {percent}% but the audit computed {share.percent}%")
        names = {v: k for k, v in accounts.items()}
        return audit_report(
            records,
            share,
            day=day,
            generated_at=clock.now(),
            source="sandbox",
            account_names=names,  # type: ignore[arg-type]
            warnings=warnings,
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(typer.run(audit))  # type: ignore[func-returns-value]
