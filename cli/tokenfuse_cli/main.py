"""`tokenfuse`: the command. Each sub-command lives in its own module and registers here, in the
order a user meets them: try it without AWS, set it up, be on call, then show the spend back."""

from collections.abc import Callable

import typer

import tokenfuse
from tokenfuse_cli.shell import TokenfuseGroup


class RootGroup(TokenfuseGroup):
    """The root command: its sub-commands in the order :func:`_register` adds them."""


app = typer.Typer(
    name="tokenfuse",
    cls=RootGroup,
    rich_markup_mode="markdown",
    help="A circuit breaker for generative-AI token spend on AWS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

TRY = "Try it (no AWS account)"
SET_UP = "Set up"
ON_CALL = "On call"
SHOWBACK = "Showback"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tokenfuse {tokenfuse.__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """A circuit breaker for generative-AI token spend on AWS."""


def _register() -> None:
    # Each module keeps its heavy imports (moto, the sandbox) inside its commands: --help stays fast.
    from tokenfuse_cli import (
        audit,
        budgets,
        config,
        demo,
        doctor,
        drill,
        incidents,
        local,
        prices,
        report,
        restore,
        sandbox,
        signals,
    )

    commands: tuple[tuple[str, typer.Typer | Callable[..., None], str], ...] = (
        ("demo", demo.demo, TRY),
        ("sandbox", sandbox.app, TRY),
        ("local", local.app, TRY),
        ("signals", signals.app, TRY),
        ("config", config.app, SET_UP),
        ("test-alert", config.test_alert, SET_UP),
        ("audit", audit.audit, SET_UP),
        ("doctor", doctor.doctor, SET_UP),
        ("drill", drill.drill, SET_UP),
        ("prices", prices.app, SET_UP),
        ("incidents", incidents.incidents, ON_CALL),
        ("restore", restore.restore, ON_CALL),
        ("report", report.report, SHOWBACK),
        ("budgets", budgets.app, SHOWBACK),
    )
    for name, command, panel in commands:
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name, rich_help_panel=panel)
        else:
            app.command(name, rich_help_panel=panel)(command)
    RootGroup.order = tuple(name for name, _, _ in commands)


_register()
