"""Each AWS call of a restore fails in turn, for each mechanism and action: the automatic restore
of a throttle (through the real ASL: its Retry, then Escalate) and a person's restore of a detach
(``tokenfuse restore``, the restore-profiles task). Whatever fails, the record equals what is still
in force, nothing says "Restored" while tokenfuse's deny is in force, a person is told what is
left, and the next restore puts back exactly the state before the trip."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fault_injection import expect
from tests.fault_injection.faults import ErrorKind, Plan, matrix
from tests.fault_injection.flow import remediate
from tests.fault_injection.test_trip_faults import restores_itself
from tests.fault_injection.world import FINOPS_CHANNEL, World
from tokenfuse.adapters.aws import forget_kept_sessions
from tokenfuse.remediation import tasks
from tokenfuse.remediation.settings import TripMechanism

_START = ["dynamodb.GetItem", "sts.AssumeRole"]
_UNCAP = [
    "lambda.GetFunctionConcurrency", "lambda.DeleteFunctionConcurrency",  # worker-b: none before
    "lambda.GetFunctionConcurrency", "lambda.PutFunctionConcurrency",  # worker-a: back to 25
]  # fmt: skip
_UNTAG = ["bedrock.ListTagsForResource", "bedrock.TagResource"]
_UNLIST = ["organizations.DescribePolicy", "organizations.UpdatePolicy", "organizations.DescribePolicy"]
_UNDENY = [
    "iam.GetRolePolicy", "iam.DeleteRolePolicy", "iam.GetRolePolicy",  # worker-role: deleted, read back
    "iam.GetRolePolicy", "iam.PutRolePolicy", "iam.GetRolePolicy",  # caller-b: the person's policy back
    "iam.GetRolePolicy", "iam.DeleteRolePolicy", "iam.GetRolePolicy",  # caller-a
]  # fmt: skip
_END = ["dynamodb.DeleteItem", "dynamodb.PutItem", "events.PutEvents"]  # the record gone, audited
_UNDENY_CALLERS = _UNDENY[3:]  # a caller trip's inline denies: caller-b, then caller-a
RESTORE_CALLS = {
    ("guard-scp", "throttle"): [*_START, *_UNCAP, *_UNTAG, *_UNLIST, *_END],
    ("inline-deny", "throttle"): [*_START, *_UNCAP, *_UNTAG, *_UNDENY, *_END],
    # a person's restore reads the active trip first (restore-profiles), then restores it
    ("guard-scp", "detach"): ["dynamodb.GetItem", *_START, *_UNTAG, *_UNLIST, *_END],
    ("inline-deny", "detach"): ["dynamodb.GetItem", *_START, *_UNTAG, *_UNDENY, *_END],
    # a caller-scope trip: only the roles' deny to put back (the guard's statement needs no member role)
    ("guard-scp", "caller-throttle"): ["dynamodb.GetItem", *_UNLIST, *_END],
    ("inline-deny", "caller-throttle"): [*_START, *_UNDENY_CALLERS, *_END],
    ("guard-scp", "caller-detach"): ["dynamodb.GetItem", "dynamodb.GetItem", *_UNLIST, *_END],
    ("inline-deny", "caller-detach"): ["dynamodb.GetItem", *_START, *_UNDENY_CALLERS, *_END],
}
PERSON = {"task": "restore-profiles", "actor": "arn:aws:iam::123456789012:user/ops"}


def _trip_detach(world: World, mechanism: TripMechanism, action: str = "detach") -> None:
    """A detach in force, tripped by the Trip task alone (the rest of the run adds nothing here)."""
    incident = world.incident(action)
    decided = tasks.dispatch({"task": "policy", "incident": incident}, world.deps(mechanism))
    record = tasks.dispatch(
        {
            "task": "trip",
            "incident": incident,
            "policy": decided,
            "approval": {"decision": None, "actor": "tokenfuse"},
        },
        world.deps(mechanism),
    )
    assert record["complete"] and record["action"] == "detach"


def _restore_by_hand(world: World, mechanism: TripMechanism, plan: Plan | None) -> dict[str, Any] | Exception:
    forget_kept_sessions(own_clients=False)  # a person restores a detach hours later: a cold container
    with world.faults.armed_for(plan):
        try:
            return tasks.dispatch({**PERSON, "profile_arn": world.profile_arn}, world.deps(mechanism))
        except Exception as error:  # what the CLI prints as "restore failed: ..."
            return error


@pytest.mark.parametrize(("mechanism", "action"), list(RESTORE_CALLS))
def test_the_calls_faulted_are_every_call_of_a_restore(
    world: World, mechanism: TripMechanism, action: str
) -> None:
    if restores_itself(action):
        outcome = remediate(world, mechanism, action, "restore", None)
        assert outcome.execution.status == "SUCCEEDED" and outcome.calls == [
            RESTORE_CALLS[(mechanism, action)]
        ]
    else:
        _trip_detach(world, mechanism, action)
        answer = _restore_by_hand(world, mechanism, None)
        assert not isinstance(answer, Exception) and answer["failed"] == [], answer
        assert answer["results"][0]["restored"] is True
        assert world.faults.calls == RESTORE_CALLS[(mechanism, action)]
    assert world.observe() == world.pristine


def _never_restored_while_denied(said: list[tuple[str, str]], left: bool) -> None:
    if left:
        assert not any("Restored" in text for _, text in said), said


@pytest.mark.parametrize(("mechanism", "action", "index", "operation", "kind"), matrix(RESTORE_CALLS))
def test_a_fault_at_any_call_of_a_restore_leaves_the_record_equal_to_aws(
    world: World, mechanism: TripMechanism, action: str, index: int, operation: str, kind: ErrorKind
) -> None:
    initial = world.pristine
    plan = Plan(kind, index=index)
    if restores_itself(action):
        # When the cooldown's restore fails at call `index`
        outcome = remediate(world, mechanism, action, "restore", plan)
        escalated = "Escalate" in outcome.execution.path
        # Then a transient failure is retried to the end; any other is escalated
        assert (outcome.execution.status == "FAILED") == escalated
    else:
        # When a person's restore of the detach fails at call `index`
        _trip_detach(world, mechanism, action)
        answer = _restore_by_hand(world, mechanism, plan)
        escalated = isinstance(answer, Exception) or bool(answer["failed"])
    assert world.faults.injected == [f"{index}:{operation}:{kind}"]
    # Then the record equals what AWS still has in force, all applied, and its deny with it
    record = world.stored_record()
    assert world.observe() == expect.aws_for(world, initial, record), record
    if record is not None:
        assert escalated and all(c.status == "applied" for c in record.changes), record
        expect.prior_values_are_real(record, initial)
    said = world.recorder.messages
    _never_restored_while_denied(said, left=record is not None and record.deny_in_force)
    # And a person is told what is left (the thread, and FinOps for the automatic restore)
    if escalated and restores_itself(action):
        finops = [text for where, text in said if where == FINOPS_CHANNEL]
        if record is None:
            assert any("Nothing of tokenfuse's is in force" in t for t in finops), said
        else:
            assert any(all(f in t for f in expect.named(world, record)) for t in finops), said
    if escalated and not restores_itself(action) and not isinstance(answer, Exception):
        # the person who ran it reads what failed and what is still in force (`tokenfuse restore`)
        (failure,) = answer["failed"]
        if record is not None:
            assert "Still in force" in failure and all(f in failure for f in expect.named(world, record))
    # And the next restore puts back exactly the state before the trip
    if record is not None or world.observe() != initial:
        again = _restore_by_hand(world, mechanism, None)
        assert not isinstance(again, Exception) and again["failed"] == [], again
    assert world.observe() == initial and world.stored_record() is None
