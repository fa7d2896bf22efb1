"""The one handler shell (tokenfuse.observability) and the one composition root pattern
(tokenfuse.composition): every function wears the same stack in the same order, its correlation id
comes from the event, no state survives an invocation, and X-Ray is built only when tracing is on."""

import ast
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from tests.support.lambda_context import FakeContext
from tokenfuse import composition, observability
from tokenfuse.settings import FunctionSettings

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(ROOT.glob("functions/*/app.py"))
SHELL_PARTS = ("inject_lambda_context", "log_metrics", "capture_lambda_handler")


def decorators(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    (handler,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler"]
    return [ast.unparse(d) for d in handler.decorator_list]


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_every_handler_wears_the_shell_and_nothing_else(path):
    (decorator,) = decorators(path)
    assert decorator.startswith("lambda_handler_shell(")
    # and no function stacks Powertools' decorators itself
    source = path.read_text()
    assert not [part for part in SHELL_PARTS if part in source]


def test_the_handlers_checked_are_the_templates_functions():
    from tokenfuse_sandbox.template import load_yaml

    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    code = {
        str(r["Properties"]["CodeUri"]).strip("/").removeprefix("functions/")
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert [p.parent.name for p in HANDLERS] == sorted(code)


def test_metric_units_are_powertools_constants_everywhere():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("layers/core/tokenfuse", "functions")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "add_metric(" in line and 'unit="' in line
    ]
    assert offenders == []


@pytest.fixture
def logged(monkeypatch):
    """The shell's log lines, in Powertools' JSON, tracing off as outside Lambda."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(observability.metrics.provider, "namespace", "Tokenfuse")
    stream = io.StringIO()
    captured = logging.StreamHandler(stream)
    captured.setFormatter(observability.logger.registered_formatter)
    observability.logger.addHandler(captured)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    yield lines
    observability.logger.removeHandler(captured)


def test_the_correlation_id_comes_from_the_event_and_no_key_survives_an_invocation(logged):
    @observability.lambda_handler_shell(correlation_id_path="detail.dedup_key")
    def handler(event, context):
        if event.get("append"):
            observability.correlate(None, incident_id="inc-1")
        observability.logger.info("working")
        return {"ok": True}

    # Given two invocations, the first adding the incident's id to its lines
    assert handler({"detail": {"dedup_key": "k-1"}, "append": True}, FakeContext("shell-test")) == {
        "ok": True
    }
    handler({"detail": {"dedup_key": "k-2"}}, FakeContext("shell-test"))
    working = [line for line in logged() if line.get("message") == "working"]
    # Then each line carries its own event's id; the incident id did not leak into the second
    assert [(line["correlation_id"], line.get("incident_id")) for line in working] == [
        ("k-1", "inc-1"),
        ("k-2", None),
    ]
    # and the Lambda context keys are there, the event is not logged
    assert all(line["function_name"] == "shell-test" for line in working)
    assert not [line for line in logged() if "detail" in json.dumps(line.get("message", ""))]


def test_metrics_are_flushed_once_after_the_handler(logged, capsys):
    pending = []

    @observability.lambda_handler_shell()
    def handler(event, context):
        observability.metrics.add_metric(name="Things", unit=MetricUnit.Count, value=2)
        pending.append(dict(observability.metrics.metric_set))
        return None

    handler({}, FakeContext("shell-test"))
    # Then the metric was held while the handler ran, and one EMF document flushed it after
    assert list(pending[0]) == ["Things"]
    flushed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(flushed) == 1 and flushed[0]["Things"] == [2.0]
    assert observability.metrics.metric_set == {}


def test_correlate_keeps_the_id_when_none_is_known(logged):
    @observability.lambda_handler_shell(correlation_id_path="id")
    def handler(event, context):
        observability.correlate(None, task=None)
        observability.logger.info("still mine")

    handler({"id": "event-1"}, FakeContext("shell-test"))
    (line,) = [line for line in logged() if line.get("message") == "still mine"]
    assert line["correlation_id"] == "event-1" and "task" not in line


TRACED = """
import json, sys
sys.path[:0] = {paths!r}
from tokenfuse import observability
from tests.support.lambda_context import FakeContext

@observability.lambda_handler_shell(correlation_id_path="id")
def lambda_handler(event, context):
    return {{"answer": 42}}

sent = []
if observability.tracing_enabled():
    recorder = observability.tracer().provider
    recorder.emitter.send_entity = lambda entity: sent.append(entity.to_dict())
result = lambda_handler({{"id": "e"}}, FakeContext("shell-test"))
print(json.dumps({{"result": result, "xray": "aws_xray_sdk" in sys.modules, "sent": sent}}))
"""


def run_traced(**env: str) -> dict:
    code = TRACED.format(paths=[str(ROOT / "layers" / "core"), str(ROOT)])
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "_X_AMZN"))}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_outside_lambda_the_xray_sdk_is_never_imported():
    out = run_traced()
    assert out == {"result": {"answer": 42}, "xray": False, "sent": []}


def test_in_lambda_the_handler_is_traced_without_its_response():
    out = run_traced(
        LAMBDA_TASK_ROOT=str(ROOT / "functions" / "intake"),
        AWS_LAMBDA_FUNCTION_NAME="shell-test",
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:9",
    )
    assert out["result"] == {"answer": 42} and out["xray"] is True
    (segment,) = [s for s in out["sent"] if s["name"] == "## lambda_handler"]
    assert segment["annotations"]["ColdStart"] is True
    assert "lambda_handler response" not in json.dumps(segment.get("metadata", {}))


def test_tracing_follows_powertools_rule(monkeypatch):
    for key in ("POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    assert not observability.tracing_enabled()
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert observability.tracing_enabled()
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    assert not observability.tracing_enabled()
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED")
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    assert not observability.tracing_enabled()


class ShellSettings(FunctionSettings):
    table_name: str


def test_a_composition_root_is_built_once_per_distinct_settings_and_forgotten_on_reset():
    built = []

    @composition.composition_root
    def dependencies(settings: ShellSettings) -> object:
        built.append(settings.table_name)
        return object()

    first = dependencies(ShellSettings.from_env({"TABLE_NAME": "a"}))
    # the same environment is the same root; another one is another root
    assert dependencies(ShellSettings.from_env({"TABLE_NAME": "a"})) is first
    other = dependencies(ShellSettings.from_env({"TABLE_NAME": "b"}))
    assert other is not first and built == ["a", "b"]
    composition.reset()
    assert dependencies(ShellSettings.from_env({"TABLE_NAME": "a"})) is not first
    assert built == ["a", "b", "a"]


def test_every_functions_settings_are_hashable_so_they_can_key_its_root():
    from tokenfuse.alerts.settings import NotifySettings
    from tokenfuse.attribution import AttributeSettings
    from tokenfuse.drill.settings import DrillSettings
    from tokenfuse.intake import IntakeSettings
    from tokenfuse.inventory.config import InventorySettings
    from tokenfuse.remediation.settings import ApproveSettings, RemediateSettings

    environments = {
        IntakeSettings: {"EVENT_BUS_NAME": "b", "IDEMPOTENCY_TABLE_NAME": "i"},
        AttributeSettings: {"EVENT_BUS_NAME": "b"},
        NotifySettings: {"INCIDENTS_TABLE_NAME": "t"},
        RemediateSettings: {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b"},
        ApproveSettings: {"APPROVALS_TABLE_NAME": "a"},
        InventorySettings: {"INVENTORY_TABLE_NAME": "t", "INVENTORY_REGIONS": "us-east-1,eu-west-1"},
        DrillSettings: {
            "REMEDIATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:r",
            "REMEDIATE_FUNCTION_NAME": "r",
            "DRILL_REGION": "us-east-1",
        },
    }
    for model, env in environments.items():
        settings = model.from_env(env)
        assert hash(settings) == hash(model.from_env(dict(env))), model.__name__
