"""`tokenfuse drill` / `tokenfuse doctor`: every missing credential, region, stack or option is one
line on stderr and exit 2, before anything is created."""

import os

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tokenfuse_cli.main import app

runner = CliRunner()


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials, no region, no config files (whatever the machine has)."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "MOTO_ACCOUNT_ID":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from tokenfuse.adapters import aws

    aws.default_session.cache_clear()
    yield
    aws.default_session.cache_clear()


def one_line_exit_2(result, said: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0], result.stderr


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_a_fault_without_the_sandbox_is_refused(command, no_aws):
    one_line_exit_2(
        runner.invoke(app, [command, "--sandbox-fault", "guard-detached"]), "--sandbox-fault needs --sandbox"
    )


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_an_unknown_fault_is_named_with_the_known_ones(command, no_aws):
    one_line_exit_2(
        runner.invoke(app, [command, "--sandbox", "--sandbox-fault", "power-cut"]),
        "unknown sandbox fault power-cut: choose from guard-detached, logging-off, slack-token-invalid, "
        "metrics-missing",
    )


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_no_region_is_one_line(command, no_aws):
    one_line_exit_2(runner.invoke(app, [command]), "no region: pass --region or set AWS_REGION")


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_no_credentials_is_one_line(command, no_aws):
    one_line_exit_2(runner.invoke(app, [command, "--region", "us-east-1"]), "no AWS credentials")


def test_an_unknown_profile_is_one_line(no_aws):
    one_line_exit_2(runner.invoke(app, ["drill", "--profile", "nobody", "--region", "us-east-1"]), "nobody")


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_a_missing_stack_is_one_line(command, no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("sts", region_name="us-east-1").get_caller_identity()
        result = runner.invoke(app, [command, "--stack-name", "tokenfuse-nowhere", "--region", "us-east-1"])
    one_line_exit_2(result, "no stack tokenfuse-nowhere in us-east-1")


@pytest.mark.parametrize("command", ["drill", "doctor"])
def test_help_names_the_sandbox_faults(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "guard-detached" in result.output and "--json" in result.output


def test_the_slack_manifest_lets_the_doctor_see_channel_membership():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml").read_text())
    assert {"channels:read", "groups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_a_report_that_cannot_be_written_is_the_root_groups_one_line(tmp_path, capsys):
    from tokenfuse.drill.report import Check, DoctorReport
    from tokenfuse_cli.drill import finish
    from tokenfuse_cli.errors import Refused

    report = DoctorReport.of([Check.ok("guard", "attached")])
    unwritable = tmp_path / "no-such-folder" / "report.json"
    with pytest.raises(Refused, match=r"cannot write .*report\.json: No such file or directory"):
        finish(report, unwritable, lambda r: "the report\n")
    captured = capsys.readouterr()
    assert captured.out == "the report\n" and "cannot write" not in captured.err  # said once, by the group
