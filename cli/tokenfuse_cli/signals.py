"""`tokenfuse signals ...`: read what AWS sends, offline."""

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tokenfuse import clock
from tokenfuse.errors import SignalError
from tokenfuse.signals import parse_signal, parse_time
from tokenfuse.text import one_line

app = typer.Typer(help="Spend signals: parse what AWS sends.", no_args_is_help=True)

EXIT_NOT_A_SIGNAL = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {one_line(' '.join(message.split()))}", err=True)
    return typer.Exit(EXIT_NOT_A_SIGNAL)


@app.command("parse")
def parse(
    file: Annotated[
        Path,
        typer.Argument(
            help="A Lambda SNS event, an SQS event, one SNS notification, an EventBridge event,"
            " or a bare message; '-' reads stdin.",
        ),
    ],
    received_at: Annotated[
        str | None,
        typer.Option(
            "--received-at",
            help="When the signal arrived (ISO-8601, UTC if no zone). Default: now.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the SpendSignal(s) FILE carries, exactly as they go on the bus (no AWS calls, no
    enrichment). One signal prints one JSON object; several print a JSON list. Anything that is not
    a plausible spend signal exits 2 with one line on stderr."""
    try:
        when: datetime = clock.now() if received_at is None else parse_time(received_at, "--received-at")
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except SignalError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _fail(f"cannot read {file}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(f"{file} is neither JSON nor UTF-8 text") from None
    try:
        signals = parse_signal(text, received_at=when)
    except SignalError as error:
        raise _fail(f"{type(error).__name__}: {error}") from None
    details = [signal.to_bus() for signal in signals]
    typer.echo(json.dumps(details[0] if len(details) == 1 else details, indent=2))
