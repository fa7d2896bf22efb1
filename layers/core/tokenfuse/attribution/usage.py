"""Token usage: the hour grid of a window and its baseline, and sums of Bedrock's metrics over it.

For the few series attribution reads in detail, one GetMetricData query per metric and series covers
the whole *span* (the earliest baseline hour to the window's end) at an hourly period; the window,
each baseline day, each hour of the window and the month-to-date hours are slices of that one
hourly series.
"""

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tokenfuse.attribution.pricing import Rates

HOUR = timedelta(hours=1)

INVOCATIONS = "Invocations"
INPUT_TOKENS = "InputTokenCount"
OUTPUT_TOKENS = "OutputTokenCount"
CACHE_READ_TOKENS = "CacheReadInputTokenCount"
CACHE_WRITE_TOKENS = "CacheWriteInputTokenCount"
METRICS: tuple[str, ...] = (INVOCATIONS, INPUT_TOKENS, OUTPUT_TOKENS, CACHE_READ_TOKENS, CACHE_WRITE_TOKENS)


@dataclass(frozen=True, slots=True)
class Usage:
    """Counts of one profile over some hours (or an average of such)."""

    invocations: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    cache_read_tokens: float = 0.0
    cache_write_tokens: float = 0.0

    @classmethod
    def from_metrics(cls, sums: Mapping[str, float]) -> "Usage":
        return cls(
            invocations=sums.get(INVOCATIONS, 0.0),
            input_tokens=sums.get(INPUT_TOKENS, 0.0),
            output_tokens=sums.get(OUTPUT_TOKENS, 0.0),
            cache_read_tokens=sums.get(CACHE_READ_TOKENS, 0.0),
            cache_write_tokens=sums.get(CACHE_WRITE_TOKENS, 0.0),
        )

    @property
    def prompt_tokens(self) -> float:
        """Every token the model read: fresh input plus cache reads and writes (the request's context)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> float:
        return self.prompt_tokens + self.output_tokens

    def cost(self, rates: Rates) -> float:
        return rates.cost(
            self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens
        )

    def input_per_request(self) -> float | None:
        return self.prompt_tokens / self.invocations if self.invocations > 0 else None

    def output_per_request(self) -> float | None:
        return self.output_tokens / self.invocations if self.invocations > 0 else None

    def scaled(self, factor: float) -> "Usage":
        return Usage(
            self.invocations * factor,
            self.input_tokens * factor,
            self.output_tokens * factor,
            self.cache_read_tokens * factor,
            self.cache_write_tokens * factor,
        )

    def as_metrics(self) -> dict[str, float]:
        return {
            INVOCATIONS: self.invocations,
            INPUT_TOKENS: self.input_tokens,
            OUTPUT_TOKENS: self.output_tokens,
            CACHE_READ_TOKENS: self.cache_read_tokens,
            CACHE_WRITE_TOKENS: self.cache_write_tokens,
        }

    def minus(self, other: "Usage") -> "Usage":
        """Metric by metric, what is left after taking ``other`` away (never below zero)."""
        mine, theirs = self.as_metrics(), other.as_metrics()
        return Usage.from_metrics({m: max(0.0, v - theirs[m]) for m, v in mine.items()})

    def plus(self, other: "Usage") -> "Usage":
        mine, theirs = self.as_metrics(), other.as_metrics()
        return Usage.from_metrics({m: v + theirs[m] for m, v in mine.items()})


def floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(value: datetime) -> datetime:
    floored = floor_hour(value)
    return floored if floored == value.astimezone(UTC) else floored + HOUR


def month_bounds(instant: datetime) -> tuple[datetime, datetime]:
    """The first instant of ``instant``'s month and of the next month (UTC)."""
    start = instant.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


@dataclass(frozen=True)
class HourGrid:
    """The hours attribution reads: the window, ``baseline_days`` earlier copies of it, the month so far.

    - The window is whole hours: start floored, end rounded up, at most ``max_window_hours`` long
      (ending at the window's end), never past ``now``; an empty or inverted window becomes the hour
      that starts at its (earlier) end.
    - Baseline copies are the window shifted back by ``k x step`` for k = 1..days, where ``step`` is
      a day for windows up to 24 h and the window's length rounded up to whole days otherwise.
    - ``span`` runs from the earliest baseline hour to the window's end: one hourly query covers it.
    - When the window ends in the hour still running, that hour counts for the part that has passed
      (``last_hour_fraction``), in the window's length and in each baseline copy's last hour, so the
      window and its baseline compare like with like; the window then ends, as reported, at ``now``
      (``reported_end``: an alarm at 12:03 reads 12:03, not 13:00).
    """

    window_start: datetime
    window_end: datetime
    baseline_days: int
    step: timedelta
    span_start: datetime
    clamped: bool = False
    last_hour_fraction: float = 1.0
    reported_end: datetime | None = None
    index: dict[datetime, int] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls, start: datetime, end: datetime, now: datetime, baseline_days: int = 7, max_window_hours: int = 24
    ) -> "HourGrid":
        start, end = min(start, end), max(start, end)
        clamped = False
        latest = ceil_hour(now)
        window_end = min(ceil_hour(end), latest)
        window_start = floor_hour(start)
        if window_start >= window_end:
            window_start = window_end - HOUR
        if window_end - window_start > max_window_hours * HOUR:
            window_start = window_end - max_window_hours * HOUR
            clamped = True
        days = max(0, baseline_days)
        length = window_end - window_start
        step = timedelta(days=max(1, math.ceil(length / timedelta(days=1))))
        span_start = window_start - days * step
        hours = int((window_end - span_start) / HOUR)
        index = {span_start + i * HOUR: i for i in range(hours)}
        fraction = 1.0
        reported = window_end
        if window_end > now:  # the current hour, still running: only part of it has happened
            fraction = max(1 / 60, (now - (window_end - HOUR)) / HOUR)
            reported = max(window_end - HOUR + timedelta(minutes=1), now.replace(second=0, microsecond=0))
        return cls(window_start, window_end, days, step, span_start, clamped, fraction, reported, index)

    @property
    def end(self) -> datetime:
        """The window's end as reported: ``now`` when the last hour is still running."""
        return self.reported_end or self.window_end

    @property
    def last_hour_minutes(self) -> int | None:
        """Minutes of a running last hour that have passed (None when the window ends on the hour)."""
        if self.last_hour_fraction >= 1.0:
            return None
        return max(1, min(59, round(self.last_hour_fraction * 60)))

    @property
    def baseline_start(self) -> datetime:
        return self.span_start

    @property
    def baseline_end(self) -> datetime:
        """The end of the baseline range read for ranking: the window's start (whole days before it)."""
        return self.window_start

    def baseline_range_hours(self, since: datetime | None = None) -> float:
        """Hours of [baseline_start, baseline_end) after ``since`` (a series' creation), at least 0."""
        start = max(self.baseline_start, since) if since else self.baseline_start
        return max(0.0, (self.baseline_end - start) / HOUR)

    @property
    def window_hour_count(self) -> int:
        return int((self.window_end - self.window_start) / HOUR)

    @property
    def span_end(self) -> datetime:
        return self.window_end

    @property
    def hours(self) -> int:
        return len(self.index)

    @property
    def window_hours(self) -> float:
        """The window's length in hours; a running last hour counts for the part that has passed."""
        return int((self.window_end - self.window_start) / HOUR) - 1 + self.last_hour_fraction

    def _slice(self, start: datetime, end: datetime) -> slice:
        a = max(0, int((start - self.span_start) / HOUR))
        b = min(self.hours, int((end - self.span_start) / HOUR))
        return slice(a, max(a, b))

    @property
    def window_slice(self) -> slice:
        return self._slice(self.window_start, self.window_end)

    def baseline_slices(self, since: datetime | None = None) -> list[slice]:
        """One slice per baseline copy, skipping copies that end before ``since`` (a profile's creation)."""
        out = []
        for k in range(1, self.baseline_days + 1):
            start, end = self.window_start - k * self.step, self.window_end - k * self.step
            if since is not None and end <= since:
                continue
            out.append(self._slice(start, end))
        return out

    def month(self) -> tuple[datetime, datetime]:
        """The month the window ends in (its last hour's month)."""
        return month_bounds(self.window_end - HOUR)

    @property
    def month_slice(self) -> slice:
        month_start, _ = self.month()
        return self._slice(max(month_start, self.span_start), self.window_end)

    def unread_month_hours(self, since: datetime | None = None) -> int:
        """Hours of this month before the span starts (not read: estimated at the baseline rate),
        counting only those after ``since`` (when the profile was created)."""
        month_start, _ = self.month()
        start = max(month_start, ceil_hour(since)) if since else month_start
        return max(0, int((self.span_start - start) / HOUR))

    @property
    def remaining_month_hours(self) -> int:
        _, month_end = self.month()
        return max(0, int((month_end - self.window_end) / HOUR))


class HourlySeries:
    """Per-metric hourly sums of one profile over a grid's span (several ModelId forms add up)."""

    __slots__ = ("grid", "hourly")

    def __init__(self, grid: HourGrid) -> None:
        self.grid = grid
        self.hourly: dict[str, list[float]] = {}

    def scale(self, window: Mapping[str, float], elsewhere: Mapping[str, float]) -> None:
        """Multiply each metric's window hours by ``window[metric]`` and its other hours by
        ``elsewhere[metric]`` (a metric absent from a mapping keeps its values)."""
        part = self.grid.window_slice
        for metric, row in self.hourly.items():
            inside, outside = window.get(metric, 1.0), elsewhere.get(metric, 1.0)
            for i in range(len(row)):
                row[i] *= inside if part.start <= i < part.stop else outside

    def add(self, metric: str, timestamps: Sequence[datetime], values: Sequence[float]) -> None:
        """Add one query's datapoints (ascending, as GetMetricData returns them with ScanBy ascending)."""
        row = self.hourly.get(metric)
        fresh = row is None
        if row is None:
            row = self.hourly[metric] = [0.0] * self.grid.hours
        if not values:
            return
        index = self.grid.index
        first, last = index.get(timestamps[0]), index.get(timestamps[-1])
        if first is not None and last is not None and last - first + 1 == len(values):
            # Every hour from first to last is there (the common case): add the run in one go.
            if fresh:
                row[first : last + 1] = values
            else:
                row[first : last + 1] = map(operator.add, row[first : last + 1], values)
            return
        for timestamp, value in zip(timestamps, values, strict=False):
            i = index.get(timestamp)
            if i is None:
                i = index.get(floor_hour(timestamp))
                if i is None:
                    continue
            row[i] += value

    def usage(self, part: slice) -> Usage:
        return Usage.from_metrics({metric: sum(row[part]) for metric, row in self.hourly.items()})

    def window(self) -> Usage:
        return self.usage(self.grid.window_slice)

    def baseline(self, since: datetime | None = None) -> tuple[Usage, int]:
        """The average of the baseline copies (those after ``since``) and how many there were."""
        slices = self.grid.baseline_slices(since)
        if not slices:
            return Usage(), 0
        cut = 1.0 - self.grid.last_hour_fraction

        def copy_sum(row: list[float], part: slice) -> float:
            total = sum(row[part])
            if cut and part.stop > part.start:
                total -= cut * row[part.stop - 1]
            return total

        sums = {
            metric: sum(copy_sum(row, part) for part in slices) / len(slices)
            for metric, row in self.hourly.items()
        }
        return Usage.from_metrics(sums), len(slices)

    def month_to_date(self) -> Usage:
        return self.usage(self.grid.month_slice)

    def window_hours(self) -> list[Usage]:
        """One Usage per hour of the window, oldest first (a running last hour: what has passed)."""
        part = self.grid.window_slice
        return [self.usage(slice(i, i + 1)) for i in range(part.start, part.stop)]

    def baseline_hours(self, since: datetime | None = None) -> list[Usage]:
        """Per hour of the window, the average of that hour in the baseline copies (those after
        ``since``); a running last hour counts for the same part of each copy's hour."""
        slices = self.grid.baseline_slices(since)
        count = self.grid.window_hour_count
        if not slices:
            return [Usage() for _ in range(count)]
        out = []
        for h in range(count):
            sums = {
                metric: sum(row[part.start + h] for part in slices if part.start + h < part.stop)
                / len(slices)
                for metric, row in self.hourly.items()
            }
            out.append(Usage.from_metrics(sums))
        if out and self.grid.last_hour_fraction < 1.0:
            out[-1] = out[-1].scaled(self.grid.last_hour_fraction)
        return out

    def recent_hours(self, count: int = 24) -> list[Usage]:
        """One Usage per hour for the ``count`` hours up to the window's end (for the alert's sparkline)."""
        stop = self.grid.window_slice.stop
        return [self.usage(slice(i, i + 1)) for i in range(max(0, stop - count), stop)]
