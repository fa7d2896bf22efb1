"""The intake handler in-process under moto: SQS batch in, SpendSignals on the bus (captured by an
SQS rule target), partial batch failures for what is not a signal, once per dedup key."""

import json

import boto3
import pytest
from moto import mock_aws

from tests.support.handlers import load_handler
from tests.support.intake_harness import (
    BUS,
    EVENTS,
    RECEIVED,
    REGION,
    ROOT,
    TABLE,
    IntakeAws,
    batch,
    context,
    create_budget,
    eventbridge_body,
    intake_aws,
    intake_environment,
    rejections,
    sns_body,
)
from tokenfuse import intake
from tokenfuse.settings import SettingsError

FIXTURES = ROOT / "tests" / "fixtures" / "signals"


@pytest.fixture
def env(monkeypatch):
    with intake_environment(monkeypatch):
        yield


@pytest.fixture
def aws(env):
    with intake_aws() as moto_aws:
        yield moto_aws


def captured(aws: IntakeAws) -> list[dict]:
    return aws.captured()


GOOD = {
    "good-budget": sns_body("budgets-sns-actual.json"),
    "good-cad": eventbridge_body("cad-eventbridge.json"),
    "good-alarm-sns": sns_body("alarm-sns.json"),
    "good-alarm-eb": eventbridge_body("alarm-eventbridge.json"),
}
BAD = {
    "bad-alarm-ok": eventbridge_body("alarm-eventbridge-ok.json"),
    "bad-ec2": (FIXTURES / "unsupported-ec2-state-change.json").read_text(),
    "bad-text": "hello, not a signal",
    "bad-budget": sns_body("budgets-sns-actual.json").replace("Budget Name: ", "Budget: "),
}


def test_good_and_bad_records_land_once_across_redeliveries(aws, caplog):
    handler = load_handler("intake")
    mixed = batch({**GOOD, **BAD})
    for _ in range(3):  # SQS (or SNS before it) delivering the same batch again
        response = handler.lambda_handler(mixed, context())
        assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(BAD)

    events = captured(aws)
    assert len(events) == len(GOOD)
    assert {e["source"] for e in events} == {"tokenfuse.intake"}
    assert {e["detail-type"] for e in events} == {"Spend Signal"}
    by_source: dict[str, list[dict]] = {}
    for event in events:
        by_source.setdefault(event["detail"]["source"], []).append(event["detail"])
    assert sorted(by_source) == ["budget", "cost-anomaly", "token-rate-alarm"]
    assert len(by_source["token-rate-alarm"]) == 2  # two different alarms
    (budget,) = by_source["budget"]
    assert budget["cost_filters"] == {"Service": ["Amazon Bedrock"]}  # enriched by DescribeBudget
    assert budget["raw_source"] == "sqs-sns"
    assert budget["actual_usd"] == 8312.47
    (cad,) = by_source["cost-anomaly"]
    assert cad["account_id"] == "111122223333"
    assert cad["raw_source"] == "eventbridge"


def test_the_same_signal_by_two_paths_is_put_once(aws):
    """CAD's SNS alert and its EventBridge event carry one anomaly: one signal on the bus."""
    handler = load_handler("intake")
    first = handler.lambda_handler(batch({"cad-eb": eventbridge_body("cad-eventbridge.json")}), context())
    second = handler.lambda_handler(batch({"cad-sns": sns_body("cad-sns-immediate.json")}), context())
    assert first["batchItemFailures"] == second["batchItemFailures"] == []
    assert len(captured(aws)) == 1


def test_grown_anomaly_is_put_again(aws):
    handler = load_handler("intake")
    grown = json.loads(eventbridge_body("cad-eventbridge.json"))
    grown["detail"]["impact"]["totalImpact"] = 9120.55
    handler.lambda_handler(batch({"a": eventbridge_body("cad-eventbridge.json")}), context())
    handler.lambda_handler(batch({"b": json.dumps(grown)}), context())
    impacts = sorted(e["detail"]["impact_usd"] for e in captured(aws))
    assert impacts == [4120.55, 9120.55]


def test_rejected_record_is_logged_on_one_line(aws, caplog):
    handler = load_handler("intake")
    response = handler.lambda_handler(batch({"bad-alarm-ok": BAD["bad-alarm-ok"]}), context())
    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-alarm-ok"}]}
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.getMessage().startswith("rejected")]
    assert len(errors) == 1
    assert rejections(caplog.records) == {"bad-alarm-ok": [errors[0].getMessage()]}
    message = errors[0].getMessage()
    assert message.startswith(
        "rejected: UnsupportedSignal: alarm tokenfuse-a1b2c3d4e5f6-output-tokens went to OK"
    )
    assert "\n" not in message
    assert errors[0].exc_info is None  # no traceback
    assert errors[0].message_id == "bad-alarm-ok"
    assert captured(aws) == []


def test_unknown_budget_is_put_without_filters(aws):
    handler = load_handler("intake")
    response = handler.lambda_handler(batch({"daily": sns_body("budgets-sns-daily.json")}), context())
    assert response["batchItemFailures"] == []
    (event,) = captured(aws)
    assert event["detail"]["budget_name"] == "genai-bedrock-daily"
    assert event["detail"]["cost_filters"] is None  # DescribeBudget: NotFound -> left null


def test_bus_failure_fails_the_record_and_a_retry_delivers(aws):
    handler = load_handler("intake")
    aws.events.remove_targets(Rule="capture-signals", EventBusName=BUS, Ids=["capture"])
    aws.events.delete_rule(Name="capture-signals", EventBusName=BUS)
    aws.events.delete_event_bus(Name=BUS)
    failed = handler.lambda_handler(batch({"alarm": GOOD["good-alarm-eb"]}), context())
    assert failed == {"batchItemFailures": [{"itemIdentifier": "alarm"}]}

    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=aws.queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.events.create_event_bus(Name=BUS)
    aws.events.put_rule(
        Name="capture-signals", EventBusName=BUS, EventPattern=json.dumps({"source": ["tokenfuse.intake"]})
    )
    aws.events.put_targets(
        Rule="capture-signals", EventBusName=BUS, Targets=[{"Id": "capture", "Arn": queue_arn}]
    )
    retried = handler.lambda_handler(batch({"alarm": GOOD["good-alarm-eb"]}), context())
    assert retried == {"batchItemFailures": []}
    assert len(captured(aws)) == 1


def test_idempotency_records_expire(aws):
    handler = load_handler("intake")
    handler.lambda_handler(batch({"alarm": GOOD["good-alarm-sns"]}), context())
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    assert items[0]["status"]["S"] == "COMPLETED"
    assert int(items[0]["expiration"]["N"]) > 0


def test_settings_are_read_on_first_use_not_import(env, monkeypatch):
    monkeypatch.delenv("EVENT_BUS_NAME")
    handler = load_handler("intake")  # importing needs no environment
    with (
        mock_aws(),
        pytest.raises(SettingsError, match=r"^IntakeSettings: EVENT_BUS_NAME is required$"),
    ):
        handler.lambda_handler(batch({"alarm": GOOD["good-alarm-sns"]}), context())


def test_settings_from_env():
    settings = intake.IntakeSettings.from_env(
        {
            "EVENT_BUS_NAME": "b",
            "IDEMPOTENCY_TABLE_NAME": "t",
            "BUDGETS_ROLE_ARN": "arn:aws:iam::111122223333:role/r",
        }
    )
    assert (settings.event_bus_name, settings.idempotency_table_name, settings.budgets_role_arn) == (
        "b",
        "t",
        "arn:aws:iam::111122223333:role/r",
    )
    assert (
        intake.IntakeSettings.from_env(
            {"EVENT_BUS_NAME": "b", "IDEMPOTENCY_TABLE_NAME": "t"}
        ).budgets_role_arn
        is None
    )


def test_budgets_read_through_the_management_account_role(aws, monkeypatch):
    """In production DescribeBudget goes through a role in the management account: the budget
    read is the one that account holds (moto keys state by the caller's account)."""
    role = "arn:aws:iam::111122223333:role/tokenfuse-budgets-read"
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role, RoleSessionName="setup")[
        "Credentials"
    ]
    management_budgets = boto3.client(
        "budgets",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    create_budget(management_budgets, {"Service": ["Amazon Bedrock"], "LinkedAccount": ["444455556666"]})
    monkeypatch.setenv("BUDGETS_ROLE_ARN", role)
    intake.reset()
    handler = load_handler("intake")
    assert handler.lambda_handler(batch({"b": GOOD["good-budget"]}), context())["batchItemFailures"] == []
    (event,) = captured(aws)
    # The management account's budget, not the one the function's own account holds.
    assert event["detail"]["cost_filters"] == {
        "Service": ["Amazon Bedrock"],
        "LinkedAccount": ["444455556666"],
    }


class _Reader:
    def __init__(self, result=None, error=None):
        self.result, self.error, self.calls = result, error, []

    def cost_filters(self, account_id, budget_name):
        self.calls.append((account_id, budget_name))
        if self.error:
            raise self.error
        return self.result


def _budget_signal():
    from tokenfuse.signals import parse_signal

    (signal,) = parse_signal((EVENTS / "budgets-sns-actual.json").read_text(), received_at=RECEIVED)
    return signal


def test_enrich_asks_the_account_in_the_message():
    reader = _Reader(result={"Service": ["Amazon Bedrock"], "LinkedAccount": ["444455556666"]})
    enriched = intake.enrich(_budget_signal(), reader)
    assert reader.calls == [("111122223333", "genai-bedrock-monthly")]
    assert enriched.cost_filters == {"Service": ["Amazon Bedrock"], "LinkedAccount": ["444455556666"]}


@pytest.mark.parametrize("error", [intake.NotFound("gone"), intake.AccessDenied("no")])
def test_enrich_leaves_filters_null_when_the_budget_cannot_be_read(error):
    assert intake.enrich(_budget_signal(), _Reader(error=error)).cost_filters is None


def test_enrich_lets_transient_errors_through_for_a_retry():
    from tokenfuse.errors import TransientAwsError

    with pytest.raises(TransientAwsError):
        intake.enrich(_budget_signal(), _Reader(error=TransientAwsError("throttled")))


def test_enrich_ignores_other_signals():
    from tokenfuse.signals import parse_signal

    (alarm,) = parse_signal((EVENTS / "alarm-sns.json").read_text(), received_at=RECEIVED)
    reader = _Reader(result={})
    assert intake.enrich(alarm, reader) is alarm
    assert reader.calls == []


def test_budgets_reader_reads_a_filter_expression():
    from tokenfuse.adapters.budgets import BudgetsReader

    class Client:
        def describe_budget(self, AccountId, BudgetName):
            return {
                "Budget": {
                    "BudgetName": BudgetName,
                    "FilterExpression": {
                        "And": [
                            {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}},
                            {"Tags": {"Key": "team", "Values": ["claims"]}},
                        ]
                    },
                }
            }

    filters = BudgetsReader(budgets_client=Client()).cost_filters("111122223333", "b")
    assert filters == {"SERVICE": ["Amazon Bedrock"], "Tags:team": ["claims"]}
