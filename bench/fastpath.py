"""The sub-minute fast path: time to alert and to contain, spend before containment (vs CAD-only),
the meter's throughput and CPU, and the path's cost per million Bedrock requests.

- **Timings** come from the sandbox (``tokenfuse_sandbox.story.fastpath.run_fast_path``): the
  demo's organization, the member side wired by the custom resource's code, calls through the
  emulated runtime every 5 simulated seconds. The emulation's latencies set them and are printed
  beside them: log delivery every ``LOG_DELIVERY_SECONDS``, SCP propagation
  ``SCP_PROPAGATION_SECONDS``, the burn window (``burn_seconds`` in 10-second buckets). CAD-only
  spend is the loop's rate for the 24 hours CAD takes to report it.
- **Throughput**: the meter's domain (decode, parse, price, bucket, evaluate) over deliveries of
  1,000 records in AWS's format, with in-memory counters (no DynamoDB latency): records per second
  and CPU per record, text delivery off and on.
- **Cost** per million requests, from the measured record sizes and us-east-1 list prices (stated
  in the table): CloudWatch Logs ingestion, Lambda requests and duration (arm64, 256 MB, the CPU
  measured here as the duration), DynamoDB on-demand writes (one ADD per subject and 10-second
  bucket, one per caller) for an assumed traffic shape.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

LOGS_INGESTION_USD_PER_GB = 0.50
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334
DYNAMODB_USD_PER_MILLION_WRITES = 0.625
MEMORY_GB = 0.25
ASSUMED = {"requests_per_second": 100, "profiles": 10, "callers_per_profile": 2, "delivery_seconds": 5}


def _throughput(text: bool) -> tuple[float, float, int]:
    from tests.support.meter_payloads import delivery, record
    from tests.unit.test_meter_service import (
        FakeBus,
        FakeCounters,
        FakeDeadLetters,
        FixedArming,
        model_behind,
    )
    from tokenfuse.attribution.pricing import load_prices
    from tokenfuse.meter.service import Meter

    start = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    records: list[dict[str, Any] | str] = [
        record(start + timedelta(milliseconds=10 * i), text=text) for i in range(1000)
    ]
    size = sum(len(json.dumps(r)) for r in records) // len(records)
    events = [delivery(records) for _ in range(5)]
    meter = Meter(
        FakeCounters(),
        FixedArming(),
        FakeBus(),
        FakeDeadLetters(),
        model_behind,
        load_prices,
        now=lambda: start + timedelta(seconds=15),
    )
    meter.handle(events[0])  # warm: the price table, pydantic's validators
    cpu, wall = time.process_time(), time.perf_counter()
    for event in events:
        meter.handle(event)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = 1000 * len(events)
    return n / wall, cpu / n, size


def _timings() -> list[tuple[str, str, float | None, float | None, float, float]]:
    from tokenfuse_sandbox.story.fastpath import run_fast_path

    rows = []
    for scenario, policy in (("runaway-loop", "auto"), ("retry-storm", "auto"), ("runaway-loop", "approve")):
        for run in run_fast_path(scenario, policy, limit=timedelta(seconds=90)):
            rows.append(
                (
                    scenario,
                    policy,
                    run.alerted_after,
                    run.contained_after,
                    run.spent_usd,
                    run.loop_usd_per_hour * 24,
                )
            )
    return rows


def _shown(seconds: float | None) -> str:
    return "not within 90 s" if seconds is None else f"{seconds:.0f}"


def run() -> str:
    from tokenfuse_sandbox.emulation.bedrock_access import SCP_PROPAGATION_SECONDS
    from tokenfuse_sandbox.emulation.invocation_logs import LOG_DELIVERY_SECONDS

    lines = [
        f"Emulation latencies (they set the timings): log delivery every {LOG_DELIVERY_SECONDS} s, SCP "
        f"propagation {SCP_PROPAGATION_SECONDS} s; the meter's burn window 20 s in 10-second buckets; "
        "calls every 5 simulated seconds. Alarm path for comparison: the `Demo: time to contain` section.",
        "",
        "| scenario | policy | time to alert (s) | time to contain (s) | spend before containment "
        "| CAD-only (24 h) | times less |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario, policy, alert, contain, spent, cad in _timings():
        less = f"{cad / spent:,.0f}x" if spent and contain is not None else "n/a"
        lines.append(
            f"| {scenario} | {policy} | {_shown(alert)} | {_shown(contain)} | ${spent:,.4f} "
            f"| ${cad:,.2f} | {less} |"
        )
    lines += ["", "| text delivery | record bytes | records/s | CPU µs/record |", "|---|---:|---:|---:|"]
    sizes = {}
    for text in (False, True):
        rate, cpu, size = _throughput(text)
        sizes[text] = (size, cpu)
        lines.append(f"| {'on' if text else 'off'} | {size:,} | {rate:,.0f} | {cpu * 1e6:,.1f} |")
    size, cpu = sizes[False]
    a = ASSUMED
    per_million_seconds = 1e6 / a["requests_per_second"]
    deliveries = per_million_seconds / a["delivery_seconds"]
    buckets = per_million_seconds / 10
    writes = buckets * a["profiles"] * (1 + a["callers_per_profile"])
    ingestion = 1e6 * size / 1e9 * LOGS_INGESTION_USD_PER_GB
    lam = (
        deliveries * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6
        + 1e6 * cpu * MEMORY_GB * LAMBDA_ARM_USD_PER_GB_SECOND
    )
    dynamo = writes * DYNAMODB_USD_PER_MILLION_WRITES / 1e6
    lines += [
        "",
        f"Cost per million Bedrock requests (text delivery off, {size} bytes a record; assumed "
        f"{a['requests_per_second']} requests/s over {a['profiles']} profiles with "
        f"{a['callers_per_profile']} callers each, a delivery every {a['delivery_seconds']} s; "
        f"us-east-1 list prices: Logs ${LOGS_INGESTION_USD_PER_GB}/GB, Lambda "
        f"${LAMBDA_USD_PER_MILLION_REQUESTS}/M + ${LAMBDA_ARM_USD_PER_GB_SECOND}/GB-s arm64, DynamoDB "
        f"${DYNAMODB_USD_PER_MILLION_WRITES}/M writes):",
        f"Logs ingestion ${ingestion:,.3f} + Lambda ${lam:,.3f} + DynamoDB ${dynamo:,.3f} = "
        f"**${ingestion + lam + dynamo:,.3f}**. With text delivery on, ingestion grows with the prompts "
        "(not measured: the emulation's bodies are short).",
    ]
    return "\n".join(lines)
