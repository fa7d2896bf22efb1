"""`tokenfuse sandbox up | status | down`: a long-running local sandbox on 127.0.0.1
(:mod:`tokenfuse_sandbox.server`), and how the other commands' ``--sandbox`` attach to it.

While one is up, ``incidents --sandbox``, ``restore --sandbox``, ``audit --sandbox`` and
``test-alert --sandbox`` act on it: AWS calls go to its endpoint with the sandbox's credentials
(:func:`aws_of`), Slack posts to its Slack-compatible server, and the CLI reads time from its
simulated clock. ``demo``, ``report --sandbox`` and the tests always make their own fresh sandbox.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from tokenfuse_cli.errors import Failed, Refused
from tokenfuse_sandbox.server import (
    DEFAULT_PORT,
    SERVER_COMMAND,
    STATE_VARIABLE,
    SandboxState,
    default_state_file,
    process_alive,
    read_state,
)

app = typer.Typer(help="A local sandbox that stays up, for the --sandbox commands.", no_args_is_help=True)

READY_SECONDS = 180.0
STOP_SECONDS = 30.0
NOT_UP = "no sandbox is up (`tokenfuse sandbox up` starts one)"

StateFileOption = Annotated[
    Path | None,
    typer.Option("--state-file", help=f"Default: ${STATE_VARIABLE}, else .tokenfuse/sandbox.json."),
]


def running(state_file: Path | None = None) -> SandboxState | None:
    """The sandbox that is up, if any (the ``--sandbox`` commands attach to it)."""
    try:
        return read_state(state_file or default_state_file())
    except ValueError as error:
        raise Refused(str(error)) from None


@contextlib.contextmanager
def aws_of(state: SandboxState) -> Iterator[None]:
    """While the block runs, boto3 (the CLI's clients and the domain's default session) talks to
    the running sandbox with its credentials and region, and ``tokenfuse.clock`` reads its
    simulated clock; the environment and the clock are put back afterwards."""
    from tokenfuse import clock
    from tokenfuse.adapters import aws

    sandbox_env = {
        "AWS_ENDPOINT_URL": state.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": state.region,
        "AWS_DEFAULT_REGION": state.region,
    }
    cleared = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    saved = {name: os.environ.get(name) for name in (*sandbox_env, *cleared)}
    os.environ.update(sandbox_env)
    for name in cleared:
        os.environ.pop(name, None)
    aws.default_session.cache_clear()
    clock.set_source(lambda: state.clock)
    try:
        yield
    finally:
        clock.reset()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws.default_session.cache_clear()


def _describe(state: SandboxState, path: Path) -> str:
    return (
        f"sandbox up (pid {state.pid}): AWS at {state.endpoint}, Slack at {state.slack_base_url}, "
        f"account {state.account_id}, {state.region}, simulated clock {state.clock:%Y-%m-%d %H:%M}Z; "
        f"state file {path}"
    )


@app.command("up")
def up(
    port: Annotated[
        int, typer.Option("--port", help="The AWS endpoint's port on 127.0.0.1 (0: any free port).")
    ] = DEFAULT_PORT,
    state_file: StateFileOption = None,
) -> None:
    """Start the sandbox in the background (the demo's organization, its team directory, five weeks
    of traffic) and return once it answers; it stays up until `tokenfuse sandbox down`."""
    path = state_file or default_state_file()
    state = running(path)
    if state is not None:
        typer.echo(f"already up: {_describe(state, path)}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    log = path.with_suffix(".log")
    environment = {**os.environ, "TOKENFUSE_SANDBOX_LOG": str(log)}
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this package's module
            [sys.executable, "-m", SERVER_COMMAND, "--state-file", str(path), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # it outlives this command and its terminal
            env=environment,
        )
    state = _wait_until_ready(process, path, log)
    typer.echo(_describe(state, path))


def _wait_until_ready(process: subprocess.Popen[bytes], path: Path, log: Path) -> SandboxState:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        state = running(path)
        if state is not None and state.pid == process.pid:
            return state
        if process.poll() is not None:
            raise Failed(f"the sandbox stopped while starting (exit {process.returncode}): {_last_line(log)}")
        time.sleep(0.2)
    process.terminate()
    process.wait(timeout=STOP_SECONDS)
    raise Failed(f"the sandbox was not ready after {READY_SECONDS:.0f}s (log: {log})")


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return f"see {log}"
    return lines[-1] if lines else f"see {log}"


@app.command("status")
def status(state_file: StateFileOption = None) -> None:
    """Say whether a sandbox is up, and where (exit 1 when none is)."""
    path = state_file or default_state_file()
    state = running(path)
    if state is None:
        typer.echo(NOT_UP)
        raise typer.Exit(1)
    typer.echo(_describe(state, path))


@app.command("down")
def down(state_file: StateFileOption = None) -> None:
    """Stop the sandbox (exit 0 when none is up)."""
    path = state_file or default_state_file()
    state = running(path)
    if state is None:
        typer.echo(NOT_UP)
        return
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while process_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if process_alive(state.pid):
        os.kill(state.pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        typer.echo(f"sandbox (pid {state.pid}) did not stop within {STOP_SECONDS:.0f}s: killed")
        return
    typer.echo(f"sandbox (pid {state.pid}) stopped")
