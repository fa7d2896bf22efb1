"""Fuzz: any input to the three parsers ends in SpendSignals or a one-line SignalError, never in
another exception."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.adversarial import CALENDAR_EDGES, OVERFLOWING_NUMBERS
from tokenfuse.errors import SignalError
from tokenfuse.events import SpendSignal
from tokenfuse.signals import parse_signal

EVENTS = Path(__file__).resolve().parents[2] / "events"
T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["ALARM", "OK", "AWS/Bedrock", "ModelId", "2026-11-26T00:00:00Z", "2026-13-45", "$1,0.0"]
    ),
    # Where a duration meets a date: the calendar's ends and numbers no timedelta holds.
    st.sampled_from([*CALENDAR_EDGES, *OVERFLOWING_NUMBERS]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def check(payload) -> None:
    try:
        signals = parse_signal(payload, received_at=T0)
    except SignalError as error:
        assert "\n" not in str(error)
        return
    for signal in signals:
        assert isinstance(signal, SpendSignal)
        json.dumps(signal.to_bus(), allow_nan=False)  # valid JSON for the bus


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def mutate(data, path_choices, value):
    """Replace (or delete, when value is the sentinel) the leaf at a path picked by index."""
    paths: list[tuple] = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(data, ())
    path = paths[path_choices % len(paths)]
    if not path:
        return value
    data = copy.deepcopy(data)
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if value == "<delete>" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@FUZZ
@given(json_values)
def test_any_json_value(value):
    check(value if isinstance(value, dict | str) else json.dumps(value))


@FUZZ
@given(st.integers(min_value=0, max_value=10_000), st.one_of(json_values, st.just("<delete>")))
def test_cost_anomaly_parser(index, value):
    event = sample("cad-eventbridge.json")
    check(mutate(event, index, value))
    message = json.loads(sample("cad-sns-immediate.json")["Records"][0]["Sns"]["Message"])
    check(
        {
            "Type": "Notification",
            "TopicArn": "arn",
            "MessageId": "m",
            "Timestamp": "2026-11-26T17:42:10Z",
            "Message": json.dumps(mutate(message, index, value)),
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/x",
        }
    )


@FUZZ
@given(st.integers(min_value=0, max_value=10_000), st.one_of(json_values, st.just("<delete>")))
def test_alarm_parsers(index, value):
    check(mutate(sample("alarm-eventbridge.json"), index, value))
    event = sample("alarm-sns.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    event["Records"][0]["Sns"]["Message"] = json.dumps(mutate(message, index, value))
    check(event)


BUDGET_LINES = sample("budgets-sns-actual.json")["Records"][0]["Sns"]["Message"].splitlines()


@FUZZ
@given(
    st.lists(st.integers(min_value=0, max_value=len(BUDGET_LINES) - 1), max_size=len(BUDGET_LINES)),
    st.lists(st.text(max_size=40), max_size=3),
    st.sampled_from(
        ["", "Budget Type: Usage", "Alert Threshold: > 12%", "ACTUAL Amount: $", "Budget Type: Cost"]
    ),
)
def test_budgets_parser(picked, noise, extra):
    lines = ["AWS Budget Notification November 26, 2026", *[BUDGET_LINES[i] for i in picked], *noise, extra]
    check("\n".join(lines))
    check(
        {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": "arn:x",
                    "Sns": {
                        **sample("budgets-sns-actual.json")["Records"][0]["Sns"],
                        "Message": "\n".join(lines),
                    },
                }
            ]
        }
    )


@FUZZ
@given(st.text(max_size=300))
def test_budgets_anchor_with_any_text(text):
    check("AWS Budget Notification " + text)
