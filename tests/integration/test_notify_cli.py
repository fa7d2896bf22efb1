"""`tokenfuse incidents` against a moto incidents table; `tokenfuse test-alert --sandbox`."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tokenfuse import incidents
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.events import SpikeAttributed
from tokenfuse.teams import TeamDirectory
from tokenfuse_cli.main import app

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
