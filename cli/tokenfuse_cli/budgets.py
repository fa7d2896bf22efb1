"""`tokenfuse budgets plan`: an AWS Budget per team and per team feature, sized from the forecast
(FORECASTED at 100%; ACTUAL at 100% for dev-only features, which tokenfuse acts on as a hard cap).

``--apply`` creates them in the management account (through ``--budgets-role``, the role
``org/management.yaml`` deploys for this), their alerts published to tokenfuse's Budgets topic
(``--topic-arn``, the main stack's ``BudgetsTopicArn`` output). ``--sandbox`` plans (and applies, in
moto) for the demo organization.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tokenfuse_cli.local import stdout_to_stderr
from tokenfuse_cli.report import (
    DEFAULT_REGIONS,
    DirectoryOption,
    LiveOptions,
    MemberRoleOption,
    ProfileOption,
    Refused,
    RegionsOption,
    choose_period,
    live_report,
    sandbox_report,
)

if TYPE_CHECKING:
    from tokenfuse.showback.budgets import BudgetPlan

app = typer.Typer(help="AWS Budgets per team and feature, from the forecast.", no_args_is_help=True)


def render_plan(plan: BudgetPlan, applied: dict[str, str]) -> str:
    lines = [
        f"budgets for {plan.month} (monthly, limit = base month-end forecast + {plan.headroom_percent:.0f}%):"
    ]
    for b in plan.budgets:
        alerts = ", ".join(
            f"{n.notification_type} {n.threshold_percent:.0f}%" + (" (hard cap)" if n.hard_cap else "")
            for n in b.notifications
        )
        scope = f"team={b.team_tag}" + (f" feature={b.feature}" if b.feature else "")
        done = f"  [{applied[b.name]}]" if b.name in applied else ""
        lines.append(f"  {b.name:<44} ${b.limit_usd:>12,.2f}  {scope:<36} {alerts}{done}")
    lines += [f"note: {note}" for note in plan.notes]
    if not applied:
        lines.append("nothing created: run with --apply to create them")
    return "\n".join(lines) + "\n"


def apply_plan(plan: BudgetPlan, budgets_client: Any, account_id: str, topic_arn: str) -> dict[str, str]:
    from tokenfuse.adapters.budget_plans import BudgetWriter
    from tokenfuse.showback.budgets import create_budget_request

    writer = BudgetWriter(budgets_client)
    return {b.name: writer.apply(create_budget_request(b, account_id, topic_arn)) for b in plan.budgets}


@app.command("plan")
def plan(  # noqa: PLR0917 - typer options
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Plan for the demo organization in a fresh sandbox.")
    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Create the budgets (management account).")] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the plan as JSON ('-' = stdout).")
    ] = None,
    topic_arn: Annotated[
        str | None, typer.Option("--topic-arn", help="tokenfuse's Budgets topic (BudgetsTopicArn).")
    ] = None,
    management_account: Annotated[
        str | None, typer.Option("--management-account", help="Account id the budgets go in.")
    ] = None,
    profile: ProfileOption = None,
    regions: RegionsOption = DEFAULT_REGIONS,
    member_role: MemberRoleOption = "tokenfuse-member",
    team_directory: DirectoryOption = None,
    budgets_role: Annotated[
        str | None,
        typer.Option("--budgets-role", help="Management-account role that may create tokenfuse-* budgets."),
    ] = None,
) -> None:
    """Propose an AWS Budget per team and feature; --apply creates them."""
    from tokenfuse.showback.budgets import plan_budgets

    with stdout_to_stderr() as out:
        try:
            if sandbox:
                made, applied = _sandbox(apply)
            else:
                if apply and not (topic_arn and management_account and budgets_role):
                    raise Refused("--apply needs --topic-arn, --management-account and --budgets-role")
                from datetime import UTC, datetime

                now = datetime.now(UTC)
                live = LiveOptions(profile, None, [r.strip() for r in regions.split(",") if r.strip()],
                                   member_role, team_directory, budgets_role, None)  # fmt: skip
                report = live_report(live, choose_period("last-week", None, None, now.date()), now)
                made = plan_budgets(report)
                applied = _apply_live(made, live, str(management_account), str(topic_arn)) if apply else {}
        except Refused as error:
            typer.echo(f"tokenfuse budgets plan: {error}", err=True)
            raise typer.Exit(2) from None
        text = json.dumps({"plan": made.model_dump(mode="json"), "applied": applied}, indent=2) + "\n"
        if json_path is not None and str(json_path) == "-":
            out.write(text)
            return
        out.write(render_plan(made, applied))
        if json_path is not None:
            json_path.write_text(text)


def _apply_live(made: BudgetPlan, live: LiveOptions, account: str, topic_arn: str) -> dict[str, str]:
    import boto3

    from tokenfuse.adapters.aws import assume_role_session, client
    from tokenfuse.adapters.budgets import BUDGETS_REGION
    from tokenfuse.errors import TokenfuseError

    try:
        session = assume_role_session(
            str(live.budgets_role), "tokenfuse-budgets-plan", boto3.Session(profile_name=live.profile)
        )
        return apply_plan(made, client("budgets", region=BUDGETS_REGION, session=session), account, topic_arn)
    except TokenfuseError as error:
        raise Refused(str(error)) from None


def _sandbox(apply: bool) -> tuple[BudgetPlan, dict[str, str]]:
    """Plan from the demo organization's report; with ``apply``, create the budgets in moto (in a
    sandbox of their own: the report's has stopped) and read them back."""
    from tokenfuse.showback.budgets import plan_budgets

    report = sandbox_report(None, {})
    made = plan_budgets(report)
    if not apply:
        return made, {}
    import os

    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.story.driver import handler_output_to
    from tokenfuse_sandbox.story.org import TOKENFUSE_ACCOUNT

    with handler_output_to(Path(os.devnull)), Sandbox(function_urls=False, fire_schedules=False) as sb:
        topic = str(sb.resources["BudgetsTopic"])
        from tokenfuse.adapters.aws import client

        budgets = client("budgets", region="us-east-1")
        applied = apply_plan(made, budgets, TOKENFUSE_ACCOUNT, topic)
        listed = {
            b["BudgetName"] for b in budgets.describe_budgets(AccountId=TOKENFUSE_ACCOUNT).get("Budgets", [])
        }
        missing = sorted(set(applied) - listed)
        if missing:
            raise Refused(f"created but not found afterwards: {', '.join(missing)}")
    return made, applied
