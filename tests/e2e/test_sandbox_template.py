"""The real template.yaml in the sandbox: every function imports, every sample in events/ goes through
the real wiring to the real handlers, and each EventBridge rule's pattern matches the samples it is
meant for and no others."""

import json
from pathlib import Path

import pytest

from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES
from tokenfuse_cli.demo import classify, run_samples, samples_sandbox
from tokenfuse_sandbox import Sandbox

# one worker builds the module's sandbox once for all its tests
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("test_sandbox_template")]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"

PROFILE_ARN = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6"
# Minimal real-shaped CloudTrail event for the inventory rule (no sample in events/ yet).
CLOUDTRAIL_CREATE_PROFILE = {
    "source": "aws.bedrock",
    "detail-type": "AWS API Call via CloudTrail",
    "detail": {
        "eventVersion": "1.09",
        "eventSource": "bedrock.amazonaws.com",
        "eventName": "CreateInferenceProfile",
        "awsRegion": "us-east-1",
        "requestParameters": {"inferenceProfileName": "support-bot"},
        "responseElements": {"inferenceProfileArn": PROFILE_ARN},
    },
}


def _samples() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))}


def _eventbridge_samples() -> dict[str, dict]:
    return {name: s for name, s in _samples().items() if classify(name, s)[0] == "events"}


def test_every_function_in_the_template_imports_and_its_handler_resolves():
    """The real tree: functions/<name>/app.py exists, imports under its environment, and has the handler."""
    with Sandbox(ROOT / "template.yaml", function_urls=False) as sb:
        functions = sb.template.of_type("AWS::Serverless::Function")
        assert len(functions) >= 6
        assert sorted(sb.runtime.handlers) == sorted(functions)
        assert all(callable(h) for h in sb.runtime.handlers.values())


@pytest.fixture(scope="module")
def sb(project_factory):
    # Real handlers; a function whose app.py is not written yet runs tests/fixtures/handlers/stub_app.py.
    with samples_sandbox(project_factory("real", handlers="real")) as sandbox:
        sandbox.sample_results = run_samples(sandbox, sorted(EVENTS.glob("*.json")))
        yield sandbox


def test_samples_exist_for_every_trigger():
    names = list(_samples())
    for prefix in ("cad-sns", "cad-eventbridge", "budgets-sns", "alarm-sns", "alarm-eventbridge"):
        assert any(n.startswith(prefix) for n in names), f"no events/{prefix}*.json sample"


def _meant_for(name: str) -> tuple[str | None, str | None]:
    """(function, trigger prefix) a sample is meant to reach first; (None, None) = nothing."""
    if name == "alarm-eventbridge-ok.json":
        return None, None  # an alarm leaving ALARM is not a signal (rule: state.value ALARM)
    if name.startswith(("cad-", "budgets-", "alarm-", "intake-sqs-")):
        return "IntakeFunction", "sqs:tokenfuse-intake-dev"
    if name.startswith("cloudtrail-"):
        return "InventoryFunction", "rule:"
    if name == "meter-invocation-logs.json":
        return "MeterFunction", "lambda:Invoke(Event)"
    if name == "meter-spend-rate-eventbridge.json":
        return "IntakeFunction", "sqs:tokenfuse-intake-dev"
    if name.startswith("inventory-"):
        return "InventoryFunction", "schedule:" if "schedule" in name else "sqs:tokenfuse-inventory-sweep-dev"
    return "?", "?"


def test_every_sample_reaches_its_function_through_the_real_wiring(sb):
    assert len(sb.sample_results) == len(_samples())
    for result in sb.sample_results:
        assert result["error"] is None, result
        function, trigger = _meant_for(result["file"])
        invocations = result["invocations"]
        if function is None:
            assert invocations == [], result["file"]
            continue
        assert invocations, f"{result['file']} reached no function"
        assert invocations[0]["function"] == function, result["file"]
        assert invocations[0]["trigger"].startswith(trigger), (result["file"], invocations[0]["trigger"])


def test_sqs_samples_arrive_in_the_lambda_sqs_shape(sb):
    first = next(r for r in sb.sample_results if r["file"] == "budgets-sns-actual.json")["invocations"][0]
    record = first["event"]["Records"][0]
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:111122223333:tokenfuse-intake-dev"
    assert json.loads(record["body"])["Type"] == "Notification"


def test_intake_puts_spend_signals_that_reach_attribute(sb):
    signals = [e for e in sb.bus_events if e["detail-type"] == "Spend Signal"]
    assert signals, "intake put no Spend Signal on the bus for any sample"
    assert all(e["source"] == "tokenfuse.intake" and e["bus"] == "tokenfuse-dev" for e in signals)
    attribute = [i for i in sb.invocations if i.function == "AttributeFunction"]
    assert {i.event["id"] for i in attribute} == {e["id"] for e in signals}


def _rules(sb, lid):
    return sb.provisioner.physicals[lid].ref.split("|")[-1]


def _function_rule(sb, function, event):
    return sb.provisioner.physicals[f"{function}{event}"].ref


def test_rule_patterns_match_their_samples_and_no_others(sb):
    forward = _rules(sb, "ForwardToTokenfuseBusRule")
    cad = _rules(sb, "CostAnomalyEventRule")
    alarm = _rules(sb, "TokenRateAlarmEventRule")
    inventory = _function_rule(sb, "InventoryFunction", "ProfileChanged")
    attribute = _function_rule(sb, "AttributeFunction", "SpendSignal")
    notify = _function_rule(sb, "NotifyFunction", "SpikeAttributed")
    samples = _eventbridge_samples()
    assert {"cad-eventbridge.json", "alarm-eventbridge.json", "alarm-eventbridge-ok.json"} <= set(samples)
    spend_rate = _rules(sb, "SpendRateEventRule")
    for name, sample in samples.items():
        if name.startswith("meter-"):
            # put on tokenfuse's bus by the meters themselves: the spend-rate rule alone takes it
            assert sb.matching_rules(sample, "default") == [], name
            assert sb.matching_rules(sample, "TokenfuseBus") == [spend_rate], name
            continue
        # raised on the default bus: only the forwarding rule takes it, to tokenfuse's bus
        assert sb.matching_rules(sample, "default") == [forward], name
        if name == "alarm-eventbridge-ok.json":
            want = []
        elif name.startswith("cad-"):
            want = [cad]
        elif name.startswith("alarm-"):
            want = [alarm]
        elif name.startswith("cloudtrail-"):
            want = [inventory]
        else:
            pytest.fail(f"no expectation for the EventBridge sample {name}: add one")
        assert sb.matching_rules(sample, "TokenfuseBus") == want, name
    assert sb.matching_rules(CLOUDTRAIL_CREATE_PROFILE, "default") == [forward]
    assert sb.matching_rules(CLOUDTRAIL_CREATE_PROFILE, "TokenfuseBus") == [inventory]
    # tokenfuse's own events, as the real handlers put them
    signal = next(e for e in sb.bus_events if e["detail-type"] == "Spend Signal")
    assert sb.matching_rules(signal, "TokenfuseBus") == [attribute]
    spike = {"source": "tokenfuse.attribution", "detail-type": "Spike Attributed", "detail": {}}
    assert sb.matching_rules(spike, "TokenfuseBus") == [notify]


def test_every_template_rule_matches_some_sample(sb):
    """A rule whose pattern nothing sends is a wiring mistake (the mutated template in
    tests/integration/test_template_wiring.py shows it is caught)."""
    events = [*_eventbridge_samples().values(), CLOUDTRAIL_CREATE_PROFILE, *sb.bus_events, *own_events()]
    assert sb.unmatched_rules(events) == []


def own_events() -> list[dict]:
    """One event of each kind tokenfuse puts on its bus (source and detail-type from the domain)."""
    return [
        {"source": BUS_SOURCES[model], "detail-type": DETAIL_TYPES[model], "detail": {}}
        for model in DETAIL_TYPES
    ]
