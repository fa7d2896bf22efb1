"""The report's period: whole UTC days, ``start`` included and ``end`` excluded."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAY = timedelta(days=1)
CLOUDWATCH_HOURLY_RETENTION_DAYS = 455
"""CloudWatch keeps 1-hour datapoints for 455 days: a period starting earlier cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in whole UTC days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts: {self.start} .. {self.end}")

    @classmethod
    def last_week(cls, today: date) -> "Period":
        """The last full Monday-to-Sunday week before ``today`` (UTC)."""
        this_monday = today - timedelta(days=today.weekday())
        return cls(this_monday - 7 * DAY, this_monday)

    @classmethod
    def inclusive(cls, first: date, last: date) -> "Period":
        """From ``first`` to ``last``, both days included (``--start`` / ``--end``)."""
        return cls(first, last + DAY)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - DAY

    def previous(self) -> "Period":
        """The period of the same length just before this one (what "change" compares with)."""
        return Period(self.start - self.days * DAY, self.start)

    def dates(self) -> list[date]:
        return [self.start + i * DAY for i in range(self.days)]

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def start_instant(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def end_instant(self) -> datetime:
        return datetime.combine(self.end, time(), UTC)

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.last_day:%Y-%m-%d} (UTC)"


def check_readable(period: Period, today: date) -> None:
    """ValueError (one line) for a period CloudWatch cannot answer: in the future, or older than its
    hourly retention (the previous period counts: the change is read too)."""
    if period.start >= today:
        raise ValueError(f"the period starts {period.start}, today or later: nothing is measured yet")
    oldest = today - CLOUDWATCH_HOURLY_RETENTION_DAYS * DAY
    if period.previous().start < oldest:
        raise ValueError(
            f"the period and the one before it start {period.previous().start}, before {oldest}: "
            f"CloudWatch keeps hourly data {CLOUDWATCH_HOURLY_RETENTION_DAYS} days (use the CUR query)"
        )
