"""The bottom-up forecast (pure): per feature, cost per request x request volume and its trend.

- Trend model: ordinary least squares of daily requests on the day, a straight line fitted to the
  trend window (the ``TREND_DAYS`` complete UTC days before today); a line that would go below zero
  counts as zero.
- Cost per request: the last ``UNIT_COST_DAYS`` complete days' cost / their requests ("today's
  unit cost").
- Month-end = the month's complete days so far (measured) + each day left, today included, at the
  trend's requests x the cost per request. Next quarter: the calendar quarter after this month's,
  every day from the trend.
- Scenarios: ``base`` as above; ``optimized`` with the feature's sized levers applied to the days
  to come (their combined share of the cost); ``stress`` with volume 50% above the trend.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tokenfuse.showback.models import Scenarios
from tokenfuse.showback.reading import Line

TREND_DAYS = 28
UNIT_COST_DAYS = 7
STRESS_FACTOR = 1.5
TREND_MODEL = (
    f"ordinary least squares line of daily requests over the {TREND_DAYS} complete UTC days before today, "
    f"times the cost per request of the last {UNIT_COST_DAYS} days"
)
SCENARIOS = {
    "base": "today's cost per request x the trend's requests",
    "optimized": "the sized levers applied to the days to come (their combined share of the cost)",
    "stress": f"volume {STRESS_FACTOR - 1:.0%} above the trend at today's cost per request",
}


@dataclass(frozen=True)
class Trend:
    """requests(day) = intercept + slope x (day - origin), in requests per day."""

    origin: date
    intercept: float
    slope: float

    def at(self, day: date) -> float:
        return max(0.0, self.intercept + self.slope * (day - self.origin).days)


def fit(origin: date, values: Sequence[float]) -> Trend:
    """The least-squares line through (0, values[0]), (1, values[1]), ...; flat for one point or none."""
    n = len(values)
    if n == 0:
        return Trend(origin, 0.0, 0.0)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    if sxx == 0:
        return Trend(origin, mean_y, 0.0)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / sxx
    return Trend(origin, mean_y - slope * mean_x, slope)


def month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def next_quarter(day: date) -> tuple[date, date, str]:
    quarter = (day.month - 1) // 3 + 1
    year, nxt = (day.year + 1, 1) if quarter == 4 else (day.year, quarter + 1)
    start = date(year, 3 * (nxt - 1) + 1, 1)
    end = date(year + 1, 1, 1) if nxt == 4 else date(year, 3 * nxt + 1, 1)
    return start, end, f"{year}-Q{nxt}"


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


@dataclass(frozen=True)
class LineForecast:
    """What the forecast of a group of lines is made of (unrounded)."""

    trend: Trend
    cost_per_request: float | None
    month_to_date: float
    month_rest_requests: float
    quarter_requests: float
    month: str
    quarter: str

    def month_end(self, saving_fraction: float = 0.0) -> Scenarios:
        unit = self.cost_per_request or 0.0
        rest = self.month_rest_requests * unit
        return Scenarios(
            base=round(self.month_to_date + rest, 2),
            optimized=round(self.month_to_date + rest * (1 - saving_fraction), 2),
            stress=round(self.month_to_date + rest * STRESS_FACTOR, 2),
        )

    def next_quarter(self, saving_fraction: float = 0.0) -> Scenarios:
        unit = self.cost_per_request or 0.0
        total = self.quarter_requests * unit
        return Scenarios(
            base=round(total, 2),
            optimized=round(total * (1 - saving_fraction), 2),
            stress=round(total * STRESS_FACTOR, 2),
        )


def forecast_lines(lines: Sequence[Line], today: date) -> LineForecast:
    origin = today - timedelta(days=TREND_DAYS)
    daily = [sum(line.days[d].invocations for line in lines if d in line.days) for d in _days(origin, today)]
    trend = fit(origin, daily)
    unit_start = today - timedelta(days=UNIT_COST_DAYS)
    unit_cost = sum(line.cost(unit_start, today) for line in lines)
    unit_requests = sum(line.usage(unit_start, today).invocations for line in lines)
    month_start, month_end = month_bounds(today)
    quarter_start, quarter_end, quarter = next_quarter(today)
    return LineForecast(
        trend=trend,
        cost_per_request=unit_cost / unit_requests if unit_requests > 0 else None,
        month_to_date=sum(line.cost(month_start, today) for line in lines),
        month_rest_requests=sum(trend.at(d) for d in _days(today, month_end)),
        quarter_requests=sum(trend.at(d) for d in _days(quarter_start, quarter_end)),
        month=f"{today:%Y-%m}",
        quarter=quarter,
    )
