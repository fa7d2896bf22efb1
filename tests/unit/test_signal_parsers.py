"""Parser behaviour: dedup keys, envelopes, variants, and rejections on one line."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tokenfuse.errors import MalformedSignal, SignalError, UnsupportedSignal
from tokenfuse.signals import parse_signal
from tokenfuse.signals.alarms import profile_from_model_id

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "signals"
T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def load(name: str) -> dict:
    folder = EVENTS if (EVENTS / name).exists() else FIXTURES
    return json.loads((folder / name).read_text())


def one(payload, received_at=T0):
    signals = parse_signal(payload, received_at=received_at)
    assert len(signals) == 1
    return signals[0]


def sns_message(event: dict) -> str:
    return event["Records"][0]["Sns"]["Message"]


def with_sns_message(event: dict, message: str) -> dict:
    event = copy.deepcopy(event)
    event["Records"][0]["Sns"]["Message"] = message
    return event


def with_cad(event: dict, **changes) -> dict:
    message = json.loads(sns_message(event))
    for key, value in changes.items():
        message[key] = value
    return with_sns_message(event, json.dumps(message))


# ------------------------------------------------------------------------------ dedup keys


@pytest.mark.parametrize(
    "name",
    [
        "cad-sns-immediate.json",
        "cad-eventbridge.json",
        "budgets-sns-actual.json",
        "alarm-sns.json",
        "alarm-eventbridge.json",
        "budgets-sns-daily.json",
    ],
)
def test_redelivery_keeps_the_dedup_key(name):
    first = one(load(name), received_at=T0)
    again = one(load(name), received_at=T0 + timedelta(minutes=17))
    assert first.dedup_key == again.dedup_key
    assert first.received_at != again.received_at


def test_redelivery_through_sqs_keeps_the_dedup_key():
    lambda_event = load("budgets-sns-actual.json")
    notification = dict(lambda_event["Records"][0]["Sns"])
    notification["SigningCertURL"] = notification.pop("SigningCertUrl")
    notification["UnsubscribeURL"] = notification.pop("UnsubscribeUrl")
    assert one(json.dumps(notification)).dedup_key == one(lambda_event).dedup_key


def test_grown_anomaly_gets_a_new_dedup_key():
    event = load("cad-sns-immediate.json")
    grown_impact = dict(
        json.loads(sns_message(event))["impact"], totalImpact=9120.55, totalActualSpend=9318.75
    )
    grown = one(with_cad(event, impact=grown_impact))
    first = one(event)
    assert grown.anomaly_id == first.anomaly_id
    assert grown.impact_usd == 9120.55
    assert grown.dedup_key != first.dedup_key


def test_other_anomaly_gets_a_new_dedup_key():
    event = load("cad-sns-immediate.json")
    assert one(with_cad(event, anomalyId="another")).dedup_key != one(event).dedup_key


def test_budget_dedup_key_follows_threshold_and_period():
    event = load("budgets-sns-actual.json")
    text = sns_message(event)
    base = one(event)
    higher = one(with_sns_message(event, text.replace("> $8,000.00", "> $9,000.00")))
    assert higher.dedup_key != base.dedup_key
    next_month = copy.deepcopy(event)
    next_month["Records"][0]["Sns"]["Timestamp"] = "2026-12-02T09:00:00.000Z"
    later = one(next_month, received_at=datetime(2026, 12, 2, 9, 0, 5, tzinfo=UTC))
    assert later.window_start == datetime(2026, 12, 1, tzinfo=UTC)
    assert later.dedup_key != base.dedup_key
    later_same_month = copy.deepcopy(event)
    later_same_month["Records"][0]["Sns"]["Timestamp"] = "2026-11-27T09:00:00.000Z"
    received_next_day = datetime(2026, 11, 27, 9, 0, 5, tzinfo=UTC)
    assert one(later_same_month, received_at=received_next_day).dedup_key == base.dedup_key
    forecast = one(with_sns_message(event, text.replace("ACTUAL", "FORECASTED")))
    assert forecast.notification_type == "FORECASTED"
    assert forecast.dedup_key != base.dedup_key


def test_alarm_dedup_key_follows_state_change_time():
    event = load("alarm-eventbridge.json")
    later = copy.deepcopy(event)
    later["detail"]["state"]["timestamp"] = "2026-11-26T11:00:00.000+0000"
    assert one(later).dedup_key != one(event).dedup_key


# ------------------------------------------------------------------------------ envelopes


def test_lambda_sns_event_with_several_records():
    cad = load("cad-sns-immediate.json")
    alarm = load("alarm-sns.json")
    event = {"Records": cad["Records"] + alarm["Records"]}
    signals = parse_signal(event, received_at=T0)
    assert [s.source for s in signals] == ["cost-anomaly", "token-rate-alarm"]


def test_sqs_record_with_eventbridge_body():
    record = copy.deepcopy(load("sqs-sns-budgets-actual.json")["Records"][0])
    record["body"] = json.dumps(load("alarm-eventbridge.json"))
    signal = one(record)
    assert signal.raw_source == "eventbridge"
    assert signal.profile_id == "a1b2c3d4e5f6"


def test_eventbridge_event_through_an_sns_target():
    event = with_sns_message(load("alarm-sns.json"), json.dumps(load("cad-eventbridge.json")))
    signal = one(event)
    assert signal.source == "cost-anomaly"
    assert signal.raw_source == "sns"
    assert signal.monitor_name == "org-services"


def test_bare_budgets_text_uses_its_header_date():
    text = sns_message(load("budgets-sns-daily.json"))
    signal = one(text, received_at=datetime(2027, 1, 5, tzinfo=UTC))
    assert signal.time_unit == "DAILY"
    assert signal.window_start == datetime(2026, 11, 25, tzinfo=UTC)
    assert signal.window_end == datetime(2026, 11, 27, tzinfo=UTC)  # end of the header's day


def test_bytes_payload():
    raw = (EVENTS / "alarm-sns.json").read_bytes()
    assert one(raw).alarm_name == "bedrock-claims-assistant-output-tokens"


def test_naive_received_at_is_utc():
    signal = one(load("alarm-sns.json"), received_at=datetime(2026, 11, 26, 18, 0))
    assert signal.received_at == T0


# ------------------------------------------------------------------------------ variants


@pytest.mark.parametrize(
    ("wording", "unit", "start"),
    [
        ("for the current quarter", "QUARTERLY", datetime(2026, 10, 1, tzinfo=UTC)),
        ("for the current year", "ANNUALLY", datetime(2026, 1, 1, tzinfo=UTC)),
        ("for the current month", "MONTHLY", datetime(2026, 11, 1, tzinfo=UTC)),
        ("soon", None, datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_budget_periods(wording, unit, start):
    event = load("budgets-sns-actual.json")
    signal = one(with_sns_message(event, sns_message(event).replace("for the current month", wording)))
    assert signal.time_unit == unit
    assert signal.window_start == start


def test_budget_threshold_with_percentage_and_amount():
    event = load("budgets-sns-actual.json")
    signal = one(with_sns_message(event, sns_message(event).replace("> $8,000.00", "> 75.50% ($7,550.00)")))
    assert signal.threshold_percent == 75.5
    assert signal.threshold_usd == 7550.0


def test_budget_percentage_without_budgeted_amount():
    event = load("budgets-sns-percentage.json")
    text = sns_message(event).replace("Budgeted Amount: $10,000.00\n", "")
    signal = one(with_sns_message(event, text))
    assert signal.threshold_percent == 80.0
    assert signal.threshold_usd is None  # not invented
    assert signal.budgeted_usd is None


def test_usage_budget_forecast():
    event = load("budgets-sns-usage.json")
    signal = one(with_sns_message(event, sns_message(event).replace("ACTUAL", "FORECASTED")))
    assert (signal.forecasted_amount, signal.actual_amount, signal.unit) == (912.5, None, "Hrs")
    assert signal.actual_usd is None and signal.forecasted_usd is None


def test_alarm_sns_region_from_its_long_name_without_arn():
    event = load("alarm-sns.json")
    message = json.loads(sns_message(event))
    del message["AlarmArn"]
    message["Trigger"]["Dimensions"] = [{"name": "ModelId", "value": "a1b2c3d4e5f6"}]
    signal = one(with_sns_message(event, json.dumps(message)))
    assert signal.region == "us-east-1"
    assert signal.account_id == "444455556666"  # AWSAccountId
    assert (
        signal.profile_arn
        == "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/a1b2c3d4e5f6"
    )
    assert signal.alarm_arn is None


def test_alarm_from_insufficient_data_counts():
    event = load("alarm-eventbridge.json")
    event["detail"]["previousState"]["value"] = "INSUFFICIENT_DATA"
    assert one(event).source == "token-rate-alarm"


def test_alarm_that_stays_in_alarm_is_not_a_transition():
    event = load("alarm-eventbridge.json")
    event["detail"]["previousState"]["value"] = "ALARM"
    with pytest.raises(UnsupportedSignal, match="stayed in ALARM"):
        parse_signal(event, received_at=T0)


def test_alarm_on_a_foundation_model_has_no_profile():
    event = load("alarm-eventbridge.json")
    dims = event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]
    dims["ModelId"] = "anthropic.claude-sonnet-4-20250514-v1:0"
    signal = one(event)
    assert (signal.profile_id, signal.profile_arn) == (None, None)
    assert "anthropic.claude-sonnet-4-20250514-v1:0" in signal.summary


def test_metric_math_alarm_over_sns():
    event = load("alarm-sns.json")
    message = json.loads(sns_message(event))
    message["Trigger"] = {
        "Metrics": [
            {"Id": "rate", "Expression": "m1/60", "ReturnData": True},
            {
                "Id": "m1",
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Bedrock",
                        "MetricName": "InputTokenCount",
                        "Dimensions": [{"Name": "ModelId", "Value": "a1b2c3d4e5f6"}],
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
            },
        ],
        "Period": 300,
        "EvaluationPeriods": 2,
        "Threshold": 5000.0,
    }
    signal = one(with_sns_message(event, json.dumps(message)))
    assert signal.metric_name == "InputTokenCount"
    assert signal.profile_id == "a1b2c3d4e5f6"
    assert signal.window_end - signal.window_start == timedelta(seconds=600)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (
            "a1b2c3d4e5f6",
            (
                "a1b2c3d4e5f6",
                "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/a1b2c3d4e5f6",
            ),
        ),
        (
            "arn:aws:bedrock:eu-west-1:444455556666:application-inference-profile/zz9yy8xx7ww6",
            (
                "zz9yy8xx7ww6",
                "arn:aws:bedrock:eu-west-1:444455556666:application-inference-profile/zz9yy8xx7ww6",
            ),
        ),
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", (None, None)),
        ("amazon.nova-pro-v1:0", (None, None)),
    ],
)
def test_profile_from_model_id(model_id, expected):
    assert profile_from_model_id(model_id, account="444455556666", region="us-east-1") == expected


def test_cad_without_end_date_runs_to_the_alert():
    event = load("cad-sns-immediate.json")
    message = json.loads(sns_message(event))
    del message["anomalyEndDate"]
    signal = one(with_sns_message(event, json.dumps(message)))
    assert signal.window_end == datetime(2026, 11, 26, 17, 42, 10, 512000, tzinfo=UTC)


def test_cad_finished_anomaly_window_is_whole_days():
    event = load("cad-sns-immediate.json")
    signal = one(
        with_cad(event, anomalyStartDate="2026-11-20T00:00:00Z", anomalyEndDate="2026-11-22T00:00:00Z")
    )
    assert (signal.window_start, signal.window_end) == (
        datetime(2026, 11, 20, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )


def test_cad_root_cause_impact_contribution_key():
    event = load("cad-eventbridge.json")
    event["detail"]["rootCauses"] = [
        {"service": "Amazon Bedrock", "impactContribution": 12.5, "region": "us-west-2"}
    ]
    signal = one(event)
    assert signal.root_causes[0].contribution_usd == 12.5
    assert signal.region == "us-west-2"


def test_cad_root_causes_in_several_regions_leave_region_null():
    event = load("cad-eventbridge.json")
    event["detail"]["rootCauses"][1]["region"] = "us-west-2"
    assert one(event).region is None


# ------------------------------------------------------------------------------ rejections

REJECTED = {
    "malformed-cad-no-impact.json": (MalformedSignal, "impact"),
    "malformed-budgets-no-name.json": (MalformedSignal, "Budget Name"),
    "malformed-budgets-amount.json": (MalformedSignal, "not a number"),
    "malformed-alarm-timestamp.json": (MalformedSignal, "not a timestamp"),
    "malformed-alarm-own-without-modelid.json": (MalformedSignal, "ModelId"),
    "malformed-sns-json-message.json": (MalformedSignal, "does not parse"),
    "unsupported-ec2-state-change.json": (UnsupportedSignal, "aws.ec2"),
    "unsupported-alarm-ec2-cpu.json": (UnsupportedSignal, "ServerCpuTooHigh"),
    "unsupported-alarm-sns-ok.json": (UnsupportedSignal, "went to OK"),
    "unsupported-sns-plain-text.json": (UnsupportedSignal, "not a known signal"),
    "unsupported-budgets-ri-utilization.json": (UnsupportedSignal, "ri utilization"),
    "unsupported-subscription-confirmation.json": (UnsupportedSignal, "SubscriptionConfirmation"),
    "alarm-eventbridge-ok.json": (UnsupportedSignal, "only a change into ALARM"),
}


def test_every_fixture_is_covered():
    names = {p.name for p in FIXTURES.glob("*.json")}
    accepted = {"sqs-sns-budgets-actual.json", "sns-notification-budgets-actual.json"}
    assert names == (set(REJECTED) - {"alarm-eventbridge-ok.json"}) | accepted


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_on_one_line(name):
    kind, fragment = REJECTED[name]
    with pytest.raises(kind) as caught:
        parse_signal(load(name), received_at=T0)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    assert len(message) <= 300


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("", UnsupportedSignal),
        ("hello", UnsupportedSignal),
        ("[1, 2]", UnsupportedSignal),
        ("{not json", MalformedSignal),
        (b"\xff\xfe\x00", UnsupportedSignal),
        ({}, UnsupportedSignal),
        ({"Records": []}, UnsupportedSignal),
        ({"Records": [{"eventSource": "aws:dynamodb"}]}, UnsupportedSignal),
        ({"Records": [{"eventSource": "aws:sqs"}]}, MalformedSignal),
        ({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "x"}}]}, MalformedSignal),
        ({"Type": "Notification", "TopicArn": "arn", "Message": "x"}, MalformedSignal),
        ({"source": "aws.ce", "detail-type": "Anomaly Detected", "detail": {}}, MalformedSignal),
        ({"AlarmName": "a", "NewStateValue": "ALARM"}, MalformedSignal),
    ],
)
def test_odd_payloads_fail_with_one_line(payload, kind):
    with pytest.raises(kind) as caught:
        parse_signal(payload, received_at=T0)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, SignalError)


def test_pydantic_errors_are_condensed():
    event = load("alarm-sns.json")
    del event["Records"][0]["Sns"]["TopicArn"]
    del event["Records"][0]["Sns"]["MessageId"]
    with pytest.raises(MalformedSignal) as caught:
        parse_signal(event, received_at=T0)
    assert str(caught.value) == "Lambda SNS event: Records.0.Sns.TopicArn: Field required (+1 more)"
