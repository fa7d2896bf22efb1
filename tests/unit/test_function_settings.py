"""Settings fail closed: every function reads its environment through one model, validated before
its first event; a value that does not parse fails with one line and never falls back to a default."""

import re
from pathlib import Path

import pytest

from tests.support.handlers import ROOT, load_handler
from tests.support.lambda_context import FakeContext
from tokenfuse.alerts.settings import NotifySettings
from tokenfuse.attribution import AttributeSettings
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.intake import IntakeSettings
from tokenfuse.inventory.config import InventorySettings
from tokenfuse.meter.logging_setup import InvocationLoggingSettings
from tokenfuse.meter.wiring import MeterSettings
from tokenfuse.remediation.settings import ApproveSettings, RemediateSettings
from tokenfuse.settings import FunctionSettings, SettingsError, clear_cache
from tokenfuse.showback.settings import DigestSettings
from tokenfuse_sandbox.template import Template

MODELS: dict[str, tuple[str, type[FunctionSettings]]] = {
    "IntakeFunction": ("intake", IntakeSettings),
    "AttributeFunction": ("attribute", AttributeSettings),
    "NotifyFunction": ("notify", NotifySettings),
    "ApproveFunction": ("approve", ApproveSettings),
    "InventoryFunction": ("inventory", InventorySettings),
    "RemediateFunction": ("remediate", RemediateSettings),
    "DigestFunction": ("digest", DigestSettings),
    "DrillFunction": ("drill", DrillSettings),
    "MeterFunction": ("meter", MeterSettings),
    "InvocationLoggingFunction": ("invocation_logging", InvocationLoggingSettings),
}

ALLOWED_ENV_READERS = {
    # Settings themselves.
    Path("layers/core/tokenfuse/settings.py"),
    # Powertools' own variables, read where Powertools is built (its service name and namespace).
    Path("layers/core/tokenfuse/observability.py"),
    # AWS_REGION is the Lambda runtime's, not tokenfuse's configuration (as boto3 reads it).
    Path("layers/core/tokenfuse/attribution/service.py"),
    # A test helper's default table name (tests/integration/test_inventory_handler.py).
    Path("layers/core/tokenfuse/adapters/inventory_table.py"),
}


def template_functions() -> set[str]:
    template = Template(ROOT / "template.yaml")
    return set(template.of_type("AWS::Serverless::Function"))


def own_variables(logical_id: str) -> set[str]:
    template = Template(ROOT / "template.yaml")
    properties = template.resources[logical_id].get("Properties") or {}
    return set(((properties.get("Environment") or {}).get("Variables") or {}).keys())


def model_variables(model: type[FunctionSettings]) -> set[str]:
    return {model.variable(name) for name in model.model_fields}


def test_every_function_of_the_template_has_a_settings_model():
    assert template_functions() == set(MODELS)


@pytest.mark.parametrize("logical_id", sorted(MODELS))
def test_every_variable_the_template_sets_is_read_by_the_functions_model(logical_id):
    _, model = MODELS[logical_id]
    unread = own_variables(logical_id) - model_variables(model)
    assert not unread, f"{logical_id} sets {sorted(unread)} but {model.__name__} does not read them"


def test_no_module_reads_the_environment_behind_the_models_back():
    readers = set()
    for folder in ("layers/core/tokenfuse", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
                readers.add(path.relative_to(ROOT))
    assert readers <= ALLOWED_ENV_READERS, sorted(str(p) for p in readers - ALLOWED_ENV_READERS)


@pytest.mark.parametrize(
    ("value", "dry_run"),
    [
        (None, True),
        ("", True),
        ("true", True),
        ("True", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
    ],
)
def test_dry_run_is_read_strictly_and_missing_means_dry_run(value, dry_run):
    env = {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b"}
    if value is not None:
        env["DRY_RUN"] = value
    assert RemediateSettings.from_env(env).dry_run is dry_run


@pytest.mark.parametrize("value", ["flase", "yes please", "2", "nope", "truee"])
def test_a_dry_run_that_is_not_a_boolean_fails_instead_of_tripping_for_real(value):
    env = {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b", "DRY_RUN": value}
    with pytest.raises(SettingsError) as raised:
        RemediateSettings.from_env(env)
    message = str(raised.value)
    assert message.startswith(f"RemediateSettings: DRY_RUN='{value}': Input should be a valid boolean")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("model", "env", "expected"),
    [
        (
            NotifySettings,
            {"INCIDENTS_TABLE_NAME": "i", "INCIDENT_QUIET_HOURS": "-1"},
            "INCIDENT_QUIET_HOURS='-1'",
        ),
        (
            RemediateSettings,
            {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b", "TRIP_MECHANISM": "nuke"},
            "TRIP_MECHANISM='nuke'",
        ),
        (
            RemediateSettings,
            {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b", "MAX_TRIPS_PER_HOUR": "5x"},
            "MAX_TRIPS_PER_HOUR='5x'",
        ),
        (AttributeSettings, {"EVENT_BUS_NAME": "b", "MAX_WINDOW_HOURS": "1000"}, "MAX_WINDOW_HOURS='1000'"),
        (
            InventorySettings,
            {"INVENTORY_TABLE_NAME": "t", "ALARM_EVALUATION_PERIODS": "0"},
            "ALARM_EVALUATION_PERIODS='0'",
        ),
        (IntakeSettings, {"EVENT_BUS_NAME": "b"}, "IDEMPOTENCY_TABLE_NAME is required"),
    ],
    ids=["float-bound", "literal", "int", "int-bound", "inventory-bound", "required"],
)
def test_a_value_that_does_not_parse_names_its_variable(model, env, expected):
    with pytest.raises(SettingsError, match=re.escape(f"{model.__name__}: {expected}")):
        model.from_env(env)


def test_a_long_refused_value_is_shortened():
    env = {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b", "TRIP_MECHANISM": "x" * 500}
    with pytest.raises(SettingsError) as raised:
        RemediateSettings.from_env(env)
    assert len(str(raised.value)) < 200


def test_settings_are_validated_once_per_environment():
    env = {"APPROVALS_TABLE_NAME": "a", "EVENT_BUS_NAME": "b"}
    first = RemediateSettings.from_env(env)
    assert RemediateSettings.from_env(dict(env)) is first
    assert RemediateSettings.from_env({**env, "DRY_RUN": "false"}) is not first
    clear_cache()
    assert RemediateSettings.from_env(env) is not first


# InvocationLoggingFunction reads nothing of its own (its custom resource's properties say it all)
WITH_REQUIRED = sorted(
    logical_id
    for logical_id, (_, model) in MODELS.items()
    if any(field.is_required() for field in model.model_fields.values())
)


def test_only_the_invocation_logging_function_needs_no_variable():
    assert set(MODELS) - set(WITH_REQUIRED) == {"InvocationLoggingFunction"}
    assert not own_variables("InvocationLoggingFunction")


@pytest.mark.parametrize("logical_id", WITH_REQUIRED)
def test_a_handler_refuses_a_broken_environment_before_reading_its_event(logical_id, monkeypatch):
    """Every variable the template sets is present except one required one: the handler raises the
    one-line SettingsError naming it, whatever the event (here one no handler could read)."""
    function, model = MODELS[logical_id]
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    assert required, f"{model.__name__} has no required variable to leave out"
    for name in model.model_fields:
        monkeypatch.delenv(model.variable(name), raising=False)
    for name in required[1:]:
        monkeypatch.setenv(model.variable(name), "set")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clear_cache()
    handler = load_handler(function)
    with pytest.raises(SettingsError, match=f"^{model.__name__}: {model.variable(required[0])} is required$"):
        handler.lambda_handler({"not": "an event"}, FakeContext(function_name=function))
