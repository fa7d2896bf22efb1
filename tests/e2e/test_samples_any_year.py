"""`tokenfuse demo --samples` gives the same result in any year: the samples in events/ carry fixed
dates, so they run on the sandbox's simulated clock set to their time (``SAMPLES_CLOCK``), never on
the machine's clock, whose "now" is faked here (2028-06-01 is past the 400 days the plausibility
checks allow the samples' windows)."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tokenfuse_cli.demo import SAMPLES_CLOCK
from tokenfuse_cli.main import app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SIGNAL_SAMPLES = (
    "alarm-sns.json",
    "budgets-sns-daily.json",
    "cad-eventbridge.json",
    "cad-sns-immediate.json",
)


def machine_clock(at: datetime) -> type[datetime]:
    """``datetime`` whose ``now()`` is ``at`` (the wall clock a sandbox starts at by default)."""

    class Faked(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> "Faked":
            moment = at.astimezone(tz) if tz else at.replace(tzinfo=None)
            return cls.fromtimestamp(moment.timestamp(), tz) if tz else cls.fromtimestamp(at.timestamp())

    return Faked


def run_samples_at(machine_now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr("tokenfuse_sandbox.emulation.clock.datetime", machine_clock(machine_now))
    events = tmp_path / f"events-{machine_now:%Y}"
    events.mkdir()
    for name in SIGNAL_SAMPLES:
        shutil.copy(ROOT / "events" / name, events / name)
    out = tmp_path / f"samples-{machine_now:%Y}.json"
    result = CliRunner().invoke(
        app, ["demo", "-t", str(ROOT / "template.yaml"), "--events", str(events), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    return {s["file"]: s for s in json.loads(out.read_text())["samples"]}


def path_of(sample: dict[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    """Where a sample went: each function, how it ended, the events it put on the bus."""
    return [
        (i["function"], (i["error"] or {}).get("errorType"), [e["detail-type"] for e in i["bus_events"]])
        for i in sample["invocations"]
    ]


def test_the_samples_run_on_their_own_time_whatever_the_machines_clock_says(tmp_path, monkeypatch):
    # Given the samples run on a machine whose clock says 2026-12-01, then on one that says 2028-06-01
    today = run_samples_at(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tmp_path, monkeypatch)
    later = run_samples_at(datetime(2028, 6, 1, 12, 0, tzinfo=UTC), tmp_path, monkeypatch)
    assert sorted(later) == sorted(SIGNAL_SAMPLES)
    put = set()
    for name, sample in later.items():
        # Then each sample goes where it went in 2026, function by function
        assert sample["error"] is None, (name, sample["error"])
        assert path_of(sample) == path_of(today[name]), name
        # and its signal is received on the samples' own clock
        signals = [e for e in sample["bus_events"] if e["detail-type"] == "Spend Signal"]
        assert {datetime.fromisoformat(e["detail"]["received_at"]) for e in signals} <= {SAMPLES_CLOCK}
        if signals:
            put.add(name)
    # And intake's checks pass them in 2028 (CAD's SNS copy of the EventBridge anomaly is a duplicate)
    assert put == {"alarm-sns.json", "budgets-sns-daily.json", "cad-eventbridge.json"}
