"""`tokenfuse config validate FILE` and `tokenfuse test-alert --team T`."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokenfuse_cli.errors import Failed, Refused

if TYPE_CHECKING:
    from tokenfuse.adapters.incidents_table import PostSlot
    from tokenfuse.alerts.delivery import Attempt, EmailDestination, SlackDestination
    from tokenfuse.alerts.view import AlertView
    from tokenfuse.teams import Route, TeamDirectory
    from tokenfuse_sandbox.server import SandboxState

DEFAULT_DIRECTORY = Path("config/teams.yaml")
SANDBOX_DIRECTORY = Path(__file__).resolve().parents[2] / "config" / "teams.sandbox.yaml"

app = typer.Typer(help="The team directory: check it before uploading it.", no_args_is_help=True)


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
        raise Refused(f"{file}: cannot read: {error.strerror or error}") from None


def test_alert(
    *,
    team: Annotated[
        str, typer.Option("--team", help="Team name (or one of its tag values); 'finops' for FinOps.")
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Team directory YAML (default: "
            "config/teams.yaml; with --sandbox: config/teams.sandbox.yaml).",
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Send to the running sandbox's Slack-compatible server (else to one for this call), "
            "not to Slack.",
        ),
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
    """Send a labelled "[TEST]" alert to the team's first destination (its Slack channel, else its
    email) through the same delivery code as a real alert."""
    from tokenfuse.alerts.delivery import EmailDestination, SlackDestination
    from tokenfuse.teams import TeamDirectoryError, load_directory, uploadable_text

    path = config or (SANDBOX_DIRECTORY if sandbox else DEFAULT_DIRECTORY)
    try:
        directory = load_directory(uploadable_text(_read(path)))
    except TeamDirectoryError as error:
        raise Refused(f"{path}: {error}") from None
    route = directory.route(None if team == "finops" else team)
    if team != "finops" and route.team is None:
        raise Refused(f"no team '{team}' in {path}")
    state = _running_sandbox() if sandbox else None
    view = sample_view(directory, route, environment, _alert_time(sandbox, state))
    owner = route.team.name if route.team else "finops"
    if route.slack_channel:
        destination = SlackDestination(route.slack_channel, "owner", owner)
        attempt = _send_slack(destination, view, sandbox=sandbox, state=state, token_secret=token_secret,
                              profile=profile, region=region)  # fmt: skip
    else:
        attempt = _send_email(
            EmailDestination(tuple(route.emails), "owner", owner), view, sender, profile, region
        )
    if not attempt.delivered:
        raise Failed(f"{attempt.destination.medium} refused the test alert: {attempt.problem}")
    where = (
        f"posted to {attempt.thread.channel} at ts {attempt.thread.ts}"
        if attempt.thread is not None
        else f"emailed {attempt.destination.address}"
    )
    for sent in attempt.sent:
        typer.echo(f"{where}:\n")
        typer.echo(sent.text)


def _running_sandbox() -> SandboxState | None:
    from tokenfuse_cli.sandbox import running

    return running()


def _alert_time(sandbox: bool, state: SandboxState | None) -> datetime:
    """When the sample alert happens: the running sandbox's simulated clock; with ``--sandbox`` and
    none up, the clock a fresh sandbox starts at; in an account, its real now."""
    if state is not None:
        return state.clock
    if sandbox:
        from tokenfuse_sandbox.story.showback import NOW

        return NOW
    from tokenfuse import clock

    return clock.now()


def sample_view(directory: TeamDirectory, route: Route, environment: str, at: datetime) -> AlertView:
    """An AlertView of a made-up output runaway on one of the team's profiles at ``at``, labelled [TEST]."""
    from tokenfuse.alerts.view import AlertView, default_links
    from tokenfuse.events import Culprit, SpendSignal, SpikeAttributed, TokensPerRequest
    from tokenfuse.incidents import new_incident

    now = at.astimezone(UTC).replace(second=0, microsecond=0)
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


class _UncountedPosts:
    """A test alert's destination counts no top-level post (``post_budget`` is off): SlackDelivery
    never asks this budget, which says so if it ever does."""

    def claim_post_slot(self, owner: str, now: datetime, limit: int) -> PostSlot:
        raise RuntimeError("a test alert claims no post slot")

    def record_post(self, slot: PostSlot, channel: str, ts: str) -> None:
        raise RuntimeError("a test alert records no post")

    def record_digest(self, slot: PostSlot, digest_ts: str, lines: list[str]) -> None:
        raise RuntimeError("a test alert joins no digest")


def _send_slack(
    destination: SlackDestination,
    view: AlertView,
    *,
    sandbox: bool,
    state: SandboxState | None,
    token_secret: str | None,
    profile: str | None,
    region: str | None,
) -> Attempt:
    """Through :class:`~tokenfuse.alerts.slack_delivery.SlackDelivery`, as notify sends: to Slack,
    to the running sandbox's Slack server (``state``: `tokenfuse sandbox up`), or to one started for
    this call."""
    from tokenfuse.adapters.slack import SlackSender
    from tokenfuse.alerts.delivery import IncidentAlert
    from tokenfuse.alerts.slack_delivery import SlackDelivery

    alert = IncidentAlert(view)
    if not sandbox:
        sender = SlackSender(_token(token_secret, profile, region))
        return SlackDelivery(sender, _UncountedPosts()).send(destination, alert, None)
    if state is not None:
        sender = SlackSender(state.slack_token, base_url=state.slack_base_url)
        return SlackDelivery(sender, _UncountedPosts()).send(destination, alert, None)
    from tokenfuse_sandbox.emulation.slack_server import SlackServer

    typer.echo("no sandbox is up: a Slack-compatible server runs for this one call", err=True)
    with SlackServer(channels={destination.channel: "test-alert"}) as server:
        sender = SlackSender(server.token, base_url=server.base_url)
        return SlackDelivery(sender, _UncountedPosts()).send(destination, alert, None)


def _token(token_secret: str | None, profile: str | None, region: str | None) -> str:
    if token_secret:
        import boto3

        session = boto3.Session(profile_name=profile, region_name=region)
        from tokenfuse.adapters.slack import BOT_TOKEN_KEYS
        from tokenfuse.text import secret_value

        value = str(session.client("secretsmanager").get_secret_value(SecretId=token_secret)["SecretString"])
        try:
            return secret_value(value, *BOT_TOKEN_KEYS)
        except ValueError as error:
            raise Refused(f"{token_secret}: the secret {error}") from None
    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise Refused("no Slack bot token: set SLACK_BOT_TOKEN or pass --token-secret")
    return token


def _send_email(
    destination: EmailDestination,
    view: AlertView,
    sender: str | None,
    profile: str | None,
    region: str | None,
) -> Attempt:
    """Through :class:`~tokenfuse.alerts.email_delivery.EmailDelivery` (SES), as notify sends."""
    import boto3

    from tokenfuse.adapters.email import EmailSender
    from tokenfuse.alerts.delivery import IncidentAlert
    from tokenfuse.alerts.email_delivery import EmailDelivery

    if not sender:
        raise Refused("this team has no Slack channel: pass --sender (an SES-verified address) to email it")
    session = boto3.Session(profile_name=profile, region_name=region)
    return EmailDelivery(EmailSender(sender, session.client("ses"))).send(
        destination, IncidentAlert(view), None
    )
