"""The remediation state machine walked along every path it has, with each task answering a
representative result model: what the ASL-contract and task-input tests share.

:class:`Story` scripts one path (the policy, what the approvers answer, what each check finds,
which task fails); :func:`walk` runs the real definition (``asl.run``) with each payload parsed by
:func:`tokenfuse.remediation.contracts.parse_task` and each result dumped as Lambda returns it.
"""

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tests.fault_injection import asl
from tokenfuse.events import Action
from tokenfuse.remediation.contracts import (
    TASK_RESULTS,
    ApprovalRequested,
    AuditSummary,
    EscalationResult,
    TaskInput,
    TaskResult,
    parse_task,
)
from tokenfuse.remediation.errors import InvalidTaskInput
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    Choice,
    Mode,
    PolicyDecision,
    RemediationIncident,
    RestoreResult,
    ScpChange,
    TagChange,
    TripRecord,
    VerifyResult,
)

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = json.loads((ROOT / "statemachines" / "remediation.asl.json").read_text())
TASK_STATES = {name: s for name, s in DEFINITION["States"].items() if s["Type"] == "Task"}
ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"
AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
INCIDENT = {  # the execution input, as RemediationStarter sends it (the incident's full bus model)
    "incident": {
        "incident_id": "inc-1",
        "status": "open",
        "dedup_keys": ["alarm:1"],
        "profile_arn": ARN,
        "profile_id": "abc123def456",
        "profile_name": "search-answers",
        "account_id": "111111111111",
        "region": "us-east-1",
        "team": "search",
        "environment": "prod",
        "kind": "output-runaway",
        "severity": "high",
        "protected": False,
        "cost_per_hour_usd": 120.0,
        "baseline_cost_per_hour_usd": 6.0,
        "opened_at": "2026-11-27T02:55:00Z",
        "slack_channel": "C0SEARCH01",
        "slack_ts": "100.1",
    }
}


POLICY: dict[str, object] = {
    "mode": "approve",
    "team_mode": "approve",
    "action": "throttle",
    "decision": None,
    "reasons": [],
    "team": "search",
    "approver_team": "search",
    "environment": "prod",
    "approval_timeout_seconds": 900,
    "snooze_seconds": 600,
    "verify_delay_seconds": 120,
    "cooldown_seconds": 1800,
    "on_timeout": "none",
    "dry_run": False,
    "mechanism": "guard-scp",
    "trips_last_hour": 0,
}


def policy_decision(**changes: object) -> PolicyDecision:
    """The policy task's output for team search's prod policy (approve a throttle), changed."""
    return PolicyDecision.model_validate(POLICY | changes)


def remediation_incident(**changes: object) -> RemediationIncident:
    """The execution input's incident, as remediation reads it, changed."""
    return RemediationIncident.model_validate(INCIDENT["incident"] | changes)


class LambdaError(Exception):
    """What the remediate function raises, by the name Step Functions sees."""

    def __init__(self, error_type: str) -> None:
        super().__init__(f"{error_type} in the test")
        self.error_type = error_type


@dataclass
class Story:
    """One path through the state machine: the policy, what the approvers answer (in order), what
    each check finds, which task fails."""

    mode: Mode = "approve"
    action: Action = "throttle"
    on_timeout: Literal["none", "trip"] = "none"
    answers: list[Choice | Literal["timeout"]] = field(default_factory=list)
    still_running: list[bool] = field(default_factory=list)  # each verify's finding, in order
    fails: str | None = None  # the task that raises AccessDenied
    restore_due: bool = False  # Escalate's answer
    parsed: list[TaskInput] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # InvalidTaskInput lines

    def policy(self) -> PolicyDecision:
        return policy_decision(
            mode=self.mode,
            team_mode="auto" if self.mode == "dry-run" else self.mode,
            action=self.action,
            decision={"auto": "auto", "dry-run": "dry-run", "notify": "notify"}.get(self.mode),
            on_timeout=self.on_timeout,
            dry_run=self.mode == "dry-run",
        )

    def trip(self) -> TripRecord:
        return TripRecord(
            trip_id="t1",
            incident_id="inc-1",
            team="search",
            profile_arn=ARN,
            profile_id="abc123def456",
            account_id="111111111111",
            region="us-east-1",
            action=self.action,
            mechanism="guard-scp",
            dry_run=self.mode == "dry-run",
            actor="U0ALICE001",
            tripped_at=AT,
            restore_after=AT + timedelta(minutes=30) if self.action == "throttle" else None,
            scp=ScpChange(policy_id="p-guard001", arns_before=[], added=True, status="applied"),
            tag=TagChange(key="tokenfuse:state", previous=None, set_to="tripped", status="applied"),
            complete=True,
        )

    def result(self, task: TaskInput) -> TaskResult:
        """What the task returns in this story (a model of the kind TASK_RESULTS names)."""
        if task.task == self.fails:
            raise LambdaError("AccessDenied")
        match task.task:
            case "policy":
                return self.policy()
            case "request-approval":
                return ApprovalRequested(
                    approval_id="Abc123_-xy", via="slack", deadline="2026-11-27T03:15:00Z"
                )
            case "approval-decided":
                return task.approval
            case "approval-timed-out":
                trips = self.on_timeout == "trip"
                return ApprovalOutcome(decision="trip" if trips else "timeout", actor="tokenfuse")
            case "trip":
                return self.trip()
            case "verify":
                still = self.still_running.pop(0)
                return VerifyResult(
                    still_running=still,
                    expect=task.expect,
                    before_tokens_per_minute=40_000.0,
                    after_tokens_per_minute=40_000.0 if still else 0.0,
                    threshold_ratio=0.1,
                    before_start=AT - timedelta(minutes=15),
                    split_at=AT,
                    after_end=AT + timedelta(minutes=2),
                )
            case "restore":
                return RestoreResult(
                    profile_arn=ARN, trip_id="t1", restored=True, note="prior state put back"
                )
            case "escalate":
                trip = self.trip() if self.restore_due else None
                return EscalationResult(
                    escalated_to=["Slack C0FINOPS01"],
                    error="AccessDenied",
                    trip=trip,
                    restore_due=self.restore_due,
                )
            case "audit":
                state = task.state
                failure = state.failure()
                return AuditSummary(
                    execution=task.execution,
                    decision=state.decided.policy.decision,
                    actor=None,
                    outcome="no action",
                    trip_id=None,
                    recheck=state.recheck,
                    failed=failure is not None,
                    failed_step=failure[0] if failure else None,
                )
        raise AssertionError(f"the state machine does not run {task.task}")

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            task = parse_task(payload)
        except InvalidTaskInput as error:  # Step Functions would catch it into Escalate
            self.refused.append(str(error))
            raise
        self.parsed.append(task)
        result = self.result(task)
        assert isinstance(result, TASK_RESULTS[task.task])
        return result.model_dump(mode="json")

    def callback(self, _state: str, _payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.answers.pop(0)
        if answer == "timeout":
            raise asl.States("States.Timeout", "no decision in time")
        return ApprovalOutcome(decision=answer, actor="U0ALICE001", approval_id="Abc123_-xy").to_json()


STORIES: dict[str, tuple[Story, str, list[str]]] = {
    # name: (story, final status, states the path must go through)
    "approve a throttle": (
        Story(answers=["approve"], still_running=[False]),
        "SUCCEEDED",
        ["RequestApproval", "RecordDecision", "Trip", "Verify", "Cooldown", "Restore", "Audit", "Done"],
    ),
    "decline": (Story(answers=["decline"]), "SUCCEEDED", ["RecordDecision", "Audit", "Done"]),
    "snooze, still running, asked again, decline": (
        Story(answers=["snooze", "decline"], still_running=[True]),
        "SUCCEEDED",
        ["Snooze", "StillRunningAway", "AskAgain", "RequestApproval", "Audit"],
    ),
    "snooze, subsided": (
        Story(answers=["snooze"], still_running=[False]),
        "SUCCEEDED",
        ["StillRunningAway", "AskAgain", "Audit"],
    ),
    "timeout, no action": (Story(answers=["timeout"]), "SUCCEEDED", ["ApprovalTimedOut", "Audit"]),
    "timeout trips a detach": (
        Story(answers=["timeout"], on_timeout="trip", action="detach", still_running=[False]),
        "SUCCEEDED",
        ["ApprovalTimedOut", "Trip", "Verify", "ByAction", "Audit"],
    ),
    "auto detach": (
        Story(mode="auto", action="detach", still_running=[False]),
        "SUCCEEDED",
        ["NoApprovalNeeded", "Trip", "Verify", "Audit"],
    ),
    "dry run": (Story(mode="dry-run"), "SUCCEEDED", ["NoApprovalNeeded", "Trip", "AfterTrip", "Audit"]),
    "notify": (Story(mode="notify"), "SUCCEEDED", ["ByPolicy", "Audit", "Done"]),
    "trip fails": (Story(mode="auto", fails="trip"), "FAILED", ["Trip", "Escalate", "RemediationFailed"]),
    "spend not stopped, throttle still restored": (
        Story(mode="auto", still_running=[True], restore_due=True),
        "FAILED",
        ["Verify", "SpendNotStopped", "Escalate", "AfterEscalate", "Cooldown", "Restore", "Audit"],
    ),
    "restore fails": (
        Story(mode="auto", still_running=[False], fails="restore"),
        "FAILED",
        ["Cooldown", "Restore", "Escalate", "RemediationFailed"],
    ),
    "request fails": (Story(fails="request-approval"), "FAILED", ["RequestApproval", "Escalate"]),
}


def walk(story: Story, definition: dict[str, Any] = DEFINITION) -> asl.Execution:
    return asl.run(definition, story.invoke, copy.deepcopy(INCIDENT), callback=story.callback)


def fresh(name: str) -> Story:
    """A story to walk (each walk uses up its scripted answers)."""
    return copy.deepcopy(STORIES[name][0])


def through(state: str) -> Story:
    """A story whose walk runs ``state``."""
    return fresh(next(name for name in STORIES if state in walk(fresh(name)).path))
