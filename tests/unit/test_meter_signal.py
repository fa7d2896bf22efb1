"""The meter's spend-rate event at intake: one normalized spend signal (``source: invocation-log``),
refused in one line when it speaks for another account or breaks a bound; and attribution taking
the meter's measured dollars and callers for the culprit it names."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tokenfuse.attribution.measured import with_measured
from tokenfuse.errors import ImplausibleSignal, MalformedSignal, SignalError
from tokenfuse.events import CallerShare, Culprit, SpikeAttributed, TokensPerRequest
from tokenfuse.signals import parse_signal

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "events" / "meter-spend-rate-eventbridge.json").read_text())
RECEIVED = datetime(2026, 11, 25, 14, 0, 21, tzinfo=UTC)
PROFILE_ARN = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/a1b2c3d4e5f6"


def sample(**detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["detail"].update(detail)
    return event


def test_the_spend_rate_sample_is_one_invocation_log_signal() -> None:
    (signal,) = parse_signal(SAMPLE, received_at=RECEIVED)
    assert signal.source == "invocation-log" and signal.raw_source == "eventbridge"
    assert signal.dedup_key == "3f1c0a9e4b2d7e6f8a5c1b0d9e8f7a6b"
    assert (signal.account_id, signal.region) == ("444455556666", "us-east-1")
    assert (signal.profile_arn, signal.profile_id) == (PROFILE_ARN, "a1b2c3d4e5f6")
    assert signal.window_start == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert signal.window_end == datetime(2026, 11, 25, 14, 0, 20, tzinfo=UTC)
    # 2,000 input + 90,000 output tokens of Claude Sonnet 4 ($3 / $15 per million) = $1.356 in 20 s
    assert signal.actual_usd == pytest.approx(2000 * 3 / 1e6 + 90000 * 15 / 1e6)
    assert signal.burn_usd_per_hour == pytest.approx(1.356 * 3600 / 20)
    assert signal.burn_threshold_usd_per_hour == 51.2345
    assert signal.callers == [
        CallerShare(role_arn="arn:aws:iam::444455556666:role/support-agent-runtime", share=0.75),
        CallerShare(role_arn="arn:aws:iam::444455556666:role/support-batch", share=0.25),
    ]
    assert "support-agent-runtime" in signal.summary and "$244.08/h over 20 s" in signal.summary


def test_tokenfuses_own_meter_may_speak_for_a_member_account() -> None:
    event = {**SAMPLE, "account": "111122223333"}
    (signal,) = parse_signal(event, received_at=RECEIVED, tokenfuse_account="111122223333")
    assert signal.account_id == "444455556666"
    with pytest.raises(MalformedSignal, match="is not the sending account"):
        parse_signal(event, received_at=RECEIVED, tokenfuse_account="999999999999")


def test_unknown_extra_fields_of_a_newer_meter_are_accepted() -> None:
    (signal,) = parse_signal(sample(new_figure=3, records_seen=12), received_at=RECEIVED)
    assert signal.source == "invocation-log"


@pytest.mark.parametrize(
    ("event", "error", "words"),
    [
        ({**SAMPLE, "account": "777788889999"}, MalformedSignal, "is not the sending account"),
        (
            sample(profile_arn=PROFILE_ARN.replace("444455556666", "777788889999")),
            MalformedSignal,
            "account and region",
        ),
        (
            sample(profile_arn="arn:aws:bedrock:us-east-1:444455556666:inference-profile/x"),
            MalformedSignal,
            "ARN",
        ),
        (sample(profile_id="zzzzzzzzzzzz"), MalformedSignal, "profile_id"),
        (sample(subject="direct-model"), MalformedSignal, "direct-model"),
        (sample(window_usd=-1), MalformedSignal, "window_usd"),
        (sample(burn_usd_per_hour=5e9), ImplausibleSignal, "burn_usd_per_hour"),
        (sample(window_end="2026-11-25T16:00:00Z"), ImplausibleSignal, "window_end"),
        (sample(callers=[{"role_arn": "r", "share": 1.5}]), MalformedSignal, "share"),
        (sample(threshold_basis="guess"), MalformedSignal, "threshold_basis"),
    ],
)
def test_a_bad_spend_rate_event_is_refused_in_one_line(
    event: dict[str, Any], error: type, words: str
) -> None:
    with pytest.raises(SignalError) as refused:
        parse_signal(event, received_at=RECEIVED)
    assert isinstance(refused.value, error)
    assert words in str(refused.value) and "\n" not in str(refused.value)


def _culprit(**figures: Any) -> Culprit:
    base: dict[str, Any] = {
        "profile_arn": PROFILE_ARN,
        "profile_id": "a1b2c3d4e5f6",
        "account_id": "444455556666",
        "region": "us-east-1",
        "tagged": True,
        "team": "support-bot",
        "window_cost_usd": 0.5,
        "baseline_cost_usd": 10.0,
        "delta_usd": 0.1,
        "share": 1.0,
        "cost_per_hour_usd": 30.0,
        "baseline_cost_per_hour_usd": 10.0,
        "month_end_usd": 9000.0,
        "invocations": 12,
        "baseline_invocations": 10.0,
        "tokens_per_request": TokensPerRequest(input=500, output=1500),
        "baseline_tokens_per_request": TokensPerRequest(input=500, output=1500),
        "kind": "unknown",
    }
    return Culprit.model_validate(base | figures)


def _attributed(culprits: list[Culprit], severity: str = "low") -> SpikeAttributed:
    (signal,) = parse_signal(SAMPLE, received_at=RECEIVED)
    return SpikeAttributed.model_validate(
        {
            "signal": signal,
            "attributed_at": RECEIVED,
            "window_start": signal.window_start,
            "window_end": signal.window_end,
            "baseline_days": 7,
            "window_cost_usd": 0.5,
            "baseline_cost_usd": 10.0,
            "spike_usd": 0.1,
            "severity": severity,
            "culprits": culprits,
        }
    )


def test_attribution_takes_the_meters_burn_and_callers_for_its_culprit() -> None:
    other = _culprit(profile_arn=PROFILE_ARN[:-1] + "7", profile_id="a1b2c3d4e5f7")
    got = with_measured(_attributed([_culprit(), other]))
    measured, untouched = got.culprits
    assert measured.cost_per_hour_usd == pytest.approx(244.08)  # the meter's, above the metrics' $30/h
    assert [c.role_arn for c in measured.callers or []] == [
        "arn:aws:iam::444455556666:role/support-agent-runtime",
        "arn:aws:iam::444455556666:role/support-batch",
    ]
    assert untouched == other
    # $244.08/h - $10/h baseline = $234.08/h over baseline: "high" (>= $50/h), below "critical" ($250/h)
    assert got.severity == "high"
    assert any("measured from model invocation logs" in n for n in got.notes)


def test_metrics_above_the_meter_are_kept() -> None:
    got = with_measured(_attributed([_culprit(cost_per_hour_usd=400.0)], severity="critical"))
    assert got.culprits[0].cost_per_hour_usd == 400.0 and got.severity == "critical"


def test_a_subject_the_metrics_do_not_show_yet_is_said() -> None:
    got = with_measured(_attributed([]))
    assert got.culprits == [] and "the metrics do not show this subject yet" in got.notes[-1]
