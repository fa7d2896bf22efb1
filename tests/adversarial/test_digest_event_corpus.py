"""The digest function's input (the schedules' Input, Scheduler's context attributes filled in): every
node of a real one deleted or swapped for another JSON shape, hostile strings and calendar edges.
Each is refused with one line or accepted as a well-formed run; nothing else happens, nothing crashes."""

import pytest
from pydantic import ValidationError

from tests.support.adversarial import CALENDAR_EDGES, HOSTILE_STRINGS, deeply_nested, mutations
from tokenfuse.showback.settings import DigestRun
from tokenfuse.teams import TeamDirectoryError, load_directory

SAMPLE = {
    "action": "weekly-digest",
    "schedule_arn": "arn:aws:scheduler:us-east-1:111122223333:schedule/default/tokenfuse-digest-dev",
    "scheduled_time": "2026-12-07T08:00:00Z",
}


def verdict(event: object) -> str:
    try:
        run = DigestRun.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        assert "\n" not in first["msg"]
        return "refused"
    assert run.scheduled_time.tzinfo is not None
    return "accepted"


def test_the_real_input_is_accepted():
    assert verdict(SAMPLE) == "accepted"


@pytest.mark.parametrize(("label", "event"), list(mutations(SAMPLE)))
def test_every_mutation_is_refused(label, event):
    assert verdict(event) == "refused", label


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
@pytest.mark.parametrize("field", ["action", "schedule_arn", "scheduled_time"])
def test_hostile_strings_are_refused(field, value):
    assert verdict({**SAMPLE, field: value}) == "refused"


@pytest.mark.parametrize("value", CALENDAR_EDGES)
def test_calendar_edges_are_refused(value):
    assert verdict({**SAMPLE, "scheduled_time": value}) == "refused"


def test_unknown_fields_and_deep_nesting_are_refused():
    assert verdict({**SAMPLE, "extra": 1}) == "refused"  # a shape of tokenfuse's own: nothing else
    assert verdict({**SAMPLE, "action": deeply_nested()}) == "refused"


@pytest.mark.parametrize("value", [*HOSTILE_STRINGS, "Mars/Olympus", "UTC+1", "Europe/../UTC"])
def test_team_timezones_that_are_not_iana_zones_are_refused_in_one_line(value):
    document = {"teams": [{"name": "a", "slack_channel": "C0AAAAAAAA", "timezone": value}]}
    import json

    try:
        load_directory(json.dumps(document))
    except TeamDirectoryError as error:
        assert len(error.issues) == 1 and "\n" not in error.issues[0]
