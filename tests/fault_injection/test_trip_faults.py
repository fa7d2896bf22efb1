"""Each AWS call of a trip fails in turn (AccessDenied, throttling, a connect time-out, a read
time-out after AWS applied the call), for each mechanism and action, through the real ASL: nothing
is ever half-applied. Right after the trip, the record equals what AWS has in force and is all
(the deny in full) or nothing; a person is told exactly that; a throttle's automatic restore puts
back whatever was applied; a detach stays until a person restores it, and that restore is exact."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fault_injection import expect
from tests.fault_injection.faults import WRITES, ErrorKind, Plan, matrix
from tests.fault_injection.flow import Outcome, remediate
from tests.fault_injection.world import World
from tokenfuse.remediation import tasks
from tokenfuse.remediation.settings import TripMechanism

_READ_CALLERS = [
    "iam.GetRole", "lambda.GetFunctionConfiguration",  # caller-b: a bare name, looked up as both
    "iam.GetRole", "lambda.GetFunctionConfiguration",  # worker-b likewise
]  # fmt: skip
_START = ["dynamodb.GetItem", "sts.AssumeRole", "bedrock.ListTagsForResource"]
_GUARD = [
    "organizations.DescribePolicy", "dynamodb.PutItem",  # the list before, written as pending
    "organizations.DescribePolicy", "organizations.UpdatePolicy", "organizations.DescribePolicy",  # add
    "dynamodb.PutItem",  # applied
]  # fmt: skip
_INLINE = [
    "lambda.GetFunctionConfiguration", "lambda.GetFunctionConfiguration",  # the workers' role
    *(["iam.GetRolePolicy", "dynamodb.PutItem", "iam.PutRolePolicy", "dynamodb.PutItem"] * 3),
]  # fmt: skip
_TAG = ["dynamodb.PutItem", "bedrock.TagResource", "dynamodb.PutItem"]
_CAP = [
    "lambda.GetFunctionConcurrency",
    "dynamodb.PutItem",
    "lambda.PutFunctionConcurrency",
    "dynamodb.PutItem",
] * 2
_END = ["dynamodb.PutItem", "dynamodb.PutItem", "dynamodb.PutItem", "events.PutEvents"]  # record, log, audit
# A caller-scope trip (scope: caller): each caller's role looked up, then only the deny of those roles
_ROLES = ["iam.GetRole", "iam.GetRole"]  # caller-a, caller-b: their ARNs with paths
_CALLERS_INLINE = ["iam.GetRolePolicy", "dynamodb.PutItem", "iam.PutRolePolicy", "dynamodb.PutItem"] * 2
TRIP_CALLS = {
    ("guard-scp", "throttle"): [*_START, *_READ_CALLERS, *_GUARD, *_TAG, *_CAP, *_END],
    ("guard-scp", "detach"): [*_START, *_GUARD, *_TAG, *_END],
    ("inline-deny", "throttle"): [*_START, *_READ_CALLERS, *_INLINE, *_TAG, *_CAP, *_END],
    ("inline-deny", "detach"): [*_START, *_READ_CALLERS, *_INLINE, *_TAG, *_END],
    ("guard-scp", "caller-throttle"): [*_START, *_ROLES, *_GUARD, *_END],
    ("guard-scp", "caller-detach"): [*_START, *_ROLES, *_GUARD, *_END],
    ("inline-deny", "caller-throttle"): [*_START, *_ROLES, *_CALLERS_INLINE, *_END],
    ("inline-deny", "caller-detach"): [*_START, *_ROLES, *_CALLERS_INLINE, *_END],
}


def restores_itself(action: str) -> bool:
    """A throttle (of the profile or of its callers) is restored after its cooldown."""
    return action.endswith("throttle")


@pytest.mark.parametrize(("mechanism", "action"), list(TRIP_CALLS))
def test_the_calls_faulted_are_every_call_of_a_trip(
    world: World, mechanism: TripMechanism, action: str
) -> None:
    outcome = remediate(world, mechanism, action, "trip", None)
    assert outcome.execution.status == "SUCCEEDED", outcome.execution.path
    assert outcome.calls == [TRIP_CALLS[(mechanism, action)]]


def _lambda_timeouts() -> list[object]:
    """The function stopped right after each write of a throttle's trip (a record write, an AWS
    change): what a retried or timed-out invocation leaves behind."""
    return [
        pytest.param(
            mechanism,
            action,
            index,
            operation,
            "lambda-timeout",
            id=f"{mechanism}-{action}-{index:02d}-{operation}-lambda-timeout",
        )
        for (mechanism, action), operations in TRIP_CALLS.items()
        if restores_itself(action)
        for index, operation in enumerate(operations)
        if operation in WRITES or operation == "dynamodb.PutItem"
    ]


@pytest.mark.parametrize(
    ("mechanism", "action", "index", "operation", "kind"), [*matrix(TRIP_CALLS), *_lambda_timeouts()]
)
def test_a_fault_at_any_call_of_a_trip_leaves_nothing_half_applied(
    world: World, mechanism: TripMechanism, action: str, index: int, operation: str, kind: ErrorKind
) -> None:
    # Given the world as it was before the trip (reset() checked it)
    initial = world.pristine

    # When call number `index` of the trip fails with `kind`
    outcome = remediate(world, mechanism, action, "trip", Plan(kind, index=index))

    # Then it failed there and only there
    assert world.faults.injected == [f"{index}:{operation}:{kind}"]
    _nothing_half_applied(world, mechanism, action, outcome, initial)


PERSISTENT = {
    # (mechanism, operation, kind): the deny is in force after the trip
    ("guard-scp", "bedrock.TagResource", "access-denied"): True,  # the tag denied after the SCP listed it
    ("inline-deny", "bedrock.TagResource", "access-denied"): True,
    ("guard-scp", "organizations.UpdatePolicy", "throttling"): False,  # retried, undone each time
    ("inline-deny", "iam.PutRolePolicy", "throttling"): False,
    ("guard-scp", "sts.AssumeRole", "access-denied"): False,  # the member role is gone
    ("inline-deny", "sts.AssumeRole", "access-denied"): False,
    ("guard-scp", "organizations.UpdatePolicy", "read-timeout"): True,  # applied, then lost: read back
    ("inline-deny", "iam.PutRolePolicy", "read-timeout"): True,
    ("guard-scp", "lambda.PutFunctionConcurrency", "access-denied"): True,
}


@pytest.mark.parametrize("action", ["throttle", "detach"])
@pytest.mark.parametrize(("mechanism", "operation", "kind"), list(PERSISTENT))
def test_a_call_that_always_fails(
    world: World, mechanism: TripMechanism, operation: str, kind: ErrorKind, action: str
) -> None:
    # When every call of `operation` fails during the trip (each retry of the Trip task too)
    outcome = remediate(world, mechanism, action, "trip", Plan(kind, operation=operation, persistent=True))

    # Then the deny is in force or nothing is, as the case says, and nothing is half-applied
    record = outcome.trip_phase.record
    applies = operation != "lambda.PutFunctionConcurrency" or action == "throttle"
    if applies:
        assert world.faults.injected, "the fault never fired"
    assert (record is not None) == (PERSISTENT[(mechanism, operation, kind)] or not applies), record
    if record is None:  # a transient failure was retried afresh (the Trip task's Retry), then escalated
        retries = 4 if kind == "throttling" else 1
        assert outcome.execution.attempts["Trip"] == retries and outcome.execution.status == "FAILED"
    _nothing_half_applied(world, mechanism, action, outcome, world.pristine)


def _nothing_half_applied(
    world: World, mechanism: TripMechanism, action: str, outcome: Outcome, initial: dict[str, Any]
) -> None:
    # And right after the trip the record equals AWS, with nothing unconfirmed, all or nothing
    phase = outcome.trip_phase
    record = phase.record
    assert phase.aws == expect.aws_for(world, initial, record), (record, outcome.execution.path)
    if record is not None:
        assert all(change.status == "applied" for change in record.changes), record
        assert record.deny_in_force, record
        expect.prior_values_are_real(record, initial)
    else:
        assert outcome.execution.status == "FAILED" and "Trip" in outcome.execution.path
    # And a person was told exactly what is in force
    expect.told_what_is_in_force(world, record, phase.said)
    # And in the end a throttle is restored, whatever was applied; a detach waits for a person
    if restores_itself(action) or record is None:
        assert world.observe() == initial and world.stored_record() is None, outcome.execution.path
        if record is not None:
            assert "Restore" in outcome.execution.path
        return
    assert world.observe() == phase.aws and world.stored_record() == record
    result = tasks.dispatch(
        {"task": "restore-profiles", "profile_arn": world.profile_arn, "actor": "ops"}, world.deps(mechanism)
    )
    assert result["failed"] == [] and result["results"][0]["restored"] is True
    assert world.observe() == initial
