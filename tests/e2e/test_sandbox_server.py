"""`tokenfuse sandbox up` -> the four `--sandbox` commands that attach to it -> `tokenfuse sandbox down`,
each through the installed entry point in its own process, as a user on a fresh clone runs them."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenfuse_sandbox.server import SandboxState, process_alive
from tokenfuse_sandbox.story import org

ROOT = Path(__file__).resolve().parents[2]
TOKENFUSE = Path(sys.executable).with_name("tokenfuse")


def run(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOKENFUSE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """No AWS account: credentials and config point nowhere; the state file is this test's own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean |= {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "TOKENFUSE_SANDBOX_STATE": str(tmp_path / "sandbox.json"),
    }
    yield clean
    state = tmp_path / "sandbox.json"
    if state.exists():  # a failed test must not leave the sandbox running
        run(clean, "sandbox", "down", timeout=60)


def test_up_the_four_commands_then_down(env: dict[str, str], tmp_path: Path) -> None:
    # Given a sandbox started in the background on a free port
    up = run(env, "sandbox", "up", "--port", "0")
    assert up.returncode == 0, up.stdout + up.stderr
    state = SandboxState.from_json((tmp_path / "sandbox.json").read_text())
    assert up.stdout.startswith(f"sandbox up (pid {state.pid}): AWS at http://127.0.0.1:{state.port}")
    assert process_alive(state.pid) and port_open(state.port)
    assert run(env, "sandbox", "status").returncode == 0
    again = run(env, "sandbox", "up")  # a second `up` finds it
    assert again.returncode == 0 and again.stdout.startswith("already up"), again.stderr

    # When the --sandbox commands run, each in its own process: they act on that sandbox
    incidents = run(env, "incidents", "--sandbox", "--json")
    assert incidents.returncode == 0, incidents.stderr
    assert json.loads(incidents.stdout) == []  # its incidents table, read: a fresh org has none

    audit = run(env, "audit", "--sandbox", "--json", "-")
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    assert report["source"] == "sandbox"
    names = {p["name"] for p in report["profiles"]}
    assert names == {spec.name for spec in org.PROFILES}  # every seeded profile, in every account
    assert {p["name"] for p in report["non_compliant"]} == {"batch-experiments", "ml-research-eval"}
    # the day before the sandbox's simulated clock (not this machine's), answered by its Cost Explorer
    assert report["attributable"]["day"] == f"{state.clock.date().fromordinal(state.clock.toordinal() - 1)}"
    assert report["attributable_percent"] is not None and report["warnings"] == []

    alert = run(env, "test-alert", "--team", "support-bot", "--sandbox")
    assert alert.returncode == 0, alert.stderr
    assert alert.stdout.startswith("posted to C0SUPPORT1 at ts "), alert.stdout
    assert "[TEST]" in alert.stdout and "no sandbox is up" not in alert.stderr

    restore = run(env, "restore", "--all", "--sandbox", "--json")
    assert restore.returncode == 0, restore.stderr
    assert json.loads(restore.stdout) == {"results": [], "failed": []}

    # Then down stops it: no process, no port, no state file; the commands say none is up
    down = run(env, "sandbox", "down")
    assert down.returncode == 0 and down.stdout.strip() == f"sandbox (pid {state.pid}) stopped", down.stderr
    deadline = time.monotonic() + 10
    while port_open(state.port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(state.pid) and not port_open(state.port)
    assert not (tmp_path / "sandbox.json").exists()
    assert run(env, "sandbox", "down").stdout.strip().startswith("no sandbox is up")
    assert run(env, "sandbox", "status").returncode == 1
    gone = run(env, "incidents", "--sandbox")
    assert (gone.returncode, gone.stderr.strip()) == (
        2,
        "tokenfuse incidents: no sandbox is up (`tokenfuse sandbox up` starts one)",
    )
