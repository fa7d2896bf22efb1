"""Every sample in events/ (and the SQS variants in tests/fixtures/signals) parsed to exact values,
checked by hand against the sample text."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokenfuse.errors import UnsupportedSignal
from tokenfuse.events import SpendSignal
from tokenfuse.signals import parse_signal

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "signals"
RECEIVED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
PROFILE_ARN = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/a1b2c3d4e5f6"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def only(path: Path) -> SpendSignal:
    signals = parse_signal(load(path), received_at=RECEIVED)
    assert len(signals) == 1
    return signals[0]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# Every field a sample sets, by hand. Fields not listed must be null (or empty).
EXPECTED: dict[str, dict] = {
    "cad-sns-immediate.json": {
        "source": "cost-anomaly",
        "raw_source": "sns",
        "account_id": "111122223333",
        "region": "us-east-1",
        "window_start": ts("2026-11-26T00:00:00Z"),
        "window_end": ts("2026-11-26T17:42:10.512Z"),  # the anomaly's day, up to the alert
        "actual_usd": 4318.75,
        "expected_usd": 198.2,
        "impact_usd": 4120.55,
        "impact_percent": 2078.98,
        "anomaly_id": "2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c",
        "monitor_arn": "arn:aws:ce::111122223333:anomalymonitor/abcdef12-1234-4ea0-84cc-918a97d736ef",
        "anomaly_score": 0.82,
        "details_url": "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
        "abcdef12-1234-4ea0-84cc-918a97d736ef/anomalies/2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c",
    },
    "cad-eventbridge.json": {
        "source": "cost-anomaly",
        "raw_source": "eventbridge",
        "account_id": "111122223333",
        "region": "us-east-1",
        "window_start": ts("2026-11-26T00:00:00Z"),
        "window_end": ts("2026-11-26T17:42:09Z"),
        "actual_usd": 4318.75,
        "expected_usd": 198.2,
        "impact_usd": 4120.55,
        "impact_percent": 2078.98,
        "anomaly_id": "2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c",
        "monitor_arn": "arn:aws:ce::111122223333:anomalymonitor/abcdef12-1234-4ea0-84cc-918a97d736ef",
        "monitor_name": "org-services",
        "anomaly_score": 0.82,
        "details_url": "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
        "abcdef12-1234-4ea0-84cc-918a97d736ef/anomalies/2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c",
    },
    "budgets-sns-actual.json": {
        "source": "budget",
        "raw_source": "sns",
        "account_id": "111122223333",
        "window_start": ts("2026-11-01T00:00:00Z"),
        "window_end": ts("2026-11-26T14:05:31.227Z"),
        "actual_usd": 8312.47,
        "threshold_usd": 8000.0,
        "budgeted_usd": 10000.0,
        "budget_name": "genai-bedrock-monthly",
        "budget_type": "cost",
        "notification_type": "ACTUAL",
        "time_unit": "MONTHLY",
    },
    "budgets-sns-forecasted.json": {
        "source": "budget",
        "raw_source": "sns",
        "account_id": "111122223333",
        "window_start": ts("2026-11-01T00:00:00Z"),
        "window_end": ts("2026-11-26T14:05:33.918Z"),
        "forecasted_usd": 14950.12,
        "threshold_usd": 10000.0,
        "budgeted_usd": 10000.0,
        "budget_name": "genai-bedrock-monthly",
        "budget_type": "cost",
        "notification_type": "FORECASTED",
        "time_unit": "MONTHLY",
    },
    "budgets-sns-percentage.json": {
        "source": "budget",
        "raw_source": "sns",
        "account_id": "111122223333",
        "window_start": ts("2026-11-01T00:00:00Z"),
        "window_end": ts("2026-11-26T14:05:35.004Z"),
        "actual_usd": 8312.47,
        "threshold_percent": 80.0,
        "threshold_usd": 8000.0,  # 80% of the $10,000.00 budgeted
        "budgeted_usd": 10000.0,
        "budget_name": "genai-bedrock-monthly",
        "budget_type": "cost",
        "notification_type": "ACTUAL",
        "time_unit": "MONTHLY",
    },
    "budgets-sns-daily.json": {
        "source": "budget",
        "raw_source": "sns",
        "account_id": "111122223333",
        "window_start": ts("2026-11-25T00:00:00Z"),  # "Yesterday": the previous day
        "window_end": ts("2026-11-26T06:58:50.842Z"),
        "actual_usd": 612.4,
        "threshold_usd": 150.0,
        "budgeted_usd": 200.0,
        "budget_name": "genai-bedrock-daily",
        "budget_type": "cost",
        "notification_type": "ACTUAL",
        "time_unit": "DAILY",
    },
    "budgets-sns-usage.json": {
        "source": "budget",
        "raw_source": "sns",
        "account_id": "111122223333",
        "window_start": ts("2026-11-01T00:00:00Z"),
        "window_end": ts("2026-11-26T14:07:12.310Z"),
        "actual_amount": 912.5,
        "threshold_amount": 800.0,
        "budgeted_amount": 1000.0,
        "unit": "Hrs",
        "budget_name": "bedrock-compute-hours",
        "budget_type": "usage",
        "notification_type": "ACTUAL",
        "time_unit": "MONTHLY",
    },
    "alarm-eventbridge.json": {
        "source": "token-rate-alarm",
        "raw_source": "eventbridge",
        "account_id": "444455556666",
        "region": "us-east-1",
        "window_start": ts("2026-11-26T09:09:00Z"),  # reasonData.startDate
        "window_end": ts("2026-11-26T09:14:02.117Z"),
        "alarm_name": "tokenfuse-a1b2c3d4e5f6-output-tokens",
        "alarm_arn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:tokenfuse-a1b2c3d4e5f6-output-tokens",
        "metric_name": "OutputTokenCount",
        "metric_value": 412345.0,
        "alarm_threshold": 150000.0,
        "profile_id": "a1b2c3d4e5f6",  # ModelId is the bare profile id
        "profile_arn": PROFILE_ARN,
    },
    "alarm-sns.json": {
        "source": "token-rate-alarm",
        "raw_source": "sns",
        "account_id": "444455556666",
        "region": "us-east-1",  # from AlarmArn; Region says "US East (N. Virginia)"
        "window_start": ts("2026-11-26T09:13:05.441Z"),  # one 60 s period before the change
        "window_end": ts("2026-11-26T09:14:05.441Z"),
        "alarm_name": "bedrock-claims-assistant-output-tokens",
        "alarm_arn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:bedrock-claims-assistant-output-tokens",
        "metric_name": "OutputTokenCount",
        "metric_value": 512000.0,
        "alarm_threshold": 150000.0,
        "profile_id": "a1b2c3d4e5f6",  # ModelId is the full profile ARN
        "profile_arn": PROFILE_ARN,
    },
}

ROOT_CAUSES = [
    {
        "account_id": "444455556666",
        "account_name": "genai-prod",
        "region": "us-east-1",
        "service": "Amazon Bedrock",
        "usage_type": "USE1-Claude4Sonnet-output-tokens",
        "contribution_usd": 3890.1,
    },
    {
        "account_id": "444455556666",
        "account_name": "genai-prod",
        "region": "us-east-1",
        "service": "Amazon Bedrock",
        "usage_type": "USE1-Claude4Sonnet-input-tokens",
        "contribution_usd": 230.45,
    },
]
ALWAYS_SET = {
    "source", "dedup_key", "received_at", "window_start", "window_end", "raw_source", "summary",
    "schema_version",
}  # fmt: skip


def test_every_sample_is_covered():
    samples = {p.name for p in EVENTS.glob("*.json") if p.name.startswith(("cad-", "budgets-", "alarm-"))}
    assert samples == set(EXPECTED) | {"alarm-eventbridge-ok.json"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_to_exact_values(name):
    signal = only(EVENTS / name)
    expected = EXPECTED[name]
    got = signal.model_dump()
    for key, value in expected.items():
        assert got[key] == value, key
    if signal.source == "cost-anomaly":
        assert got["root_causes"] == ROOT_CAUSES
    for key, value in got.items():
        if key not in expected and key not in ALWAYS_SET and key != "root_causes":
            assert value in (None, []), f"{key} should be null, is {value!r}"
    assert signal.received_at == RECEIVED
    assert signal.window_start <= signal.window_end
    assert len(signal.dedup_key) == 32
    assert "\n" not in signal.summary


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bus_json_round_trips(name):
    signal = only(EVENTS / name)
    detail = json.loads(json.dumps(signal.to_bus()))
    assert set(detail) == set(SpendSignal.model_fields)  # every key present, nulls included
    assert detail["window_end"].endswith("Z")
    assert SpendSignal.from_bus(detail).dedup_key == signal.dedup_key


def test_alarm_to_ok_is_rejected():
    with pytest.raises(UnsupportedSignal, match="went to OK: only a change into ALARM"):
        parse_signal(load(EVENTS / "alarm-eventbridge-ok.json"), received_at=RECEIVED)


def test_sqs_event_of_sns_notification():
    (signal,) = parse_signal(load(FIXTURES / "sqs-sns-budgets-actual.json"), received_at=RECEIVED)
    direct = only(EVENTS / "budgets-sns-actual.json")
    assert signal.raw_source == "sqs-sns"
    assert signal.model_dump(exclude={"raw_source"}) == direct.model_dump(exclude={"raw_source"})


def test_sqs_body_alone_is_one_sns_notification():
    body = (FIXTURES / "sns-notification-budgets-actual.json").read_text()
    (signal,) = parse_signal(body, received_at=RECEIVED)  # as text, the way an SQS body arrives
    assert signal.raw_source == "sqs-sns"
    assert signal.dedup_key == only(EVENTS / "budgets-sns-actual.json").dedup_key


def test_cad_sns_and_eventbridge_are_one_notification():
    """The same anomaly with the same impact, through SNS and through EventBridge."""
    assert (
        only(EVENTS / "cad-sns-immediate.json").dedup_key == only(EVENTS / "cad-eventbridge.json").dedup_key
    )
