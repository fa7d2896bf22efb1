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
