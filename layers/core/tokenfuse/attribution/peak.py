"""The peak hours of a long window: where a spike inside CAD's day or a Budgets period really ran.

A 4-hour storm averaged over a 24-hour window looks like a mild, unclassifiable rise. So for a
window longer than ``PEAK_MAX_HOURS``, the kind and the per-hour rates come from the *peak*: the
longest run of consecutive hours whose excess over the baseline (the same hour on the baseline days)
is positive; among runs of equal length, the one with the most excess; a run longer than
``PEAK_MAX_HOURS`` is cut to the ``PEAK_MAX_HOURS`` consecutive hours with the most excess. Excess
is measured in dollars for a priced model and in tokens for an unpriced one. Pure.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.usage import HOUR, Usage

PEAK_MAX_HOURS = 6


@dataclass(frozen=True)
class Peak:
    """Hours [first, stop) of a window (indices into its hours) and what they held."""

    first: int
    stop: int
    start: datetime
    end: datetime
    hours: float
    usage: Usage
    baseline: Usage


def peak_run(excess: Sequence[float], max_hours: int = PEAK_MAX_HOURS) -> tuple[int, int] | None:
    """[first, stop) of the peak run in ``excess`` (one value per hour), or None when no hour is above."""
    runs: list[tuple[int, int]] = []
    first: int | None = None
    for i, value in enumerate([*excess, 0.0]):
        if value > 0 and first is None:
            first = i
        elif value <= 0 and first is not None:
            runs.append((first, i))
            first = None
    if not runs:
        return None
    longest = max(b - a for a, b in runs)
    a, b = max((r for r in runs if r[1] - r[0] == longest), key=lambda r: sum(excess[r[0] : r[1]]))
    if b - a <= max_hours:
        return a, b
    best = max(range(a, b - max_hours + 1), key=lambda i: sum(excess[i : i + max_hours]))
    return best, best + max_hours


def find_peak(
    window_start: datetime,
    hours: Sequence[Usage],
    baseline: Sequence[Usage],
    rates: Rates | None,
    *,
    last_hour_fraction: float = 1.0,
    max_hours: int = PEAK_MAX_HOURS,
) -> Peak | None:
    """The peak of a window longer than ``max_hours`` (None for a shorter one, or one never above)."""
    if len(hours) <= max_hours:
        return None

    def size(usage: Usage) -> float:
        return usage.cost(rates) if rates is not None else usage.total_tokens

    excess = [size(now) - size(before) for now, before in zip(hours, baseline, strict=True)]
    run = peak_run(excess, max_hours)
    if run is None:
        return None
    first, stop = run
    usage, before = Usage(), Usage()
    for now, base in zip(hours[first:stop], baseline[first:stop], strict=True):
        usage, before = usage.plus(now), before.plus(base)
    length = float(stop - first)
    if stop == len(hours) and last_hour_fraction < 1.0:
        length -= 1.0 - last_hour_fraction
    return Peak(
        first=first,
        stop=stop,
        start=window_start + first * HOUR,
        end=window_start + stop * HOUR,
        hours=length,
        usage=usage,
        baseline=before,
    )
