"""The remediation ASL's structure: a valid States Language definition (statelint, offline), Retry/Catch
on every Task, named errors that exist, and every ``$.decided.policy.*`` path a field the policy task
really returns."""

import copy
import inspect
import json
import pkgutil
import re
from importlib import import_module
from pathlib import Path

import pytest
from statelint.linter import Linter

import tokenfuse
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation.contracts import FAILURE_KEYS, TASK_RESULTS
from tokenfuse.remediation.models import PolicyDecision, TripRecord, VerifyResult

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachines" / "remediation.asl.json"
ASL = json.loads(ASL_PATH.read_text())
STATES = ASL["States"]
TASK_STATES = {name: s for name, s in STATES.items() if s["Type"] == "Task"}


def _tokenfuse_exceptions() -> set[str]:
    names: set[str] = set()
    for module_info in pkgutil.walk_packages(tokenfuse.__path__, "tokenfuse."):
        try:
            module = import_module(module_info.name)
        except ImportError:
            continue
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, TokenfuseError):
                names.add(name)
    return names


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
    else:
        yield path, node


@pytest.mark.parametrize("name", sorted(TASK_STATES))
def test_every_task_retries_named_transient_errors_only(name):
    retries = TASK_STATES[name].get("Retry")
    assert retries, f"{name} has no Retry"
    for retry in retries:
        assert "States.ALL" not in retry["ErrorEquals"], f"{name} retries States.ALL"
    assert any("TransientAwsError" in r["ErrorEquals"] for r in retries)


LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.TooManyRequestsException",
    "Lambda.SdkClientException",
    "TransientAwsError",
]
SHARED_RETRY = {"ErrorEquals": LAMBDA_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}
RESTORE_RETRY = {"ErrorEquals": LAMBDA_ERRORS, "IntervalSeconds": 5, "MaxAttempts": 5, "BackoffRate": 2}


@pytest.mark.parametrize("name", sorted(TASK_STATES))
def test_every_task_retries_with_the_one_shared_block(name):
    # ASL has no shared Retry (nor do DefinitionSubstitutions, which substitute strings): every
    # Task repeats the same block, and this keeps the copies equal. Restore alone retries longer:
    # a throttle whose restore gives up stays denied until a person comes.
    expected = RESTORE_RETRY if name == "Restore" else SHARED_RETRY
    assert TASK_STATES[name]["Retry"] == [expected]


@pytest.mark.parametrize("name", sorted(TASK_STATES))
def test_every_task_catches_into_escalate(name):
    catches = TASK_STATES[name].get("Catch")
    assert catches, f"{name} has no Catch"
    last = catches[-1]
    assert last["ErrorEquals"] == ["States.ALL"]
    target = "RemediationFailed" if name == "Escalate" else "Escalate"
    assert last["Next"] == target
    # only the approval's time-out goes anywhere else; a named clause before States.ALL that leads
    # to the same place would be one more copy to keep in step
    assert [c["ErrorEquals"] for c in catches[:-1]] == (
        [["States.Timeout"]] if name == "RequestApproval" else []
    )


def test_every_named_error_is_a_tokenfuse_exception():
    known = _tokenfuse_exceptions()
    for state in STATES.values():
        for clause in [*state.get("Retry", []), *state.get("Catch", [])]:
            for error in clause["ErrorEquals"]:
                if error.startswith(("States.", "Lambda.")):
                    continue
                assert error in known, f"{error} is not an exception tokenfuse defines"


def test_every_policy_path_is_a_policy_field():
    fields = set(PolicyDecision.model_fields)
    read = {
        m
        for _, v in _walk(STATES)
        if isinstance(v, str)
        for m in re.findall(r"\$\.decided\.policy\.(\w+)", v)
    }
    assert read, "the ASL reads no policy field?"
    assert read <= fields, f"ASL reads fields the policy task does not return: {read - fields}"


def test_choices_read_fields_the_tasks_return():
    assert "dry_run" in TripRecord.model_fields
    assert "still_running" in VerifyResult.model_fields
    modes = {c["StringEquals"] for c in STATES["ByPolicy"]["Choices"]}
    assert modes == {"approve", "auto", "dry-run"}


def test_every_task_payload_names_a_dispatched_task():
    for name, state in TASK_STATES.items():
        task = state["Parameters"]["Payload"]["task"]
        assert task in TASK_RESULTS, f"{name} invokes unknown task {task}"
        assert state["Parameters"]["FunctionName"] == "${RemediateFunctionArn}"


def test_approval_waits_for_the_token_with_the_policy_timeout():
    state = STATES["RequestApproval"]
    assert state["Resource"].endswith(".waitForTaskToken")
    assert state["TimeoutSecondsPath"] == "$.decided.policy.approval_timeout_seconds"
    assert state["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert state["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.timed_out",
        "Next": "ApprovalTimedOut",
    }


DEFINITIONS = sorted((ROOT / "statemachines").glob("*.asl.json"))


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_statelint_finds_no_problem(path):
    """The States Language itself (offline, statelint): fields, types, and every Next, Default and
    Catch target a state that exists, every state reachable."""
    assert DEFINITIONS, "no state machine definition found"
    assert Linter.validate(json.loads(path.read_text())) == []


def _first(kind: str) -> tuple[str, list[str | int]]:
    """The first state of the real definition with a ``kind`` target, and the path to it."""
    for name, state in STATES.items():
        if kind == "Next" and "Next" in state:
            return name, ["Next"]
        if kind == "Default" and "Default" in state:
            return name, ["Default"]
        if kind == "Choice" and state["Type"] == "Choice":
            return name, ["Choices", 0, "Next"]
        if kind == "Catch" and state.get("Catch"):
            return name, ["Catch", 0, "Next"]
    raise AssertionError(f"the definition has no {kind} target")


@pytest.mark.parametrize("kind", ["Next", "Default", "Choice", "Catch"])
def test_a_target_that_names_no_state_is_refused(kind):
    broken = copy.deepcopy(ASL)
    name, path = _first(kind)
    node = broken["States"][name]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "NoSuchState"
    problems = Linter.validate(broken)
    assert any('No state found named "NoSuchState"' in p and name in p for p in problems), problems


def test_an_unreachable_state_is_refused():
    broken = copy.deepcopy(ASL)
    broken["States"]["Orphan"] = {"Type": "Pass", "End": True}
    assert Linter.validate(broken) == ["No transition found to state State Machine.Orphan"]


def test_moto_parses_the_definition():
    import boto3
    from moto import mock_aws

    # with execute_state_machine, moto parses the definition at create time (without, it stores any
    # string): a syntax error fails here
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        body = ASL_PATH.read_text().replace(
            "${RemediateFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:remediate"
        )
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        sfn.create_state_machine(name="remediation", definition=body, roleArn=role)


def test_each_failure_lands_where_escalate_reads_it():
    where = {f"$.{key}" for key, _ in FAILURE_KEYS}
    for name, state in TASK_STATES.items():
        for catch in state["Catch"]:
            if catch["Next"] != "Escalate":
                continue
            expected = {"Trip": "$.trip_error", "Restore": "$.restore_error"}.get(name, "$.error")
            assert catch["ResultPath"] == expected, name
            assert catch["ResultPath"] in where
    assert STATES["SpendNotStopped"]["ResultPath"] == "$.error"


def test_escalate_sees_the_whole_state_and_a_due_restore_still_runs():
    escalate = STATES["Escalate"]
    assert escalate["Parameters"]["Payload"] == {"task": "escalate", "state.$": "$"}
    assert escalate["ResultSelector"] == {
        "trip.$": "$.Payload.trip",
        "restore_due.$": "$.Payload.restore_due",
    }
    assert escalate["ResultPath"] == "$.tripped" and escalate["Next"] == "AfterEscalate"
    after = STATES["AfterEscalate"]
    assert after["Choices"] == [
        {"Variable": "$.tripped.restore_due", "BooleanEquals": True, "Next": "Cooldown"}
    ]
    assert after["Default"] == "RemediationFailed"
    assert STATES["Cooldown"]["Next"] == "Restore"
    assert STATES["Restore"]["Parameters"]["Payload"]["trip.$"] == "$.tripped.trip"


def test_a_run_that_escalated_fails_at_the_end_even_after_its_restore():
    assert STATES["Audit"]["Next"] == "Closed"
    closed = STATES["Closed"]  # a Choice on a missing path is a runtime error: look first
    assert closed["Choices"] == [
        {"Variable": "$.audit.outcome.failed", "IsPresent": True, "Next": "EscalatedOnTheWay"}
    ]
    assert STATES["EscalatedOnTheWay"]["Choices"] == [
        {"Variable": "$.audit.outcome.failed", "BooleanEquals": True, "Next": "RemediationFailed"}
    ]
    assert (
        STATES[closed["Default"]]["Type"]
        == STATES[STATES["EscalatedOnTheWay"]["Default"]]["Type"]
        == "Succeed"
    )
    assert STATES["Restore"]["ResultPath"] == "$.restored"  # Audit reads it to say what the restore did
