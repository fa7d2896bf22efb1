"""`tokenfuse signals parse FILE`: the SpendSignal as on the bus on stdout; anything else exits 2
with one line on stderr."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokenfuse.events import SpendSignal
from tokenfuse_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "signals"
runner = CliRunner()
SAMPLES = sorted(
    p.name
    for p in EVENTS.glob("*.json")
    if p.name.startswith(("cad-", "budgets-", "alarm-")) and "-ok" not in p.name
)


def run(*args: str, stdin: bytes | None = None, received_at: str = "2026-11-26T18:00:00Z"):
    """``tokenfuse signals parse ARGS``, received after every sample's own time (the plausibility
    bounds hold the window to its receipt, so "now" would make these tests expire)."""
    return runner.invoke(app, ["signals", "parse", *args, "--received-at", received_at], input=stdin)


@pytest.mark.parametrize("name", SAMPLES)
def test_parse_prints_the_bus_detail(name):
    result = run(str(EVENTS / name))
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert isinstance(detail, dict)
    assert set(detail) == set(SpendSignal.model_fields)
    assert detail["received_at"] == "2026-11-26T18:00:00Z"
    assert result.stderr == ""


def test_parse_alarm_values():
    result = run(str(EVENTS / "alarm-sns.json"))
    detail = json.loads(result.stdout)
    assert detail["profile_id"] == "a1b2c3d4e5f6"
    assert detail["window_end"] == "2026-11-26T09:14:05Z"
    assert detail["cost_filters"] is None  # offline: no enrichment


def test_several_signals_print_a_list(tmp_path):
    cad = json.loads((EVENTS / "cad-sns-immediate.json").read_text())
    alarm = json.loads((EVENTS / "alarm-sns.json").read_text())
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"Records": cad["Records"] + alarm["Records"]}))
    result = run(str(both))
    assert result.exit_code == 0
    details = json.loads(result.stdout)
    assert [d["source"] for d in details] == ["cost-anomaly", "token-rate-alarm"]


def test_stdin():
    result = run("-", stdin=(EVENTS / "budgets-sns-daily.json").read_bytes())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["time_unit"] == "DAILY"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (
            "alarm-eventbridge-ok.json",
            "UnsupportedSignal: alarm tokenfuse-a1b2c3d4e5f6-output-tokens went to OK",
        ),
        ("malformed-budgets-no-name.json", "MalformedSignal: Budgets alert: no 'Budget Name' line"),
        ("unsupported-ec2-state-change.json", "UnsupportedSignal: EventBridge event aws.ec2"),
    ],
)
def test_not_a_signal_exits_2_with_one_line(name, fragment):
    path = EVENTS / name if (EVENTS / name).exists() else FIXTURES / name
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unreadable_file(tmp_path):
    result = run(str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot read {tmp_path / 'missing.json'}: No such file or directory\n"


def test_directory(tmp_path):
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_binary_file(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(128, 256)))
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {path} is neither JSON nor UTF-8 text\n"


def test_text_that_is_not_a_signal(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("just some text\n")
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: UnsupportedSignal: ")


def test_broken_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"Records": [')
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: MalformedSignal: payload looks like JSON but does not parse")
    assert result.stderr.count("\n") == 1


def test_received_at_naive_is_utc():
    result = run(str(EVENTS / "alarm-sns.json"), received_at="2026-11-26T18:00:00")
    assert json.loads(result.stdout)["received_at"] == "2026-11-26T18:00:00Z"


def test_received_at_that_is_not_a_time_is_one_line():
    result = run(str(EVENTS / "alarm-sns.json"), received_at="tomorrow")
    assert result.exit_code == 2
    assert result.stderr == "error: --received-at: not a timestamp: tomorrow\n"


def test_received_at_defaults_to_now(monkeypatch):
    from datetime import UTC, datetime

    from tokenfuse import clock

    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    result = runner.invoke(app, ["signals", "parse", str(EVENTS / "alarm-sns.json")])
    assert json.loads(result.stdout)["received_at"] == "2026-11-27T09:30:00Z"
