"""DrillFunction's work: the schedule's input runs a drill that tells FinOps and publishes DrillPassed;
the stack's delete removes every canary; anything else is refused in one line."""

from typing import Any

import pytest

from tests.support.drill_fakes import START, World
from tokenfuse.canaries import DRILL_TAG_KEY
from tokenfuse.drill import scheduled
from tokenfuse.drill.scheduled import FinOpsReport, on_stack_event, read_trigger, run_scheduled
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation.errors import InvalidTaskInput

SETTINGS = DrillSettings(
    remediation_state_machine_arn="arn:aws:states:us-east-1:222233334444:stateMachine:tokenfuse-remediation-dev",
    remediate_function_name="tokenfuse-remediate-dev",
    drill_region="us-east-1",
    finops_slack_channel="C0FINOPS01",
    finops_email="finops@example.com",
)
TRIGGER = {
    "action": "scheduled-drill",
    "schedule_arn": "arn:aws:scheduler:us-east-1:222233334444:schedule/default/tokenfuse-drill",
    "scheduled_time": "2026-12-01T10:00:00Z",
}


class Chat:
    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.posts: list[tuple[str, str]] = []

    def post(self, channel: str, text: str, *, thread_ts: str | None = None, blocks: Any = None) -> str:
        if self.fail:
            raise TokenfuseError(f"Slack chat_postMessage failed: {self.fail}")
        self.posts.append((channel, text))
        return "1.0"


class Email:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str, str]] = []

    def send(self, to: list[str], subject: str, text: str, html: str | None = None) -> None:
        self.sent.append((to, subject, text))


class Metrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.added.append((name, value))


@pytest.fixture
def metrics(monkeypatch):
    recorder = Metrics()
    monkeypatch.setattr(scheduled, "metrics", recorder)
    return recorder


def schedule(world: World, report: FinOpsReport):
    return run_scheduled(
        SETTINGS,
        remaining_ms=900_000,
        report=report,
        build=lambda target, deadline=None: (world.ports(), world.config(deadline=deadline)),
        now=world.clock.now,
    )


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ({"action": "daily-sweep", "schedule_arn": "x", "scheduled_time": "y"}, "action"),
        ({"action": "scheduled-drill"}, "schedule_arn: Field required"),
        ({**TRIGGER, "extra": 1}, "extra: Extra inputs are not permitted"),
        ([], "a list"),
        ("drill", "a str"),
    ],
)
def test_anything_but_the_schedules_input_is_refused_in_one_line(event, said):
    refusal = read_trigger(event)
    assert isinstance(refusal, str) and refusal.startswith("not a drill trigger:") and said in refusal
    assert "\n" not in refusal


def test_the_schedules_input_is_read():
    assert read_trigger(TRIGGER).schedule_arn.endswith("tokenfuse-drill")


def test_a_passed_drill_is_told_to_finops_on_slack_and_publishes_drill_passed_1(metrics):
    world, chat = World(), Chat()
    report = schedule(world, FinOpsReport(chat, "C0FINOPS01", Email(), ["finops@example.com"]))
    assert report.passed
    assert (
        report.checks[-1].name == "finops-told"
        and report.checks[-1].detail == "told FinOps by Slack C0FINOPS01"
    )
    [(channel, text)] = chat.posts
    assert channel == "C0FINOPS01" and text.startswith(
        "tokenfuse fire drill passed in 444455556666 us-east-1"
    )
    assert "deny took effect in 7 s" in text
    assert metrics.added == [("DrillPassed", 1)]


def test_a_failed_drill_names_its_failed_checks_to_finops_and_publishes_0(metrics):
    world, chat = World(deny_after=None), Chat()
    report = schedule(world, FinOpsReport(chat, "C0FINOPS01", None, []))
    assert not report.passed
    [(_, text)] = chat.posts
    assert "tokenfuse fire drill FAILED" in text and "FAIL denied:" in text
    assert metrics.added == [("DrillPassed", 0)]


def test_slack_refusing_the_report_falls_back_to_email_and_still_fails_the_drill(metrics):
    email = Email()
    report = schedule(
        World(), FinOpsReport(Chat(fail="invalid_auth"), "C0FINOPS01", email, ["finops@example.com"])
    )
    told = report.checks[-1]
    assert not told.passed
    assert "told FinOps by email to finops@example.com, but Slack C0FINOPS01" in told.detail
    assert "invalid_auth" in told.detail and len(email.sent) == 1
    assert metrics.added == [("DrillPassed", 0)]


def test_finops_told_nowhere_is_a_failed_check(metrics):
    report = schedule(World(), FinOpsReport(None, None, None, []))
    assert report.checks[-1].detail.startswith("FinOps could not be told: no FinOps Slack channel or email")


def test_the_drill_gets_the_functions_time_less_a_margin():
    world = World()
    seen = {}

    def build(target, deadline=None):
        seen["deadline"] = deadline
        return world.ports(), world.config(deadline=deadline)

    run_scheduled(
        SETTINGS, 900_000, report=FinOpsReport(Chat(), "C0", None, []), build=build, now=world.clock.now
    )
    assert (seen["deadline"] - START).total_seconds() == 870


DRILL_FUNCTION = "arn:aws:lambda:us-east-1:222233334444:function:tokenfuse-drill-dev"
STACK_EVENT = {  # CloudFormation's Delete request, as it reaches the function
    "RequestType": "Delete",
    "ServiceToken": DRILL_FUNCTION,
    "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
    "StackId": "arn:aws:cloudformation:us-east-1:222233334444:stack/tokenfuse-dev/1",
    "RequestId": "r1",
    "LogicalResourceId": "DrillCanariesOnDelete",
    "PhysicalResourceId": "tokenfuse-drill-canaries",
    "ResourceType": "AWS::CloudFormation::CustomResource",
    "ResourceProperties": {"ServiceToken": DRILL_FUNCTION},
}


def test_deleting_the_stack_restores_and_deletes_every_canary_whatever_its_age():
    world = World()
    young = world.add_canary("tokenfuse-drill-20261130t095900-aaaaaa", {DRILL_TAG_KEY: "true"}, START)
    sent: list[dict] = []
    body = on_stack_event(
        STACK_EVENT,
        SETTINGS,
        build=lambda target, deadline=None: (world.ports(), None),
        send=lambda u, b: sent.append(b),
    )
    assert body["Status"] == "SUCCESS" and body["Data"] == {"Deleted": 1}
    assert world.canaries == {} and young.arn in world.restores
    assert sent == [body]


def test_a_canary_that_cannot_be_lifted_fails_the_delete_and_is_kept():
    world = World(fail_restore=True)
    world.add_canary("tokenfuse-drill-20261130t095900-aaaaaa", {DRILL_TAG_KEY: "true"}, START)
    body = on_stack_event(
        STACK_EVENT,
        SETTINGS,
        build=lambda target, deadline=None: (world.ports(), None),
        send=lambda u, b: None,
    )
    assert body["Status"] == "FAILED" and "restore failed" in body["Reason"]
    assert len(world.canaries) == 1


def test_create_and_update_do_nothing():
    world = World()
    world.add_canary("tokenfuse-drill-20261130t095900-aaaaaa", {DRILL_TAG_KEY: "true"}, START)
    body = on_stack_event(
        {k: v for k, v in STACK_EVENT.items() if k != "PhysicalResourceId"} | {"RequestType": "Create"},
        SETTINGS,
        build=lambda target, deadline=None: (world.ports(), None),
        send=lambda u, b: None,
    )
    assert body["Status"] == "SUCCESS" and len(world.canaries) == 1
    assert body["PhysicalResourceId"] == "tokenfuse-drill-canaries"


def test_a_request_that_is_not_cloudformations_is_refused_and_deletes_nothing():
    world = World()
    world.add_canary("tokenfuse-drill-20261130t095900-aaaaaa", {DRILL_TAG_KEY: "true"}, START)
    sent: list[dict] = []
    broken = {k: v for k, v in STACK_EVENT.items() if k != "StackId"}
    with pytest.raises(InvalidTaskInput, match="StackId"):
        on_stack_event(
            broken,
            SETTINGS,
            build=lambda target, deadline=None: (world.ports(), None),
            send=lambda u, b: sent.append(b),
        )
    assert sent == [] and len(world.canaries) == 1
