"""The bounds every signal passes before the bus (contracts.md, "Bad input"), at their edges: money,
windows, text, the US-dollar rule of Budgets figures, CloudWatch's alarm periods, the calendar's
ends, JSON nesting, and the one printable line a refusal is."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.adversarial import CALENDAR_EDGES, NESTING_LIMIT, deeply_nested
from tokenfuse.errors import ImplausibleSignal, MalformedSignal, SignalError
from tokenfuse.events import RootCause, SpendSignal
from tokenfuse.signals import parse_signal
from tokenfuse.signals._common import parse_time, require_shallow
from tokenfuse.signals.alarms import evaluation_range
from tokenfuse.signals.plausibility import require_plausible

EVENTS = Path(__file__).resolve().parents[2] / "events"
T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def signal(**fields: Any) -> SpendSignal:
    base: dict[str, Any] = {
        "source": "cost-anomaly",
        "dedup_key": "0" * 32,
        "received_at": T0,
        "window_start": T0 - timedelta(hours=2),
        "window_end": T0,
        "raw_source": "eventbridge",
        "summary": "test",
    }
    return SpendSignal(**{**base, **fields})


def refused(built: SpendSignal) -> str:
    with pytest.raises(ImplausibleSignal) as caught:
        require_plausible(built)
    return str(caught.value)


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def sns_message(event: dict[str, Any]) -> Any:
    return event["Records"][0]["Sns"]["Message"]


def with_message(event: dict[str, Any], message: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["Records"][0]["Sns"]["Message"] = message
    return changed


# -- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["actual_usd", "impact_usd", "threshold_usd", "budgeted_usd"])
def test_money_up_to_a_billion_dollars(name: str) -> None:
    assert require_plausible(signal(**{name: 1_000_000_000.0})).model_dump()[name] == 1e9
    assert require_plausible(signal(**{name: 0.0})).model_dump()[name] == 0.0
    assert refused(signal(**{name: 1_000_000_000.01})) == (
        f"{name} $1,000,000,000.01 is over the bound $1,000,000,000"
    )
    assert refused(signal(**{name: -0.01})) == f"{name} -0.01 is below the bound 0"


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_money_must_be_finite(value: float) -> None:
    assert refused(signal(expected_usd=value)) == f"expected_usd is {value}: not a finite number"


def test_root_cause_contributions_are_money_too() -> None:
    causes = [RootCause(contribution_usd=10.0), RootCause(contribution_usd=2e9)]
    assert refused(signal(root_causes=causes)).startswith("root_causes[1].contribution_usd $2,000,000,000.00")


def test_usage_amounts_keep_their_unit_and_no_dollar_bound() -> None:
    usage = signal(source="budget", actual_amount=5e9, unit="Requests")
    assert require_plausible(usage).actual_amount == 5e9
    assert refused(signal(actual_amount=-1.0, unit="Hrs")) == "actual_amount -1 is below the bound 0"


@pytest.mark.parametrize("name", ["metric_value", "alarm_threshold", "impact_percent", "anomaly_score"])
def test_no_figure_is_negative(name: str) -> None:
    assert refused(signal(**{name: -1.0})) == f"{name} -1 is below the bound 0"


# -- windows -------------------------------------------------------------------------------------


def test_window_ends_at_most_an_hour_after_receipt() -> None:
    hour = T0 + timedelta(hours=1)
    assert require_plausible(signal(window_end=hour)).window_end == hour
    assert refused(signal(window_end=hour + timedelta(seconds=1))) == (
        "window_end 2026-11-26T19:00:01Z is more than 1 hour after received_at 2026-11-26T18:00:00Z"
    )


def test_window_starts_at_most_400_days_before_receipt() -> None:
    start = T0 - timedelta(days=400)  # 2025-10-22T18:00:00Z
    assert require_plausible(signal(window_start=start)).window_start == start
    assert refused(signal(window_start=start - timedelta(seconds=1))) == (
        "window_start 2025-10-22T17:59:59Z is more than 400 days before received_at 2026-11-26T18:00:00Z"
    )


def test_window_never_ends_before_it_starts() -> None:
    assert refused(signal(window_start=T0, window_end=T0 - timedelta(seconds=1))) == (
        "window_end 2026-11-26T17:59:59Z is before window_start 2026-11-26T18:00:00Z"
    )


# -- what goes on the bus ------------------------------------------------------------------------


def test_text_up_to_1024_characters() -> None:
    assert require_plausible(signal(monitor_name="m" * 1024)).monitor_name == "m" * 1024
    assert (
        refused(signal(monitor_name="m" * 1025)) == "monitor_name is 1,025 characters, over the bound 1,024"
    )


def test_text_must_be_valid_unicode() -> None:
    assert refused(signal(monitor_arn="arn:\udc80")) == "monitor_arn is not valid Unicode: arn:\\udc80"


def test_the_whole_detail_fits_the_bus() -> None:
    causes = [RootCause(usage_type="u" * 1000, service="s" * 1000) for _ in range(40)]
    assert refused(signal(root_causes=causes)).endswith("bytes as JSON, over the bound 65,536")


# -- every parser passes through the bounds --------------------------------------------------------


def test_a_cad_anomaly_over_a_billion_dollars_is_refused() -> None:
    event = load("cad-eventbridge.json")
    event["detail"]["impact"]["totalImpact"] = 1.5e9
    with pytest.raises(ImplausibleSignal, match=r"^impact_usd \$1,500,000,000\.00 is over the bound"):
        parse_signal(event, received_at=T0)


def test_a_budgets_alert_received_before_it_was_sent_is_refused() -> None:
    # SNS sent it at 14:05:31 on 26 Nov; "received" at noon the day before is 26 h too early.
    with pytest.raises(ImplausibleSignal, match=r"^window_end 2026-11-26T14:05:31Z is more than 1 hour"):
        parse_signal(load("budgets-sns-actual.json"), received_at=datetime(2026, 11, 25, 12, tzinfo=UTC))


def test_an_alarm_received_401_days_later_is_refused() -> None:
    later = T0 + timedelta(days=401)
    with pytest.raises(ImplausibleSignal, match=r"^window_start .* is more than 400 days before"):
        parse_signal(load("alarm-eventbridge.json"), received_at=later)


# -- US dollars only -----------------------------------------------------------------------------

ACTUAL = "ACTUAL Amount: $8,312.47"


@pytest.mark.parametrize(
    "figure",
    ["€8,312.47", "8,312.47 EUR", "EUR 8,312.47", "¥831247", "JPY 831,247", "£8,312.47", "CHF 8312.47",
     "$8.312,47", "8312.47", "US$8,312.47", "$8,312.47 CAD", "$8,31,247.00", "-$-8,312.47"],
)  # fmt: skip
def test_a_cost_figure_not_in_us_dollars_is_refused(figure: str) -> None:
    event = load("budgets-sns-actual.json")
    text = sns_message(event).replace(ACTUAL, f"ACTUAL Amount: {figure}")
    with pytest.raises(ImplausibleSignal) as caught:
        parse_signal(with_message(event, text), received_at=T0)
    assert str(caught.value) == f"Budgets alert: ACTUAL Amount is not in US dollars ($1,234.56): {figure}"


@pytest.mark.parametrize(
    ("figure", "dollars"),
    [("$8,312.47", 8312.47), ("$ 8,312.47", 8312.47), ("$8312.47", 8312.47), ("$0.95", 0.95), ("$12", 12.0)],
)
def test_us_dollars_as_aws_writes_them(figure: str, dollars: float) -> None:
    event = load("budgets-sns-actual.json")
    text = sns_message(event).replace(ACTUAL, f"ACTUAL Amount: {figure}")
    (parsed,) = parse_signal(with_message(event, text), received_at=T0)
    assert parsed.actual_usd == dollars


def test_a_negative_cost_figure_is_refused_as_negative() -> None:
    event = load("budgets-sns-actual.json")
    text = sns_message(event).replace(ACTUAL, "ACTUAL Amount: -$12.00")
    with pytest.raises(ImplausibleSignal, match=r"^actual_usd -12 is below the bound 0$"):
        parse_signal(with_message(event, text), received_at=T0)


@pytest.mark.parametrize(
    ("figure", "error"),
    [("$912.50", MalformedSignal), ("912,50 Hrs", MalformedSignal), ("lots", MalformedSignal)],
)
def test_a_usage_figure_is_a_number_and_its_unit(figure: str, error: type[SignalError]) -> None:
    event = load("budgets-sns-usage.json")
    text = sns_message(event).replace("ACTUAL Amount: 912.50 Hrs", f"ACTUAL Amount: {figure}")
    with pytest.raises(error, match="ACTUAL Amount is not a usage figure"):
        parse_signal(with_message(event, text), received_at=T0)


def test_two_differing_lines_for_one_field_are_refused() -> None:
    event = load("budgets-sns-actual.json")
    text = sns_message(event).replace(ACTUAL, f"{ACTUAL}\nACTUAL Amount: $1.00")
    with pytest.raises(MalformedSignal, match="two 'Actual Amount' lines that differ"):
        parse_signal(with_message(event, text), received_at=T0)


def test_a_field_longer_than_aws_writes_is_refused() -> None:
    event = load("budgets-sns-actual.json")
    # "$8,312.47" (9 characters), 300 spaces, "x": 310 characters.
    text = sns_message(event).replace(ACTUAL, "ACTUAL Amount: $8,312.47" + " " * 300 + "x")
    with pytest.raises(MalformedSignal, match=r"^Budgets alert: 'Actual Amount' is 310 characters long$"):
        parse_signal(with_message(event, text), received_at=T0)


def test_a_long_line_of_spaces_is_read_in_linear_time() -> None:
    """The field regex this replaced took about a minute on this line (quadratic backtracking)."""
    event = load("budgets-sns-actual.json")
    text = sns_message(event).replace(
        "Budget Type: Cost", "Budget Type: Cost\nBudget Name" + " " * 60_000 + "x"
    )
    (parsed,) = parse_signal(with_message(event, text), received_at=T0)
    assert parsed.budget_name == "genai-bedrock-monthly"


# -- alarm periods (PutMetricAlarm's own limits) ---------------------------------------------------


@pytest.mark.parametrize(
    ("period", "evaluations", "seconds"),
    [(None, None, 300), (10, 1, 10), (30, 2880, 86_400), (60, 1440, 86_400), (3600, 168, 604_800),
     (86_400, 7, 604_800)],
)  # fmt: skip
def test_evaluation_ranges_cloudwatch_allows(
    period: int | None, evaluations: int | None, seconds: int
) -> None:
    assert evaluation_range("a", period, evaluations) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("period", "evaluations", "fragment"),
    [
        (45, 1, "Period 45 is not 10, 20, 30 or a multiple of 60 seconds"),
        (0, 1, "Period 0 is not"),
        (-60, 1, "Period -60 is not"),
        (10**20, 1, "Period 100000000000000000000 is not"),
        (60, 0, "EvaluationPeriods 0 is below 1"),
        (20, 4321, "(20 s x 4321) is over CloudWatch's 86,400 s evaluation range"),
        (60, 1441, "(60 s x 1441) is over CloudWatch's 86,400 s"),
        (3600, 169, "(3600 s x 169) is over CloudWatch's 604,800 s"),
        (60, 10**20, "is over CloudWatch's 86,400 s"),
    ],
)
def test_evaluation_ranges_beyond_cloudwatch_are_malformed(
    period: int, evaluations: int, fragment: str
) -> None:
    with pytest.raises(MalformedSignal) as caught:
        evaluation_range("tokenfuse-x", period, evaluations)
    assert str(caught.value).startswith("alarm tokenfuse-x: ")
    assert fragment in str(caught.value)


def test_the_fuzz_counterexample_is_refused_not_an_overflow() -> None:
    """hypothesis found ``changed_at - timedelta(seconds=span)`` overflowing for a huge Period."""
    event = load("alarm-sns.json")
    message = json.loads(sns_message(event))
    message["Trigger"]["Period"] = 10**15
    with pytest.raises(MalformedSignal, match="is not 10, 20, 30 or a multiple of 60"):
        parse_signal(with_message(event, json.dumps(message)), received_at=T0)
    eventbridge = load("alarm-eventbridge.json")
    eventbridge["detail"]["configuration"]["metrics"][0]["metricStat"]["period"] = 60 * 10**15
    with pytest.raises(MalformedSignal, match="over CloudWatch's 604,800 s evaluation range"):
        parse_signal(eventbridge, received_at=T0)


# -- the calendar's ends -------------------------------------------------------------------------


@pytest.mark.parametrize("edge", CALENDAR_EDGES)
def test_timestamps_at_the_calendar_ends_are_refused(edge: str) -> None:
    with pytest.raises(
        ImplausibleSignal, match=r"^alarm state timestamp: .* is outside 2000-01-01 \.\. 3000-01-01$"
    ):
        parse_time(edge, "alarm state timestamp")


def test_timestamps_inside_the_bounds() -> None:
    assert parse_time("2000-01-01T00:00:00Z", "t") == datetime(2000, 1, 1, tzinfo=UTC)
    assert parse_time("2999-12-31T23:59:59+0000", "t") == datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("edge", CALENDAR_EDGES)
def test_calendar_edges_in_every_date_a_parser_reads(edge: str) -> None:
    cad = load("cad-eventbridge.json")
    alarm = load("alarm-eventbridge.json")
    payloads = []
    for key in ("anomalyStartDate", "anomalyEndDate"):
        changed = copy.deepcopy(cad)
        changed["detail"][key] = edge
        payloads.append(changed)
    for changed_cad in (copy.deepcopy(cad), copy.deepcopy(alarm)):
        changed_cad["time"] = edge
        payloads.append(changed_cad)
    reason = json.loads(alarm["detail"]["state"]["reasonData"])
    changed_alarm = copy.deepcopy(alarm)
    changed_alarm["detail"]["state"]["reasonData"] = json.dumps({**reason, "startDate": edge})
    payloads.append(changed_alarm)
    for payload in payloads:
        with pytest.raises(ImplausibleSignal, match="is outside 2000-01-01"):
            parse_signal(payload, received_at=T0)


# -- JSON nesting --------------------------------------------------------------------------------


def test_nesting_up_to_the_limit() -> None:
    require_shallow(json.loads(deeply_nested(NESTING_LIMIT)), "x")
    with pytest.raises(MalformedSignal, match=r"^x: JSON nests deeper than 100 levels$"):
        require_shallow(json.loads(deeply_nested(NESTING_LIMIT + 2)), "x")


def test_a_dict_payload_nested_too_deeply_is_refused_like_text() -> None:
    with pytest.raises(MalformedSignal, match="nests deeper than 100"):
        parse_signal(json.loads(deeply_nested(150)), received_at=T0)


def test_alarm_reason_data_nested_too_deeply_is_refused_but_text_is_not_data() -> None:
    alarm = load("alarm-eventbridge.json")
    alarm["detail"]["state"]["reasonData"] = deeply_nested(150)
    with pytest.raises(MalformedSignal, match="alarm reasonData: JSON nests deeper than 100"):
        parse_signal(alarm, received_at=T0)
    alarm["detail"]["state"]["reasonData"] = "{not json"
    (parsed,) = parse_signal(alarm, received_at=T0)
    assert parsed.metric_value is None  # no datapoints: the value is unknown, not invented
    assert parsed.window_start == datetime(2026, 11, 26, 9, 13, 2, 117000, tzinfo=UTC)  # one 60 s period


# -- envelopes whose shape made Powertools' own validators raise TypeError -------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"Records": [{"EventSource": "aws:sns", "Sns": 5}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": ["UnsubscribeURL"]}]},
        {"Records": [{"EventSource": ["aws:sns"]}]},
        {"Records": [{"eventSource": {"aws:sqs": 1}}]},
    ],
    ids=["Sns a number", "Sns a list naming a key", "EventSource a list", "eventSource an object"],
)
def test_envelope_shapes_are_refused_on_one_line(payload: dict[str, Any]) -> None:
    with pytest.raises(SignalError) as caught:
        parse_signal(payload, received_at=T0)
    assert str(caught.value).isprintable()


def test_a_payload_that_carries_no_message() -> None:
    with pytest.raises(SignalError, match="not a known signal"):
        parse_signal({"Records": []}, received_at=T0)
