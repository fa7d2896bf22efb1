"""The story's timeline (when the loop starts, when each signal arrives) and its state as it runs:
what the driver moves through and the report reads back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

LOOP_START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
"""When the loop starts (a Wednesday afternoon, near the daily peak)."""
MINUTES_BEFORE = timedelta(minutes=20)
HISTORY_START = LOOP_START.replace(hour=0) - timedelta(days=8)
"""Ordinary traffic starts here: every baseline day of the loop's day (7 whole days) has data."""
ONCALL_SECONDS = 30
"""How long the scripted on-call takes to click after the approval request is posted (a story
parameter, ``tokenfuse demo --oncall-seconds``: the person's reaction time, not tokenfuse's latency)."""
BUDGETS_AFTER = timedelta(hours=8)
CAD_AFTER = timedelta(hours=24)
MINUTE_PHASE_CAP = timedelta(hours=3)
TIMEOUT_APPROVAL_MINUTES = 5
"""The ``timeout`` decision's approval time-out (simulated minutes, as every duration in the story):
shorter than the directory's 15 minutes so that the time-out's trip comes while the loop still runs
(the team's fix ships at the scenario's ``fixed_after``)."""


@dataclass
class PendingApproval:
    approval_id: str
    channel: str
    ts: str
    thread_ts: str | None
    posted_at: datetime
    buttons: dict[str, dict[str, Any]]
    choice: str | None
    click_at: datetime | None
    answered: bool = False


@dataclass
class StoryState:
    loop_start: datetime
    approvals: list[PendingApproval] = field(default_factory=list)
    clicks: list[dict[str, Any]] = field(default_factory=list)
    signals_sent: dict[str, datetime] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    minute_phase_end: datetime | None = None
    budget_threshold_usd: float | None = None
