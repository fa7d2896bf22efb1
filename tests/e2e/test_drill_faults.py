"""Every injectable fault makes the drill (where it applies) and the doctor fail, naming exactly the
check that broke and what to do; nothing else fails, and the drill still leaves nothing behind.
The commands themselves: their JSON and their exit codes."""

import json

import pytest
from typer.testing import CliRunner

from tokenfuse.drill.doctor import run_doctor
from tokenfuse.drill.drill import run_drill
from tokenfuse_cli.main import app
from tokenfuse_sandbox.proving import ProvingGround

pytestmark = pytest.mark.e2e

# fault -> (the drill's failed checks, the doctor's failed checks, words of what to do)
EXPECTED = {
    "guard-detached": (["denied", "tag-guard"], ["guard-scp"], "attach"),
    "logging-off": (["invocation-log"], ["invocation-logging"], "PutModelInvocationLoggingConfiguration"),
    "metrics-missing": (["metric"], ["bedrock-metrics"], "AWS/Bedrock"),
    "slack-token-invalid": ([], ["slack"], "bot token"),
}


def failed(report) -> list[str]:
    return [c.name for c in report.checks if not c.passed]


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_a_fault_fails_exactly_its_checks(fault):
    drill_fails, doctor_fails, fix = EXPECTED[fault]
    with ProvingGround(faults=[fault]) as ground:
        drilled = run_drill(*ground.drill())
        assert failed(drilled) == drill_fails, [(c.name, c.detail) for c in drilled.checks]
        for name in drill_fails:
            detail = next(c.detail for c in drilled.checks if c.name == name)
            assert "to fix:" in detail
        # whatever failed, the drill lifted its trip and deleted its canaries
        assert next(c for c in drilled.checks if c.name == "delete").passed
        doctor = run_doctor(ground.doctor())
        assert failed(doctor) == doctor_fails, [(c.name, c.detail) for c in doctor.checks]
        detail = next(c.detail for c in doctor.checks if c.name == doctor_fails[0])
        assert "to fix:" in detail and fix in detail
        if fault == "slack-token-invalid":
            # the scheduled drill tells FinOps: Slack refuses, email reaches them, the check fails
            report = ground.scheduled_drill()
            assert failed(report) == ["finops-told"]
            told = report.checks[-1].detail
            assert "told FinOps by email to finops@example.com, but Slack C0FINOPS01" in told
            assert "invalid_auth" in told


def test_the_drill_command_passes_in_the_sandbox_with_the_contracts_json(tmp_path):
    path = tmp_path / "drill.json"
    result = CliRunner().invoke(app, ["drill", "--sandbox", "--json", str(path)])
    assert result.exit_code == 0, result.output
    document = json.loads(path.read_text())
    assert set(document) == {
        "passed", "checks", "model_id_form", "denied_confirmed", "restored_confirmed",
        "seconds_to_deny", "cost_usd",
    }  # fmt: skip
    assert document["passed"] is True and document["seconds_to_deny"] == 5
    assert all(set(c) == {"name", "passed", "detail"} for c in document["checks"])
    assert "passed: all 12 checks" in result.stdout


def test_the_doctor_command_fails_with_exit_1_naming_the_broken_check():
    result = CliRunner().invoke(app, ["doctor", "--sandbox", "--sandbox-fault", "logging-off", "--json", "-"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["passed"] is False
    assert [c["name"] for c in document["checks"] if not c["passed"]] == ["invocation-logging"]
