"""What fails to arrive is kept where an alarm watches it: every EventBridge rule of a function names
one of the template's dead-letter queues by ARN (SAM's ``Type: SQS`` would create a queue nobody
watches), that queue lets EventBridge write to it, and an alarm watches it."""

from pathlib import Path
from typing import Any

import pytest

from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, Any] = load_yaml(ROOT / "template.yaml")["Resources"]


def rule_dead_letters() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "EventBridgeRule":
                found.append((f"{name}.{event_name}", event["Properties"].get("DeadLetterConfig") or {}))
    return found


def queue_of(arn: Any) -> str:
    assert isinstance(arn, dict) and "Fn::GetAtt" in arn, f"not a !GetAtt of a queue: {arn!r}"
    queue, attribute = arn["Fn::GetAtt"]
    assert attribute == "Arn" and RESOURCES[queue]["Type"] == "AWS::SQS::Queue"
    return str(queue)


RULES = rule_dead_letters()


def test_every_function_rule_is_found():
    assert len(RULES) >= 4


@pytest.mark.parametrize(("rule", "config"), RULES, ids=[r for r, _ in RULES])
def test_a_rule_dead_letters_into_a_watched_queue_eventbridge_may_write(rule, config):
    assert set(config) == {"Arn"}, f"{rule}: DeadLetterConfig must name a queue by Arn only, not {config}"
    queue = queue_of(config["Arn"])
    writers = [
        statement
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue} in resource["Properties"]["Queues"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Principal"] == {"Service": "events.amazonaws.com"}
        and statement["Action"] == "sqs:SendMessage"
        and {"Fn::GetAtt": [queue, "Arn"]} in statement["Resource"]
    ]
    assert writers, f"{rule}: no queue policy lets EventBridge write to {queue}"
    assert all("aws:SourceArn" in str(statement["Condition"]) for statement in writers)
    watched = [
        name
        for name, resource in RESOURCES.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in (resource["Properties"].get("Dimensions") or [])
    ]
    assert watched, f"{rule}: no alarm watches {queue}"
