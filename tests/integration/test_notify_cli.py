"""`tokenfuse incidents` against a moto incidents table; `tokenfuse test-alert --sandbox`."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tokenfuse import incidents
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.events import SpikeAttributed
from tokenfuse.teams import TeamDirectory, load_directory
from tokenfuse_cli.config import _alert_time, sample_view
from tokenfuse_cli.main import app
from tokenfuse_sandbox.emulation.slack_server import SlackServer
from tokenfuse_sandbox.server import STATE_VARIABLE, SandboxState

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "alerts"
TABLE = "tokenfuse-incidents-cli"


@pytest.fixture
def table(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield IncidentsTable(TABLE, boto3.client("dynamodb"))


def test_incidents_lists_open_and_recent(table):
    spike = SpikeAttributed.from_bus(json.loads((GOLDEN / "spike-alarm.json").read_text()))
    now = datetime.now(UTC)
    route = TeamDirectory().route(None)
    for culprit in spike.culprits:
        incidents.record_signal(table, spike, culprit, route, planned=None, now=now - timedelta(hours=1))
    result = CliRunner().invoke(app, ["incidents", "--table", TABLE])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["STATUS", "OPENED", "OWNER"] and len(lines) == 3
    assert all(line.startswith("open") for line in lines[1:])
    as_json = json.loads(CliRunner().invoke(app, ["incidents", "--table", TABLE, "--json"]).stdout)
    assert {i["profile_id"] for i in as_json} == {"x7k2p9q4m1ab", "q9w8e7r6t5yu"}


def test_incidents_needs_a_table_or_stack(table):
    result = CliRunner().invoke(app, ["incidents"])
    assert result.exit_code == 2


@pytest.fixture(autouse=True)
def no_sandbox_up(tmp_path, monkeypatch):
    """No running sandbox unless a test starts one (its state file is one nobody writes)."""
    monkeypatch.setenv(STATE_VARIABLE, str(tmp_path / "sandbox.json"))


def test_test_alert_goes_through_the_real_path_to_the_sandbox_slack(monkeypatch):
    monkeypatch.delenv("SLACK_API_BASE_URL", raising=False)
    config = ROOT / "config" / "teams.example.yaml"
    result = CliRunner().invoke(app, ["test-alert", "--team", "search", "--config", str(config), "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "posted to C0SEARCH01" in result.stdout
    assert "[TEST] Bedrock spend spike: search-test-profile" in result.stdout


def test_test_alert_unknown_team(monkeypatch):
    config = ROOT / "config" / "teams.example.yaml"
    result = CliRunner().invoke(app, ["test-alert", "--team", "nobody", "--config", str(config), "--sandbox"])
    assert result.exit_code == 2 and "no team 'nobody'" in result.stderr


def test_test_alert_in_a_sandbox_is_dated_by_its_clock_never_the_machines(monkeypatch):
    config = ROOT / "config" / "teams.example.yaml"
    command = ["test-alert", "--team", "search", "--config", str(config), "--sandbox"]
    # With none up: the clock a fresh sandbox starts at (2026-12-07 08:00Z), whatever today is
    fresh = CliRunner().invoke(app, command)
    assert fresh.exit_code == 0, fresh.output
    assert "Incident test-202612070800" in fresh.stdout
    assert "Detected at 08:00 UTC" in fresh.stdout
    # With one up: its simulated clock as its state file says (here 2027-03-04 05:06Z)
    with SlackServer(channels={"C0SEARCH01": "search-alerts"}) as slack:
        state = SandboxState(
            pid=os.getpid(),
            port=0,
            endpoint="http://127.0.0.1:9",
            slack_base_url=slack.base_url,
            slack_token=slack.token,
            account_id="111111111111",
            region="us-east-1",
            now="2027-03-04T05:06:30+00:00",
            started_at="2027-03-04T00:00:00+00:00",
        )
        monkeypatch.setattr("tokenfuse_cli.sandbox.running", lambda: state)
        up = CliRunner().invoke(app, command)
        assert up.exit_code == 0, up.output
        assert "test-202703040506" in up.stdout and "Detected at 05:06 UTC" in up.stdout
        (post,) = slack.calls_to("chat.postMessage")
        assert "test-202703040506" in post.text


def test_a_test_alert_in_an_account_is_dated_by_its_real_now():
    directory = load_directory((ROOT / "config" / "teams.example.yaml").read_text())
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    view = sample_view(directory, directory.route("search"), "prod", _alert_time(False, None))
    assert before <= view.incident.opened_at <= datetime.now(UTC)
    assert view.signal is not None and view.signal.window_end == view.incident.opened_at
