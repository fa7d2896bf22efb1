"""The simulated clock: tokenfuse.clock's source, listeners, and moto's Step Functions waits."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tokenfuse import clock as tf_clock
from tokenfuse_sandbox.emulation.clock import SimulatedClock, boundaries

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SFN_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
ROLE = "arn:aws:iam::123456789012:role/sfn"


def test_now_advance_listeners():
    clk = SimulatedClock(START)
    seen = []
    remove = clk.add_listener(lambda old, new: seen.append((old, new)))
    assert clk.now() == START
    assert clk.advance(timedelta(minutes=5)) == START + timedelta(minutes=5)
    assert clk.advance(30) == START + timedelta(minutes=5, seconds=30)
    clk.advance_to(START)  # the past: no move, no listener call
    clk.advance_to(START + timedelta(hours=1))
    assert seen == [
        (START, START + timedelta(minutes=5)),
        (START + timedelta(minutes=5), START + timedelta(minutes=5, seconds=30)),
        (START + timedelta(minutes=5, seconds=30), START + timedelta(hours=1)),
    ]
    remove()
    clk.advance(1)
    assert len(seen) == 3
    with pytest.raises(ValueError):
        clk.advance(-1)
    with pytest.raises(ValueError):
        SimulatedClock(datetime(2026, 1, 1))  # naive
    assert clk.time() == clk.now().timestamp()


def test_boundaries():
    got = boundaries(START + timedelta(seconds=30), START + timedelta(minutes=3), timedelta(minutes=1))
    assert got == [START + timedelta(minutes=m) for m in (1, 2, 3)]
    assert boundaries(START, START, timedelta(minutes=1)) == []


def test_thread_safety_and_wait_until():
    clk = SimulatedClock(START)
    threads = [threading.Thread(target=lambda: [clk.advance(1) for _ in range(100)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clk.now() == START + timedelta(seconds=800)

    target = clk.now() + timedelta(minutes=10)
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("ok", clk.wait_until(target, timeout=5)))
    waiter.start()
    clk.advance(timedelta(minutes=10))
    waiter.join(5)
    assert result == {"ok": True}
    assert clk.wait_until(clk.now() + timedelta(seconds=1), timeout=0.05) is False


def test_becomes_tokenfuse_clock_source():
    clk = SimulatedClock(START)
    with clk.use_for_tokenfuse():
        assert tf_clock.now() == START
        clk.advance(timedelta(days=1))
        assert tf_clock.now() == START + timedelta(days=1)
    assert abs(tf_clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def _run(sfn, definition, name):
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    ex = sfn.start_execution(stateMachineArn=arn, name=f"{name}-1", input="{}")["executionArn"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex)
        if desc["status"] != "RUNNING":
            return desc, sfn.get_execution_history(executionArn=ex)["events"]
        time.sleep(0.01)
    raise AssertionError("execution did not finish")


WAIT_AN_HOUR = {
    "StartAt": "Cooldown",
    "States": {
        "Cooldown": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_wait_advances_the_clock_instead_of_sleeping():
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        desc, events = _run(sfn, WAIT_AN_HOUR, "wait-hour")
    assert desc["status"] == "SUCCEEDED"
    # the hour passed on the simulated clock (moto's own Wait would have slept it, clock unmoved)
    assert clk.now() == START + timedelta(hours=1)
    # Execution dates and history timestamps are on the simulated clock too.
    assert desc["startDate"] == START
    assert desc["stopDate"] == START + timedelta(hours=1)
    stamps = {e["type"]: e["timestamp"] for e in events}
    assert stamps["WaitStateEntered"] == START
    assert stamps["WaitStateExited"] == START + timedelta(hours=1)
    assert stamps["ExecutionSucceeded"] == START + timedelta(hours=1)


def test_without_timestamps_dates_stay_on_wall_clock_and_patch_is_undone():
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    original = WaitFunction.__dict__["_wait_interval"]
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions(timestamps=False):
        assert WaitFunction.__dict__["_wait_interval"] is not original
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        desc, _ = _run(sfn, WAIT_AN_HOUR, "wait-hour-wall")
    assert WaitFunction.__dict__["_wait_interval"] is original
    assert clk.now() == START + timedelta(hours=1)
    # moto stamps executions with datetime.now(): a wall-clock stop date, not start + 1 h.
    assert abs(desc["stopDate"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert desc["stopDate"] - desc["startDate"] < timedelta(seconds=5)


def test_timestamp_wait_is_measured_on_the_simulated_clock():
    clk = SimulatedClock(START)
    target = START + timedelta(hours=2)
    definition = {
        "StartAt": "Until",
        "States": {
            "Until": {"Type": "Wait", "Timestamp": target.strftime("%Y-%m-%dT%H:%M:%SZ"), "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions():
        desc, _ = _run(boto3.client("stepfunctions", region_name="us-east-1"), definition, "until")
    assert desc["status"] == "SUCCEEDED"
    assert abs(clk.now() - target) <= timedelta(seconds=1)


def test_block_mode_waits_for_the_driver():
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions(mode="block"):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name="blocked", definition=json.dumps(WAIT_AN_HOUR), roleArn=ROLE)[
            "stateMachineArn"
        ]
        ex = sfn.start_execution(stateMachineArn=arn, name="blocked-1")["executionArn"]
        time.sleep(0.2)
        assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
        clk.advance(timedelta(minutes=59))
        time.sleep(0.2)
        assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
        clk.advance(timedelta(minutes=1))
        deadline = time.monotonic() + 5
        while sfn.describe_execution(executionArn=ex)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sfn.describe_execution(executionArn=ex)["status"] == "SUCCEEDED"


def test_only_one_clock_drives_stepfunctions():
    a, b = SimulatedClock(START), SimulatedClock(START)
    with a.patch_stepfunctions(), pytest.raises(RuntimeError), b.patch_stepfunctions():
        pass
    with b.patch_stepfunctions():
        pass


def test_activate_combines_both():
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.activate():
        assert tf_clock.now() == START
        desc, _ = _run(boto3.client("stepfunctions", region_name="us-east-1"), WAIT_AN_HOUR, "activated")
        assert desc["status"] == "SUCCEEDED"
        assert tf_clock.now() == START + timedelta(hours=1)
    assert abs(tf_clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def _ask(timeout: int, heartbeat: int | None = None) -> dict[str, object]:
    """A callback task on an SQS queue (the message carries the task token), caught on time-out."""
    task: dict[str, object] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "${queue}", "MessageBody": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": timeout,
        "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "TimedOut"}],
        "Next": "Answered",
    }
    if heartbeat is not None:
        task["HeartbeatSeconds"] = heartbeat
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": task,
            "Answered": {"Type": "Pass", "End": True},
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }


def _start_parked(clk: SimulatedClock, definition: dict[str, object], name: str):
    """Start the definition; return (sfn client, execution ARN, task token) once it waits on the token."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    text = json.dumps(definition).replace("${queue}", queue)
    arn = sfn.create_state_machine(name=name, definition=text, roleArn=ROLE)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, name=f"{name}-1")["executionArn"]
    assert clk.waits is not None
    deadline = time.monotonic() + 10  # a guard against hanging: it only ever fails
    while not clk.waits.parked(ex):
        assert time.monotonic() < deadline, "the execution never parked on its task token"
        time.sleep(0.01)
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    return sfn, ex, json.loads(message["Body"])["token"]


def _finished(sfn, ex):
    deadline = time.monotonic() + 10
    while (desc := sfn.describe_execution(executionArn=ex))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not finish"
        time.sleep(0.01)
    events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
    return desc, events


def _entered(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


@pytest.mark.parametrize("mode", ["advance", "block"])
def test_a_callback_task_times_out_when_the_simulated_clock_reaches_start_plus_timeout(mode):
    """Given a .waitForTaskToken task with TimeoutSeconds 900 nobody answers, when the clock is
    moved to 1 s short of start + 900 the execution stays parked; one more second and it times out,
    stamped start + 900, without 900 real seconds passing."""
    clk = SimulatedClock(START)
    started = time.monotonic()
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions(mode=mode):
        sfn, ex, _ = _start_parked(clk, _ask(timeout=900), f"ask-{mode}")
        assert clk.waits is not None and clk.waits.next_wake() == START + timedelta(seconds=900)
        clk.advance(899)
        assert clk.waits.parked(ex)
        assert sfn.describe_execution(executionArn=ex)["status"] == "RUNNING"
        clk.advance(1)
        assert not clk.waits.parked(ex)  # the time-out is due: busy until its thread has moved on
        desc, events = _finished(sfn, ex)
    assert time.monotonic() - started < 60
    assert desc["status"] == "SUCCEEDED" and _entered(events) == ["Ask", "TimedOut"]
    timed_out = next(e for e in events if e["type"] == "TaskTimedOut")
    submitted = next(e for e in events if e["type"] == "TaskSubmitted")
    assert submitted["timestamp"] == START
    assert timed_out["timestamp"] == START + timedelta(seconds=900)
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"


def test_a_callback_answer_ends_the_wait_at_once_with_the_clock_unmoved():
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions(mode="block"):
        sfn, ex, token = _start_parked(clk, _ask(timeout=900), "answered")
        sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
        desc, events = _finished(sfn, ex)
        assert clk.waits is not None and clk.waits.next_wake() is None  # nothing waits any more
    assert desc["status"] == "SUCCEEDED" and _entered(events) == ["Ask", "Answered"]
    assert json.loads(desc["output"]) == {"decision": "approve"}
    assert clk.now() == START


def test_a_heartbeat_resets_the_heartbeat_time_out_on_the_simulated_clock():
    """HeartbeatSeconds 60: a heartbeat at +50 s carries the task past +60 s; then 60 s of silence
    time it out at +110 s (not at +60 s, not at +900 s)."""
    clk = SimulatedClock(START)
    with mock_aws(config=SFN_CONFIG), clk.patch_stepfunctions(mode="block"):
        sfn, ex, token = _start_parked(clk, _ask(timeout=900, heartbeat=60), "heartbeat")
        assert clk.waits is not None
        clk.advance(50)
        sfn.send_task_heartbeat(taskToken=token)
        deadline = time.monotonic() + 10
        while clk.waits.next_wake() != START + timedelta(seconds=110):  # the heartbeat re-armed it
            assert time.monotonic() < deadline, clk.waits.next_wake()
            time.sleep(0.01)
        clk.advance(20)  # +70 s: past the first heartbeat window, within the second
        assert clk.waits.parked(ex)
        clk.advance_to(START + timedelta(seconds=110))
        desc, events = _finished(sfn, ex)
    assert desc["status"] == "SUCCEEDED" and _entered(events) == ["Ask", "TimedOut"]
    timed_out = next(e for e in events if e["type"] == "TaskTimedOut")
    assert timed_out["timestamp"] == START + timedelta(seconds=110)
    # moto 5.2.5 names every task time-out States.Timeout (AWS says States.HeartbeatTimeout here)
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"


def test_tokenfuse_log_records_and_emf_lines_carry_the_simulated_time():
    """While the clock is tokenfuse's, the handlers' log records (Powertools' timestamp) and EMF
    lines are stamped with it; other libraries' records keep the wall clock; all is put back."""
    import logging

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    clk = SimulatedClock(START + timedelta(seconds=15, milliseconds=250))
    factory = logging.getLogRecordFactory()
    with clk.use_for_tokenfuse():
        mine = logging.getLogger("tokenfuse").makeRecord("tokenfuse", logging.INFO, "f", 1, "m", (), None)
        other = logging.getLogger("moto").makeRecord("moto", logging.INFO, "f", 1, "m", (), None)
        metrics = Metrics(namespace="Tokenfuse", service="tokenfuse")
        metrics.add_metric(name="Trips", unit=MetricUnit.Count, value=1)
        emf = metrics.serialize_metric_set()
    assert mine.created == clk.time() and mine.msecs == 250.0
    assert abs(other.created - time.time()) < 60
    assert emf["_aws"]["Timestamp"] == int(clk.time() * 1000)
    assert logging.getLogRecordFactory() is factory
    after = logging.getLogger("tokenfuse").makeRecord("tokenfuse", logging.INFO, "f", 1, "m", (), None)
    assert abs(after.created - time.time()) < 60
