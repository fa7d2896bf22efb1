"""The ASL and the task contracts agree, both ways.

The real definition is walked (``tests/fault_injection/asl.py``) along every path it has: each
Task state's ``Payload`` template is filled in from the state the earlier states built and parsed
with the task's input model (:func:`tokenfuse.remediation.contracts.parse_task`); each task answers
with a result model, dumped as Lambda would return it, which the next states' ``ResultSelector``,
``ResultPath``, Choice and ``.$`` paths then read. A field renamed on either side, in the ASL or in
a model, fails here: the last tests rename them on purpose and watch the walk break.
"""

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fault_injection.contract_walk import DEFINITION, STORIES, TASK_STATES, fresh, through, walk
from tokenfuse.remediation.contracts import SpendCheck


@pytest.mark.parametrize("name", STORIES)
def test_every_payload_the_asl_builds_is_its_tasks_input(name):
    story, (_, status, states) = fresh(name), STORIES[name]
    execution = walk(story)
    assert execution.status == status, execution.path
    for state in states:
        assert state in execution.path
    path_tasks = [TASK_STATES[s]["Parameters"]["Payload"]["task"] for s in execution.path if s in TASK_STATES]
    assert [t.task for t in story.parsed] == path_tasks
    assert story.refused == []
    assert story.answers == [] and story.still_running == []  # every scripted answer was asked for


def test_the_stories_visit_every_task_state():
    seen: set[str] = set()
    for name in STORIES:
        seen |= set(walk(fresh(name)).path)
    assert set(TASK_STATES) <= seen


def _renamed_payload_keys() -> Iterator[tuple[str, str]]:
    for name, state in TASK_STATES.items():
        for key in state["Parameters"]["Payload"]:
            if key != "task":
                yield name, key


@pytest.mark.parametrize(("state", "key"), list(_renamed_payload_keys()))
def test_a_renamed_payload_field_fails_its_task(state, key):
    story = through(state)
    definition = copy.deepcopy(DEFINITION)
    payload = definition["States"][state]["Parameters"]["Payload"]
    payload[f"renamed_{key}"] = payload.pop(key)
    walk(story, definition)
    assert story.refused, f"{state} ran with {key} renamed"
    assert story.refused[0].startswith(f"{payload['task']}: ") and "\n" not in story.refused[0]


def _selected_fields() -> Iterator[tuple[str, str]]:
    for name, state in TASK_STATES.items():
        for path in state.get("ResultSelector", {}).values():
            if path.startswith("$.Payload."):
                yield name, path.removeprefix("$.Payload.")


@pytest.mark.parametrize(("state", "result_field"), list(_selected_fields()))
def test_a_result_without_a_field_the_asl_selects_breaks_the_walk(state, result_field):
    # Given a task whose result model lost a field the ASL's ResultSelector reads
    story = through(state)
    task_name = TASK_STATES[state]["Parameters"]["Payload"]["task"]
    invoke: Callable[[dict[str, Any]], dict[str, Any]] = story.invoke

    def without_field(payload: dict[str, Any]) -> dict[str, Any]:
        result = invoke(payload)
        if payload["task"] == task_name:
            del result[result_field]
        return result

    story.invoke = without_field  # type: ignore[method-assign]
    # Then the state cannot build its output: States.Runtime, which no Catch takes
    execution = walk(story)
    assert (execution.status, execution.error, execution.path[-1]) == ("FAILED", "States.Runtime", state)


def test_choices_read_what_the_result_models_hold():
    # the Choice states' variables resolve against a dumped result of the model that fills them
    assert set(SpendCheck.model_fields) == {"still_running"}
    variables = {
        rule["Variable"] for state in DEFINITION["States"].values() for rule in state.get("Choices", [])
    }
    assert variables == {
        "$.decided.policy.mode",
        "$.approval.decision",
        "$.recheck.still_running",
        "$.tripped.trip.dry_run",
        "$.verified.still_running",
        "$.decided.policy.action",
        "$.tripped.restore_due",
        "$.audit.outcome.failed",
    }
