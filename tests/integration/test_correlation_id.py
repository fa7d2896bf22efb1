"""One spike, one correlation id (issue 11): the runaway loop told by the sandbox's real handlers,
real ASL and a signed Slack click; every JSON log line of every function that handled the spike is
found by its first signal's dedup key, and ``incident_id`` joins it once the incident exists."""

from collections import defaultdict

import pytest

from tests.support.demo_runs import same_run

pytestmark = [pytest.mark.e2e, same_run()]

SPIKE_FUNCTIONS = ("intake", "attribute", "notify", "remediate", "approve")


@pytest.fixture(scope="module")
def story(demo_runs):
    run = demo_runs.get()  # the default story, shared with tests/e2e/test_demo_story.py
    return run.report, run.handler_lines


def recorded(lines: list[dict], incident_id: str, outcome: str) -> list[dict]:
    """notify's "incident recorded" lines for the incident with that outcome (opened / joined)."""
    return [
        line
        for line in lines
        if line.get("message") == "incident recorded"
        and line.get("incident_id") == incident_id
        and line.get("outcome") == outcome
    ]


def function_of(line: dict) -> str:
    """``tokenfuse-<function>-<stage>`` (the template's FunctionName) -> ``<function>``."""
    return str(line["function_name"]).split("-")[1]


def test_every_function_that_handled_the_spike_logs_its_first_dedup_key(story):
    report, lines = story
    (incident,) = report.incidents
    # Given the id notify opened the incident under: the first signal's dedup key, as intake put it
    (opened,) = recorded(lines, incident["incident_id"], "opened")
    correlation_id = opened["correlation_id"]
    assert any(function_of(line) == "intake" and line.get("dedup_key") == correlation_id for line in lines), (
        correlation_id
    )
    # When every line is grouped by its correlation id
    by_id = defaultdict(list)
    for line in lines:
        by_id[line.get("correlation_id")].append(line)
    spike = by_id[correlation_id]
    # Then the spike's id gathers lines of intake, attribute, notify, the remediation and the click
    assert {function_of(line) for line in spike} >= set(SPIKE_FUNCTIONS), sorted(
        {function_of(line) for line in spike}
    )
    # and every line the remediation wrote about this incident carries it, with the incident's id
    remediation = [line for line in lines if function_of(line) == "remediate" and line.get("task")]
    assert remediation, "the remediation logged nothing"
    assert {line["correlation_id"] for line in remediation} == {correlation_id}
    assert {line["incident_id"] for line in remediation} == {incident["incident_id"]}
    # the approval click, once it read the approval record, is on the spike's id and incident
    clicks = [line for line in spike if function_of(line) == "approve"]
    assert clicks and all(line.get("incident_id") == incident["incident_id"] for line in clicks)


def test_later_signals_of_the_same_incident_keep_their_own_id_and_join_the_incident(story):
    report, lines = story
    (incident,) = report.incidents
    # Given the signals that merged into the incident after the first (Budgets, CAD)
    (opened,) = recorded(lines, incident["incident_id"], "opened")
    joined = recorded(lines, incident["incident_id"], "joined")
    assert len(joined) == incident["signal_count"] - 1, joined
    later = {line["correlation_id"] for line in joined}
    # Then each went through intake and attribute under an id of its own, and joined the incident
    assert len(later) == len(joined) and opened["correlation_id"] not in later
    for key in later:
        handled = {function_of(line) for line in lines if line.get("correlation_id") == key}
        assert {"intake", "attribute", "notify"} <= handled, (key, handled)


def test_the_inventory_logs_under_ids_of_its_own(story):
    _, lines = story
    inventory = [line for line in lines if function_of(line) == "inventory"]
    assert inventory
    # its lines carry its own ids (the sweep's, a CloudTrail event's), never a spike's dedup key
    spike_ids = {line.get("correlation_id") for line in lines if function_of(line) == "attribute"}
    assert not {line.get("correlation_id") for line in inventory} & spike_ids
