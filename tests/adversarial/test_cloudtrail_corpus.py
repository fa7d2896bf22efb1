"""Adversarial corpus: CloudTrail events (and anything else) to the inventory function.

Every case goes through the real handler (functions/inventory/app.py) under moto, against one live,
recorded, armed profile P. Each case ends one of two ways, and the test says which:
- ignored: the handler answers ``{"ignored": reason}`` (CloudTrail) or ``{"refused": reason}``
  (anything else), logs exactly that reason in one warning line (printable, bounded), and nothing
  changed: the inventory table and the alarms are as they were, no sweep message, nothing on the bus;
- accepted: the change the event names, on P alone.

Cases are written out (path traversal, other accounts and regions, foundation-model and system
profile ARNs, failed calls, oversized, non-ASCII and control characters, unknown names and shapes)
and made by ``mutations()`` of the real samples in events/cloudtrail-*.json; a hypothesis test
throws unicode and nested JSON at the parser itself.
"""

import copy
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.adversarial import (
    CALENDAR_EDGES,
    HOSTILE_STRINGS,
    OVERSIZED,
    deeply_nested,
    json_values,
    mutations,
    unicode_text,
)
from tests.support.handlers import load_handler
from tests.support.inventory_aws import TABLE, inventory_aws
from tests.support.lambda_context import FakeContext
from tests.support.moto_state import alarm_thresholds, table_items
from tokenfuse.inventory.cloudtrail import ProfileChange
from tokenfuse.inventory.triggers import read_trigger

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ACCOUNT, OTHER_ACCOUNT = "123456789012", "210987654321"
R1, R2 = "us-east-1", "us-west-2"
MODEL = f"arn:aws:bedrock:{R1}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
TEAMS_YAML = "teams:\n  - name: search\n    slack_channel: C0123ABCDE\nfinops:\n  slack_channel: C0FINOPS00\n"
SAMPLES = sorted(p.name for p in EVENTS.glob("cloudtrail-*.json"))
# The profile id shape, written here from the Bedrock docs and public ARNs (12 lowercase letters or
# digits), not taken from tokenfuse: what the hypothesis test holds the parser to.
PROFILE_ID = re.compile(r"[a-z0-9]{12}")
SAMPLE_PROFILE_ARN = re.compile(
    r"arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/[a-z0-9]{12}"
)


class World:
    """moto with one live profile P in ACCOUNT/R1, recorded and armed by the inventory itself."""

    def __init__(self, sweep_queue: str, bus_queue: str) -> None:
        self.handler = load_handler("inventory").lambda_handler
        self.bedrock = boto3.client("bedrock", R1)
        self.dynamodb = boto3.client("dynamodb", R1)
        self.sqs = boto3.client("sqs", R1)
        self.sweep_queue, self.bus_queue = sweep_queue, bus_queue
        self.profile_arn = self.bedrock.create_inference_profile(
            inferenceProfileName="search-answers",
            modelSource={"copyFrom": MODEL},
            tags=[{"key": "team", "value": "search"}, {"key": "environment", "value": "prod"}],
        )["inferenceProfileArn"]
        self.profile_id = self.profile_arn.rsplit("/", 1)[1]

    def invoke(self, event: Any) -> Any:
        return self.handler(event, FakeContext("tokenfuse-inventory-dev", account=ACCOUNT))

    def ensure_recorded(self) -> None:
        """P in the table with both alarms (after a case that deleted them)."""
        if self.record() is None:
            result = self.invoke(sample("cloudtrail-create-inference-profile.json", self.profile_arn))
            assert result["action"] == "upserted", result
            assert self.record() is not None
        self.drain(self.bus_queue)

    def record(self) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=TABLE, Key={"profile_arn": {"S": self.profile_arn}})
        return item.get("Item")

    # The state a case must leave as it was, read from moto's own state (what DescribeAlarms and a
    # Scan would answer, without serializing it twice for every case)
    def alarms(self) -> dict[str, list[tuple[str, float]]]:
        return {region: alarm_thresholds(region, ACCOUNT) for region in (R1, R2)}

    def table(self) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True) for item in table_items(TABLE, R1, ACCOUNT))

    def drain(self, queue: str) -> list[str]:
        bodies = []
        while messages := self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def state(self) -> tuple[list[str], dict[str, list[tuple[str, float]]]]:
        return self.table(), self.alarms()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch, inventory_aws(patch, TEAMS_YAML, f"{R1},{R2}") as aws:
        yield World(aws.sweep_queue, aws.bus_tap)


def sample(name: str, arn: str) -> dict[str, Any]:
    """A sample re-pointed at ``arn`` in ACCOUNT/R1 (only the fields a real record of it would change)."""
    event = json.loads((EVENTS / name).read_text())
    event["account"], event["region"] = ACCOUNT, R1
    detail = event["detail"]
    detail["awsRegion"], detail["recipientAccountId"] = R1, ACCOUNT
    detail["userIdentity"]["arn"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-deployer/jdoe"
    if detail.get("errorCode"):
        return event
    if detail["eventName"] == "CreateInferenceProfile":
        detail["responseElements"]["inferenceProfileArn"] = arn
    elif detail["eventName"] == "DeleteInferenceProfile":
        identifier = detail["requestParameters"]["inferenceProfileIdentifier"]
        detail["requestParameters"]["inferenceProfileIdentifier"] = (
            arn if identifier.startswith("arn:") else arn.rsplit("/", 1)[1]
        )
    else:
        detail["requestParameters"]["resourceARN"] = arn
    return event


def identifier_path(event: dict[str, Any]) -> tuple[str, ...]:
    name = event["detail"]["eventName"]
    if name == "CreateInferenceProfile":
        return ("detail", "responseElements", "inferenceProfileArn")
    if name == "DeleteInferenceProfile":
        return ("detail", "requestParameters", "inferenceProfileIdentifier")
    return ("detail", "requestParameters", "resourceARN")


def with_value(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "tokenfuse"]


def assert_ignored(world: World, event: Any, caplog: pytest.LogCaptureFixture, *, why: str) -> str:
    """The event changes nothing and is ignored with one printable, bounded line containing ``why``."""
    before = world.state()
    caplog.clear()
    result = world.invoke(event)
    assert isinstance(result, dict) and len(result) == 1, result
    ((key, reason),) = result.items()
    assert key in ("ignored", "refused"), result
    assert why in reason, reason
    [line] = warnings_of(caplog)
    assert line.getMessage().endswith(f"ignored: {reason}")
    assert line.getMessage().isprintable() and len(reason) <= 300, reason
    assert world.state() == before
    assert world.drain(world.sweep_queue) == [], "an ignored event started the sweep"
    assert world.drain(world.bus_queue) == [], "an ignored event put something on the bus"
    return reason


def arn_in(account: str = ACCOUNT, region: str = R1, profile_id: str = "k2x7q9m4ab1c") -> str:
    return f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{profile_id}"


# --- identifiers that must never reach a key, an ARN or an alarm name -------------------------------

TAG = "cloudtrail-tag-inference-profile.json"
DELETE = "cloudtrail-delete-inference-profile.json"
CREATE = "cloudtrail-create-inference-profile.json"
FOUNDATION_MODEL = f"arn:aws:bedrock:{R1}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"

HOSTILE_IDENTIFIERS = {
    "traversal to a foundation model": (
        "{arn}/../../foundation-model/anthropic.claude-3-haiku",
        "not an application",
    ),
    "traversal ending in the live id": (
        arn_in(profile_id="zz9zz9zz9zz9") + "/../../foundation-model/{pid}",
        "not an application",
    ),
    "traversal in an id": ("{pid}/../../foundation-model/x", "not an application"),
    "dot segments before the id": (
        f"arn:aws:bedrock:{R1}:{ACCOUNT}:application-inference-profile/../application-inference-profile/{{pid}}",
        "not an application",
    ),
    "encoded traversal": ("{arn}%2F..%2F..%2Ffoundation-model%2Fx", "not an application"),
    "another account": (arn_in(account=OTHER_ACCOUNT, profile_id="{pid}"), f"account {ACCOUNT}"),
    "another region": (arn_in(region=R2, profile_id="{pid}"), f"in {R1}"),
    "another partition": (
        f"arn:aws-cn:bedrock:{R1}:{ACCOUNT}:application-inference-profile/{{pid}}",
        "account",
    ),
    "a foundation model": (FOUNDATION_MODEL, "not an application"),
    "a system inference profile": (
        f"arn:aws:bedrock:{R1}:{ACCOUNT}:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0",
        "not an application",
    ),
    "a guardrail": (f"arn:aws:bedrock:{R1}:{ACCOUNT}:guardrail/abc123", "not an application"),
    "an id of the wrong length": ("abc", "not an application"),
    "an uppercase id": ("K2X7Q9M4AB1C", "not an application"),
    "full-width digits in the id": ("k2x7q9m4ab\uff11\uff12", "not an application"),
    "arabic-indic digits in the account": (
        arn_in(account="\u0661" * 12, profile_id="{pid}"),
        "not an application",
    ),
    "a newline after the id": ("{arn}\n", "not an application"),
    "terminal escape codes": ("\x1b[31m{pid}\x1b[0m", "not an application"),
    "a NUL byte": ("{pid}\x00", "not an application"),
    "right-to-left override": ("\u202e{pid}", "not an application"),
    "oversized": (f"{{arn}}{OVERSIZED * 3}", "characters long"),
    "empty": ("", "names no inference profile"),
    "a list": (["{arn}"], "not a string"),
    "an object": ({"arn": "{arn}"}, "not a string"),
    "a number": (123456789012, "not a string"),
    "nested JSON": (json.loads(deeply_nested(60)), "not a string"),
}


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return value.replace("{arn}", world.profile_arn).replace("{pid}", world.profile_id)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize("file", [TAG, DELETE])
@pytest.mark.parametrize("case", sorted(HOSTILE_IDENTIFIERS))
def test_hostile_identifier_changes_nothing(world, caplog, file, case):
    world.ensure_recorded()
    raw, why = HOSTILE_IDENTIFIERS[case]
    event = sample(file, world.profile_arn)
    event = with_value(event, identifier_path(event), _fill(raw, world))
    reason = assert_ignored(world, event, caplog, why=why)
    assert world.record() is not None  # P keeps its record and its alarms
    assert "\n" not in reason and "\x1b" not in reason and "\x00" not in reason


# --- calls that changed nothing -----------------------------------------------------------------------


def _detail(**changes: Any) -> Any:
    def change(event: dict[str, Any]) -> dict[str, Any]:
        event["detail"].update(changes)
        return event

    return change


NOT_A_CHANGE = {
    "errorCode set on a delete": (DELETE, _detail(errorCode="AccessDenied", errorMessage="denied"), "failed"),
    "errorCode set on a tag": (TAG, _detail(errorCode="ThrottlingException"), "failed"),
    "an empty errorCode": (DELETE, _detail(errorCode=""), "failed"),
    "read-only": (DELETE, _detail(readOnly=True), "read-only"),
    "a console action, not an API call": (DELETE, _detail(eventType="AwsConsoleAction"), "not an API call"),
    "unknown eventName": (DELETE, _detail(eventName="DeleteGuardrail"), "not an inference-profile change"),
    "a read call": (TAG, _detail(eventName="GetInferenceProfile"), "not an inference-profile change"),
    "eventName with control characters": (DELETE, _detail(eventName="Delete\nInferenceProfile"), "\\x0a"),
    "another service": (DELETE, _detail(eventSource="iam.amazonaws.com"), "eventSource"),
    "recorded for another account": (
        DELETE,
        _detail(recipientAccountId=OTHER_ACCOUNT),
        "recorded for account",
    ),
    "recorded in another region": (DELETE, _detail(awsRegion=R2), f"recorded in {R2}"),
    "an unknown region": (
        DELETE,
        lambda e: {**e, "region": "xx-nowhere-1", "detail": {**e["detail"], "awsRegion": "xx-nowhere-1"}},
        "unknown region",
    ),
    "no requestParameters": (DELETE, _detail(requestParameters=None), "names no inference profile"),
    "requestParameters a string": (DELETE, _detail(requestParameters="arn"), "requestParameters"),
    "detail a string": (DELETE, lambda e: {**e, "detail": "{}"}, "detail"),
    "detail missing": (DELETE, lambda e: {k: v for k, v in e.items() if k != "detail"}, "detail"),
    "account missing": (DELETE, lambda e: {k: v for k, v in e.items() if k != "account"}, "account"),
    "account with letters": (DELETE, lambda e: {**e, "account": "44445555666x"}, "account"),
    "another source": (DELETE, lambda e: {**e, "source": "tokenfuse.inventory"}, "source"),
    "creator is not an IAM ARN": (
        CREATE,
        lambda e: {**e, "detail": {**e["detail"], "userIdentity": {"arn": "evil\nuser"}}},
        "not an IAM or STS ARN",
    ),
    "create without responseElements": (CREATE, _detail(responseElements=None), "names no inference profile"),
    "eventTime past the calendar": (DELETE, _detail(eventTime="9999-12-31T25:00:00Z"), "eventTime"),
}


@pytest.mark.parametrize("case", sorted(NOT_A_CHANGE))
def test_event_that_changes_nothing(world, caplog, case):
    world.ensure_recorded()
    file, mutate, why = NOT_A_CHANGE[case]
    assert_ignored(world, mutate(sample(file, world.profile_arn)), caplog, why=why)
    assert world.record() is not None


def test_the_real_failed_call_sample_is_ignored(world, caplog):
    world.ensure_recorded()
    event = sample("cloudtrail-create-inference-profile-denied.json", world.profile_arn)
    assert_ignored(world, event, caplog, why="failed (AccessDeniedException)")


# --- shapes the inventory does not know never start the sweep -----------------------------------------

SCHEDULED_EVENT = {
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": ACCOUNT, "time": "2026-11-27T05:15:00Z", "region": R1,
    "resources": [f"arn:aws:events:{R1}:{ACCOUNT}:rule/someone-elses-rule"], "detail": {},
}  # fmt: skip
SCHEDULE = json.loads((EVENTS / "inventory-schedule.json").read_text())

UNKNOWN_SHAPES = {
    "an empty object": ({}, "unknown event shape"),
    "a list": ([], "is a list"),
    "a string": ("daily-sweep", "is a str"),
    "null": (None, "is a NoneType"),
    "a number": (10**20, "is a int"),
    "an EventBridge rule's Scheduled Event": (SCHEDULED_EVENT, "unknown event shape"),
    "the old schedule input": ({"action": "daily-sweep"}, "schedule_arn"),
    "a schedule input with another action": ({**SCHEDULE, "action": "sweep-everything"}, "action"),
    "a schedule input with a forged ARN": ({**SCHEDULE, "schedule_arn": "arn:aws:events:x"}, "schedule_arn"),
    "a schedule input with extra keys": ({**SCHEDULE, "accounts": ["all"]}, "accounts"),
    "a schedule time at the calendar's edge": (
        {**SCHEDULE, "scheduled_time": CALENDAR_EDGES[1]},
        "scheduled_time",
    ),
    "no Records": ({"Records": []}, "at least 1"),
    "Records a string": ({"Records": "x"}, "Records"),
    "an SNS event": (
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
        "SQS event",
    ),
    "an SQS record without messageId": (
        {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
        "SQS event",
    ),
    "a CloudTrail event for another service": (
        {**SCHEDULED_EVENT, "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam"},
        "source",
    ),
    "keys with control characters": ({"\x1b[2J": 1, "line\nbreak": 2}, "\\x1b"),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_SHAPES))
def test_unknown_shape_never_sweeps(world, caplog, case):
    world.ensure_recorded()
    event, why = UNKNOWN_SHAPES[case]
    assert_ignored(world, copy.deepcopy(event), caplog, why=why)


def test_the_schedule_sweeps(world, caplog):
    """The control: the schedule's real input does fan the sweep out (one message: this account)."""
    world.ensure_recorded()
    event = {**SCHEDULE, "schedule_arn": SCHEDULE["schedule_arn"].replace("111122223333", ACCOUNT)}
    result = world.invoke(event)
    assert result["accounts"] == 1
    [body] = world.drain(world.sweep_queue)
    assert json.loads(body)["account_id"] == ACCOUNT


# --- malformed sweep records dead-letter alone -------------------------------------------------------


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    return {
        "messageId": message_id, "receiptHandle": "AQEB" + message_id, "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795763700000",
                       "SenderId": "AROAEXAMPLEID87654321:tokenfuse-inventory-dev",
                       "ApproximateFirstReceiveTimestamp": "1795763700120"},
        "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{R1}:{ACCOUNT}:tokenfuse-inventory-sweep-dev", "awsRegion": R1,
    }  # fmt: skip


BAD_BODIES = {
    "not JSON": ("account 123456789012", "Invalid JSON"),
    "a JSON list": ('["123456789012"]', "body"),
    "no account_id": ('{"regions": ["us-east-1"]}', "account_id"),
    "account_id a number": ('{"account_id": 123456789012}', "account_id"),
    "account_id traversal": ('{"account_id": "../123456789012"}', "account_id"),
    "a region that is a URL": ('{"account_id": "123456789012", "regions": ["evil.example.com/"]}', "regions"),
    "regions a string": ('{"account_id": "123456789012", "regions": "us-east-1"}', "regions"),
    "nested too deep": (deeply_nested(), "body"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_sweep_body_fails_alone(world, caplog, case):
    """The bad record is reported as a batch item failure (retried, then dead-lettered); the good
    record beside it is swept; one error line says why."""
    world.ensure_recorded()
    body, why = BAD_BODIES[case]
    good = json.dumps({"account_id": ACCOUNT, "regions": [R1], "sweep_id": "corpus-1"})
    caplog.clear()
    result = world.invoke({"Records": [sqs_record(body, "bad-1"), sqs_record(good, "good-1")]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    [line] = [r for r in warnings_of(caplog) if "refused" in r.getMessage()]
    assert line.getMessage().startswith("sweep message refused: ") and why in line.getMessage()
    assert line.getMessage().isprintable()
    assert world.record() is not None  # the good record's sweep kept P


# --- accepted: the change the event names, on P alone ------------------------------------------------


def test_unknown_extra_fields_are_accepted(world, caplog):
    world.ensure_recorded()
    event = sample(TAG, world.profile_arn)
    event["newEnvelopeField"] = {"added": "by AWS"}
    event["detail"]["sessionCredentialFromConsole"] = "true"
    event["detail"]["requestParameters"]["someNewParameter"] = json.loads(deeply_nested(40))
    event["detail"]["eventTime"] = CALENDAR_EDGES[5]  # 0001-01-01T00:00:00+14:00: kept, never shifted
    alarms = world.alarms()
    assert world.invoke(event) == {"profile_arn": world.profile_arn, "action": "upserted", "compliant": True}
    assert world.alarms() == alarms
    assert warnings_of(caplog) == []


@pytest.mark.parametrize("form", ["arn", "id"])
def test_delete_by_arn_or_id_removes_that_profile_only(world, form):
    world.ensure_recorded()
    other = arn_in(profile_id="zz9zz9zz9zz9")  # a record of another profile in the same account
    item = {"profile_arn": {"S": other}, "account_id": {"S": ACCOUNT}, "region": {"S": R1}}
    world.dynamodb.put_item(TableName=TABLE, Item=item)
    try:
        file = DELETE if form == "arn" else "cloudtrail-delete-inference-profile-by-id.json"
        event = sample(file, world.profile_arn)
        expected = world.profile_arn if form == "arn" else world.profile_id
        assert event["detail"]["requestParameters"]["inferenceProfileIdentifier"] == expected
        assert world.invoke(event) == {
            "profile_arn": world.profile_arn,
            "action": "deleted",
            "compliant": None,
        }
        assert world.record() is None
        assert not [name for name, _ in world.alarms()[R1] if world.profile_id in name]
        assert world.dynamodb.get_item(TableName=TABLE, Key={"profile_arn": {"S": other}}).get("Item")
    finally:
        world.dynamodb.delete_item(TableName=TABLE, Key={"profile_arn": {"S": other}})


# --- mutations of the real samples -------------------------------------------------------------------

# The fields that say which profile, where, and whether the call happened: any mutation of these must
# be ignored, except leaving out (or nulling) the ones CloudTrail itself may omit.
IDENTITY = {"source", "detail-type", "account", "region", "detail", "detail/eventName", "detail/eventSource",
            "detail/awsRegion", "detail/recipientAccountId", "detail/readOnly"}  # fmt: skip
OPTIONAL = {"detail/recipientAccountId", "detail/readOnly"}
ALSO_MUTATED = {"detail/eventTime", "detail/userIdentity/arn", "detail/userAgent", "id", "time"}


PLACEHOLDER_ID = "placeholder1"  # 12 lowercase letters or digits: a real id's shape
# IDENTITY (but the event's name) is read the same way whatever the call, before anything is done,
# so its mutations are made of one sample; the event's name, ALSO_MUTATED (accepted: each call's
# own change is made) and the identifier with its parent are mutated in every sample. Branch
# coverage of the layer and the handlers is the same as with all of them in all five samples
# (575 cases then, 335 now).
ENVELOPE_SAMPLE = "cloudtrail-create-inference-profile.json"
PER_CALL = ALSO_MUTATED | {"detail/eventName"}


def _mutation_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(sample, label, mutated event) for the mutations of each sample that touch PER_CALL, the
    identifier and its parent, plus those that touch IDENTITY in ENVELOPE_SAMPLE; the events name P
    by PLACEHOLDER_ID."""
    cases = []
    for file in SAMPLES:
        event = sample(file, arn_in(profile_id=PLACEHOLDER_ID))
        if event["detail"].get("errorCode"):
            continue
        where = "/".join(identifier_path(event))
        fields = IDENTITY | PER_CALL if file == ENVELOPE_SAMPLE else PER_CALL
        keep = fields | {where, where.rsplit("/", 1)[0]}
        cases += [
            (file, label, mutated) for label, mutated in mutations(event) if label.split(" ")[0] in keep
        ]
    return cases


MUTATIONS = _mutation_cases()


def _pointed_at(value: Any, profile_id: str) -> Any:
    """``value`` with PLACEHOLDER_ID replaced by ``profile_id`` in every string."""
    if isinstance(value, str):
        return value.replace(PLACEHOLDER_ID, profile_id)
    if isinstance(value, list):
        return [_pointed_at(v, profile_id) for v in value]
    if isinstance(value, dict):
        return {k: _pointed_at(v, profile_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("file", "label", "mutated"), MUTATIONS, ids=[f"{f}:{lb}" for f, lb, _ in MUTATIONS])
def test_mutated_sample(world, caplog, file, label, mutated):
    world.ensure_recorded()
    event = _pointed_at(mutated, world.profile_id)
    path = label.split(" ")[0]
    where = "/".join(identifier_path(sample(file, world.profile_arn)))
    optional_left_out = path in OPTIONAL and (label.endswith(" deleted") or label.endswith(" as null"))
    must_ignore = (path in IDENTITY or path in (where, where.rsplit("/", 1)[0])) and not optional_left_out
    table, alarms = world.state()
    caplog.clear()
    result = world.invoke(event)
    if "ignored" in result or "refused" in result:
        reason = result.get("ignored") or result.get("refused")
        [line] = warnings_of(caplog)
        assert line.getMessage().isprintable() and reason in line.getMessage()
        assert world.state() == (table, alarms)
    else:
        assert not must_ignore, f"{label} was accepted: {result}"
        # accepted: the change names P, and only P changed
        assert result["profile_arn"] == world.profile_arn, result
        others = [i for i in world.table() if world.profile_arn not in i]
        assert others == [i for i in table if world.profile_arn not in i]
        if result["action"] == "deleted":
            assert world.record() is None
    assert world.drain(world.sweep_queue) == []


def test_the_corpus_is_big_enough():
    written = len(HOSTILE_IDENTIFIERS) * 2 + len(NOT_A_CHANGE) + len(UNKNOWN_SHAPES) + len(BAD_BODIES) + 4
    assert written >= 30 and len(MUTATIONS) >= 30, (written, len(MUTATIONS))


# --- the parser alone, with hypothesis ---------------------------------------------------------------


@given(
    identifier=st.one_of(
        unicode_text,
        json_values,
        st.sampled_from(HOSTILE_STRINGS),
        st.from_regex(r"[a-z0-9]{12}", fullmatch=True),
        st.from_regex(
            r"arn:aws:bedrock:us-east-1:[0-9]{12}:application-inference-profile/[a-z0-9]{6,14}",
            fullmatch=True,
        ),
    )
)
def test_any_identifier_is_refused_or_a_real_profile_id(identifier):
    event = json.loads((EVENTS / DELETE).read_text())
    event["detail"]["requestParameters"]["inferenceProfileIdentifier"] = identifier
    trigger = read_trigger(event)
    if isinstance(trigger, ProfileChange):
        assert isinstance(identifier, str)
        assert PROFILE_ID.fullmatch(identifier) or SAMPLE_PROFILE_ARN.fullmatch(identifier)
        assert trigger.profile_arn.rsplit("/", 1)[1] == trigger.profile_id
        assert PROFILE_ID.fullmatch(trigger.profile_id)


@given(detail=json_values, envelope=json_values)
def test_any_json_never_raises(detail, envelope):
    event = json.loads((EVENTS / TAG).read_text())
    event["detail"]["requestParameters"] = detail
    assert read_trigger(event) is not None
    assert read_trigger(envelope) is not None
