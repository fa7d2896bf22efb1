"""The inventory function in-process under moto + the Bedrock inference-profile emulation.

An organization of a management/tooling account and two members, profiles in two regions (one
untagged, one of an unknown team); the daily sweep fans out through the real SQS queue, the
CloudTrail events (the samples in events/, re-pointed at real profiles) keep the inventory and the
alarms exact; a failing account is reported alone; the attributable % matches a hand computation.
"""

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.ce.models import ce_backends

from tests.support.handlers import load_handler
from tests.support.inventory_aws import inventory_aws
from tokenfuse.adapters import aws as aws_adapter
from tokenfuse.adapters.inventory_table import get_profile_record
from tokenfuse.errors import AccessDenied
from tokenfuse.inventory import service

ROOT = Path(__file__).resolve().parents[2]
TOOLING = "123456789012"  # moto's default account: the management account of the organization here
R1, R2 = "us-east-1", "us-west-2"
TEAMS_YAML = """
teams:
  - name: search
    slack_channel: C0123ABCDE
  - name: ranking
    tag_values: [ranking-eng]
    emails: [ranking@example.com]
finops:
  slack_channel: C0FINOPS00
"""


@dataclass
class Context:
    function_name: str = "tokenfuse-inventory-dev"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{R1}:{TOOLING}:function:tokenfuse-inventory-dev"
    aws_request_id: str = "req-inventory"


def _model(region):
    return f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


class Org:
    """The moto organization and helpers to act in its accounts."""

    def __init__(self, handler, sweep_queue, finops_queue):
        self.handler, self.sweep_queue, self.finops_queue = handler, sweep_queue, finops_queue
        org = boto3.client("organizations", R1)
        org.create_organization(FeatureSet="ALL")
        self.members = [
            org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"][
                "AccountId"
            ]
            for name in ("search-prod", "ml-sandbox")
        ]
        self.sqs = boto3.client("sqs", R1)

    @staticmethod
    def session(account):
        if account == TOOLING:
            return boto3.Session(region_name=R1)
        creds = boto3.client("sts", R1).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/tokenfuse-member", RoleSessionName="test-seed"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def bedrock(self, account, region):
        return self.session(account).client("bedrock", region_name=region)

    def create(self, account, region, name, tags=None):
        return self.bedrock(account, region).create_inference_profile(
            inferenceProfileName=name,
            modelSource={"copyFrom": _model(region)},
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        )["inferenceProfileArn"]

    def alarms(self, account, region):
        cw = self.session(account).client("cloudwatch", region_name=region)
        return {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix="tokenfuse-")["MetricAlarms"]}

    def invoke(self, event):
        return self.handler(event, Context())

    def sweep_messages(self):
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.sweep_queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return out
            out.extend(got)
            for m in got:
                self.sqs.delete_message(QueueUrl=self.sweep_queue, ReceiptHandle=m["ReceiptHandle"])

    def sweep(self):
        """The daily schedule, then every fanned-out message through the handler as SQS records."""
        scheduled = self.invoke(schedule_event())
        messages = self.sweep_messages()
        response = self.invoke(sqs_event(messages))
        return scheduled, messages, response

    def finops_events(self):
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.finops_queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.finops_queue, ReceiptHandle=m["ReceiptHandle"])


def sqs_event(messages):
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795763700000",
                    "SenderId": "AROAEXAMPLEID87654321:tokenfuse-inventory-dev",
                    "ApproximateFirstReceiveTimestamp": "1795763700120",
                },
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{R1}:{TOOLING}:tokenfuse-inventory-sweep-dev",
                "awsRegion": R1,
            }
            for m in messages
        ]
    }


def schedule_event():
    """What the daily schedule delivers (events/inventory-schedule.json, in this account)."""
    event = json.loads((ROOT / "events" / "inventory-schedule.json").read_text())
    event["schedule_arn"] = event["schedule_arn"].replace(":111122223333:", f":{TOOLING}:")
    return event


def cloudtrail(file, arn, creator=None):
    """A sample CloudTrail event re-pointed at a real profile."""
    event = json.loads((ROOT / "events" / file).read_text())
    _, _, _, region, account, _ = arn.split(":", 5)
    event["id"] = str(uuid.uuid4())
    event["account"], event["region"] = account, region
    detail = event["detail"]
    detail["awsRegion"], detail["recipientAccountId"] = region, account
    if detail["eventName"] == "CreateInferenceProfile":
        detail["responseElements"]["inferenceProfileArn"] = arn
    elif detail["eventName"] == "DeleteInferenceProfile":
        detail["requestParameters"]["inferenceProfileIdentifier"] = arn
    else:
        detail["requestParameters"]["resourceARN"] = arn
    if creator:
        detail["userIdentity"]["arn"] = creator
    return event


@pytest.fixture
def org(monkeypatch):
    pattern = {"source": ["tokenfuse.inventory"], "detail-type": ["Profile Non-Compliant"]}
    with inventory_aws(monkeypatch, TEAMS_YAML, f"{R1},{R2}", tap=pattern) as aws:
        yield Org(load_handler("inventory").lambda_handler, aws.sweep_queue, aws.bus_tap)


@pytest.fixture
def seeded(org):
    a, b = org.members
    arns = {
        "search": org.create(a, R1, "search-answers", {"team": "search", "environment": "prod"}),
        "untagged": org.create(a, R2, "untagged-bot"),
        "ghost": org.create(b, R1, "mystery", {"team": "ghost", "environment": "dev"}),
        "ranking": org.create(b, R2, "rerank", {"team": "ranking-eng", "environment": "prod"}),
        "tooling": org.create(TOOLING, R1, "finops-notebook", {"team": "search", "environment": "dev"}),
    }
    return org, arns


def _id(arn):
    return arn.rsplit("/", 1)[1]


def _table():
    return boto3.client("dynamodb", R1).scan(TableName="tokenfuse-inventory-dev")["Items"]


def test_daily_sweep_builds_the_inventory_and_arms_every_alarm(seeded):
    org, arns = seeded
    a, b = org.members
    # When the daily schedule fires and each account's message is swept
    scheduled, messages, response = org.sweep()
    # Then one message per ACTIVE account (the management/tooling account included)
    assert scheduled["accounts"] == 3
    assert sorted(json.loads(m["Body"])["account_id"] for m in messages) == sorted([TOOLING, a, b])
    assert response == {"batchItemFailures": []}
    # and the inventory holds every profile with its owner and compliance
    assert len(_table()) == 5
    search = get_profile_record(arns["search"])
    assert (search.account_id, search.region, search.team, search.compliance.compliant) == (
        a,
        R1,
        "search",
        True,
    )
    assert search.model_ids == ["anthropic.claude-3-haiku-20240307-v1:0"]
    assert search.profile_name == "search-answers"
    untagged = get_profile_record(arns["untagged"])
    assert untagged.team is None
    assert untagged.compliance.model_dump() == {
        "compliant": False, "missing_tags": ["team", "environment"], "unknown_team": False,
    }  # fmt: skip
    ghost = get_profile_record(arns["ghost"])
    assert (ghost.team, ghost.team_tag, ghost.compliance.unknown_team) == (None, "ghost", True)
    assert get_profile_record(arns["ranking"]).team == "ranking"  # tag value alias -> team name
    # and two alarms per profile, in the profile's own account and region
    for key, (account, region) in {
        "search": (a, R1), "untagged": (a, R2), "ghost": (b, R1), "ranking": (b, R2),
        "tooling": (TOOLING, R1),
    }.items():  # fmt: skip
        pid = _id(arns[key])
        alarms = org.alarms(account, region)
        assert set(alarms) >= {f"tokenfuse-{pid}-output-tokens", f"tokenfuse-{pid}-input-tokens"}
        alarm = alarms[f"tokenfuse-{pid}-output-tokens"]
        assert alarm["Namespace"] == "AWS/Bedrock" and alarm["MetricName"] == "OutputTokenCount"
        assert alarm["Dimensions"] == [{"Name": "ModelId", "Value": pid}]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 3)
        assert alarm["DatapointsToAlarm"] == 3 and alarm["TreatMissingData"] == "notBreaching"
        assert alarm["Threshold"] == 20_000.0  # no traffic yet: the floor
    assert len(org.alarms(a, R1)) == 2  # nothing else armed there
    # and FinOps hears of the two non-compliant profiles, once
    events = org.finops_events()
    assert sorted(e["detail"]["profile_arn"] for e in events) == sorted([arns["untagged"], arns["ghost"]])
    assert all(e["source"] == "tokenfuse.inventory" for e in events)
    _, _, again = org.sweep()
    assert again == {"batchItemFailures": []}
    assert org.finops_events() == []


def test_sweep_arms_from_the_baseline_when_a_profile_has_traffic(seeded):
    org, arns = seeded
    a, _ = org.members
    pid = _id(arns["search"])
    from datetime import timedelta

    from tokenfuse import clock

    cw = org.session(a).client("cloudwatch", region_name=R1)
    now = clock.now().replace(second=0, microsecond=0)
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {"MetricName": "OutputTokenCount", "Dimensions": [{"Name": "ModelId", "Value": pid}],
             "Timestamp": now - timedelta(minutes=10 + i), "Value": 9_000.0, "Unit": "Count"}
            for i in range(20)
        ],
    )  # fmt: skip
    org.sweep()
    alarms = org.alarms(a, R1)
    assert alarms[f"tokenfuse-{pid}-output-tokens"]["Threshold"] == 45_000.0  # 5 x p95 (9,000)
    assert alarms[f"tokenfuse-{pid}-input-tokens"]["Threshold"] == 100_000.0  # no input data: the floor
    assert get_profile_record(arns["search"]).alarm_thresholds["OutputTokenCount"] == 45_000.0


def test_cloudtrail_events_keep_inventory_and_alarms_exact(seeded):
    org, arns = seeded
    a, b = org.members
    org.sweep()
    org.finops_events()
    # Created: a new untagged profile is recorded with its creator, armed, and reported with the creator
    creator = f"arn:aws:sts::{b}:assumed-role/ml-engineer/alice"
    new = org.create(b, R2, "late-night-experiment")
    result = org.invoke(cloudtrail("cloudtrail-create-inference-profile.json", new, creator))
    assert result == {"profile_arn": new, "action": "upserted", "compliant": False}
    record = get_profile_record(new)
    assert record.creator == creator and record.region == R2 and record.account_id == b
    assert {f"tokenfuse-{_id(new)}-output-tokens", f"tokenfuse-{_id(new)}-input-tokens"} <= set(
        org.alarms(b, R2)
    )
    [event] = org.finops_events()
    assert event["detail"]["profile_arn"] == new and event["detail"]["creator"] == creator
    # Retagged: the untagged profile gets its tags and becomes compliant (and keeps no stale owner)
    org.bedrock(a, R2).tag_resource(
        resourceARN=arns["untagged"],
        tags=[{"key": "team", "value": "search"}, {"key": "environment", "value": "prod"}],
    )
    org.invoke(cloudtrail("cloudtrail-tag-inference-profile.json", arns["untagged"]))
    fixed = get_profile_record(arns["untagged"])
    assert (fixed.team, fixed.compliance.compliant) == ("search", True)
    # Retagged to an unknown team: non-compliant again, reported again
    org.bedrock(a, R1).tag_resource(resourceARN=arns["search"], tags=[{"key": "team", "value": "nobody"}])
    org.invoke(cloudtrail("cloudtrail-tag-inference-profile.json", arns["search"]))
    assert get_profile_record(arns["search"]).compliance.unknown_team
    assert [e["detail"]["profile_arn"] for e in org.finops_events()] == [arns["search"]]
    # Untagged: a mandatory key removed
    org.bedrock(b, R2).untag_resource(resourceARN=arns["ranking"], tagKeys=["environment"])
    org.invoke(cloudtrail("cloudtrail-untag-inference-profile.json", arns["ranking"]))
    assert get_profile_record(arns["ranking"]).compliance.missing_tags == ["environment"]
    assert [e["detail"]["missing_tags"] for e in org.finops_events()] == [["environment"]]
    # Deleted: record and both alarms gone
    org.bedrock(b, R1).delete_inference_profile(inferenceProfileIdentifier=arns["ghost"])
    result = org.invoke(cloudtrail("cloudtrail-delete-inference-profile.json", arns["ghost"]))
    assert result["action"] == "deleted"
    assert get_profile_record(arns["ghost"]) is None
    assert not [n for n in org.alarms(b, R1) if _id(arns["ghost"]) in n]
    # A later sweep agrees with what the events did (nothing to add, nothing to report)
    _, _, response = org.sweep()
    assert response == {"batchItemFailures": []}
    assert len(_table()) == 5
    assert org.finops_events() == []
    assert get_profile_record(new).creator == creator  # the sweep keeps what CloudTrail said


def test_sweep_removes_profiles_deleted_without_an_event(seeded):
    org, arns = seeded
    a, _ = org.members
    org.sweep()
    org.bedrock(a, R2).delete_inference_profile(inferenceProfileIdentifier=arns["untagged"])
    org.sweep()
    assert get_profile_record(arns["untagged"]) is None
    assert org.alarms(a, R2) == {}
    assert len(_table()) == 4


def test_one_failing_account_is_reported_alone(seeded, monkeypatch, capsys, caplog):
    org, arns = seeded
    _, b = org.members
    real = aws_adapter.assume_role

    def assume(role_arn, session_name="tokenfuse", base=None):
        if f":{b}:" in role_arn:
            raise AccessDenied(f"User is not authorized to perform sts:AssumeRole on {role_arn}")
        return real(role_arn, session_name, base)

    monkeypatch.setattr(aws_adapter, "assume_role", assume)
    org.invoke(schedule_event())
    messages = org.sweep_messages()
    failing = next(m["MessageId"] for m in messages if json.loads(m["Body"])["account_id"] == b)
    capsys.readouterr()
    # When
    response = org.invoke(sqs_event(messages))
    # Then only that account's message is returned to the queue (to be retried, then dead-lettered)
    assert response == {"batchItemFailures": [{"itemIdentifier": failing}]}
    # and the others are swept
    assert get_profile_record(arns["search"]) is not None
    assert get_profile_record(arns["tooling"]) is not None
    assert get_profile_record(arns["ghost"]) is None
    # and the failure is counted and logged with the account
    assert f"inventory sweep of account {b} failed" in caplog.text
    assert '"InventorySweepFailures":[1.0]' in capsys.readouterr().out


def test_daily_schedule_publishes_the_attributable_percent(org, capsys):
    # Given yesterday's Bedrock cost by team tag as Cost Explorer answers it
    def group(key, amount):
        return {"Keys": [key], "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}

    ce_backends[TOOLING]["global"].cost_usage_results_queue.append(
        {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": "2026-11-26", "End": "2026-11-27"},
                    "Total": {},
                    "Groups": [
                        group("team$search", 412.5),
                        group("team$ranking-eng", 87.5),
                        group("team$", 250.0),
                        group("team$ghost", 250.0),
                    ],
                    "Estimated": True,
                }
            ]
        }
    )
    capsys.readouterr()
    # When
    result = org.invoke(schedule_event())
    # Then (412.5 + 87.5) / 1000 = 50 %: untagged and unknown-team spend are not attributable
    assert result["attributable_percent"] == 50.0
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    published = [m for m in emf if "AttributablePercent" in m]
    assert published
    assert published[-1]["AttributablePercent"] in (50.0, [50.0])
    directive = published[-1]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Tokenfuse" and ["service"] in directive["Dimensions"]
    assert published[-1]["service"] == "tokenfuse"


def test_non_profile_cloudtrail_event_is_ignored(org):
    event = cloudtrail(
        "cloudtrail-tag-inference-profile.json",
        f"arn:aws:bedrock:{R1}:{TOOLING}:application-inference-profile/x",
    )
    event["detail"]["requestParameters"]["resourceARN"] = f"arn:aws:bedrock:{R1}:{TOOLING}:guardrail/abc"
    assert "ignored" in org.invoke(event)


def test_a_new_profile_is_armed_by_one_run_and_its_alarm_fires_on_a_storm(seeded):
    """The armed definition, evaluated by the sandbox's alarm emulation, goes to ALARM on a loop."""
    from datetime import timedelta

    from tokenfuse import clock
    from tokenfuse_sandbox.emulation.alarms import AlarmEvaluator

    org, _ = seeded
    _, b = org.members
    arn = org.create(b, R2, "runaway-loop", {"team": "search", "environment": "prod"})
    # When one inventory run sees its CloudTrail event
    org.invoke(cloudtrail("cloudtrail-create-inference-profile.json", arn))
    pid = _id(arn)
    assert f"tokenfuse-{pid}-output-tokens" in org.alarms(b, R2)
    # and the profile then emits 50,000 output tokens a minute (floor: 20,000) for 3 minutes
    now = clock.now().replace(second=0, microsecond=0)
    cw = org.session(b).client("cloudwatch", region_name=R2)
    cw.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {"MetricName": "OutputTokenCount", "Dimensions": [{"Name": "ModelId", "Value": pid}],
             "Timestamp": now - timedelta(minutes=m, seconds=-30), "Value": 50_000.0, "Unit": "Count"}
            for m in (1, 2, 3)
        ],
    )  # fmt: skip
    changes = AlarmEvaluator(lambda: now).evaluate(account_id=b, region=R2)
    # Then its output-token alarm goes to ALARM (the input-token one has no data: not breaching)
    fired = {c.alarm_name: c.new_state for c in changes}
    assert fired.get(f"tokenfuse-{pid}-output-tokens") == "ALARM"
    assert fired.get(f"tokenfuse-{pid}-input-tokens") in (None, "OK")


def test_a_denied_region_is_skipped_and_keeps_its_records(seeded, monkeypatch):
    org, arns = seeded
    org.sweep()
    real = service.bedrock_api.iter_application_profiles

    def listing(client, page_size=1000):
        if client.meta.region_name == R2:
            raise AccessDenied("explicit deny in a service control policy")
        return real(client, page_size)

    monkeypatch.setattr(service.bedrock_api, "iter_application_profiles", listing)
    _, _, response = org.sweep()
    assert response == {"batchItemFailures": []}
    assert get_profile_record(arns["untagged"]) is not None  # R2: not swept, not deleted
    assert get_profile_record(arns["ranking"]) is not None
    assert len(_table()) == 5
