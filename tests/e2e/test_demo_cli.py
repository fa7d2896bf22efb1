"""`tokenfuse demo` as a user runs it (a subprocess): the story's options, its JSON and its chart."""

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tokenfuse(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    code = "import sys; from tokenfuse_cli.main import app; sys.argv[0] = 'tokenfuse'; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_demo_tells_the_story_with_its_options(tmp_path):
    """The auto policy's story on the default path (model invocation logs -> the member stack's
    meter): contained within a minute of the loop's start, with nobody asked, the emulation's
    latencies printed beside the timings."""
    report, chart = tmp_path / "demo.json", tmp_path / "chart.html"
    proc = tokenfuse("demo", "--policy", "auto", "--json", str(report), "--chart", str(chart))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "the loop starts" in proc.stdout and "had only CAD caught it (24 h)" in proc.stdout
    assert '"level"' not in proc.stdout  # the handlers' logs go to demo-output/<scenario>.log
    assert "log delivery every 5 s, SCP propagation 5 s; burn window 20 s" in proc.stdout
    assert "-- Wednesday 2026-11-25 (UTC) --" in proc.stdout  # the timeline shows the date
    assert "\n14:00:15  " in proc.stdout  # and times with seconds
    assert "x less than CAD alone" in proc.stdout
    data = json.loads(report.read_text())
    assert chart.read_text().startswith("<!doctype html>")
    assert data["policy"] == "auto"
    s = data["summary"]
    assert s["path"] == "invocation-log"
    assert s["latencies"] == {
        "log_delivery_seconds": 5,
        "scp_propagation_seconds": 5,
        "burn_window_seconds": 20,
    }
    assert s["seconds_to_alert"] <= 30
    # the trip happens in the alert's delivery round; the runtime refuses once the SCP propagated
    assert s["seconds_to_alert"] < s["seconds_to_contain"] < 60
    (incident,) = data["incidents"]
    assert incident["sources"][0] == "invocation-log"
    (remediation,) = data["remediations"]
    assert remediation["decision"] == "auto" and remediation["actor"] == "tokenfuse"
    assert data["approvals"] == []
    assert s["counterfactual_usd"]["cad"] >= 1000 * s["spent_before_containment_usd"] > 0


def test_demo_no_invocation_logs_tells_it_on_the_alarm_path_with_the_oncall_seconds(tmp_path):
    """``--no-invocation-logs``: the token-rate alarms alone (3 breaching one-minute periods), the
    on-call approving ``--oncall-seconds`` after the card: the click, then the trip at once."""
    report = tmp_path / "demo.json"
    proc = tokenfuse(
        "demo", "--no-invocation-logs", "--oncall-seconds", "20", "--json", str(report),
        "--chart", str(tmp_path / "chart.html"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "per-profile token-rate alarms" in proc.stdout
    assert "clicks APPROVE, 20 s after the card" in proc.stdout
    data = json.loads(report.read_text())
    s = data["summary"]
    assert s["path"] == "token-rate-alarm" and s["latencies"] is None
    # The alarm needs 3 breaching one-minute periods (the inventory's definition): ALARM at +3 min,
    # the card in the same delivery round; the click 20 s later trips in its own round.
    assert s["alarm_at"] == s["alerted_at"]
    assert at(s["alarm_at"]) - at(s["loop_started_at"]) == timedelta(minutes=3)
    (click,) = data["approvals"]
    assert at(click["at"]) - at(s["alerted_at"]) == timedelta(seconds=20)
    assert s["oncall_reaction_seconds"] == 20
    assert s["contained_at"] == click["at"] and s["seconds_decision_to_contain"] == 0
    assert s["counterfactual_usd"]["cad"] >= 100 * s["spent_before_containment_usd"]


def test_demo_refuses_an_unknown_option_value():
    proc = tokenfuse("demo", "--decision", "maybe")
    assert proc.returncode == 2
    assert "Invalid value for --decision" in proc.stderr and "'maybe' is not one of" in proc.stderr
