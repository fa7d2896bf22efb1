"""`tokenfuse demo` as a user runs it (a subprocess): the story's options, its JSON and its chart."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def tokenfuse(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    code = "import sys; from tokenfuse_cli.main import app; sys.argv[0] = 'tokenfuse'; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_demo_tells_the_story_with_its_options(tmp_path):
    """The auto policy's story (the only run of it in the suite): contained as soon as the alarm
    can fire, with nobody asked."""
    report, chart = tmp_path / "demo.json", tmp_path / "chart.html"
    proc = tokenfuse("demo", "--policy", "auto", "--json", str(report), "--chart", str(chart))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "the loop starts" in proc.stdout and "had only CAD caught it (24 h)" in proc.stdout
    assert '"level"' not in proc.stdout  # the handlers' logs go to demo-output/<scenario>.log
    data = json.loads(report.read_text())
    assert chart.read_text().startswith("<!doctype html>")
    assert data["policy"] == "auto"
    s = data["summary"]
    # The alarm needs 3 breaching one-minute periods (the inventory's definition): ALARM at +3 min;
    # with `auto` the trip happens in the same delivery round, so the deny is in force at +3.
    assert 3 <= s["minutes_to_contain"] <= 5
    assert s["contained_at"] == s["alarm_at"]
    (remediation,) = data["remediations"]
    assert remediation["decision"] == "auto" and remediation["actor"] == "tokenfuse"
    assert data["approvals"] == []
    assert s["counterfactual_usd"]["cad"] >= 100 * s["spent_before_containment_usd"]


def test_demo_refuses_an_unknown_option_value():
    proc = tokenfuse("demo", "--decision", "maybe")
    assert proc.returncode == 2
    assert "Invalid value for --decision" in proc.stderr and "'maybe' is not one of" in proc.stderr
