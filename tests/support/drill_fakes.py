"""An in-memory organization for the drill's domain tests: the drill's ports, played by one world.

The world decides what AWS would: a call through a canary is refused once the trip's deny has had
``deny_after`` seconds to take effect (and until ``allow_after`` seconds after the restore), the
tag canary is refused when the tag-conditioned guard works, the datapoint and the log record
arrive after their delays. Every call is recorded, so a test can count what the drill paid for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tokenfuse.attribution.pricing import PriceTable
from tokenfuse.drill.canary import TAG_GUARD_TAG_KEY
from tokenfuse.drill.drill import DrillConfig, DrillPorts
from tokenfuse.drill.ports import CallOutcome, Canary, RestoreOutcome, TripOutcome

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ACCOUNT = "444455556666"
MANAGEMENT = "111122223333"
REGION = "us-east-1"
MODEL = "amazon.nova-micro-v1:0"
INPUT_TOKENS, OUTPUT_TOKENS = 5, 1
# Nova Micro as the test's own price table says it: $0.035 in / $0.14 out per million tokens.
PRICES = PriceTable.model_validate(
    {
        "models": {
            MODEL: {
                "name": "Nova Micro",
                "source": "https://aws.amazon.com/bedrock/pricing/",
                "as_of": "2026-11-27",
                "regions": {REGION: {"input": 0.035, "output": 0.14}},
            },
            "amazon.nova-lite-v1:0": {
                "name": "Nova Lite",
                "source": "https://aws.amazon.com/bedrock/pricing/",
                "as_of": "2026-11-27",
                "regions": {REGION: {"input": 0.06, "output": 0.24}},
            },
        }
    }
)
PER_CALL_USD = (INPUT_TOKENS * 0.035 + OUTPUT_TOKENS * 0.14) / 1_000_000


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    canaries: dict[str, Canary] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    calls: list[tuple[str, CallOutcome]] = field(default_factory=list)
    deny_after: float | None = 7.0
    """Seconds from the trip until calls are refused (None: never)."""
    tag_guard_works: bool = True
    refuse_everything: bool = False
    allow_after: float = 0.0
    metric_after: float | None = 20.0
    metric_forms: tuple[str, ...] = ("profile-id",)
    model_series_moves: bool = False
    log_group: str | None = "/aws/bedrock/modelinvocations"
    log_model_id: str = "arn"
    trip_status: str = "SUCCEEDED"
    trip_dry_run: bool = False
    tripped_at: datetime | None = None
    restored_at: datetime | None = None
    restores: list[str] = field(default_factory=list)
    management_account: str | None = MANAGEMENT
    fail_restore: bool = False
    fail_metrics: bool = False
    next_id: int = 0

    def ports(self) -> DrillPorts:
        return DrillPorts(
            clock=self.clock,
            canaries=FakeCanaries(self),
            metrics=FakeMetrics(self),
            logs=FakeLogs(self),
            remediation=FakeRemediation(self),
            organization=FakeOrganization(self),
            prices=PRICES,
        )

    def config(self, **overrides: Any) -> DrillConfig:
        return DrillConfig(
            **({"account_id": ACCOUNT, "region": REGION, "run_id": "20261130t100000-abc123"} | overrides)
        )

    def add_canary(self, name: str, tags: Mapping[str, str], created_at: datetime) -> Canary:
        self.next_id += 1
        profile_id = f"canary{self.next_id:06d}"
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{profile_id}"
        canary = Canary(arn, profile_id, name, ACCOUNT, REGION, MODEL, created_at, dict(tags))
        self.canaries[arn] = canary
        return canary

    def ok_calls(self) -> int:
        return sum(1 for _, outcome in self.calls if outcome.ok)

    def refused(self, canary: Canary) -> bool:
        now = self.clock.now()
        if self.refuse_everything:
            return True
        if canary.tags.get(TAG_GUARD_TAG_KEY) == "true":
            return self.tag_guard_works
        if self.tripped_at is None or self.deny_after is None:
            return False
        if self.restored_at is not None:
            return (now - self.restored_at).total_seconds() < self.allow_after
        return (now - self.tripped_at).total_seconds() >= self.deny_after


class FakeCanaries:
    def __init__(self, world: World) -> None:
        self.world = world

    def create(self, name: str, model_arn: str, tags: Mapping[str, str]) -> Canary:
        assert model_arn.endswith(f"foundation-model/{MODEL}"), model_arn
        canary = self.world.add_canary(name, tags, self.world.clock.now())
        self.world.created.append(canary.arn)
        return canary

    def canaries(self) -> list[Canary]:
        return list(self.world.canaries.values())

    def delete(self, arn: str) -> None:
        self.world.canaries.pop(arn, None)
        self.world.deleted.append(arn)

    def exists(self, arn: str) -> bool:
        return arn in self.world.canaries

    def call(self, canary: Canary, prompt: str, max_tokens: int) -> CallOutcome:
        assert (prompt, max_tokens) == ("Reply with one word: ok", 1)
        at = self.world.clock.now()
        if self.world.refused(canary):
            outcome = CallOutcome(
                at=at,
                ok=False,
                denied=True,
                error="AccessDeniedException: explicit deny in a service control policy",
            )
        else:
            request = f"req-{len(self.world.calls)}"
            outcome = CallOutcome(
                at=at, ok=True, input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS, request_id=request
            )
        self.world.calls.append((canary.arn, outcome))
        return outcome


class FakeMetrics:
    def __init__(self, world: World) -> None:
        self.world = world

    def invocations(self, model_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, float]:
        if self.world.fail_metrics:
            raise RuntimeError("GetMetricData: connection reset")
        first = next((o for _, o in self.world.calls if o.ok), None)
        out = dict.fromkeys(model_ids, 0.0)
        if first is None or self.world.metric_after is None:
            return out
        if (self.world.clock.now() - first.at).total_seconds() < self.world.metric_after:
            return out
        profile_id, arn, model = model_ids
        if "profile-id" in self.world.metric_forms:
            out[profile_id] = 1.0
        if "profile-arn" in self.world.metric_forms:
            out[arn] = 1.0
        if self.world.model_series_moves:
            out[model] = 1.0
        return out


class FakeLogs:
    def __init__(self, world: World) -> None:
        self.world = world

    def log_group(self) -> str | None:
        return self.world.log_group

    def record(
        self, log_group: str, request_id: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        for arn, outcome in self.world.calls:
            if outcome.request_id == request_id:
                canary = self.world.canaries[arn]
                model_id = canary.arn if self.world.log_model_id == "arn" else canary.profile_id
                return {"requestId": request_id, "modelId": model_id}
        return None


def trip_record(
    canary: Canary, at: datetime, *, dry_run: bool = False, in_force: bool = True
) -> dict[str, Any]:
    scp = (
        {"policy_id": "p-guard0001", "arns_before": [], "added": True, "status": "applied"}
        if in_force
        else None
    )
    return {
        "trip_id": "t0000001",
        "incident_id": "drill-20261130t100000-abc123",
        "profile_arn": canary.arn,
        "profile_id": canary.profile_id,
        "account_id": canary.account_id,
        "region": canary.region,
        "action": "detach",
        "mechanism": "guard-scp",
        "dry_run": dry_run,
        "actor": "tokenfuse",
        "tripped_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "restore_after": None,
        "scp": scp,
        "complete": in_force,
    }


class FakeRemediation:
    def __init__(self, world: World) -> None:
        self.world = world
        self.incidents: list[Mapping[str, Any]] = []

    def trip(self, incident: Mapping[str, Any], execution_name: str, wait_seconds: float) -> TripOutcome:
        self.incidents.append(incident)
        canary = self.world.canaries[incident["incident"]["profile_arn"]]
        if self.world.trip_status != "SUCCEEDED":
            return TripOutcome(
                execution_name, self.world.trip_status, None, "States.TaskFailed: AccessDenied"
            )
        self.world.tripped_at = None if self.world.trip_dry_run else self.world.clock.now()
        record = trip_record(canary, self.world.clock.now(), dry_run=self.world.trip_dry_run)
        return TripOutcome(execution_name, "SUCCEEDED", record)

    def restore(self, profile_arn: str, actor: str) -> RestoreOutcome:
        if self.world.fail_restore:
            raise RuntimeError("Lambda Invoke: connection reset")
        self.world.restores.append(profile_arn)
        if self.world.tripped_at is None or self.world.restored_at is not None:
            return RestoreOutcome(False, "no active trip")
        self.world.restored_at = self.world.clock.now()
        return RestoreOutcome(True, "prior state put back")


class FakeOrganization:
    def __init__(self, world: World) -> None:
        self.world = world

    def management_account(self) -> str | None:
        return self.world.management_account
