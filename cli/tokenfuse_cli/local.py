"""`tokenfuse local invoke`: like `sam local invoke`, in the sandbox (no Docker, no AWS account).

stdout holds only the handler's return value as JSON (`null` if none); logs go to stderr; exit 1
if the handler raises. Only that one function runs; the events it put on the bus are listed on
stderr."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tokenfuse_cli.errors import Refused
from tokenfuse_cli.files import read_text

app = typer.Typer(help="Run tokenfuse's functions locally, in the sandbox.", no_args_is_help=True)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[Any]:
    """Send everything written to stdout (fd 1: print, Powertools' logger, C extensions) to stderr
    while the block runs; yields a file on the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    real = os.fdopen(os.dup(saved), "w")
    old_stdout = sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        sys.stdout.flush()
        sys.stdout = old_stdout
        os.dup2(saved, 1)
        os.close(saved)
        real.flush()
        real.close()


def _parameters(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        for pair in item.split():
            key, sep, value = pair.partition("=")
            if not sep:
                raise typer.BadParameter(f"{pair!r} is not Key=Value", param_hint="--parameter-overrides")
            out[key.removeprefix("ParameterKey=")] = value
    return out


def _read_event(path: str | None) -> Any:
    if path is None:
        return {}
    text = read_text(path)
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise Refused(f"{path}: not JSON: {error}") from None


@app.command("invoke")
def invoke(
    function: Annotated[
        str, typer.Argument(help="The function's logical id in template.yaml, e.g. IntakeFunction.")
    ],
    event: Annotated[
        str | None, typer.Option("--event", "-e", help="Event JSON file ('-' = stdin; default {}).")
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", "-t", help="SAM template (default: ./template.yaml).")
    ] = None,
    parameter_overrides: Annotated[
        list[str] | None,
        typer.Option("--parameter-overrides", help="Template parameters, Key=Value (repeatable)."),
    ] = None,
) -> None:
    """Invoke one function of the template in the sandbox and print its result as JSON."""
    payload = _read_event(event)
    params = _parameters(parameter_overrides or [])
    from tokenfuse_cli.event_shapes import mismatch
    from tokenfuse_sandbox import Sandbox, Template, TemplateError
    from tokenfuse_sandbox.core import find_template

    try:  # a quick look first: an unknown function or an event of the wrong shape needs no sandbox
        read = Template(find_template(template), params)
    except TemplateError as error:
        raise Refused(str(error)) from None
    functions = read.of_type("AWS::Serverless::Function")
    if function not in functions:
        raise Refused(f"no function {function!r} in the template (functions: {', '.join(functions)})")
    wrong_shape = mismatch(read, function, payload, event or "the default event {}")
    if wrong_shape is not None:
        raise Refused(wrong_shape)

    with stdout_to_stderr() as out:
        try:
            with Sandbox(template, parameters=params, load_handlers=False) as sb:
                inv = sb.invoke(function, payload)
        except TemplateError as error:
            raise Refused(str(error)) from None
        for ev in inv.bus_events:
            detail = json.dumps(ev["detail"])[:300]
            typer.echo(f"bus event: {ev['bus']}  {ev['source']}  {ev['detail-type']}  {detail}", err=True)
        if not inv.bus_events:
            typer.echo("bus events: none", err=True)
        if inv.error is not None:
            typer.echo(f"{inv.error['errorType']}: {inv.error['errorMessage']}", err=True)
            for line in inv.error.get("stackTrace", []):
                sys.stderr.write(line)
            raise typer.Exit(1)
        out.write(json.dumps(inv.result, default=str) + "\n")
