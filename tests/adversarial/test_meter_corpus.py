"""Adversarial corpus: invocation-log records and subscription deliveries to the meter.

Every case goes through the meter's domain (:class:`tokenfuse.meter.service.Meter`, in-memory
counters, bus and dead-letter queue) at a burn threshold of $0.01/h, so any record that were
counted would burn. Each case ends one of two ways, and the test says which:

- refused: one ``refused record ...`` / ``refused delivery ...`` line per bad input (one line,
  printable, bounded, never the record's text), nothing counted, nothing on the bus, nothing
  dead-lettered;
- accepted: a mutation that leaves a valid record (an unknown field, a removed optional field)
  is counted like the original.

Cases: every node of the real sample record deleted or swapped for another JSON shape
(``mutations()``), hostile strings and calendar edges in its text fields, overflowing counts, and
broken envelopes (not base64, not gzip, truncated, a gzip bomb, JSON nested past the limit).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.adversarial import (
    CALENDAR_EDGES,
    HOSTILE_STRINGS,
    OVERFLOWING_NUMBERS,
    deeply_nested,
    mutations,
)
from tests.support.meter_payloads import PROFILE_ARN, delivery, encode, sample_messages
from tests.unit.test_meter_service import FakeBus, FakeCounters, FakeDeadLetters, FixedArming, model_behind
from tokenfuse.attribution.pricing import load_prices
from tokenfuse.meter.models import Threshold
from tokenfuse.meter.service import Meter

NOW = datetime(2026, 11, 25, 14, 0, 30, tzinfo=UTC)
ORIGINAL = sample_messages()[1]  # the record with text delivery on
SECRET = "MUST-NOT-LEAK"


def _meter() -> tuple[Meter, FakeCounters, FakeBus, FakeDeadLetters]:
    counters, bus, dead = FakeCounters(), FakeBus(), FakeDeadLetters()
    meter = Meter(
        counters,
        FixedArming(Threshold(0.01, "policy", 10)),
        bus,
        dead,
        model_behind,
        load_prices,
        now=lambda: NOW,
    )
    return meter, counters, bus, dead


def _cases() -> Iterator[tuple[str, Any]]:
    yield from mutations(ORIGINAL)
    for index, text in enumerate(HOSTILE_STRINGS):
        for field in ("requestId", "operation", "modelId", "region", "accountId"):
            yield f"hostile {field} #{index}", ORIGINAL | {field: text}
        yield f"hostile identity #{index}", ORIGINAL | {"identity": {"arn": text}}
    for index, edge in enumerate(CALENDAR_EDGES):
        yield f"calendar edge #{index}", ORIGINAL | {"timestamp": edge}
    for index, number in enumerate(OVERFLOWING_NUMBERS):
        bad = copy.deepcopy(ORIGINAL)
        bad["input"]["inputTokenCount"] = number
        yield f"overflowing input count #{index}", bad
    yield "deeply nested body", json.loads(json.dumps(ORIGINAL | {"x": json.loads(deeply_nested())}))


CASES = list(_cases())


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("label", "mutated"), CASES, ids=[label for label, _ in CASES])
def test_a_mutated_record_is_refused_in_one_line_or_counted_as_valid(
    label: str, mutated: Any, caplog: pytest.LogCaptureFixture
) -> None:
    meter, counters, bus, dead = _meter()
    with caplog.at_level(logging.INFO, logger="tokenfuse"):
        result = meter.handle(delivery([mutated if isinstance(mutated, dict) else json.dumps(mutated)]))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert SECRET not in " ".join(r.getMessage() for r in caplog.records), label
    assert dead.bodies == [], label
    if result.refused or result.refused_delivery:
        assert (result.records, counters.items, bus.events) == (0, {}, []), label
        (line,) = lines
        assert line.startswith(("refused record ", "refused delivery: ")), label
        assert "\n" not in line and len(line) < 400, label
        assert line.isprintable(), label
    else:
        assert result.records == 1 and lines == [], label
        assert SECRET not in json.dumps([e.to_bus() for e in bus.events]), label


def _broken_envelopes() -> Iterator[tuple[str, dict[str, Any]]]:
    good = delivery([ORIGINAL])
    data = good["awslogs"]["data"]
    yield "no awslogs", {}
    yield "awslogs not an object", {"awslogs": "x"}
    yield "data not a string", {"awslogs": {"data": 12}}
    yield "not base64", {"awslogs": {"data": "***"}}
    yield "base64 of text", {"awslogs": {"data": base64.b64encode(b"hello").decode()}}
    yield "truncated gzip", {"awslogs": {"data": base64.b64encode(base64.b64decode(data)[:-12]).decode()}}
    yield "gzip bomb", {"awslogs": {"data": base64.b64encode(gzip.compress(b"[" * 9_000_000)).decode()}}
    yield "not the logs shape", encode({"messageType": "DATA_MESSAGE"})
    yield (
        "logEvents not a list",
        encode({**json.loads(gzip.decompress(base64.b64decode(data))), "logEvents": {}}),
    )
    yield "deeply nested", encode(deeply_nested().encode())


ENVELOPES = list(_broken_envelopes())


@pytest.mark.parametrize(("label", "event"), ENVELOPES, ids=[label for label, _ in ENVELOPES])
def test_a_broken_delivery_is_refused_in_one_line(
    label: str, event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    meter, counters, bus, dead = _meter()
    with caplog.at_level(logging.INFO, logger="tokenfuse"):
        result = meter.handle(event)
    assert result.refused_delivery, label
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith("refused delivery: ") and "\n" not in line, label
    assert (counters.items, bus.events, dead.bodies) == ({}, [], []), label


def test_the_original_record_burns_at_this_threshold() -> None:
    """The control: the unmutated record is counted and, at $0.01/h, alerts."""
    meter, _counters, bus, _ = _meter()
    result = meter.handle(delivery([ORIGINAL]))
    assert result.records == 1 and len(bus.events) == 1 and bus.events[0].profile_arn == PROFILE_ARN
