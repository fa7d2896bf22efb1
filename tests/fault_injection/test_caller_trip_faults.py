"""Caller-scope trips (``scope: caller``) beyond the call-by-call matrix of ``test_trip_faults``
and ``test_restore_faults`` (which list them too): a call that always fails, and the inline deny
that takes over when the guard SCP has no room for the callers' statement, faulted at each call.
Every fault leaves nothing half-applied: the record equals AWS, all or nothing, and a person is
told exactly what is in force."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fault_injection.faults import ErrorKind, Plan, matrix
from tests.fault_injection.flow import remediate
from tests.fault_injection.test_trip_faults import TRIP_CALLS, _nothing_half_applied
from tests.fault_injection.world import World
from tokenfuse.remediation.settings import TripMechanism

MAX_SCP_CHARS = 5120  # Organizations' limit on an SCP document

PERSISTENT = {
    # (mechanism, operation, kind): whether the callers' deny is in force after the trip
    ("guard-scp", "iam.GetRole", "access-denied"): False,  # no role's ARN: nothing can be blocked
    ("guard-scp", "iam.GetRole", "throttling"): False,
    ("guard-scp", "organizations.UpdatePolicy", "access-denied"): False,
    ("guard-scp", "organizations.UpdatePolicy", "throttling"): False,  # retried, undone each time
    ("guard-scp", "organizations.UpdatePolicy", "read-timeout"): True,  # applied, then lost: read back
    ("inline-deny", "iam.PutRolePolicy", "access-denied"): False,
    ("inline-deny", "iam.PutRolePolicy", "read-timeout"): True,
}


@pytest.mark.parametrize("action", ["caller-throttle", "caller-detach"])
@pytest.mark.parametrize(("mechanism", "operation", "kind"), list(PERSISTENT))
def test_a_call_that_always_fails_during_a_caller_trip(
    world: World, mechanism: TripMechanism, operation: str, kind: ErrorKind, action: str
) -> None:
    # When every call of `operation` fails during the trip (each retry of the Trip task too)
    outcome = remediate(world, mechanism, action, "trip", Plan(kind, operation=operation, persistent=True))

    # Then the callers are denied or nothing is, as the case says, and nothing is half-applied
    assert world.faults.injected, "the fault never fired"
    record = outcome.trip_phase.record
    assert (record is not None) == PERSISTENT[(mechanism, operation, kind)], record
    if record is None:
        retries = 4 if kind == "throttling" else 1
        assert outcome.execution.attempts["Trip"] == retries and outcome.execution.status == "FAILED"
    else:
        assert record.scope == "caller" and record.tag is None and record.concurrency == []
    _nothing_half_applied(world, mechanism, action, outcome, world.pristine)


def _fill_the_guard(world: World) -> dict[str, Any]:
    """A statement of a person's that leaves the guard 100 characters short of its limit (a caller
    statement for two roles takes about 330): returns the world as it then stands."""
    org = world.client("organizations", member=False)
    document = json.loads(org.describe_policy(PolicyId=world.policy_id)["Policy"]["Content"])
    filler: dict[str, Any] = {"Sid": "PersonsBig", "Effect": "Deny", "Action": "s3:GetObject"}
    document["Statement"].append(filler)
    size = len(json.dumps(document, separators=(",", ":")))
    filler["Resource"] = ["x" * (MAX_SCP_CHARS - 100 - size)]
    org.update_policy(PolicyId=world.policy_id, Content=json.dumps(document, separators=(",", ":")))
    return world.observe()


_FULL_GUARD = [
    "organizations.DescribePolicy", "dynamodb.PutItem",  # the callers before, written as pending
    "organizations.DescribePolicy",  # the statement would pass 5,120 characters: nothing written
    "dynamodb.PutItem",  # the pending change dropped
]  # fmt: skip
_INLINE = ["iam.GetRolePolicy", "dynamodb.PutItem", "iam.PutRolePolicy", "dynamodb.PutItem"] * 2
_BEFORE = TRIP_CALLS[("guard-scp", "caller-throttle")][:5]  # the start and both roles looked up
_AFTER = TRIP_CALLS[("guard-scp", "caller-throttle")][-4:]  # the record, the log, the audit
FULL_GUARD_CALLS = {
    ("guard-scp", "caller-throttle"): [*_BEFORE, *_FULL_GUARD, *_INLINE, *_AFTER],
    ("guard-scp", "caller-detach"): [*_BEFORE, *_FULL_GUARD, *_INLINE, *_AFTER],
}


@pytest.mark.parametrize(("mechanism", "action"), list(FULL_GUARD_CALLS))
def test_a_full_guard_hands_the_callers_deny_to_inline_policies(
    world: World, mechanism: TripMechanism, action: str
) -> None:
    initial = _fill_the_guard(world)
    outcome = remediate(world, mechanism, action, "trip", None)
    assert outcome.execution.status == "SUCCEEDED", outcome.execution.path
    assert outcome.calls == [FULL_GUARD_CALLS[(mechanism, action)]]
    record = outcome.trip_phase.record
    assert record is not None and record.caller_scp is None
    assert [c.role_name for c in record.role_policies] == ["caller-a", "caller-b"]
    assert any("instead of the guard SCP statement" in text for _, text in outcome.trip_phase.said)
    _nothing_half_applied(world, mechanism, action, outcome, initial)


@pytest.mark.parametrize(("mechanism", "action", "index", "operation", "kind"), matrix(FULL_GUARD_CALLS))
def test_a_fault_at_any_call_of_the_inline_deny_that_took_over_leaves_nothing_half_applied(
    world: World, mechanism: TripMechanism, action: str, index: int, operation: str, kind: ErrorKind
) -> None:
    initial = _fill_the_guard(world)
    outcome = remediate(world, mechanism, action, "trip", Plan(kind, index=index))
    assert world.faults.injected == [f"{index}:{operation}:{kind}"]
    _nothing_half_applied(world, mechanism, action, outcome, initial)
