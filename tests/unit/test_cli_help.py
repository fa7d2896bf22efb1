"""`tokenfuse --help` lists the commands in the order a user meets them, and no help shows a flag's
`<bool>` type; `local invoke` says in one line what a function receives when the event is of
another shape (the template's own triggers), and `events/` holds the SQS forms intake receives."""

import json
import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tokenfuse_cli.event_shapes import mismatch, shape_of, triggers
from tokenfuse_cli.main import app
from tokenfuse_sandbox.template import Template

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
WHAT_A_USER_MEETS = [
    "demo", "sandbox", "local", "signals",  # try it without AWS
    "config", "test-alert", "audit", "prices",  # set it up
    "incidents", "restore",  # on call
    "report", "budgets",  # showback
]  # fmt: skip


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    return result.stdout


def _command_paths() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, child in getattr(command, "commands", {}).items():
            walk(child, [*path, name])

    walk(root, [])
    return paths


def test_commands_are_listed_in_the_order_a_user_meets_them():
    listed = re.findall(r"^│ ([a-z][a-z-]+) ", _help(), flags=re.MULTILINE)
    assert [name for name in listed if name in WHAT_A_USER_MEETS] == WHAT_A_USER_MEETS
    text = _help()
    panels = [text.index(p) for p in ("Try it (no AWS account)", "Set up", "On call", "Showback")]
    assert panels == sorted(panels)


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "tokenfuse")
def test_no_help_shows_a_flags_bool_type(path):
    text = _help(*path)
    assert "<bool>" not in text
    assert "--help" in text


def test_a_valued_option_still_shows_its_type():
    assert re.search(r"--table\s+<str>", _help("incidents"))


# -- local invoke: the event's shape -------------------------------------------------------------
TEMPLATE = Template(ROOT / "template.yaml", {})


@pytest.mark.parametrize(
    ("function", "sample"),
    [
        ("IntakeFunction", "intake-sqs-sns-cad.json"),
        ("IntakeFunction", "intake-sqs-eventbridge-alarm.json"),
        ("InventoryFunction", "cloudtrail-create-inference-profile.json"),
        ("InventoryFunction", "inventory-schedule.json"),
        ("InventoryFunction", "inventory-sweep-sqs.json"),
    ],
)
def test_the_samples_a_function_receives_pass(function, sample):
    assert mismatch(TEMPLATE, function, json.loads((EVENTS / sample).read_text()), sample) is None


@pytest.mark.parametrize(
    ("function", "sample", "expected"),
    [
        (
            "IntakeFunction",
            "alarm-eventbridge.json",
            "IntakeFunction receives SQS events from IntakeQueue (Records[] with eventSource aws:sqs, the"
            " message in body); alarm-eventbridge.json is an EventBridge event (aws.cloudwatch / CloudWatch"
            " Alarm State Change): the queue delivers it inside an SQS record's body, as in"
            " events/intake-sqs-sns-cad.json and events/intake-sqs-eventbridge-alarm.json",
        ),
        (
            "IntakeFunction",
            "cad-sns-immediate.json",
            "IntakeFunction receives SQS events from IntakeQueue (Records[] with eventSource aws:sqs, the"
            " message in body); cad-sns-immediate.json is a Lambda SNS event (Records[].Sns): the queue"
            " delivers it inside an SQS record's body, as in events/intake-sqs-sns-cad.json and"
            " events/intake-sqs-eventbridge-alarm.json",
        ),
        (
            "AttributeFunction",
            "alarm-eventbridge.json",
            "AttributeFunction receives EventBridge events (source tokenfuse.intake, detail-type Spend"
            " Signal); alarm-eventbridge.json is an EventBridge event (aws.cloudwatch / CloudWatch Alarm"
            " State Change)",
        ),
        (
            "RemediateFunction",
            "intake-sqs-sns-cad.json",
            "RemediateFunction receives a Step Functions task payload;"
            " intake-sqs-sns-cad.json is an SQS event",
        ),
    ],
)
def test_an_event_of_another_shape_is_explained(function, sample, expected):
    assert mismatch(TEMPLATE, function, json.loads((EVENTS / sample).read_text()), sample) == expected


def test_every_function_of_the_template_has_its_triggers_named():
    kinds = {
        f: {t.kind for t in triggers(TEMPLATE, f)} for f in TEMPLATE.of_type("AWS::Serverless::Function")
    }
    assert kinds["IntakeFunction"] == {"sqs"}
    assert kinds["ApproveFunction"] == {"function-url"}
    assert kinds["RemediateFunction"] == {"task"}
    assert kinds["InventoryFunction"] == {"eventbridge", "schedule", "sqs"}


def test_the_intake_queues_sqs_forms_wrap_the_samples_as_the_queue_delivers_them():
    cad = json.loads((EVENTS / "cad-sns-immediate.json").read_text())["Records"][0]["Sns"]
    (record,) = json.loads((EVENTS / "intake-sqs-sns-cad.json").read_text())["Records"]
    notification = json.loads(record["body"])
    assert notification["Type"] == "Notification" and notification["Message"] == cad["Message"]
    assert {"SigningCertURL", "UnsubscribeURL"} <= notification.keys()  # SNS's spelling in a queue
    alarm = json.loads((EVENTS / "alarm-eventbridge.json").read_text())
    (record,) = json.loads((EVENTS / "intake-sqs-eventbridge-alarm.json").read_text())["Records"]
    assert json.loads(record["body"]) == alarm
    assert shape_of(alarm) == "eventbridge" and record["eventSourceARN"].endswith(":tokenfuse-intake-dev")


def test_local_invoke_refuses_the_wrong_shape_in_one_line_before_any_sandbox():
    result = CliRunner().invoke(
        app, ["local", "invoke", "IntakeFunction", "-e", str(EVENTS / "alarm-eventbridge.json")]
    )
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("tokenfuse local: IntakeFunction receives SQS events from IntakeQueue")
    assert result.stdout == ""
