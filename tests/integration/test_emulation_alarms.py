"""CloudWatch alarm evaluation on the simulated clock: moto state, EventBridge event, SNS message."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tokenfuse_sandbox.emulation.alarms import AlarmEvaluator
from tokenfuse_sandbox.emulation.clock import SimulatedClock

REGION = "us-east-1"
ACCOUNT = "123456789012"
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PROFILE_ID = "a1b2c3d4e5f6"
ALARM = f"tokenfuse-{PROFILE_ID}-output-tokens"
PATTERN = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    "detail": {"state": {"value": ["ALARM"]}},
}


@pytest.fixture
def aws():
    with mock_aws():
        yield {
            "cw": boto3.client("cloudwatch", region_name=REGION),
            "events": boto3.client("events", region_name=REGION),
            "sqs": boto3.client("sqs", region_name=REGION),
            "sns": boto3.client("sns", region_name=REGION),
        }


def _queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _drain(sqs, url):
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _put(cw, clock, minutes_ago, value, profile=PROFILE_ID):
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "OutputTokenCount",
                "Dimensions": [{"Name": "ModelId", "Value": profile}],
                "Timestamp": clock.now() - timedelta(minutes=minutes_ago),
                "Value": value,
            }
        ],
    )


def _setup(aws):
    """Rule -> SQS for ALARM events; SNS topic -> SQS; the per-profile token-rate alarm."""
    ev_url, ev_arn = _queue(aws["sqs"], "alarm-events")
    aws["events"].put_rule(Name="token-rate-alarm", EventPattern=json.dumps(PATTERN))
    aws["events"].put_targets(Rule="token-rate-alarm", Targets=[{"Id": "q", "Arn": ev_arn}])
    sns_url, sns_arn = _queue(aws["sqs"], "alarm-sns")
    topic = aws["sns"].create_topic(Name="tokenfuse-token-rate-alarms")["TopicArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_arn)
    aws["cw"].put_metric_alarm(
        AlarmName=ALARM,
        AlarmDescription=f"tokenfuse: output token rate of profile {PROFILE_ID}",
        Namespace="AWS/Bedrock",
        MetricName="OutputTokenCount",
        Dimensions=[{"Name": "ModelId", "Value": PROFILE_ID}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=150000.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    return ev_url, sns_url, topic


def _state(cw):
    return cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]


def test_ok_to_alarm_once_then_back_to_ok(aws):
    clock = SimulatedClock(START)
    evaluator = AlarmEvaluator(clock)
    evaluator.attach(clock)
    ev_url, sns_url, topic = _setup(aws)
    cw, sqs = aws["cw"], aws["sqs"]

    # quiet traffic: nothing changes (moto starts alarms in OK)
    for m in range(1, 6):
        _put(cw, clock, m, 2000.0)
    clock.advance(timedelta(minutes=1))
    assert evaluator.changes == []

    # a loop starts: three minutes far above the threshold
    t_loop = clock.now()
    for m in range(3):
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "OutputTokenCount",
                    "Dimensions": [{"Name": "ModelId", "Value": PROFILE_ID}],
                    "Timestamp": t_loop + timedelta(minutes=m, seconds=10),
                    "Value": 400000.0 + m,
                }
            ],
        )
    clock.advance(timedelta(minutes=3))  # crosses 3 minute boundaries: one evaluation each
    assert [(c.old_state, c.new_state) for c in evaluator.changes] == [("OK", "ALARM")]
    change = evaluator.changes[0]
    assert change.at == t_loop + timedelta(minutes=2)  # 2 of the last 3 periods breach at t+2 min

    alarm = _state(cw)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateUpdatedTimestamp"] == change.at
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [400001.0 (")
    assert (
        "were greater than the threshold (150000.0) (minimum 2 datapoints for OK -> ALARM transition)."
        in (alarm["StateReason"])
    )

    events = _drain(sqs, ev_url)
    assert len(events) == 1
    event = events[0]
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    # moto 5.2.5's default SQS target template drops "account" (EventTemplateParser); AWS keeps it.
    assert event.get("account", ACCOUNT) == ACCOUNT
    assert change.event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["time"] == change.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["resources"] == [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM}"]
    detail = event["detail"]
    assert detail["alarmName"] == ALARM
    assert detail["state"]["value"] == "ALARM"
    assert detail["state"]["timestamp"] == change.at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    reason_data = json.loads(detail["state"]["reasonData"])
    assert reason_data["version"] == "1.0"
    assert reason_data["statistic"] == "Sum"
    assert reason_data["period"] == 60
    assert reason_data["threshold"] == 150000.0
    assert reason_data["recentDatapoints"] == [400000.0, 400001.0]
    assert detail["previousState"]["value"] == "OK"
    assert detail["configuration"]["description"] == f"tokenfuse: output token rate of profile {PROFILE_ID}"
    (metric,) = detail["configuration"]["metrics"]
    assert metric["returnData"] is True
    assert metric["metricStat"] == {
        "metric": {
            "dimensions": {"ModelId": PROFILE_ID},
            "name": "OutputTokenCount",
            "namespace": "AWS/Bedrock",
        },
        "period": 60,
        "stat": "Sum",
    }

    notes = _drain(sqs, sns_url)
    assert len(notes) == 1
    assert notes[0]["Subject"] == f'ALARM: "{ALARM}" in US East (N. Virginia)'
    message = json.loads(notes[0]["Message"])
    assert message["AlarmName"] == ALARM
    assert message["AWSAccountId"] == ACCOUNT
    assert message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "OK"
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == event["resources"][0]
    assert message["StateChangeTime"] == detail["state"]["timestamp"]
    assert message["NewStateReason"] == detail["state"]["reason"]
    assert message["AlarmActions"] == [topic]
    assert message["Trigger"] == {
        "MetricName": "OutputTokenCount",
        "Namespace": "AWS/Bedrock",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": PROFILE_ID, "name": "ModelId"}],
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 150000.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }

    # staying in ALARM emits nothing more
    evaluator.evaluate()
    assert len(evaluator.changes) == 1
    assert _drain(sqs, ev_url) == []

    # the loop is contained: no more data (notBreaching) -> back to OK, which the ALARM rule ignores
    clock.advance(timedelta(minutes=10))
    assert [(c.old_state, c.new_state) for c in evaluator.changes] == [("OK", "ALARM"), ("ALARM", "OK")]
    assert _state(cw)["StateValue"] == "OK"
    assert _drain(sqs, ev_url) == []
    ok_notes = _drain(sqs, sns_url)
    assert [json.loads(n["Message"])["NewStateValue"] for n in ok_notes] == ["OK"]
    assert ok_notes[0]["Subject"].startswith('OK: "')
    assert evaluator.changes[1].event["detail"]["previousState"]["value"] == "ALARM"
    assert "not greater than the threshold" in evaluator.changes[1].reason


def test_missing_data_insufficient_and_actions_disabled(aws):
    clock = SimulatedClock(START)
    evaluator = AlarmEvaluator(clock)
    cw = aws["cw"]
    cw.put_metric_alarm(
        AlarmName="quiet",
        Namespace="AWS/Bedrock",
        MetricName="Invocations",
        Dimensions=[{"Name": "ModelId", "Value": "zzz"}],
        Statistic="SampleCount",
        Period=300,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        ActionsEnabled=False,
        AlarmActions=[f"arn:aws:sns:{REGION}:{ACCOUNT}:missing-topic"],
    )
    (change,) = evaluator.evaluate()
    assert change.new_state == "INSUFFICIENT_DATA"
    assert change.reason == "Insufficient Data: 1 datapoint was unknown."
    assert change.sns_message is None  # actions disabled: no SNS (the event is still sent)
    for i in range(12):
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": "zzz"}],
                    "Timestamp": clock.now() - timedelta(seconds=10 + i),
                    "Value": 1,
                }
            ],
        )
    (change,) = evaluator.evaluate(clock.now() + timedelta(seconds=1))
    assert change.new_state == "ALARM"
    assert "1 out of the last 1 datapoints [12.0 (" in change.reason
    assert "was greater than or equal to the threshold (10.0)" in change.reason


def test_metrics_alarm_with_expression_and_dimension_exactness(aws):
    clock = SimulatedClock(START)
    evaluator = AlarmEvaluator(clock)
    cw = aws["cw"]

    def stat(mid, name):
        return {
            "Id": mid,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": name,
                    "Dimensions": [{"Name": "ModelId", "Value": PROFILE_ID}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }

    cw.put_metric_alarm(
        AlarmName="weighted-tokens",
        Metrics=[
            stat("m1", "InputTokenCount"),
            stat("m2", "OutputTokenCount"),
            {"Id": "e1", "Expression": "m1+m2*5", "Label": "weighted", "ReturnData": True},
        ],
        EvaluationPeriods=1,
        Threshold=1000,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    t = clock.now() - timedelta(seconds=30)
    data = [("InputTokenCount", 500.0, [PROFILE_ID]), ("OutputTokenCount", 120.0, [PROFILE_ID])]
    # same metric, extra dimension: a different time series, must not count
    data.append(("OutputTokenCount", 99999.0, [PROFILE_ID, "extra"]))
    for name, value, dims in data:
        dimensions = [{"Name": "ModelId", "Value": dims[0]}]
        if len(dims) > 1:
            dimensions.append({"Name": "Extra", "Value": dims[1]})
        cw.put_metric_data(
            Namespace="AWS/Bedrock",
            MetricData=[{"MetricName": name, "Dimensions": dimensions, "Timestamp": t, "Value": value}],
        )
    (change,) = evaluator.evaluate(clock.now())
    assert change.new_state == "ALARM"
    assert json.loads(change.reason_data)["recentDatapoints"] == [1100.0]  # 500 + 120*5
    ids = [m["id"] for m in change.event["detail"]["configuration"]["metrics"]]
    assert ids == ["m1", "m2", "e1"]
    assert change.event["detail"]["configuration"]["metrics"][2] == {
        "id": "e1",
        "expression": "m1+m2*5",
        "label": "weighted",
        "returnData": True,
    }


def test_accounts_are_evaluated_in_their_own_backends(aws, monkeypatch):
    clock = SimulatedClock(START)
    evaluator = AlarmEvaluator(clock)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "444455556666")
    member = boto3.client("cloudwatch", region_name="eu-west-1")
    member.put_metric_alarm(
        AlarmName="member-alarm",
        Namespace="AWS/Bedrock",
        MetricName="OutputTokenCount",
        Dimensions=[{"Name": "ModelId", "Value": PROFILE_ID}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    member.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "OutputTokenCount",
                "Dimensions": [{"Name": "ModelId", "Value": PROFILE_ID}],
                "Timestamp": clock.now() - timedelta(seconds=20),
                "Value": 5,
            }
        ],
    )
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    (change,) = evaluator.evaluate()
    assert (change.account_id, change.region, change.new_state) == ("444455556666", "eu-west-1", "ALARM")
    assert change.event["account"] == "444455556666"
    assert change.alarm_arn == "arn:aws:cloudwatch:eu-west-1:444455556666:alarm:member-alarm"
    assert evaluator.evaluate(account_id=ACCOUNT) == []


def test_datapoints_put_late_are_seen_by_the_next_evaluation(aws):
    """The evaluator keeps its index of the metric data between evaluations: a datapoint put after
    one (for minutes already evaluated, as a late delivery does) is read by the next, in time order."""
    clock = SimulatedClock(START)
    evaluator = AlarmEvaluator(clock)
    evaluator.attach(clock)
    _setup(aws)
    cw = aws["cw"]
    for m in range(1, 6):
        _put(cw, clock, m, 2000.0)
    clock.advance(timedelta(minutes=1))
    assert evaluator.changes == []
    # two breaching minutes arrive late: the minutes 1 and 2 before now, already evaluated as quiet
    _put(cw, clock, 2, 400000.0)
    _put(cw, clock, 1, 400000.0)
    clock.advance(timedelta(seconds=1))  # within the same minute: no boundary, no evaluation
    assert evaluator.changes == []
    clock.advance(timedelta(minutes=1))
    assert [(c.old_state, c.new_state) for c in evaluator.changes] == [("OK", "ALARM")]
    assert _state(cw)["StateValue"] == "ALARM"
    # 08:59 holds a quiet 2,000 and a late 400,000; 09:00 the late 400,000; 09:01 nothing yet
    evaluated = json.loads(evaluator.changes[0].reason_data)["evaluatedDatapoints"]
    assert [(d["timestamp"][11:16], d["sampleCount"], d["value"]) for d in evaluated] == [
        ("09:00", 1.0, 400000.0),
        ("08:59", 2.0, 402000.0),
    ]
