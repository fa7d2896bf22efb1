"""`tokenfuse local invoke` and `tokenfuse demo`, run as a user runs them (a subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SQS_BUDGETS = ROOT / "tests" / "fixtures" / "signals" / "sqs-sns-budgets-actual.json"


def tokenfuse(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; from tokenfuse_cli.main import app; sys.argv[0] = 'tokenfuse'; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_local_invoke_prints_only_the_result_on_stdout():
    assert SQS_BUDGETS.is_file()
    proc = tokenfuse("local", "invoke", "IntakeFunction", "-e", str(SQS_BUDGETS))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"batchItemFailures": []}  # nothing but the JSON
    assert "bus event: tokenfuse-dev  tokenfuse.intake  Spend Signal" in proc.stderr
    assert "AttributeFunction" not in proc.stderr  # it runs that one function only


def test_local_invoke_exit_codes(project_factory):
    template = project_factory("cli-scripted", handlers="scripted")
    failed = tokenfuse(
        "local",
        "invoke",
        "RemediateFunction",
        "-t",
        str(template),
        "-e",
        "-",
        stdin='{"task": "policy", "incident": {"fatal": true}}',
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "KeyError" in failed.stderr
    unknown = tokenfuse("local", "invoke", "NoSuchFunction", "-t", str(template))
    assert unknown.returncode == 2
    assert "no function 'NoSuchFunction'" in unknown.stderr


def test_demo_shows_where_each_sample_went(project_factory, tmp_path):
    template = project_factory("cli-demo", handlers="scripted")
    out = tmp_path / "demo.json"
    proc = tokenfuse("demo", "-t", str(template), "--events", str(ROOT / "events"), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    samples = sorted(p.name for p in (ROOT / "events").glob("*.json"))
    for name in samples:
        assert name in proc.stdout
    assert "IntakeFunction" in proc.stdout
    data = json.loads(out.read_text())
    assert [s["file"] for s in data["samples"]] == samples
    cad = next(s for s in data["samples"] if s["file"] == "cad-eventbridge.json")
    assert cad["sent_to"].startswith("events:default")
    assert cad["invocations"][0]["function"] == "IntakeFunction"
