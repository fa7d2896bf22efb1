"""Every command, given no AWS credentials, no region, a missing or non-UTF-8 file, or a missing table,
answers with one line on stderr and exit 2, never a traceback (through the CLI's own group, as
the entry point runs it; the last test runs the installed entry point itself)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tests.support.adversarial import NOT_UTF8
from tokenfuse.adapters import aws
from tokenfuse_cli.errors import NO_CREDENTIALS, NO_REGION, explain
from tokenfuse_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIRECTORY = str(ROOT / "config" / "teams.example.yaml")
PROFILE_ARN = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/a1b2c3d4e5f6"


def refused(args: list[str]) -> str:
    """The one line a command printed when it refused (exit 2, no traceback)."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata look-up
    monkeypatch.setenv("TOKENFUSE_SANDBOX_STATE", os.devnull + ".absent")  # no sandbox is up
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    aws.default_session.cache_clear()
    yield
    aws.default_session.cache_clear()


@pytest.fixture
def no_credentials(no_aws_config: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def no_region(no_aws_config: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():  # nothing leaves the machine, whatever a command calls
        yield


@pytest.fixture
def empty_account(no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials and a region, and an AWS (moto) where nothing was deployed."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


NEEDS_AWS = {
    "incidents": ["incidents", "--table", "tokenfuse-incidents-dev"],
    "incidents --stack-name": ["incidents", "--stack-name", "tokenfuse-dev"],
    "restore": ["restore", "--all"],
    "restore --direct": ["restore", PROFILE_ARN, "--direct"],
    "audit": ["audit", "--regions", "us-east-1"],
    "report": ["report"],
    "budgets plan": ["budgets", "plan"],
    "prices refresh": ["prices", "refresh", "--region", "us-east-1", "--output", os.devnull],
    "test-alert --token-secret": [
        "test-alert", "--team", "search", "--config", EXAMPLE_DIRECTORY, "--token-secret", "slack-bot",
    ],
}  # fmt: skip


@pytest.mark.parametrize("args", NEEDS_AWS.values(), ids=NEEDS_AWS.keys())
def test_without_credentials(no_credentials: None, args: list[str]) -> None:
    assert refused(args).endswith(NO_CREDENTIALS)


REGIONAL = {
    k: v for k, v in NEEDS_AWS.items() if k not in ("audit", "report", "budgets plan", "prices refresh")
}
"""audit, report and budgets plan default to us-east-1 (Organizations, STS, Cost Explorer); the Price
List has one region."""


@pytest.mark.parametrize("args", REGIONAL.values(), ids=REGIONAL.keys())
def test_without_a_region(no_region: None, args: list[str]) -> None:
    line = refused(args)
    assert line.endswith(NO_REGION), line


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["incidents", "--table", "tokenfuse-incidents-dev"], "Requested resource not found"),
        (["incidents", "--stack-name", "tokenfuse-dev"], "tokenfuse-dev does not exist"),
        (["restore", "--all"], "tokenfuse-dev does not exist"),
        (["audit", "--team-directory-parameter", "/tokenfuse/teams"], "ParameterNotFound"),
        (
            ["test-alert", "--team", "search", "--config", EXAMPLE_DIRECTORY, "--token-secret", "slack-bot"],
            "ResourceNotFoundException",
        ),
    ],
    ids=[
        "incidents table",
        "incidents stack",
        "restore stack",
        "audit directory parameter",
        "test-alert secret",
    ],
)
def test_a_missing_table_stack_parameter_or_secret(
    empty_account: None, args: list[str], missing: str
) -> None:
    line = refused(args)
    assert "not found: " in line and missing in line, line


FILE_OPTIONS = {
    "config validate": ["config", "validate", "{}"],
    "test-alert": ["test-alert", "--team", "search", "--config", "{}", "--sandbox"],
    "audit": ["audit", "--team-directory", "{}"],
    "report": ["report", "--team-directory", "{}"],
    "report --unit-prices": ["report", "--unit-prices", "{}"],
    "budgets plan": ["budgets", "plan", "--team-directory", "{}"],
    "prices --file": ["prices", "--file", "{}"],
    "signals parse": ["signals", "parse", "{}"],
    "local invoke": ["local", "invoke", "IntakeFunction", "--event", "{}"],
}


@pytest.mark.parametrize("args", FILE_OPTIONS.values(), ids=FILE_OPTIONS.keys())
def test_a_missing_file(no_credentials: None, tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "absent.yaml"
    line = refused([a.replace("{}", str(path)) for a in args])
    assert str(path) in line and "No such file or directory" in line, line


@pytest.mark.parametrize("args", FILE_OPTIONS.values(), ids=FILE_OPTIONS.keys())
def test_a_file_that_is_not_utf8(no_credentials: None, tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(NOT_UTF8)
    line = refused([a.replace("{}", str(path)) for a in args])
    assert str(path) in line, line
    assert "UTF-8" in line, line


@pytest.mark.parametrize("args", FILE_OPTIONS.values(), ids=FILE_OPTIONS.keys())
def test_a_directory_instead_of_a_file(no_credentials: None, tmp_path: Path, args: list[str]) -> None:
    line = refused([a.replace("{}", str(tmp_path)) for a in args])
    assert str(tmp_path) in line and "directory" in line.lower(), line


def test_a_broken_sandbox_state_file(
    no_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "sandbox.json"
    state.write_text("not json")
    monkeypatch.setenv("TOKENFUSE_SANDBOX_STATE", str(state))
    for args in (["sandbox", "status"], ["incidents", "--sandbox"], ["restore", "--all", "--sandbox"]):
        assert "not a sandbox state file" in refused(args)


def test_an_unplanned_error_is_one_line_and_exit_1() -> None:
    assert explain(RuntimeError("boom")) is None  # the group's fallback: one line, exit 1
    result = CliRunner().invoke(app, ["restore", "--all", "--stack-name", "x", "--region", "us-east-1"], env={
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })  # fmt: skip
    assert result.exit_code == 1, (result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("tokenfuse restore: cannot reach AWS: ") and "Traceback" not in result.stderr


def test_the_installed_entry_point_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    tokenfuse = Path(sys.executable).with_name("tokenfuse")
    proc = subprocess.run(  # the console script pyproject.toml installs
        [str(tokenfuse), "incidents", "--table", "t"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (proc.returncode, proc.stderr.strip().splitlines()) == (
        2,
        [f"tokenfuse incidents: {NO_CREDENTIALS}"],
    )
    assert "Traceback" not in proc.stdout + proc.stderr
