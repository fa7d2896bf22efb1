"""Adversarial corpus, input "``tokenfuse signals parse FILE``": Lambda SNS events, SNS
notifications, SQS events and records, EventBridge events, bare messages, and files that are none
of these, through the CLI entry point (typer's CliRunner; a real process for a few).

Every case ends one of two ways, and the test says which:
- exit 0, the SpendSignal JSON on stdout (every key present), nothing on stderr;
- exit 2, nothing on stdout, exactly one printable line on stderr (``error: ...``), no traceback.

Cases are built from scratch (named by what they attack), by mutation of every real sample in
events/ (every node deleted or swapped for another JSON shape), and by hypothesis. The ~2,000
mutated and drawn files go to the ``signals`` command group as ``tokenfuse`` mounts it (building
the whole CLI for each would triple the time); the cases from scratch go through ``tokenfuse``.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from tests.adversarial.signal_material import (
    FIGURES,
    FIXTURES,
    RECEIVED,
    RECEIVED_TEXT,
    ROOT,
    SIGNAL_SAMPLES,
    check_accepted,
    figures,
    load,
    mutations_by_node,
    one_line,
)
from tests.support.adversarial import NESTING_LIMIT, NOT_UTF8, deeply_nested, json_values, unicode_text
from tokenfuse.errors import SignalError
from tokenfuse.events import SpendSignal
from tokenfuse.signals import parse_signal
from tokenfuse_cli import signals as signals_command
from tokenfuse_cli.main import app

runner = CliRunner()
PROPERTY = settings(max_examples=80, deadline=None)
SAMPLE_PATH = str(ROOT / "events" / "alarm-sns.json")


def parse(*args: str, stdin: bytes | None = None, received: str | None = RECEIVED_TEXT) -> Result:
    extra = ["--received-at", received] if received is not None else []
    return runner.invoke(app, ["signals", "parse", *args, *extra], input=stdin)


def parse_bytes(data: bytes) -> Result:
    return parse("-", stdin=data)


def parse_quickly(data: bytes) -> Result:
    """``tokenfuse signals parse - --received-at ...`` through the ``signals`` group alone."""
    return runner.invoke(signals_command.app, ["-", "--received-at", RECEIVED_TEXT], input=data)


def refused(result: Result, fragment: str = "") -> str:
    """Exit 2, nothing on stdout, one printable ``error:`` line on stderr containing fragment."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert one_line(result.stderr), repr(result.stderr)
    assert result.stderr.startswith("error: ")
    assert fragment in result.stderr, result.stderr
    return result.stderr


def accepted(result: Result) -> list[dict[str, Any]]:
    """Exit 0, the bus detail(s) on stdout with every key, nothing on stderr."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    printed = json.loads(result.stdout)
    details = printed if isinstance(printed, list) else [printed]
    for detail in details:
        assert set(detail) == set(SpendSignal.model_fields)
    return details


def as_bytes(value: Any) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


def message_of(sample: str) -> Any:
    text: str = load(sample)["Records"][0]["Sns"]["Message"]
    return json.loads(text) if text.lstrip().startswith("{") else text


def with_message(sample: str, message: Any) -> dict[str, Any]:
    event = load(sample)
    event["Records"][0]["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return dict(event)


def budgets_text(old: str, new: str) -> bytes:
    text = message_of("budgets-sns-actual.json")
    assert old in text
    return as_bytes(with_message("budgets-sns-actual.json", text.replace(old, new)))


def alarm(**trigger: Any) -> bytes:
    message = message_of("alarm-sns.json")
    message["Trigger"].update(trigger)
    return as_bytes(with_message("alarm-sns.json", message))


# -- from scratch: accepted ----------------------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(FIGURES))
def test_every_sample_file_prints_its_figures(sample: str) -> None:
    (detail,) = accepted(parse(str(ROOT / "events" / sample)))
    check_accepted(detail, sample)
    assert figures(detail) == FIGURES[sample]  # nothing lost either


SQS_EVENT = load("sqs-sns-budgets-actual.json")
ACCEPTED: dict[str, tuple[bytes, dict[str, Any]]] = {
    "sqs event": (as_bytes(SQS_EVENT), {"actual_usd": 8312.47, "raw_source": "sqs-sns"}),
    "one sqs record": (as_bytes(SQS_EVENT["Records"][0]), {"actual_usd": 8312.47, "raw_source": "sqs-sns"}),
    "sns notification as an sqs body": (
        (FIXTURES / "sns-notification-budgets-actual.json").read_bytes(),
        {"actual_usd": 8312.47, "raw_source": "sqs-sns"},
    ),
    "utf-8 byte order mark": (
        b"\xef\xbb\xbf" + (ROOT / "events" / "cad-eventbridge.json").read_bytes(),
        {"impact_usd": 4120.55},
    ),
    "bare budgets text": (
        as_bytes(message_of("budgets-sns-daily.json")),
        # No SNS timestamp: the header's day (26 Nov) ends after receipt, so the window ends then.
        {"actual_usd": 612.4, "window_start": "2026-11-25T00:00:00Z", "window_end": RECEIVED_TEXT},
    ),
    "cad eventbridge event in an sns message": (
        as_bytes(with_message("alarm-sns.json", load("cad-eventbridge.json"))),
        {"source": "cost-anomaly", "impact_usd": 4120.55, "raw_source": "sns"},
    ),
    "unknown extra fields in an alarm": (
        as_bytes({**load("alarm-eventbridge.json"), "future-field": [{"x": None}]}),
        {"metric_value": 412345.0},
    ),
    "non-ASCII in an alarm name": (
        as_bytes(
            with_message("alarm-sns.json", {**message_of("alarm-sns.json"), "AlarmName": "café-预算-🚀"})
        ),
        {"alarm_name": "café-预算-🚀"},
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_from_scratch(case: str) -> None:
    data, expected = ACCEPTED[case]
    (detail,) = accepted(parse_bytes(data))
    for key, value in expected.items():
        assert detail[key] == value, key


def test_two_records_print_a_list() -> None:
    both = {"Records": load("cad-sns-immediate.json")["Records"] + load("alarm-sns.json")["Records"]}
    details = accepted(parse_bytes(as_bytes(both)))
    assert [d["source"] for d in details] == ["cost-anomaly", "token-rate-alarm"]


# -- from scratch: refused -----------------------------------------------------------------------

REFUSED_BYTES: dict[str, tuple[bytes, str]] = {
    "empty file": (b"", "UnsupportedSignal: payload is empty"),
    "whitespace only": (b" \r\n\t", "payload is empty"),
    "not utf-8": (NOT_UTF8, "is neither JSON nor UTF-8 text"),
    "utf-16": ((ROOT / "events" / "alarm-sns.json").read_text().encode("utf-16"), "neither JSON nor UTF-8"),
    "json nested 150 deep": (
        deeply_nested(150).encode(),
        "MalformedSignal: payload: JSON nests deeper than 100",
    ),
    "json nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "JSON nests deeper than 100 levels"),
    "json nested exactly 100 deep, then not a signal": (
        deeply_nested(NESTING_LIMIT).encode(),
        "UnsupportedSignal: message is not a known signal (keys: a)",
    ),
    "json array": (b"[1, 2]", "payload is JSON but not an object"),
    "json scalar": (b"42", "UnsupportedSignal: text is not a known signal: 42"),
    "broken json": (b'{"Records": [', "MalformedSignal: payload looks like JSON but does not parse"),
    "subscription confirmation": (
        (FIXTURES / "unsupported-subscription-confirmation.json").read_bytes(),
        "SubscriptionConfirmation, not a Notification",
    ),
    "sqs event from dynamodb": (as_bytes({"Records": [{"eventSource": "aws:dynamodb"}]}), "aws:dynamodb"),
    "lambda sns event whose Sns is a number": (
        as_bytes({"Records": [{"EventSource": "aws:sns", "Sns": 5}]}),
        "Lambda SNS event: Records.0.Sns is not an object",
    ),
    "budgets in EUR": (
        budgets_text("ACTUAL Amount: $8,312.47", "ACTUAL Amount: 8.312,47 EUR"),
        "ImplausibleSignal: Budgets alert: ACTUAL Amount is not in US dollars ($1,234.56): 8.312,47 EUR",
    ),
    "budgets threshold in pounds": (
        budgets_text("> $8,000.00", "> £8,000.00"),
        "Alert Threshold is not in US dollars",
    ),
    "budgets money over $1e9": (
        budgets_text("Budgeted Amount: $10,000.00", "Budgeted Amount: $10,000,000,000.00"),
        "budgeted_usd $10,000,000,000.00 is over the bound $1,000,000,000",
    ),
    "alarm Period 10**20": (alarm(Period=10**20), "is not 10, 20, 30 or a multiple of 60 seconds"),
    "alarm EvaluationPeriods -1": (alarm(EvaluationPeriods=-1), "EvaluationPeriods -1 is below 1"),
    "cad end date at year 9999": (
        as_bytes(
            with_message(
                "cad-sns-immediate.json",
                {**message_of("cad-sns-immediate.json"), "anomalyEndDate": "9999-12-31T00:00:00Z"},
            )
        ),
        "cost anomaly anomalyEndDate: 9999-12-31T00:00:00Z is outside 2000-01-01 .. 3000-01-01",
    ),
    "cad impact negative": (
        as_bytes(
            with_message(
                "cad-sns-immediate.json",
                {
                    **message_of("cad-sns-immediate.json"),
                    "impact": {**message_of("cad-sns-immediate.json")["impact"], "totalImpact": -0.01},
                },
            )
        ),
        "impact_usd -0.01 is below the bound 0",
    ),
    "alarm name with a lone surrogate": (
        as_bytes(with_message("alarm-sns.json", {**message_of("alarm-sns.json"), "AlarmName": "x\udc80"})),
        "AlarmName: Input should be a valid string",
    ),
    "alarm to OK whose name carries escape codes and a bidi override": (
        as_bytes(load("alarm-eventbridge-ok.json")).replace(
            b"tokenfuse-a1b2c3d4e5f6-output-tokens", b"tokenfuse-\\u202e\\u001b[2J\\u0007bell"
        ),
        "alarm tokenfuse-\\u202e\\x1b[2J\\x07bell went to OK",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BYTES))
def test_refused_from_scratch(case: str) -> None:
    data, fragment = REFUSED_BYTES[case]
    refused(parse_bytes(data), fragment)


def test_directory(tmp_path: Path) -> None:
    refused(parse(str(tmp_path)), f"error: cannot read {tmp_path}: Is a directory")


def test_missing_file_whose_name_carries_a_newline_and_an_escape(tmp_path: Path) -> None:
    missing = tmp_path / "no\nsuch\x1b[31m.json"
    line = refused(parse(str(missing)), "No such file or directory")
    assert "\\x1b[31m" in line


@pytest.mark.parametrize(
    ("received", "fragment"),
    [
        ("yesterday", "error: --received-at: not a timestamp: yesterday"),
        ("0001-01-01T00:00:00+14:00", "--received-at: 0001-01-01T00:00:00+14:00 is outside"),
        ("9999-12-31T23:59:59Z", "is outside 2000-01-01 .. 3000-01-01"),
        # The alarm changed state at 09:14:05 on 26 Nov: received at midnight, it ends 9 h later.
        (
            "2026-11-26T00:00:00Z",
            "window_end 2026-11-26T09:14:05Z is more than 1 hour after received_at 2026-11-26T00:00:00Z",
        ),
        # ... and received 401 days later, it starts more than 400 days before.
        ("2028-01-01T00:00:00Z", "window_start 2026-11-26T09:13:05Z is more than 400 days before"),
    ],
    ids=["not a time", "year 1 at +14:00", "year 9999", "before the signal", "401 days after it"],
)
def test_received_at_bounds(received: str, fragment: str) -> None:
    refused(parse(SAMPLE_PATH, received=received), fragment)


def test_empty_stdin() -> None:
    refused(parse("-", stdin=b""), "payload is empty")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (NOT_UTF8, "is neither JSON nor UTF-8 text"),
        (deeply_nested(500).encode(), "JSON nests deeper than 100 levels"),
        (b"", "payload is empty"),
    ],
    ids=["not utf-8", "nested 500 deep", "empty"],
)
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(data)
    code = "import sys; from tokenfuse_cli.main import app; sys.argv[0] = 'tokenfuse'; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "signals", "parse", str(path), "--received-at", RECEIVED_TEXT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert one_line(done.stderr) and fragment in done.stderr
    assert "Traceback" not in done.stderr


# -- mutations of every real sample --------------------------------------------------------------


def _forms(sample: str) -> Iterator[tuple[str, Any, Any]]:
    """``(form, data, file_of)``: the sample file itself, and the JSON message inside it."""
    event = load(sample)
    yield "file", event, lambda mutated: mutated
    if "Records" in event and not isinstance(message_of(sample), str):
        yield "message", message_of(sample), lambda mutated: with_message(sample, mutated)


MUTATED = [
    pytest.param(sample, form, node, id=f"{sample} {form} {node}")
    for sample in SIGNAL_SAMPLES
    for form, data, _ in _forms(sample)
    for node, _ in mutations_by_node(data)
]


@pytest.mark.parametrize(("sample", "form", "node"), MUTATED)
def test_mutation(sample: str, form: str, node: str) -> None:
    """Every variant of one node: exit 2 with one line exactly when the parser refuses it,
    else exit 0 and the signal as the parser reads it, carrying only figures the sample states."""
    variants = next(
        variants
        for this_form, data, file_of in _forms(sample)
        if this_form == form
        for this_node, variants in mutations_by_node(data)
        if this_node == node
    )
    file_of = next(f for this_form, _, f in _forms(sample) if this_form == form)
    for label, mutated in variants:
        data = as_bytes(file_of(mutated))
        result = parse_quickly(data)
        try:
            expected = [s.to_bus() for s in parse_signal(data, received_at=RECEIVED)]
        except SignalError as error:
            line = refused(result)
            assert type(error).__name__ in line, label
            continue
        details = accepted(result)
        assert details == expected, label
        for detail in details:
            check_accepted(detail, sample, mutated=True)


def test_every_sample_is_mutated() -> None:
    assert {param.values[0] for param in MUTATED} == set(SIGNAL_SAMPLES)


# -- hypothesis ----------------------------------------------------------------------------------


def _one_of_two_ends(result: Result) -> None:
    if result.exit_code == 0:
        accepted(result)
    else:
        refused(result)


@PROPERTY
@given(json_values)
def test_any_json_file(value: Any) -> None:
    _one_of_two_ends(parse_quickly(as_bytes(json.dumps(value))))


@PROPERTY
@given(unicode_text)
def test_any_text_file_and_any_budgets_tail(text: str) -> None:
    _one_of_two_ends(parse_quickly(text.encode()))
    _one_of_two_ends(parse_quickly((message_of("budgets-sns-actual.json") + text).encode()))


@PROPERTY
@given(st.binary(max_size=64))
def test_any_bytes(data: bytes) -> None:
    refused(parse_quickly(data))


@PROPERTY
@given(st.integers(min_value=2, max_value=3 * NESTING_LIMIT))
def test_nesting_of_any_depth(depth: int) -> None:
    line = refused(parse_quickly(deeply_nested(depth).encode()))
    assert ("nests deeper than 100 levels" in line) == (depth // 2 * 2 > NESTING_LIMIT)


@PROPERTY
@given(json_values)
def test_any_value_as_the_sns_message(value: Any) -> None:
    _one_of_two_ends(parse_quickly(as_bytes(with_message("alarm-sns.json", value))))
