"""The meter's reading of invocation-log deliveries: what it keeps (ids, counts, caller, model,
region), what it refuses (one line each), and that prompt and completion text is never kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.support.meter_payloads import (
    PROFILE_ARN,
    ROLE_ARN,
    SAMPLE_DECODED,
    SAMPLE_EVENT,
    delivery,
    encode,
    record,
)
from tokenfuse.arns import caller_role_arn
from tokenfuse.meter.records import DeliveryRefused, RecordRefused, decode, parse_record, read_delivery

AT = datetime(2026, 11, 25, 14, 0, 1, tzinfo=UTC)


def test_the_sample_event_is_the_readable_fixture_encoded() -> None:
    # Given the sample as AWS sends it, When decoded, Then it is the readable fixture
    decoded, size = decode(json.loads(SAMPLE_EVENT.read_text()))
    fixture = json.loads(SAMPLE_DECODED.read_text())
    assert [json.loads(str(e.message)) for e in decoded.logEvents] == [
        e["message"] for e in fixture["logEvents"]
    ]
    assert decoded.owner == "444455556666" and size > 1000


def test_the_sample_delivery_keeps_ids_counts_caller_model_and_region() -> None:
    got = read_delivery(json.loads(SAMPLE_EVENT.read_text()))
    assert got.refusals == () and got.events == 4
    first, with_text, direct, system = got.records
    assert (first.request_id, first.operation, first.model_id) == (
        "5f0c3a8e-6a47-4f2b-9a51-3c1d2e4f5a60",
        "Converse",
        PROFILE_ARN,
    )
    assert first.caller_arn == ROLE_ARN and first.profile_arn == PROFILE_ARN
    assert (first.input_tokens, first.output_tokens, first.cache_read_tokens) == (1200, 800, 0)
    # cache counts only in the response body's usage (text delivery on): read from there
    assert (with_text.input_tokens, with_text.output_tokens, with_text.cache_read_tokens) == (300, 500, 2048)
    assert direct.caller_arn == "arn:aws:iam::444455556666:user/data-scientist" and direct.profile_arn is None
    assert system.model_id == "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    assert system.inference_region == "us-east-2" and system.region == "us-east-1"


def test_no_text_is_kept_from_a_record_with_text_delivery_on() -> None:
    got = read_delivery(json.loads(SAMPLE_EVENT.read_text()))
    kept = json.dumps([r.as_json() for r in got.records]) + repr(got.records)
    assert "MUST-NOT-LEAK" not in kept
    assert "order 4411" not in kept


@pytest.mark.parametrize(
    ("session", "role"),
    [
        ("arn:aws:sts::444455556666:assumed-role/support-agent-runtime/i-0abc", ROLE_ARN),
        (
            "arn:aws:sts::444455556666:assumed-role/a.b-c_d@e/botocore-session-1",
            "arn:aws:iam::444455556666:role/a.b-c_d@e",
        ),
        ("arn:aws-us-gov:sts::444455556666:assumed-role/r/s", "arn:aws-us-gov:iam::444455556666:role/r"),
        ("arn:aws:iam::444455556666:user/dev/alice", "arn:aws:iam::444455556666:user/dev/alice"),
        ("arn:aws:iam::444455556666:root", "arn:aws:iam::444455556666:root"),
        ("arn:aws:sts::444455556666:federated-user/bob", None),
        ("not-an-arn", None),
    ],
)
def test_a_session_arn_maps_to_its_role(session: str, role: str | None) -> None:
    assert caller_role_arn(session) == role


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r.pop("input"), "input"),
        (lambda r: r["input"].update(inputTokenCount=-1), "input.inputTokenCount"),
        (lambda r: r["input"].update(inputTokenCount=True), "input.inputTokenCount"),
        (lambda r: r["input"].update(inputTokenCount="12"), "input.inputTokenCount"),
        (lambda r: r["output"].update(outputTokenCount=10**12), "output.outputTokenCount"),
        (lambda r: r.update(schemaType="SomethingElse"), "schemaType"),
        (lambda r: r.update(accountId="12345"), "accountId"),
        (lambda r: r.update(region="Mars"), "region"),
        (lambda r: r.update(timestamp="yesterday"), "timestamp"),
        (lambda r: r.update(identity={"arn": "arn:aws:sts::444455556666:federated-user/x"}), "identity.arn"),
        (lambda r: r.update(modelId=""), "modelId"),
    ],
)
def test_a_bad_record_is_refused_in_one_line_naming_the_field(change, named: str) -> None:  # type: ignore[no-untyped-def]
    bad = record(AT, text=True)
    change(bad)
    with pytest.raises(RecordRefused) as refused:
        parse_record(json.dumps(bad))
    line = str(refused.value)
    assert named in line and "\n" not in line and "MUST-NOT-LEAK" not in line


def test_unknown_extra_fields_are_accepted() -> None:
    extra = record(AT) | {"newField": {"x": 1}, "errorCode": None}
    extra["input"]["futureCount"] = 3
    assert parse_record(json.dumps(extra)).input_tokens == 1000


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({}, "awslogs.data is missing"),
        ({"awslogs": {"data": "%%%"}}, "not base64"),
        ({"awslogs": {"data": "aGVsbG8="}}, "not gzip"),
        (encode(b"[1, 2]"), "the delivery"),
        (encode(b"not json"), "the delivery"),
    ],
)
def test_a_delivery_that_does_not_decode_is_refused(event: dict[str, object], reason: str) -> None:
    with pytest.raises(DeliveryRefused, match=reason):
        decode(event)


def test_a_gzip_bomb_is_refused_before_it_is_inflated() -> None:
    import base64
    import gzip

    bomb = gzip.compress(b"{" + b" " * (9 * 1024 * 1024) + b"}")
    with pytest.raises(DeliveryRefused, match="decompresses past"):
        decode({"awslogs": {"data": base64.b64encode(bomb).decode()}})


def test_refused_records_are_listed_by_event_id_and_the_rest_kept() -> None:
    messages: list[dict[str, object] | str] = [record(AT), "not json", record(AT, request_id="second")]
    got = read_delivery(delivery(messages))
    assert [r.request_id for r in got.records] == [messages[0]["requestId"], "second"]  # type: ignore[index]
    # the signal parsers' own line: where JSON broke, never the text itself
    assert [(r.event_id, r.reason) for r in got.refusals] == [
        (f"{1:056d}", "record looks like JSON but does not parse: Expecting value: line 1 column 1 (char 0)")
    ]


def test_a_control_message_carries_no_record() -> None:
    control = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": 1432826855000,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
            }
        ],
    }
    got = read_delivery(encode(control))
    assert got.records == () and got.refusals == () and got.message_type == "CONTROL_MESSAGE"
