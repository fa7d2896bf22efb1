"""Adversarial corpus, input "the intake queue": SQS records whose body is an SNS notification
(raw message delivery off), an EventBridge event, or raw Budgets text, through the real handler
(functions/intake/app.py under moto: the bus, its capture queue, the idempotency table).

Every case ends one of two ways, and the test says which:
- refused: the record is a batch item failure (SQS dead-letters it), exactly one ``rejected:``
  log line names the reason (printable: control characters escaped), ``SignalsRejected`` counts
  it, and nothing reaches the bus;
- accepted: exactly the expected signal is on the bus, once.

The handler itself never raises. Cases are built from scratch (named by what they attack), by
mutation of every real sample in events/ (every node deleted or swapped for another JSON shape),
and by hypothesis (any JSON value, any text, nesting of any depth).
"""

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.adversarial.signal_material import (
    FIGURES,
    RECEIVED,
    SIGNAL_SAMPLES,
    check_accepted,
    load,
    mutations_by_node,
)
from tests.support.adversarial import NESTING_LIMIT, deeply_nested, json_values, unicode_text
from tests.support.handlers import load_handler
from tests.support.intake_harness import (
    BUDGET_FILTERS,
    IntakeAws,
    batch,
    context,
    intake_aws,
    intake_environment,
    sns_notification,
)
from tokenfuse.errors import SignalError
from tokenfuse.signals import parse_signal

PROPERTY = settings(max_examples=60, deadline=None)


@dataclass
class Outcome:
    failures: set[str]
    rejected: dict[str, list[str]]
    bus: list[dict[str, Any]]
    metrics: dict[str, float]


@dataclass
class Intake:
    """The real intake handler over one moto account, run one SQS batch at a time."""

    aws: IntakeAws
    handler: Any
    log: list[logging.LogRecord] = field(default_factory=list)

    def run(self, bodies: dict[str, str]) -> Outcome:
        """One invocation with one record per ``message_id: body``; each batch starts with the
        idempotency table empty, so a signal accepted here is its first delivery."""
        self.aws.forget_deliveries()
        self.aws.captured()
        capture = _Capture()
        root = logging.getLogger()
        root.addHandler(capture)
        stdout = io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout):
                response = self.handler.lambda_handler(batch(bodies), context())
        finally:
            root.removeHandler(capture)
        rejected: dict[str, list[str]] = {}
        for record in capture.records:
            message = record.getMessage()
            if message.startswith(("rejected", "not delivered")) or record.levelno >= logging.ERROR:
                rejected.setdefault(str(getattr(record, "message_id", "?")), []).append(message)
        return Outcome(
            failures={f["itemIdentifier"] for f in response["batchItemFailures"]},
            rejected=rejected,
            bus=[event["detail"] for event in self.aws.captured()],
            metrics=_emf_counts(stdout.getvalue()),
        )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _emf_counts(stdout: str) -> dict[str, float]:
    """Metric totals from the Embedded Metric Format lines Powertools printed."""
    counts: dict[str, float] = {}
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                total = sum(value) if isinstance(value, list) else value
                counts[metric["Name"]] = counts.get(metric["Name"], 0) + total
    return counts


@pytest.fixture(scope="module")
def intake() -> Iterator[Intake]:
    with pytest.MonkeyPatch.context() as monkeypatch, intake_environment(monkeypatch), intake_aws() as aws:
        yield Intake(aws=aws, handler=load_handler("intake"))


# -- expectations --------------------------------------------------------------------------------


def assert_refused(outcome: Outcome, message_id: str, fragment: str) -> None:
    assert message_id in outcome.failures
    (line,) = outcome.rejected[message_id]
    assert line.startswith("rejected: ")
    assert fragment in line, line
    assert line.isprintable(), line  # one line: newlines and control characters escaped


def assert_refused_alone(outcome: Outcome, fragment: str) -> None:
    """A batch of one record, refused: the failure, its one line, the metric, nothing on the bus."""
    assert outcome.failures == {"case"}
    assert_refused(outcome, "case", fragment)
    assert set(outcome.rejected) == {"case"}
    assert outcome.metrics["SignalsRejected"] == 1
    assert outcome.bus == []


def assert_accepted_alone(outcome: Outcome, expected: dict[str, Any]) -> dict[str, Any]:
    assert outcome.failures == set()
    assert outcome.rejected == {}
    assert "SignalsRejected" not in outcome.metrics
    (detail,) = outcome.bus
    for key, value in expected.items():
        assert detail[key] == value, key
    return detail


# -- bodies as the intake queue receives them ------------------------------------------------------


def notification(sample: str, **changes: Any) -> dict[str, Any]:
    return {**sns_notification(sample), **changes}


def message_of(sample: str) -> Any:
    """The ``Message`` a Lambda SNS sample carries: parsed when it is JSON, else its text."""
    text: str = load(sample)["Records"][0]["Sns"]["Message"]
    return json.loads(text) if text.lstrip().startswith("{") else text


def with_message(sample: str, message: Any) -> str:
    text = message if isinstance(message, str) else json.dumps(message)
    return json.dumps(notification(sample, Message=text))


def budget_text(sample: str, old: str, new: str) -> str:
    text = message_of(sample)
    assert old in text
    return with_message(sample, text.replace(old, new))


def cad_event(**detail: Any) -> str:
    event = load("cad-eventbridge.json")
    event["detail"].update(detail)
    return json.dumps(event)


def cad_impact(**impact: Any) -> str:
    event = load("cad-eventbridge.json")
    event["detail"]["impact"].update(impact)
    return json.dumps(event)


def alarm_trigger(**trigger: Any) -> str:
    message = message_of("alarm-sns.json")
    message["Trigger"].update(trigger)
    return with_message("alarm-sns.json", message)


def alarm_message(**changes: Any) -> str:
    return with_message("alarm-sns.json", {**message_of("alarm-sns.json"), **changes})


ACTUAL_LINE = "ACTUAL Amount: $8,312.47"
BUDGET_ACTUAL = {"source": "budget", "actual_usd": 8312.47, "threshold_usd": 8000.0, "budgeted_usd": 10000.0}

# Accepted: (body, what must be on the bus). Every figure is read off the sample text by hand.
ACCEPTED: dict[str, tuple[str, dict[str, Any]]] = {
    "budgets notification, enriched from DescribeBudget": (
        json.dumps(notification("budgets-sns-actual.json")),
        {**BUDGET_ACTUAL, "cost_filters": BUDGET_FILTERS, "raw_source": "sqs-sns"},
    ),
    "raw budgets text (raw message delivery on)": (
        message_of("budgets-sns-actual.json"),
        # No SNS timestamp: the alert ends at receipt (18:00, before the header day's end).
        {**BUDGET_ACTUAL, "window_end": "2026-11-26T18:00:00Z", "window_start": "2026-11-01T00:00:00Z"},
    ),
    "usage budget keeps its unit, no dollars": (
        json.dumps(notification("budgets-sns-usage.json")),
        {"actual_amount": 912.5, "threshold_amount": 800.0, "unit": "Hrs", "actual_usd": None},
    ),
    "threshold as a percentage with its dollars": (
        budget_text("budgets-sns-actual.json", "> $8,000.00", "> 80.00% ($8,000.00)"),
        {"threshold_percent": 80.0, "threshold_usd": 8000.0},
    ),
    "money exactly at the $1e9 bound": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: $1,000,000,000.00"),
        {"actual_usd": 1_000_000_000.0},
    ),
    "non-ASCII budget name": (
        budget_text(
            "budgets-sns-actual.json", "Budget Name: genai-bedrock-monthly", "Budget Name: équipe-预算-ü"
        ),
        {"budget_name": "équipe-预算-ü", "cost_filters": None},
    ),
    "cad eventbridge event": (
        json.dumps(load("cad-eventbridge.json")),
        {"source": "cost-anomaly", "impact_usd": 4120.55, "raw_source": "eventbridge"},
    ),
    "cad event with unknown extra fields at every level": (
        json.dumps(
            {
                **load("cad-eventbridge.json"),
                "new-top-level": {"x": 1},
                "detail": {
                    **load("cad-eventbridge.json")["detail"],
                    "newField": [1, "two"],
                    "impact": {**load("cad-eventbridge.json")["detail"]["impact"], "newImpact": 3},
                },
            }
        ),
        {"impact_usd": 4120.55, "actual_usd": 4318.75},
    ),
    "cad eventbridge event through an sns target": (
        with_message("alarm-sns.json", load("cad-eventbridge.json")),
        {"source": "cost-anomaly", "monitor_name": "org-services", "raw_source": "sqs-sns"},
    ),
    "alarm notification over sns": (
        json.dumps(notification("alarm-sns.json")),
        {"profile_id": "a1b2c3d4e5f6", "metric_value": 512000.0, "window_start": "2026-11-26T09:13:05Z"},
    ),
    "alarm eventbridge event": (
        json.dumps(load("alarm-eventbridge.json")),
        {"profile_id": "a1b2c3d4e5f6", "metric_value": 412345.0, "window_start": "2026-11-26T09:09:00Z"},
    ),
    "alarm at the longest evaluation range (1 h x 168 = 7 days)": (
        alarm_trigger(Period=3600, EvaluationPeriods=168),
        {"window_start": "2026-11-19T09:14:05Z", "window_end": "2026-11-26T09:14:05Z"},
    ),
}

DEEP = json.loads(deeply_nested(NESTING_LIMIT, key="k"))

# Refused: (body, a fragment of the one reason line, written by hand).
REFUSED: dict[str, tuple[str, str]] = {
    "empty body": ("", "UnsupportedSignal: payload is empty"),
    "whitespace body": (" \n\t ", "payload is empty"),
    "json array body": ("[]", "payload is JSON but not an object"),
    "broken json body": ('{"Type": "Notification",', "looks like JSON but does not parse"),
    "json nested 150 deep": (deeply_nested(150), "JSON nests deeper than 100 levels"),
    "json nested 100,000 deep (recursion)": ("[" * 100_000 + "]" * 100_000, "nests deeper than 100"),
    "json nested exactly 100 deep is read, then not a signal": (
        json.dumps(DEEP),
        "UnsupportedSignal: message is not a known signal (keys: k)",
    ),
    "sns message nested 150 deep": (
        with_message("alarm-sns.json", deeply_nested(150)),
        "JSON nests deeper than 100 levels",
    ),
    "sns message empty": (with_message("alarm-sns.json", ""), "payload is empty"),
    "sns message carries no signal (Records: [])": (
        with_message("alarm-sns.json", {"Records": []}),
        "message is not a known signal (keys: Records)",
    ),
    "sns Message an object, not a string": (
        json.dumps(notification("alarm-sns.json", Message={"AlarmName": "x"})),
        "SNS notification: Message",
    ),
    "sns subscription confirmation": (
        json.dumps(notification("alarm-sns.json", Type="SubscriptionConfirmation")),
        "SNS message of type SubscriptionConfirmation, not a Notification",
    ),
    "sns Timestamp at year 9999": (
        json.dumps(notification("budgets-sns-actual.json", Timestamp="9999-12-31T23:59:59-12:00")),
        "SNS Timestamp",
    ),
    "budgets in EUR": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: 8,312.47 EUR"),
        "ImplausibleSignal: Budgets alert: ACTUAL Amount is not in US dollars",
    ),
    "budgets in euro sign": (
        budget_text("budgets-sns-actual.json", "Budgeted Amount: $10,000.00", "Budgeted Amount: €10.000,00"),
        "Budgeted Amount is not in US dollars",
    ),
    "budgets in yen": (
        budget_text("budgets-sns-actual.json", "> $8,000.00", "> ¥800,000"),
        "Alert Threshold is not in US dollars",
    ),
    "budgets in JPY": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: JPY 831,247"),
        "ACTUAL Amount is not in US dollars",
    ),
    "budgets with a European number format": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: $8.312,47"),
        "ACTUAL Amount is not in US dollars ($1,234.56): $8.312,47",
    ),
    "budgets figure without a currency": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: 8312.47"),
        "ACTUAL Amount is not in US dollars",
    ),
    "budgets negative amount": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: -$8,312.47"),
        "ImplausibleSignal: actual_usd -8312.47 is below the bound 0",
    ),
    "budgets amount over $1e9": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: $1,000,000,000.01"),
        "actual_usd $1,000,000,000.01 is over the bound $1,000,000,000",
    ),
    "budgets amount of 250 digits": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: $" + "9" * 250),
        "actual_usd $1.000e+250 is over the bound $1,000,000,000",
    ),
    "budgets amount of 400 digits (infinite as a float)": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, "ACTUAL Amount: $" + "9" * 400),
        "Budgets alert: 'Actual Amount' is 401 characters long",
    ),
    "budgets amount line of 240,000 characters": (
        budget_text("budgets-sns-actual.json", ACTUAL_LINE, ACTUAL_LINE + " " * 240_000 + "x"),
        "MalformedSignal: Budgets alert: 'Actual Amount' is 240,010 characters long",
    ),
    "budgets usage figure in dollars": (
        budget_text("budgets-sns-usage.json", "ACTUAL Amount: 912.50 Hrs", "ACTUAL Amount: $912.50"),
        "ACTUAL Amount is not a usage figure",
    ),
    "budgets header at year 9999": (
        message_of("budgets-sns-actual.json").replace("November 26, 2026", "December 31, 9999"),
        "Budgets alert header date: 9999-12-31 is outside 2000-01-01 .. 3000-01-01",
    ),
    "budgets two differing amounts": (
        budget_text(
            "budgets-sns-actual.json",
            ACTUAL_LINE,
            f"{ACTUAL_LINE}\nACTUAL Amount: $1.00",
        ),
        "two 'Actual Amount' lines that differ",
    ),
    "cad negative impact": (cad_impact(totalImpact=-10.0), "impact_usd -10 is below the bound 0"),
    "cad impact over $1e9": (cad_impact(totalImpact=2e9), "impact_usd $2,000,000,000.00 is over the bound"),
    "cad impact NaN literal": (
        json.dumps(load("cad-eventbridge.json")).replace('"totalImpact": 4120.55', '"totalImpact": NaN'),
        "cost anomaly: impact.totalImpact",
    ),
    "cad impact Infinity literal": (
        json.dumps(load("cad-eventbridge.json")).replace('"totalImpact": 4120.55', '"totalImpact": Infinity'),
        "cost anomaly: impact.totalImpact",
    ),
    "cad impact 10**400 (overflows a float)": (
        json.dumps(load("cad-eventbridge.json")).replace(
            '"totalImpact": 4120.55', '"totalImpact": 1' + "0" * 400
        ),
        "cost anomaly: impact.totalImpact",
    ),
    "cad root cause contribution negative": (
        cad_event(rootCauses=[{"service": "Amazon Bedrock", "impact": {"contribution": -1.5}}]),
        "root_causes[0].contribution_usd -1.5 is below the bound 0",
    ),
    "cad window ends 2 days after receipt": (
        cad_event(anomalyEndDate="2026-11-28T00:00:00Z"),
        "window_end 2026-11-28T00:00:00Z is more than 1 hour after received_at 2026-11-26T18:00:00Z",
    ),
    "cad window starts 401 days before receipt": (
        cad_event(anomalyStartDate="2025-10-21T00:00:00Z"),
        "window_start 2025-10-21T00:00:00Z is more than 400 days before received_at",
    ),
    "cad window ends before it starts": (
        cad_event(anomalyStartDate="2026-11-26T00:00:00Z", anomalyEndDate="2026-11-20T00:00:00Z"),
        "anomalyEndDate is before anomalyStartDate",
    ),
    "cad start date at year 1": (cad_event(anomalyStartDate="0001-01-01"), "0001-01-01 is outside"),
    "cad end date at year 9999": (cad_event(anomalyEndDate="9999-12-31"), "9999-12-31 is outside"),
    "cad detail a string": (
        json.dumps({**load("cad-eventbridge.json"), "detail": "an object was expected"}),
        "EventBridge event: detail",
    ),
    "cad detail a list": (json.dumps({**load("cad-eventbridge.json"), "detail": []}), "EventBridge event"),
    "cad impact a list": (cad_event(impact=[4120.55]), "cost anomaly: impact"),
    "alarm Period 10**20 (overflows a timedelta)": (
        alarm_trigger(Period=10**20),
        "Period 100000000000000000000 is not 10, 20, 30 or a multiple of 60 seconds",
    ),
    "alarm EvaluationPeriods 10**20": (
        alarm_trigger(EvaluationPeriods=10**20),
        "is over CloudWatch's 86,400 s evaluation range",
    ),
    "alarm evaluation range 1 h x 169 (over 7 days)": (
        alarm_trigger(Period=3600, EvaluationPeriods=169),
        "Period x EvaluationPeriods (3600 s x 169) is over CloudWatch's 604,800 s evaluation range",
    ),
    "alarm Period 0": (alarm_trigger(Period=0), "Period 0 is not 10, 20, 30 or a multiple of 60"),
    "alarm StateChangeTime at year 1, +14:00": (
        alarm_message(StateChangeTime="0001-01-01T00:00:00+14:00"),
        "alarm StateChangeTime: 0001-01-01T00:00:00+14:00 is outside",
    ),
    "alarm eventbridge reasonData startDate at year 1": (
        json.dumps(load("alarm-eventbridge.json")).replace(
            "2026-11-26T09:09:00.000+0000", "0001-01-01T00:00:00.000+0000"
        ),
        "alarm reasonData startDate: 0001-01-01T00:00:00.000+0000 is outside",
    ),
    "alarm going to OK with control characters and a bidi override in its name": (
        json.dumps(load("alarm-eventbridge-ok.json")).replace(
            "tokenfuse-a1b2c3d4e5f6-output-tokens", "tokenfuse-\\u202eevil\\u001b[31m\\nred"
        ),
        "alarm tokenfuse-\\u202eevil\\x1b[31m red went to OK",
    ),
    "alarm name with a lone surrogate": (
        alarm_message(AlarmName="bedrock-\ud800-tokens"),
        "alarm notification: AlarmName: Input should be a valid string",
    ),
    "alarm name of 1,025 characters": (
        alarm_message(AlarmName="a" * 1025),
        "alarm_name is 1,025 characters, over the bound 1,024",
    ),
    "alarm sns records of an unknown service": (
        json.dumps({"Records": [{"eventSource": "aws:dynamodb", "Sns": {}}]}),
        "event records from ['aws:dynamodb'], not SNS or SQS",
    ),
    "lambda sns event whose Sns is a number": (
        json.dumps({"Records": [{"EventSource": "aws:sns", "Sns": 5}]}),
        "Lambda SNS event: Records.0.Sns is not an object",
    ),
    "lambda sns event whose Sns is a list naming a key": (
        json.dumps({"Records": [{"EventSource": "aws:sns", "Sns": ["UnsubscribeURL"]}]}),
        "Records.0.Sns is not an object",
    ),
    "ec2 state change event": (
        json.dumps(load("unsupported-ec2-state-change.json")),
        "EventBridge event aws.ec2",
    ),
    "ri utilization budget": (
        json.dumps(load("unsupported-budgets-ri-utilization.json")),
        "ri utilization",
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_from_scratch(intake: Intake, case: str) -> None:
    body, expected = ACCEPTED[case]
    detail = assert_accepted_alone(intake.run({"case": body}), expected)
    assert detail["received_at"] == "2026-11-26T18:00:00Z"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_from_scratch(intake: Intake, case: str) -> None:
    body, fragment = REFUSED[case]
    assert_refused_alone(intake.run({"case": body}), fragment)


def test_a_refused_record_does_not_hold_back_its_batch(intake: Intake) -> None:
    outcome = intake.run(
        {
            "empty": "",
            "alarm": json.dumps(notification("alarm-sns.json")),
            "eur": REFUSED["budgets in EUR"][0],
            "cad": json.dumps(load("cad-eventbridge.json")),
        }
    )
    assert outcome.failures == {"empty", "eur"}
    assert set(outcome.rejected) == {"empty", "eur"}
    assert outcome.metrics["SignalsRejected"] == 2
    assert sorted(detail["source"] for detail in outcome.bus) == ["cost-anomaly", "token-rate-alarm"]


# -- mutations of every real sample --------------------------------------------------------------


def _forms(sample: str) -> Iterator[tuple[str, Any, Callable[[Any], str]]]:
    """``(form, data, body_of)``: what of the sample is mutated, and the SQS body of a mutation."""
    event = load(sample)
    if "Records" not in event:
        yield "event", event, json.dumps
        return
    yield "notification", notification(sample), json.dumps
    message = message_of(sample)
    if not isinstance(message, str):
        yield "message", message, lambda m: with_message(sample, m)


MUTATED = [
    pytest.param(sample, form, node, id=f"{sample} {form} {node}")
    for sample in SIGNAL_SAMPLES
    for form, data, _ in _forms(sample)
    for node, _ in mutations_by_node(data)
]


def _mutated_bodies(sample: str, form: str, node: str) -> dict[str, str]:
    for this_form, data, body_of in _forms(sample):
        if this_form == form:
            for this_node, variants in mutations_by_node(data):
                if this_node == node:
                    return {f"m{index}": body_of(mutated) for index, (_, mutated) in enumerate(variants)}
    raise AssertionError(f"no such node: {sample} {form} {node}")


def _offline(body: str) -> SignalError | list[dict[str, Any]]:
    try:
        return [signal.to_bus() for signal in parse_signal(body, received_at=RECEIVED)]
    except SignalError as error:
        return error


@pytest.mark.parametrize(("sample", "form", "node"), MUTATED)
def test_mutation(intake: Intake, sample: str, form: str, node: str) -> None:
    """Every variant of one node in one batch: each refused variant fails with its one reason
    line; each distinct accepted signal is on the bus exactly once, as the parser reads the
    body, carrying only figures the sample states."""
    bodies = _mutated_bodies(sample, form, node)
    outcome = intake.run(bodies)
    expected: dict[str, dict[str, Any]] = {}
    refused = set()
    for message_id, body in bodies.items():
        offline = _offline(body)
        if isinstance(offline, SignalError):
            refused.add(message_id)
            reason = str(offline)
            assert_refused(outcome, message_id, reason[:60] if reason.isprintable() else "")
            continue
        for detail in offline:
            check_accepted(detail, sample, mutated=True)
            expected.setdefault(detail["dedup_key"], detail)  # idempotency: once per dedup key
    assert outcome.failures == refused
    assert set(outcome.rejected) == refused
    assert outcome.metrics.get("SignalsRejected", 0) == len(refused)
    assert len(outcome.bus) == len(expected)
    for detail in outcome.bus:
        offline_detail = expected[detail["dedup_key"]]
        enrichment = {"cost_filters": detail["cost_filters"]}
        assert detail == {**offline_detail, **enrichment}
        if detail["budget_name"] == "genai-bedrock-monthly" and detail["account_id"] == "111122223333":
            assert detail["cost_filters"] == BUDGET_FILTERS
        else:
            assert detail["cost_filters"] is None


def test_every_sample_is_mutated() -> None:
    mutated = {param.values[0] for param in MUTATED}
    assert mutated == set(SIGNAL_SAMPLES)
    assert set(SIGNAL_SAMPLES) == set(FIGURES) | {"alarm-eventbridge-ok.json"}


# -- hypothesis ----------------------------------------------------------------------------------


def _any_outcome(intake: Intake, body: str) -> None:
    """Whatever the body: the handler returns; refused means failure + one line + nothing put."""
    outcome = intake.run({"case": body})
    if outcome.failures:
        assert outcome.failures == {"case"}
        (line,) = outcome.rejected["case"]
        assert line.startswith("rejected: ") and line.isprintable()
        assert outcome.bus == []
    else:
        assert outcome.rejected == {}
        assert len(outcome.bus) >= 1


@PROPERTY
@given(json_values)
def test_any_json_body(intake: Intake, value: Any) -> None:
    _any_outcome(intake, json.dumps(value))


@PROPERTY
@given(unicode_text)
def test_any_text_body_and_any_budgets_tail(intake: Intake, text: str) -> None:
    _any_outcome(intake, text)
    _any_outcome(intake, message_of("budgets-sns-actual.json") + text)


@PROPERTY
@given(st.integers(min_value=1, max_value=3 * NESTING_LIMIT))
def test_nesting_of_any_depth(intake: Intake, depth: int) -> None:
    outcome = intake.run({"case": deeply_nested(depth)})
    (line,) = outcome.rejected["case"]
    assert ("nests deeper than 100 levels" in line) == (depth // 2 * 2 > NESTING_LIMIT)
    assert outcome.bus == []


@PROPERTY
@given(json_values)
def test_any_value_as_the_sns_message(intake: Intake, value: Any) -> None:
    _any_outcome(intake, with_message("alarm-sns.json", value))
