"""The meter's counters table under moto, created from template.yaml's own key schema: concurrent
deliveries' ADDs add up, a window reads back its buckets and callers, one re-alert claim wins."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tokenfuse.adapters.meter_counters import MeterCounters
from tokenfuse.meter.models import Tally
from tokenfuse_sandbox.template import Template

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::444455556666:role/support-bot-runtime"
OTHER = "arn:aws:iam::444455556666:role/batch-runtime"
SUBJECT = "444455556666|us-east-1|arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/abc"
BUCKET = 1_795_000_000  # a 10-second bucket start (epoch seconds)


@pytest.fixture
def dynamodb(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    props = Template(ROOT / "template.yaml").resources["MeterCountersTable"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="counters",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
        )
        yield client


class OneRequestAtATime:
    """The client with each request applied whole before the next, as DynamoDB applies a write to
    an item (moto's in-process backend is not thread-safe: two threads creating one item lose an
    ADD, which DynamoDB never does). Deliveries still interleave between requests, so a
    read-then-write count would lose updates here; ADDs cannot."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def serialized(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return serialized


def one_call(caller: str) -> Tally:
    # one call of 1,000 input and 200 output tokens at $3 / $15 per million: $0.003 + $0.003
    return Tally(
        usd=1_000 * 3 / 1e6 + 200 * 15 / 1e6,
        invocations=1,
        input_tokens=1_000,
        output_tokens=200,
        callers={caller: 1_000 * 3 / 1e6 + 200 * 15 / 1e6},
    )


def test_concurrent_deliveries_add_up(dynamodb):
    counters = MeterCounters("counters", OneRequestAtATime(dynamodb))
    calls = [ROLE] * 30 + [OTHER] * 10

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda caller: counters.add(SUBJECT, BUCKET, one_call(caller), BUCKET + 86_410), calls))

    [tally] = counters.window(SUBJECT, BUCKET, BUCKET).values()
    assert tally.invocations == 40
    assert tally.input_tokens == 40_000 and tally.output_tokens == 8_000
    assert tally.usd == pytest.approx(40 * 0.006)  # $0.24, counted in nano-dollars: no float drift
    assert tally.callers == {ROLE: pytest.approx(30 * 0.006), OTHER: pytest.approx(10 * 0.006)}


def test_a_window_reads_only_its_own_buckets_and_subject(dynamodb):
    counters = MeterCounters("counters", dynamodb)
    for bucket in (BUCKET - 10, BUCKET, BUCKET + 10, BUCKET + 20):
        counters.add(SUBJECT, bucket, one_call(ROLE), bucket + 86_410)
    counters.add(SUBJECT + "x", BUCKET, one_call(ROLE), BUCKET + 86_410)

    window = counters.window(SUBJECT, BUCKET, BUCKET + 10)

    assert sorted(window) == [BUCKET, BUCKET + 10]
    assert all(t.invocations == 1 and t.callers == {ROLE: pytest.approx(0.006)} for t in window.values())


def test_one_claim_per_period_and_a_released_claim_can_be_taken_again(dynamodb):
    counters = MeterCounters("counters", OneRequestAtATime(dynamodb))
    now = BUCKET

    with ThreadPoolExecutor(max_workers=4) as pool:
        won = list(pool.map(lambda _: counters.claim(SUBJECT, now, now + 300), range(8)))

    assert won.count(True) == 1
    assert counters.claim(SUBJECT, now + 299, now + 599) is False  # the period still runs
    counters.release(SUBJECT, now + 300)
    assert counters.claim(SUBJECT, now + 1, now + 301) is True
    assert counters.claim(SUBJECT, now + 302, now + 602) is True  # the period is over
