"""`tokenfuse audit --sandbox`: the real inventory function in the sandbox, over a seeded
organization; and the real-account path (read-only) under moto."""

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tokenfuse_cli.audit import SANDBOX_PROFILES, live_report
from tokenfuse_cli.main import app
from tokenfuse_sandbox.emulation import bedrock_profiles


def test_audit_sandbox_json(tmp_path, monkeypatch):
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(app, ["audit", "--sandbox", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    profiles = report["profiles"]
    assert len(profiles) == len(SANDBOX_PROFILES)
    for p in profiles:
        assert {"arn", "account_id", "team", "compliant"} <= set(p)
    assert len({p["account_id"] for p in profiles}) == 3  # management + 2 members
    by_name = {p["name"]: p for p in profiles}
    assert by_name["support-bot"]["team"] is None and not by_name["support-bot"]["compliant"]
    assert by_name["mystery-agent"]["unknown_team"] and not by_name["mystery-agent"]["compliant"]
    assert by_name["rerank"]["team"] == "ranking"  # tag value alias
    assert {p["name"] for p in report["non_compliant"]} == {"support-bot", "mystery-agent"}
    # by hand: (120 search + 45.5 ranking) / (120 + 30 + 4.5 + 45.5) = 82.75 %
    assert report["attributable_percent"] == 82.75
    assert report["warnings"] == []


@pytest.fixture
def real_like(monkeypatch, tmp_path):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    bedrock_profiles.install()
    directory = tmp_path / "teams.yaml"
    directory.write_text("teams:\n  - name: search\n    slack_channel: C0SEARCH01\n")
    with mock_aws():
        yield directory


def test_live_report_without_organizations_reads_this_account_only(real_like):
    bedrock = boto3.client("bedrock", region_name="us-west-2")
    model = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    bedrock.create_inference_profile(
        inferenceProfileName="a", modelSource={"copyFrom": model}, tags=[{"key": "team", "value": "search"}]
    )
    report = live_report(
        profile=None, region="us-east-1", regions=["us-east-1", "us-west-2"], member_role="tokenfuse-member",
        team_directory=real_like, team_directory_parameter=None, budgets_role=None,
        team_tag="team", mandatory_tags="team",
    )  # fmt: skip
    assert [(p["account_id"], p["region"], p["team"], p["compliant"]) for p in report["profiles"]] == [
        ("123456789012", "us-west-2", "search", True)
    ]
    assert report["attributable_percent"] is None  # no cost data
    # nothing written: no alarm armed by an audit
    assert boto3.client("cloudwatch", region_name="us-west-2").describe_alarms()["MetricAlarms"] == []
