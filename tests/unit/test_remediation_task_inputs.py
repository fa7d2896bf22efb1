"""Reading a task's payload: every payload the state machine, ``tokenfuse restore`` and the Restore
button send parses into its model; anything else is one ``InvalidTaskInput`` line naming the task
and the field, raised before the task touches anything.

The corpus: every node of each real payload (recorded from the walk of the real ASL) deleted or
swapped for another JSON shape (``tests/support/adversarial.mutations``), plus hostile values and
arbitrary JSON.
"""

import copy
from typing import Any

import pytest
from hypothesis import given

from tests.fault_injection.contract_walk import STORIES, fresh, walk
from tests.support.adversarial import HOSTILE_STRINGS, OVERFLOWING_NUMBERS, json_values, mutations
from tokenfuse.remediation import tasks
from tokenfuse.remediation.contracts import (
    TASK_RESULTS,
    EscalateTask,
    RestoreProfilesTask,
    TaskInput,
    TripTask,
    VerifyStillRunningTask,
    parse_task,
)
from tokenfuse.remediation.errors import InvalidTaskInput

ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"


def _recorded_payloads() -> dict[str, dict[str, Any]]:
    """One real payload per task (and per verify expectation), as the ASL builds it."""
    seen: dict[str, dict[str, Any]] = {}
    for name in STORIES:
        story = fresh(name)
        invoke = story.invoke

        def record(payload: dict[str, Any], invoke: Any = invoke) -> dict[str, Any]:
            key = f"{payload['task']}/{payload.get('expect', '')}".rstrip("/")
            seen.setdefault(key, copy.deepcopy(payload))
            return dict(invoke(payload))

        story.invoke = record  # type: ignore[method-assign]
        walk(story)
    seen["restore-profiles"] = {"task": "restore-profiles", "profile_arn": ARN, "actor": "slack:U0ALICE001"}
    seen["restore-profiles/all"] = {  # what `tokenfuse restore --all` sends
        "task": "restore-profiles",
        "profile_arn": None,
        "all": True,
        "actor": "arn:aws:iam::111111111111:user/ops",
    }
    return seen


RECORDED = _recorded_payloads()


class Untouchable:
    """Deps that fail the test if a task reaches for anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an invalid payload reached deps.{name}")


def test_every_task_has_a_recorded_payload():
    tasks_seen = {key.split("/")[0] for key in RECORDED}
    assert tasks_seen == set(TASK_RESULTS)
    assert {"verify/stopped", "verify/still-running"} <= set(RECORDED)


@pytest.mark.parametrize("key", sorted(RECORDED))
def test_every_recorded_payload_parses(key):
    task = parse_task(RECORDED[key])
    assert task.task == key.split("/")[0]


def _node_kind(payload: dict[str, Any], where: str) -> str:
    node: Any = payload
    for part in where.split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return type(node).__name__


def _corpus() -> list[tuple[str, str, Any]]:
    """Each task's own fields, every mutation of each; inside its nested models (the incident, the
    trip record, the approval, the state), one field of each JSON kind at each depth, every mutation
    of that field: the models validate each kind of field the same way wherever it sits. Branch
    coverage of the layer is the same as with every node of every payload mutated (3,437 cases
    then, 1,027 now)."""
    corpus = []
    for key in sorted(RECORDED):
        seen: set[tuple[str | int, ...]] = set()
        for label, mutated in mutations(RECORDED[key]):
            where, how = label.split(" ", 1)
            parts = where.split("/")
            if len(parts) == 1:
                kind: tuple[str | int, ...] = (where, how)
            else:
                kind = (parts[0], len(parts), _node_kind(RECORDED[key], where), how)
            if kind not in seen:
                seen.add(kind)
                corpus.append((key, label, mutated))
    return corpus


CORPUS = _corpus()


@pytest.mark.parametrize(("key", "label", "mutated"), CORPUS, ids=[f"{k}: {lbl}" for k, lbl, _ in CORPUS])
def test_a_mutated_payload_parses_or_is_refused_in_one_line(key, label, mutated):
    try:
        task: TaskInput = parse_task(mutated)
    except InvalidTaskInput as error:
        line = str(error)
        assert "\n" not in line and len(line) <= 300
        task_name = key.split("/")[0]
        assert line.startswith((f"{task_name}: ", "unknown task", "the payload names no task")), line
        with pytest.raises(InvalidTaskInput):  # and nothing was done
            tasks.dispatch(mutated, Untouchable())  # type: ignore[arg-type]
        return
    # what still parses is still that task, with the model's own types
    assert task.task == mutated["task"]


def test_the_corpus_is_large_and_mostly_refused():
    # what still parses is an optional field nulled or emptied, or a key of the full incident model
    # that remediation does not read (status, dedup_keys, ...): about a quarter
    refused = 0
    for _, _, mutated in CORPUS:
        try:
            parse_task(mutated)
        except InvalidTaskInput:
            refused += 1
    assert len(CORPUS) > 1000 and refused > 0.7 * len(CORPUS)


@given(json_values)
def test_arbitrary_json_is_refused_in_one_line_or_parses(value):
    try:
        parse_task(value)
    except InvalidTaskInput as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize("hostile", [*HOSTILE_STRINGS, *OVERFLOWING_NUMBERS])
def test_hostile_values_where_a_name_belongs(hostile):
    payload = copy.deepcopy(RECORDED["trip"])
    payload["incident"]["incident_id"] = hostile
    try:
        parse_task(payload)
    except InvalidTaskInput as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("payload", "line"),
    [
        ([1, 2], "the payload is list, not a JSON object naming a task"),
        ({}, "the payload names no task"),
        ({"task": "explode"}, "unknown task 'explode'"),
        ({"task": "policy"}, "policy: incident: Field required"),
        ({"task": "verify", "incident": {}}, "verify: expect: missing"),
        ({"task": "verify", "expect": "later"}, "verify: expect: not stopped or still-running"),
        (
            {"task": "restore-profiles", "actor": "ops"},
            "restore-profiles: payload: Value error, give profile_arn or all=true (not both)",
        ),
        (
            {"task": "restore-profiles", "profile_arn": "arn:aws:iam::1:role/x"},
            "restore-profiles: profile_arn: Value error, not an application inference profile ARN",
        ),
    ],
)
def test_the_line_names_the_task_and_the_field(payload, line):
    with pytest.raises(InvalidTaskInput) as raised:
        parse_task(payload)
    assert str(raised.value) == line


def test_a_missing_incident_field_is_named_deep_in_the_payload():
    payload = copy.deepcopy(RECORDED["trip"])
    del payload["incident"]["profile_arn"]
    with pytest.raises(InvalidTaskInput, match=r"^trip: incident\.profile_arn: Field required$"):
        parse_task(payload)


def test_an_unknown_key_in_an_asl_payload_is_a_mistake_in_the_definition():
    with pytest.raises(InvalidTaskInput, match=r"^trip: approvel: Extra inputs are not permitted"):
        parse_task({**RECORDED["trip"], "approvel": {}})


def test_an_unknown_key_in_the_incident_is_the_incident_models_business():
    payload = copy.deepcopy(RECORDED["trip"])
    payload["incident"]["schema_version"] = 2
    assert isinstance(parse_task(payload), TripTask)


def test_a_trip_refuses_an_approval_that_did_not_approve():
    payload = copy.deepcopy(RECORDED["trip"])
    payload["approval"]["decision"] = "decline"
    with pytest.raises(InvalidTaskInput, match=r"^trip: approval\.decision: "):
        parse_task(payload)


def test_escalate_reads_the_whole_state_and_ignores_what_it_does_not_use():
    payload = copy.deepcopy(RECORDED["escalate"])
    payload["state"]["timed_out"] = {"Error": "States.Timeout", "Cause": ""}
    payload["state"]["audit"] = {"outcome": {}}
    task = parse_task(payload)
    assert isinstance(task, EscalateTask) and task.state.failure() is not None


def test_a_lambda_error_names_the_exception_in_the_escalation():
    payload = copy.deepcopy(RECORDED["escalate"])
    for key in ("error", "restore_error"):
        payload["state"].pop(key, None)
    payload["state"]["trip_error"] = {
        "Error": "States.TaskFailed",
        "Cause": '{"errorType": "AccessDenied", "errorMessage": "no UpdatePolicy"}',
    }
    task = parse_task(payload)
    assert isinstance(task, EscalateTask)
    assert task.state.failure() == ("trip", "AccessDenied: no UpdatePolicy")


def test_the_snooze_check_takes_its_duration_from_the_payload():
    task = parse_task(RECORDED["verify/still-running"])
    assert isinstance(task, VerifyStillRunningTask) and task.since_seconds == 600


def test_restore_profiles_defaults_its_actor_and_takes_all():
    task = parse_task({"task": "restore-profiles", "all": True})
    assert isinstance(task, RestoreProfilesTask) and task.actor == "tokenfuse" and task.profile_arn is None
