"""One remediation run, as the state machine drives it, with faults armed during one task."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fault_injection import asl
from tests.fault_injection.faults import Plan
from tests.fault_injection.world import World
from tokenfuse.adapters.aws import forget_kept_sessions
from tokenfuse.remediation import tasks
from tokenfuse.remediation.models import TripRecord
from tokenfuse.remediation.settings import TripMechanism

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = json.loads((ROOT / "statemachines" / "remediation.asl.json").read_text())


@dataclass
class Snapshot:
    """What was in force, what the record said, right after a state."""

    state: str
    aws: dict[str, Any]
    record: TripRecord | None
    said: list[tuple[str, str]]  # every message so far (channel or email:<to>, text)


@dataclass
class Outcome:
    execution: asl.Execution
    calls: list[list[str]] = field(default_factory=list)  # per armed invocation
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def trip_phase(self) -> Snapshot:
        """Right after the Trip state, or after the Escalate its failure led to."""
        return self.snapshots[0]


def remediate(
    world: World, mechanism: TripMechanism, action: str, armed_task: str, plan: Plan | None
) -> Outcome:
    """Run the real ASL from the start (policy ``auto``) with ``plan`` armed in every invocation
    of ``armed_task`` (a single fault fires once: a retry runs clean). The other invocations share
    one warm container (its kept member-role session); each armed one starts cold."""
    outcome = Outcome(asl.Execution())

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        armed = payload.get("task") == armed_task
        if armed:  # in a cold container: its member-role session is assumed (a call faulted too)
            forget_kept_sessions(own_clients=False)
        with world.faults.armed_for(plan) if armed else nullcontext():
            try:
                return tasks.dispatch(payload, world.deps(mechanism))
            finally:
                if armed:
                    outcome.calls.append(list(world.faults.calls))

    def on_state(name: str, _data: dict[str, Any]) -> None:
        if name in {"Trip", "Escalate"} and not outcome.snapshots:
            said = list(world.recorder.messages)
            outcome.snapshots.append(Snapshot(name, world.observe(), world.stored_record(), said))

    outcome.execution = asl.run(DEFINITION, invoke, {"incident": world.incident(action)}, on_state)
    return outcome
