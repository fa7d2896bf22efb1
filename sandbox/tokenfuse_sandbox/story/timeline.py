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
ONCALL_DELAY = timedelta(minutes=2)
"""How long the on-call takes to click after the approval request is posted."""
BUDGETS_AFTER = timedelta(hours=8)
CAD_AFTER = timedelta(hours=24)
MINUTE_PHASE_CAP = timedelta(hours=3)
TIMEOUT_APPROVAL_MINUTES = 1
"""moto times ``.waitForTaskToken`` out in real seconds: the ``timeout`` decision runs with a
one-minute approval time-out (60 real seconds) instead of the usual 15 minutes."""


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
