"""A late signal's culprits at the time it arrives: the last complete hour before arrival.

Cost Anomaly Detection reports a day's anomaly hours after it (up to a day), a daily budget the day
before: by then the window's last hour says what the profile spent, not what it spends. So, when
the last complete hour before the signal's arrival lies after the window's end, each culprit
profile is read once more over that hour, with the same metrics, ``ModelId`` forms and prices as
its window (one MetricStat call per scope). Direct model calls are not read again: their figures
depend on what the profiles on the same model show (the double-counting guard), which that one hour
would not have.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.attribution.rank import ProfileFigures
from tokenfuse.attribution.usage import HOUR, METRICS, Usage, floor_hour
from tokenfuse.events import ArrivalRate


@dataclass(frozen=True)
class ArrivalHour:
    start: datetime
    end: datetime


def arrival_hour(received_at: datetime, now: datetime, window_end: datetime) -> ArrivalHour | None:
    """The last complete hour before the signal arrived (never after ``now``), when the window ends
    before that hour ends; None when the window already holds it (an alarm, a prompt signal)."""
    end = floor_hour(min(received_at, now))
    if end <= window_end:
        return None
    return ArrivalHour(end - HOUR, end)


def read_arrival_rates(
    reader: MetricReader, figures: Sequence[ProfileFigures], hour: ArrivalHour
) -> dict[str, ArrivalRate]:
    """Each profile's rate over ``hour`` (both ``ModelId`` forms added up), keyed by figure key."""
    profiles = [f for f in figures if f.subject == "profile" and f.profile_arn and f.profile_id]
    requests: list[MetricRequest] = []
    owners: list[int] = []  # the profile each request reads for
    for index, f in enumerate(profiles):
        for label in (f.profile_id or "", f.profile_arn or ""):
            for metric in METRICS:
                requests.append(MetricRequest(str(len(requests)), metric, label))
                owners.append(index)
    if not requests:
        return {}
    answers = reader.read(requests, hour.start, hour.end)
    sums = [dict.fromkeys(METRICS, 0.0) for _ in profiles]
    for request, index in zip(requests, owners, strict=True):
        sums[index][request.metric] += sum(answers[request.key][1])
    out: dict[str, ArrivalRate] = {}
    for f, totals in zip(profiles, sums, strict=True):
        usage = Usage.from_metrics(totals)
        out[f.key] = ArrivalRate(
            hour_start=hour.start,
            hour_end=hour.end,
            cost_per_hour_usd=round(usage.cost(f.rates), 6) if f.rates else None,
            tokens_per_hour=round(usage.total_tokens, 2),
        )
    return out
