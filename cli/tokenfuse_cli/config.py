"""`tokenfuse config validate FILE` and `tokenfuse test-alert --team T`."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from tokenfuse.alerts.view import AlertView
    from tokenfuse.teams import Route, TeamDirectory

app = typer.Typer(help="The team directory: check it before uploading it.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `config`, `incidents` and `test-alert` to the root command."""
    from tokenfuse_cli import incidents

    root.add_typer(app, name="config")
    root.command("incidents")(incidents.incidents)
    root.command("test-alert")(test_alert)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Team directory YAML (see config/teams.example.yaml).")],
) -> None:
    """Validate a team directory for upload: every error with its line and path in the file
    (exit 2), else a summary. Refused too: an empty directory, and one the SSM parameter cannot hold."""
    from tokenfuse.teams import TeamDirectoryError, uploadable_directory

    try:
        directory = uploadable_directory(_read(file))
    except TeamDirectoryError as error:
        for issue in error.issues:
            typer.echo(f"{file}: {issue}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{file}: ok: {directory.summary()}")


def _read(file: Path) -> bytes:
    """The file's bytes, at most one past what an SSM parameter holds (a larger file is refused by
    its size, never read whole); a file that cannot be read exits 2 with one line."""
    from tokenfuse.teams import SSM_VALUE_LIMIT_BYTES

    try:
        with file.open("rb") as stream:
            return stream.read(SSM_VALUE_LIMIT_BYTES + 1)
    except OSError as error:
        typer.echo(f"{file}: cannot read: {error.strerror or error}", err=True)
        raise typer.Exit(2) from None


def test_alert(
    *,
    team: Annotated[
        str, typer.Option("--team", help="Team name (or one of its tag values); 'finops' for FinOps.")
    ],
    config: Annotated[
        Path | None, typer.Option("--config", help="Team directory YAML (default: config/teams.yaml).")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Send to the sandbox's Slack-compatible server, not to Slack.")
    ] = False,
    environment: Annotated[
        str, typer.Option("--environment", help="Environment whose policy to show.")
    ] = "prod",
    token_secret: Annotated[
        str | None,
        typer.Option(
            "--token-secret", help="Secret (ARN/name) with the bot token; default: env SLACK_BOT_TOKEN."
        ),
    ] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="SES sender for email-only teams.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile (secret, SES).")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region (secret, SES).")] = None,
) -> None:
    """Send a labelled "[TEST]" alert through the real rendering and sending path."""
    from tokenfuse.adapters.slack import SlackDeliveryError
    from tokenfuse.teams import TeamDirectoryError, load_directory, uploadable_text

    path = config or Path("config/teams.yaml")
    try:
        directory = load_directory(uploadable_text(_read(path)))
    except TeamDirectoryError as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(2) from None
    route = directory.route(None if team == "finops" else team)
    if team != "finops" and route.team is None:
        typer.echo(f"no team '{team}' in {path}", err=True)
        raise typer.Exit(2)
    view = sample_view(directory, route, environment)
    try:
        if route.slack_channel:
            _send_slack(
                route.slack_channel,
                view,
                sandbox=sandbox,
                token_secret=token_secret,
                profile=profile,
                region=region,
            )
        else:
            _send_email(list(route.emails), view, sender, profile, region)
    except SlackDeliveryError as error:
        typer.echo(f"Slack refused the test alert: {error.code}", err=True)
        raise typer.Exit(1) from None


def sample_view(directory: TeamDirectory, route: Route, environment: str) -> AlertView:
    """An AlertView of a made-up output runaway on one of the team's profiles, labelled [TEST]."""
    from tokenfuse.alerts.view import AlertView, default_links
    from tokenfuse.events import Culprit, SpendSignal, SpikeAttributed, TokensPerRequest
    from tokenfuse.incidents import new_incident

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    team_tag = route.team.name if route.team else None
    signal = SpendSignal(
        source="token-rate-alarm",
        dedup_key=f"test-alert:{now:%Y%m%d%H%M}",
        received_at=now,
        window_start=now - timedelta(minutes=5),
        window_end=now,
        raw_source="eventbridge",
        summary="tokenfuse test alert",
    )
    culprit = Culprit(
        profile_arn="arn:aws:bedrock:us-east-1:000000000000:application-inference-profile/testalert000",
        profile_id="testalert000",
        profile_name=f"{team_tag or 'untagged'}-test-profile",
        account_id="000000000000",
        region="us-east-1",
        team=team_tag,
        feature="test-alert",
        environment=environment,
        tagged=team_tag is not None,
        window_cost_usd=10.0,
        baseline_cost_usd=1.0,
        delta_usd=9.0,
        share=1.0,
        cost_per_hour_usd=120.0,
        baseline_cost_per_hour_usd=10.0,
        month_end_usd=40000.0,
        invocations=1200,
        baseline_invocations=1100.0,
        tokens_per_request=TokensPerRequest(input=1200, output=3900),
        baseline_tokens_per_request=TokensPerRequest(input=1150, output=400),
        kind="output-runaway",
        hourly_cost_usd=[10.0] * 20 + [11.0, 45.0, 110.0, 120.0],
    )
    spike = SpikeAttributed(
        signal=signal,
        attributed_at=now,
        window_start=signal.window_start,
        window_end=signal.window_end,
        baseline_days=7,
        window_cost_usd=10.0,
        baseline_cost_usd=1.0,
        spike_usd=9.0,
        severity="high",
        culprits=[culprit],
    )
    incident = new_incident(spike, culprit, route, None, now).model_copy(
        update={"incident_id": f"test-{now:%Y%m%d%H%M}"}
    )
    return AlertView(
        incident=incident,
        signal=signal,
        policy=directory.policy_for(route.team, environment),
        owner_label=route.team.label if route.team else "FinOps",
        route_reason=route.reason,
        test=True,
        links=default_links(incident),
    )


def _send_slack(
    channel: str,
    view: Any,
    *,
    sandbox: bool,
    token_secret: str | None,
    profile: str | None,
    region: str | None,
) -> None:
    from tokenfuse.adapters.slack import SlackSender
    from tokenfuse.alerts.slack_render import render_alert

    message = render_alert(view)
    if sandbox and not os.environ.get("SLACK_API_BASE_URL"):
        # No sandbox Slack server to point at: run the emulation for this one call and show what it got.
        from tokenfuse_sandbox.emulation.slack_server import SlackServer

        with SlackServer(channels={channel: "test-alert"}) as server:
            posted = SlackSender(server.token, base_url=server.base_url).post(channel, message)
            typer.echo(f"sandbox Slack: posted to {posted.channel} at ts {posted.ts}:\n")
            typer.echo(server.messages(channel)[-1]["text"])
        return
    base_url = os.environ.get("SLACK_API_BASE_URL") if sandbox else None
    token = (
        os.environ.get("SLACK_SANDBOX_TOKEN", "xoxb-tokenfuse-sandbox")
        if sandbox
        else _token(token_secret, profile, region)
    )
    posted = SlackSender(token, base_url=base_url).post(channel, message)
    typer.echo(f"posted to {posted.channel} at ts {posted.ts}:\n")
    typer.echo(message.text)


def _token(token_secret: str | None, profile: str | None, region: str | None) -> str:
    if token_secret:
        import boto3

        session = boto3.Session(profile_name=profile, region_name=region)
        value = str(session.client("secretsmanager").get_secret_value(SecretId=token_secret)["SecretString"])
        if value.strip().startswith("{"):
            import json

            document = json.loads(value)
            value = str(document.get("bot_token") or document.get("token") or "")
        return value.strip()
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        typer.echo("no Slack bot token: set SLACK_BOT_TOKEN or pass --token-secret", err=True)
        raise typer.Exit(2)
    return token


def _send_email(
    recipients: list[str], view: Any, sender: str | None, profile: str | None, region: str | None
) -> None:
    import boto3

    from tokenfuse.adapters.email import EmailSender
    from tokenfuse.alerts.email_render import render_email

    if not sender:
        typer.echo(
            "this team has no Slack channel: pass --sender (an SES-verified address) to email it", err=True
        )
        raise typer.Exit(2)
    message = render_email(view)
    session = boto3.Session(profile_name=profile, region_name=region)
    message_id = EmailSender(sender, session.client("ses")).send(recipients, message)
    typer.echo(f"emailed {', '.join(recipients)} (SES message {message_id}): {message.subject}")
