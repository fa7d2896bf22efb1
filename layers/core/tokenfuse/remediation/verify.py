"""Did the spend stop? Token rate (``AWS/Bedrock`` InputTokenCount + OutputTokenCount, per minute,
``ModelId`` = the profile id, and the full ARN too: whichever carries data) after vs before.

- ``expect: stopped`` (after a trip): ``before`` = the :data:`LOOKBACK` before the trip, ``after`` =
  from the trip plus :data:`GRACE` (calls already in flight) until now. **Stopped** when the rate
  after is below :data:`STOPPED_RATIO` (10%) of the rate before; with no traffic before, stopped
  when there is none after. ``still_running`` is the opposite and sends the state machine to
  Escalate. After a caller-scope trip the callers left unblocked go on spending: the bound is
  raised by their share of the spend (``remaining_share``).
- ``expect: still-running`` (after a snooze): ``before`` = the :data:`LOOKBACK` before the snooze
  began, ``after`` = the last :data:`LOOKBACK` (or the snooze, if shorter). The spike **goes on**
  when the recent rate is at least :data:`GOES_ON_RATIO` (50%) of the rate when the snooze began.
"""

from datetime import datetime, timedelta
from typing import Literal, Protocol

from tokenfuse.adapters.cloudwatch import MetricRequest, Series
from tokenfuse.remediation.models import VerifyResult

METRICS = ("InputTokenCount", "OutputTokenCount")
LOOKBACK = timedelta(minutes=15)
GRACE = timedelta(minutes=1)
STOPPED_RATIO = 0.10
GOES_ON_RATIO = 0.50
PERIOD = 60


class MetricReaderPort(Protocol):
    def read(
        self, requests: list[MetricRequest], start: datetime, end: datetime, period: int = 3600
    ) -> dict[str, Series]: ...


def tokens_per_minute(
    reader: MetricReaderPort, model_ids: list[str], start: datetime, end: datetime
) -> float:
    """Input + output tokens per minute over [start, end), from whichever ModelId has the most."""
    minutes = max(1.0, (end - start).total_seconds() / 60)
    if end <= start:
        return 0.0
    requests = [
        MetricRequest(key=f"{i}:{metric}", metric=metric, model_id=model_id)
        for i, model_id in enumerate(model_ids)
        for metric in METRICS
    ]
    series = reader.read(requests, start, end, PERIOD)
    totals = [
        sum(sum(series.get(f"{i}:{metric}", ([], []))[1]) for metric in METRICS)
        for i in range(len(model_ids))
    ]
    return max(totals, default=0.0) / minutes


def verify(
    reader: MetricReaderPort,
    model_ids: list[str],
    expect: Literal["stopped", "still-running"],
    now: datetime,
    split_at: datetime,
    *,
    remaining_share: float = 0.0,
) -> VerifyResult:
    """``split_at`` is the trip time (``stopped``) or when the snooze began (``still-running``)."""
    before_start = split_at - LOOKBACK
    before = tokens_per_minute(reader, model_ids, before_start, split_at)
    if expect == "stopped":
        after_start = min(split_at + GRACE, now)
        after = tokens_per_minute(reader, model_ids, after_start, now)
        ratio = min(1.0, STOPPED_RATIO + remaining_share)
        still_running = after >= ratio * before if before > 0 else after > 0
    else:
        after_start = max(split_at, now - LOOKBACK)
        after = tokens_per_minute(reader, model_ids, after_start, now)
        ratio = GOES_ON_RATIO
        still_running = after >= ratio * before if before > 0 else after > 0
    return VerifyResult(
        still_running=still_running,
        expect=expect,
        before_tokens_per_minute=round(before, 3),
        after_tokens_per_minute=round(after, 3),
        threshold_ratio=ratio,
        before_start=before_start,
        split_at=split_at,
        after_end=now,
    )
