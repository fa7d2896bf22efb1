"""What kind of spike a profile shows, from its shape now against its baseline.

All comparisons are of rates, so a window and a baseline of the same hours compare directly:

- ``output-runaway``: output tokens per request grew by ``factor`` (default 3x) or more;
- ``context-bloat``: prompt tokens per request (fresh input + cache reads + cache writes) grew by
  ``factor`` or more;
- ``request-storm``: invocations grew by ``factor`` or more;
- when several of the three hold, the largest ratio names the kind;
- ``rate-shift``: none of the above, tokens per request in and out within ``flat`` (default
  1.5x either way) of the baseline, and the cost per token up by ``rate_factor`` (default 1.5x):
  the same traffic got pricier (a cache that stopped hitting, a pricier model behind the profile);
- ``unknown``: anything else, and any profile with no baseline traffic to compare with.
"""

from dataclasses import dataclass

from tokenfuse.attribution.usage import Usage
from tokenfuse.events import SpikeKind


@dataclass(frozen=True)
class KindThresholds:
    factor: float = 3.0
    flat: float = 1.5
    rate_factor: float = 1.5


def _ratio(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before <= 0:
        return None
    return now / before


def _flat(ratio: float | None, band: float) -> bool:
    return ratio is not None and 1 / band <= ratio <= band


def classify(
    now: Usage,
    baseline: Usage,
    now_cost: float | None = None,
    baseline_cost: float | None = None,
    thresholds: KindThresholds | None = None,
) -> SpikeKind:
    """The kind of a profile's spike. ``now`` and ``baseline`` cover the same number of hours."""
    t = thresholds or KindThresholds()
    if baseline.invocations <= 0 or now.invocations <= 0:
        return "unknown"
    invocations = _ratio(now.invocations, baseline.invocations)
    output = _ratio(now.output_per_request(), baseline.output_per_request())
    prompt = _ratio(now.input_per_request(), baseline.input_per_request())

    measured: tuple[tuple[float | None, SpikeKind], ...] = (
        (output, "output-runaway"),
        (prompt, "context-bloat"),
        (invocations, "request-storm"),
    )
    candidates = [(ratio, kind) for ratio, kind in measured if ratio is not None and ratio >= t.factor]
    if candidates:
        return max(candidates, key=lambda item: item[0])[1]

    if now_cost is not None and baseline_cost is not None and _flat(output, t.flat) and _flat(prompt, t.flat):
        per_token_now = now_cost / now.total_tokens if now.total_tokens else None
        per_token_before = baseline_cost / baseline.total_tokens if baseline.total_tokens else None
        rate = _ratio(per_token_now, per_token_before)
        if rate is not None and rate >= t.rate_factor:
            return "rate-shift"
    return "unknown"
