"""`tokenfuse`: the command. Each sub-command lives in its own module and registers here."""

import typer

import tokenfuse

app = typer.Typer(
    name="tokenfuse",
    help="A circuit breaker for generative-AI token spend on AWS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
        local,
        prices,
        report,
        restore,
        signals,
    )

    app.add_typer(signals.app, name="signals")
    app.add_typer(local.app, name="local")
    config.register(app)  # config validate, incidents, test-alert
    prices.register(app)
    app.command("demo")(demo.demo)
    app.command("audit")(audit.audit)
    app.command("restore")(restore.restore)
    app.command("report")(report.report)
    app.add_typer(budgets.app, name="budgets")
    app.command("drill")(drill.drill)
    app.command("doctor")(doctor.doctor)


_register()
