"""The long-running sandbox (``tokenfuse sandbox up`` / ``down``): one :class:`~tokenfuse_sandbox.Sandbox`
kept in a background process, its AWS reachable over HTTP on 127.0.0.1 through moto's own server.

    python -m tokenfuse_sandbox.server --state-file .tokenfuse/sandbox.json --port 4747

The process holds the sandbox as the demo and the tests build it (the template provisioned in moto,
the real handlers run in-process, every emulation), seeded with the demo's organization
(:mod:`tokenfuse_sandbox.story.org`: accounts, profiles of four teams, one untagged, one of an
unknown team, the guard SCP, ``config/teams.sandbox.yaml`` as the team directory) and the five
weeks of traffic ``tokenfuse report --sandbox`` reads (:mod:`tokenfuse_sandbox.story.showback`),
on the simulated clock at :data:`~tokenfuse_sandbox.story.showback.NOW`. Cost Explorer's answer for
the day before (what ``tokenfuse audit`` asks) is queued: emulation, as in the story.

moto's server answers from the same backends as the in-process sandbox: a ``lambda:Invoke`` over
HTTP runs the handler in this process (the sandbox routes it), so a CLI in another process acts
on the same tables, queues, Slack server and clock. A pump delivers what the handlers put on the
bus and on queues, as the in-process sandbox's ``drain`` does.

When ready it writes the state file (:class:`SandboxState`: pid, port, endpoints, the template's
physical names, the simulated now, kept current as the clock moves); on SIGTERM or SIGINT it stops
and removes it. The CLI's ``--sandbox`` commands read that file to attach.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox

LOG = logging.getLogger("tokenfuse.sandbox.server")

HOST = "127.0.0.1"
DEFAULT_PORT = 4747
STATE_VARIABLE = "TOKENFUSE_SANDBOX_STATE"
"""Where the state file is, when not the default ``.tokenfuse/sandbox.json`` of the project."""
STATE_DIRECTORY = ".tokenfuse"
PUMP_SECONDS = 0.25
SERVER_COMMAND = "tokenfuse_sandbox.server"


@dataclass(frozen=True)
class SandboxState:
    """What the CLI needs to attach to a running sandbox (the state file's content)."""

    pid: int
    port: int
    endpoint: str
    """moto's server: every AWS API of the sandbox (``AWS_ENDPOINT_URL``)."""
    slack_base_url: str
    """The Slack-compatible server's Web API base URL."""
    slack_token: str
    account_id: str
    region: str
    now: str
    """The simulated clock (ISO-8601), as of its last move."""
    started_at: str
    resources: dict[str, str] = field(default_factory=dict)
    """The template's logical id -> physical id (what ``!Ref`` gives)."""
    functions: dict[str, str] = field(default_factory=dict)
    """Function logical id -> function name."""
    log_file: str = ""

    @property
    def clock(self) -> datetime:
        return datetime.fromisoformat(self.now)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SandboxState:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a sandbox state file holds one JSON object")
        return cls(**data)


def default_state_file() -> Path:
    """``$TOKENFUSE_SANDBOX_STATE``, else ``.tokenfuse/sandbox.json`` in the project (the folder of
    the template the sandbox reads)."""
    from tokenfuse_sandbox.core import find_template

    configured = os.environ.get(STATE_VARIABLE)
    if configured:
        return Path(configured)
    return find_template(None).resolve().parent / STATE_DIRECTORY / "sandbox.json"


def process_alive(pid: int) -> bool:
    """True when ``pid`` runs this module (a reused pid running something else does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return SERVER_COMMAND in cmdline.read_bytes().decode(errors="replace")
        except OSError:
            return False
    return True


def read_state(path: Path) -> SandboxState | None:
    """The running sandbox's state, or None when none is up (a file left by a sandbox that died is
    not a running sandbox)."""
    try:
        state = SandboxState.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: not a sandbox state file ({error})") from None
    return state if process_alive(state.pid) else None


def write_state(path: Path, state: SandboxState) -> None:
    """Atomically (a reader sees the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if path.parent.name == STATE_DIRECTORY and not ignore.exists():
        ignore.write_text("*\n")  # the folder ignores itself: nothing of a running sandbox is committed
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(state.to_json(), encoding="utf-8")
    part.replace(path)


# --------------------------------------------------------------------------------------------------
# The process
# --------------------------------------------------------------------------------------------------
def seed(sb: Sandbox) -> None:
    """The demo's organization, its inventory, five weeks of traffic, and Cost Explorer's answer
    for the day before the simulated now."""
    from tokenfuse_sandbox.story import org, showback

    seeded, sessions = org.seed(sb)
    sb.drain()  # the CloudTrail events: the inventory records every profile and its tags
    showback.write_history(sessions, seeded)
    day = sb.now().date() - timedelta(days=1)
    showback.queue_cost_explorer_answer(sb.account_id, seeded, day, day + timedelta(days=1))


class _Pump(threading.Thread):
    """Delivers what the handlers put on the bus and on queues, as ``Sandbox.drain`` does."""

    def __init__(self, sb: Sandbox) -> None:
        super().__init__(name="tokenfuse-sandbox-pump", daemon=True)
        self.sb = sb
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(PUMP_SECONDS):
            try:
                self.sb.delivery.step()
            except Exception:
                LOG.exception("sandbox pump: a delivery failed")


def _moto_server(port: int) -> Any:
    """moto's WSGI server on 127.0.0.1, bound now (a port in use fails here, with its reason)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    return make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)


def serve(state_file: Path, port: int, stop: threading.Event) -> None:
    """Run the sandbox until ``stop`` is set; the state file exists exactly while it answers."""
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.story import org, showback

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    started = datetime.now().astimezone()
    settings = org.sandbox_settings("approve")
    with Sandbox(clock_start=showback.NOW, fire_schedules=False, function_urls=False, **settings) as sb:
        seed(sb)
        server = _moto_server(port)
        serving = threading.Thread(target=server.serve_forever, name="tokenfuse-sandbox-moto", daemon=True)
        serving.start()
        pump = _Pump(sb)
        pump.start()
        assert sb.slack is not None and sb.clock is not None  # emulations are on
        state = SandboxState(
            pid=os.getpid(),
            port=int(server.server_address[1]),
            endpoint=f"http://{HOST}:{server.server_address[1]}",
            slack_base_url=sb.slack.base_url,
            slack_token=sb.slack.token,
            account_id=sb.account_id,
            region=sb.region,
            now=sb.now().isoformat(),
            started_at=started.isoformat(),
            resources={k: str(v) for k, v in sb.resources.items()},
            functions={lid: spec.name for lid, spec in sb.provisioner.functions.items()},
            log_file=os.environ.get("TOKENFUSE_SANDBOX_LOG", ""),
        )
        lock = threading.Lock()

        def clock_moved(_old: datetime, new: datetime) -> None:
            nonlocal state
            with lock:
                state = SandboxState(**{**asdict(state), "now": new.isoformat()})
                write_state(state_file, state)

        remove_listener = sb.clock.add_listener(clock_moved)
        write_state(state_file, state)
        LOG.info("sandbox up on %s (state file %s)", state.endpoint, state_file)
        try:
            stop.wait()
        finally:
            remove_listener()
            with contextlib.suppress(FileNotFoundError):
                state_file.unlink()
            pump.stopping.set()
            pump.join(timeout=10)
            server.shutdown()
            serving.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {SERVER_COMMAND}", description=__doc__.split("\n")[0])
    parser.add_argument("--state-file", type=Path, default=None, help="default: .tokenfuse/sandbox.json")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 = any")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(args.state_file or default_state_file(), args.port, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
