"""What both signal corpora (the intake queue, ``tokenfuse signals parse``) share: the real samples
with the figures each carries (read off the sample text by hand), the outcome every accepted signal
must satisfy, and the grouping of a sample's mutations by the node they attack."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.adversarial import mutations

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "signals"
RECEIVED = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
RECEIVED_TEXT = "2026-11-26T18:00:00Z"

_CAD = {
    "actual_usd": 4318.75,
    "expected_usd": 198.2,
    "impact_usd": 4120.55,
    "impact_percent": 2078.98,
    "anomaly_score": 0.82,
}
CONTRIBUTIONS = {
    # The root causes' impact.contribution, in the order the samples list them.
    "cad-sns-immediate.json": (3890.1, 230.45),
    "cad-eventbridge.json": (3890.1, 230.45),
}
FIGURES: dict[str, dict[str, float]] = {
    # Every number each sample states, as its text states it (Budgets: "$8,312.47" is 8312.47).
    "cad-sns-immediate.json": _CAD,
    "cad-eventbridge.json": _CAD,
    "budgets-sns-actual.json": {"actual_usd": 8312.47, "threshold_usd": 8000.0, "budgeted_usd": 10000.0},
    "budgets-sns-forecasted.json": {
        "forecasted_usd": 14950.12,
        "threshold_usd": 10000.0,
        "budgeted_usd": 10000.0,
    },
    "budgets-sns-daily.json": {"actual_usd": 612.4, "threshold_usd": 150.0, "budgeted_usd": 200.0},
    # "> 80.00%" of the $10,000.00 budgeted: 0.8 x 10,000 = 8,000.
    "budgets-sns-percentage.json": {
        "actual_usd": 8312.47,
        "threshold_percent": 80.0,
        "threshold_usd": 8000.0,
        "budgeted_usd": 10000.0,
    },
    "budgets-sns-usage.json": {"actual_amount": 912.5, "threshold_amount": 800.0, "budgeted_amount": 1000.0},
    "alarm-eventbridge.json": {"metric_value": 412345.0, "alarm_threshold": 150000.0},
    "alarm-sns.json": {"metric_value": 512000.0, "alarm_threshold": 150000.0},
}
SOURCES = {
    "cad-sns-immediate.json": "cost-anomaly",
    "cad-eventbridge.json": "cost-anomaly",
    "alarm-eventbridge.json": "token-rate-alarm",
    "alarm-sns.json": "token-rate-alarm",
}
SIGNAL_SAMPLES = sorted(
    p.name for p in EVENTS.glob("*.json") if p.name.startswith(("cad-", "budgets-", "alarm-"))
)
"""Every spend-signal sample in events/ (``alarm-eventbridge-ok.json`` too: it must be refused)."""


def load(name: str) -> Any:
    folder = EVENTS if (EVENTS / name).exists() else FIXTURES
    return json.loads((folder / name).read_text())


def source_of(sample: str) -> str:
    return SOURCES.get(sample, "budget")


def figures(detail: dict[str, Any]) -> dict[str, float]:
    """Every number a signal's bus detail carries at its top level, named as in FIGURES (its
    ``schema_version`` is no figure of the signal)."""
    return {
        key: value
        for key, value in detail.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key != "schema_version"
    }


MUTATION_NUMBER = 10**20
"""The one number ``swapped()`` puts where a number was (besides the same number as a string, and
a negative one, which is refused)."""


def check_accepted(
    detail: dict[str, Any], sample: str, received: datetime = RECEIVED, *, mutated: bool = False
) -> None:
    """What any signal accepted from (a mutation of) ``sample`` must be: its source, every figure
    one the sample states (a mutation may lose a figure or carry the number it put there, never
    invent another), and a window inside the plausibility bounds."""
    assert detail["source"] == source_of(sample)
    stated = FIGURES[sample]
    injected = {MUTATION_NUMBER} if mutated else set()
    for name, value in figures(detail).items():
        assert (name in stated and value == stated[name]) or value in injected, (name, value)
    for cause in detail["root_causes"]:
        contribution = cause["contribution_usd"]
        assert contribution is None or contribution in {*CONTRIBUTIONS[sample], *injected}, cause
    start = datetime.fromisoformat(detail["window_start"])
    end = datetime.fromisoformat(detail["window_end"])
    assert received - timedelta(days=400) <= start <= end <= received + timedelta(hours=1)
    assert detail["received_at"] == received.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(detail["dedup_key"]) == 32
    assert "\n" not in detail["summary"]


def node_of(label: str) -> str:
    """The node a ``mutations()`` label attacks (``detail/impact/totalImpact as "4120.55"``)."""
    return label.removesuffix(" deleted").split(" as ", 1)[0]


def mutations_by_node(data: Any) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """``(node, [(label, mutated), ...])``: every mutation of ``data``, grouped by the node."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for label, mutated in mutations(data):
        groups.setdefault(node_of(label), []).append((label, mutated))
    yield from groups.items()


def one_line(text: str) -> bool:
    """True for exactly one line of printable text with its newline (what a refusal prints)."""
    return text.endswith("\n") and text.count("\n") == 1 and text[:-1].isprintable()
