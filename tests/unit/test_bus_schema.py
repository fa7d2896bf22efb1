"""Bus events carry ``schema_version``; consumers read the current version and the previous one (v0:
today's events, without the field), so a deploy strands nothing in flight or in the archive, and
refuse anything else whole, in one line, before any work is done."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from hypothesis import given
from pydantic import ValidationError

import functions.attribute.app as attribute_app
import functions.notify.app as notify_app
from functions.attribute.app import SpendSignalEvent
from functions.notify.app import ProfileNonCompliantEvent, SpikeAttributedEvent
from tests.support.adversarial import json_values, mutations
from tests.support.bus_samples import GOLDEN_SPIKES, golden_spike, incident_of
from tests.support.lambda_context import FakeContext
from tokenfuse.errors import UnsupportedSchemaVersion
from tokenfuse.events import (
    BUS_SOURCES,
    DETAIL_TYPES,
    PREVIOUS_SCHEMA_VERSION,
    SCHEMA_VERSION,
    Incident,
    ProfileNonCompliant,
    SpendSignal,
)
from tokenfuse.signals import parse_signal

ROOT = Path(__file__).resolve().parents[2]
SIGNAL_SAMPLES = sorted(
    p for p in (ROOT / "events").glob("*.json") if p.name.startswith(("cad-", "budgets-", "alarm-"))
)
BUS_SIGNAL_SAMPLES = [p for p in SIGNAL_SAMPLES if p.name != "alarm-eventbridge-ok.json"]
"""The samples that reach the bus (an alarm leaving ALARM is refused at intake)."""
RECEIVED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # the samples' receipt (test_signal_samples)


def envelope(detail: dict[str, Any], detail_type: str = "Spend Signal", source: str = "tokenfuse.intake"):
    """An EventBridge event as the bus delivers it to a Lambda target."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": "111122223333",
        "time": "2026-11-26T03:00:13Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def without_versions(node: Any) -> Any:
    """``node`` as the release before schema versions wrote it: no ``schema_version`` anywhere."""
    if isinstance(node, dict):
        return {k: without_versions(v) for k, v in node.items() if k != "schema_version"}
    if isinstance(node, list):
        return [without_versions(v) for v in node]
    return node


def assert_kept(written: Any, read: Any, where: str = "detail") -> None:
    """Everything the v0 event said is in what the current version reads from it, unchanged."""
    if isinstance(written, dict):
        for key, value in written.items():
            assert key in read, f"{where}/{key} lost"
            assert_kept(value, read[key], f"{where}/{key}")
    elif isinstance(written, list):
        assert len(written) == len(read), where
        for index, (a, b) in enumerate(zip(written, read, strict=True)):
            assert_kept(a, b, f"{where}/{index}")
    else:
        assert written == read, where


def signal_v1(sample: Path) -> dict[str, Any]:
    (signal,) = parse_signal(sample.read_text(), received_at=RECEIVED)
    return signal.to_bus()


# --- the rule ---------------------------------------------------------------------------------


def test_the_versions_read_are_the_current_and_the_one_before():
    assert SCHEMA_VERSION == 1 and PREVIOUS_SCHEMA_VERSION == SCHEMA_VERSION - 1


@pytest.mark.parametrize("model", [*DETAIL_TYPES, Incident], ids=lambda m: m.__name__)
def test_every_event_on_the_bus_carries_the_field(model):
    assert model.model_fields["schema_version"].default == SCHEMA_VERSION
    assert set(DETAIL_TYPES) == set(BUS_SOURCES)


# --- v0: today's events still parse ------------------------------------------------------------


@pytest.mark.parametrize("path", GOLDEN_SPIKES, ids=lambda p: p.name)
def test_todays_spike_attributed_events_parse_through_notify(path):
    # Given a "Spike Attributed" detail as today's release puts it on the bus (no schema_version)
    detail = json.loads(path.read_text())
    assert "schema_version" not in json.dumps(detail)
    # When notify parses it the way its handler does
    spike = parse(
        event=envelope(detail, "Spike Attributed", "tokenfuse.attribution"), model=SpikeAttributedEvent
    ).detail
    # Then it is read whole, as the current version, its nested signal too
    assert spike.schema_version == SCHEMA_VERSION and spike.signal.schema_version == SCHEMA_VERSION
    written = spike.to_bus()
    assert written["schema_version"] == 1 and written["signal"]["schema_version"] == 1
    assert_kept(detail, written)


@pytest.mark.parametrize("sample", BUS_SIGNAL_SAMPLES, ids=lambda p: p.name)
def test_todays_and_current_spend_signals_parse_alike_through_attribute(sample):
    current = signal_v1(sample)
    # Given the same signal as the current release writes it and as today's release wrote it
    assert current["schema_version"] == 1
    previous = without_versions(current)
    # When attribute parses each from the bus
    read_current = parse(event=envelope(current), model=SpendSignalEvent).detail
    read_previous = parse(event=envelope(previous), model=SpendSignalEvent).detail
    # Then both are the same signal
    assert read_previous == read_current
    assert read_previous.to_bus() == current


def test_an_incident_stored_by_todays_release_reads_back():
    # Given an incident as the incidents table (and the state machine's input) holds it from v0
    incident = incident_of(golden_spike())
    stored_v0 = json.dumps(without_versions(incident.to_bus()))
    assert '"schema_version"' not in stored_v0
    # When it is read back, then it is the same incident
    assert Incident.model_validate_json(stored_v0) == incident


# --- anything else: refused whole, in one line -------------------------------------------------


@pytest.mark.parametrize("model", [*DETAIL_TYPES, Incident], ids=lambda m: m.__name__)
@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, -1, 10**20, "1", 1.0, True, None, [1], {"v": 1}])
def test_a_version_this_release_does_not_read_is_refused_in_one_line(model, version):
    with pytest.raises(UnsupportedSchemaVersion) as refused:
        model.model_validate({"schema_version": version})
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{model.__name__} schema_version ")
    assert "reads (0 or none, and 1)" in message


def test_a_newer_spend_signal_is_refused_by_attribute_before_anything_is_read():
    detail = {**signal_v1(ROOT / "events/alarm-eventbridge.json"), "schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(UnsupportedSchemaVersion, match=r"^SpendSignal schema_version 2 is not one"):
        parse(event=envelope(detail), model=SpendSignalEvent)


def test_a_newer_spike_or_a_newer_signal_inside_it_is_refused_by_notify():
    detail = golden_spike().to_bus()
    for newer, name in (
        ({**detail, "schema_version": 2}, "SpikeAttributed"),
        ({**detail, "signal": {**detail["signal"], "schema_version": 2}}, "SpendSignal"),
    ):
        with pytest.raises(UnsupportedSchemaVersion, match=f"^{name} schema_version 2 "):
            parse(event=envelope(newer, "Spike Attributed"), model=SpikeAttributedEvent)


def test_a_newer_profile_non_compliant_is_refused_by_notify():
    detail = {
        "schema_version": 2, "profile_arn": "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
        "profile_id": "x", "profile_name": None, "account_id": "1", "region": "us-east-1", "tags": {},
        "team_tag": None, "missing_tags": ["team"], "unknown_team": False, "creator": None,
        "detected_at": "2026-11-27T05:15:00Z", "reason": "missing tags: team",
    }  # fmt: skip
    event = envelope(detail, "Profile Non-Compliant", "tokenfuse.inventory")
    with pytest.raises(UnsupportedSchemaVersion, match=r"^ProfileNonCompliant schema_version 2 "):
        parse(event=event, model=ProfileNonCompliantEvent)
    current = parse(event=envelope({**detail, "schema_version": 1}), model=ProfileNonCompliantEvent).detail
    assert isinstance(current, ProfileNonCompliant) and current.schema_version == SCHEMA_VERSION


# --- the handlers: a refused event reaches no action ---------------------------------------------


class Recorder:
    """Stands in for a handler's composition root and domain entry points: records every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> "Recorder":
            self.calls.append(name)
            return self

        return record


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "tokenfuse")
    seen = Recorder()
    for module, names in (
        (attribute_app, ("dependencies", "attribute_signal", "own_account")),
        (notify_app, ("dependencies", "notify_spike")),
    ):
        for name in names:
            monkeypatch.setattr(module, name, getattr(seen, name))
    monkeypatch.setattr(attribute_app.AttributeSettings, "from_env", classmethod(lambda cls: None))
    monkeypatch.setattr(notify_app.NotifySettings, "from_env", classmethod(lambda cls: None))
    return seen


def test_a_newer_spend_signal_reaches_no_attribution_in_the_attribute_handler(recorder):
    detail = {**signal_v1(ROOT / "events/alarm-eventbridge.json"), "schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(UnsupportedSchemaVersion, match=r"^SpendSignal schema_version 2 "):
        attribute_app.lambda_handler(envelope(detail), FakeContext("tokenfuse-attribute"))
    # the composition root was built (a broken environment fails first); nothing was attributed
    assert recorder.calls == ["dependencies"]


@pytest.mark.parametrize(
    ("detail_type", "source", "name"),
    [
        ("Spike Attributed", "tokenfuse.attribution", "SpikeAttributed"),
        ("Profile Non-Compliant", "tokenfuse.inventory", "ProfileNonCompliant"),
    ],
)
def test_a_newer_event_reaches_no_alert_in_the_notify_handler(recorder, detail_type, source, name):
    written = golden_spike().to_bus() if name == "SpikeAttributed" else {"profile_arn": "x"}
    event = envelope({**written, "schema_version": SCHEMA_VERSION + 1}, detail_type, source)
    with pytest.raises(UnsupportedSchemaVersion, match=f"^{name} schema_version 2 "):
        notify_app.lambda_handler(event, FakeContext("tokenfuse-notify"))
    # the service was built, never asked to alert, open an incident or tell FinOps
    assert recorder.calls == ["dependencies", "service"]


# --- adversarial: any value, any mutation -------------------------------------------------------


@given(json_values)
def test_any_json_value_as_the_version_is_read_as_v0_or_v1_or_refused_in_one_line(value):
    detail = {**signal_v1(ROOT / "events/alarm-eventbridge.json"), "schema_version": value}
    try:
        signal = SpendSignal.from_bus(detail)
    except UnsupportedSchemaVersion as refused:
        assert "\n" not in str(refused)
        assert type(value) is not int or value not in (0, 1)
    else:
        assert type(value) is int and value in (0, 1) and signal.schema_version == SCHEMA_VERSION


SPEND_SIGNAL_V1 = signal_v1(ROOT / "events/cad-eventbridge.json")
MUTATIONS = list(mutations(SPEND_SIGNAL_V1))


def test_the_mutation_corpus_covers_the_version():
    labels = [label for label, _ in MUTATIONS if label.startswith("schema_version ")]
    assert "schema_version deleted" in labels and len(labels) >= 4


@pytest.mark.parametrize(("label", "detail"), MUTATIONS, ids=[label for label, _ in MUTATIONS])
def test_a_mutated_spend_signal_is_read_or_refused_never_anything_else(label, detail):
    try:
        signal = SpendSignal.from_bus(detail)
    except UnsupportedSchemaVersion as refused:
        assert label.startswith("schema_version ") and "\n" not in str(refused)
    except ValidationError:
        pass  # pydantic's refusal of a field that is not a SpendSignal's
    else:
        assert signal.schema_version == SCHEMA_VERSION
        if label == "schema_version deleted":  # a v0 signal: read as it was
            assert signal.to_bus() == SPEND_SIGNAL_V1
