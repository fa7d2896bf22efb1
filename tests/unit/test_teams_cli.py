"""`tokenfuse config validate FILE`: exit 0 with a summary, exit 2 with every error and its path."""

from pathlib import Path

from typer.testing import CliRunner

from tokenfuse_cli.main import app

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "teams.example.yaml"


def test_valid_directory_prints_one_line_summary():
    result = CliRunner().invoke(app, ["config", "validate", str(EXAMPLE)])
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines() == [
        f"{EXAMPLE}: ok: 3 teams (2 on Slack, 1 email only), 5 approvers, 1 planned windows, "
        "FinOps fallback: C0FINOPS01"
    ]


def test_invalid_directory_lists_errors_with_paths(tmp_path):
    bad = tmp_path / "teams.yaml"
    bad.write_text(
        "teams:\n"
        "  - {name: a, slack_channel: C0AAAAAAAA}\n"
        "  - {name: b, slack_channel: C0BBBBBBBB}\n"
        "  - name: c\n"
        "    slack_channel: C0CCCCCCCC\n"
        "    policies: {prod: {cooldown_minutes: 0, on_timeout: later}}\n"
    )
    result = CliRunner().invoke(app, ["config", "validate", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}: line 6: teams[2].policies.prod.cooldown_minutes: must be > 0",
        f"{bad}: line 6: teams[2].policies.prod.on_timeout: must be one of 'none' or 'trip'",
    ]


def test_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["config", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
