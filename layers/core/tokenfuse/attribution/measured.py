"""The invocation-log meter's measured dollars, taken for its own signal.

A spend-rate signal (``source: invocation-log``) arrives seconds after a loop starts, when the
per-minute ``AWS/Bedrock`` metrics may not show it yet. So for the culprit the signal names, the
meter's figures are the ones used: the burn rate it measured from the records, priced per request,
as the culprit's ``cost_per_hour_usd`` (never lower than the metrics read), the window's dollars,
and its callers (role ARNs with their share). The metrics, read as for every signal, confirm them
later: their figures stay where the meter has none (baseline, tokens per request, kind, month end).
Severity is the higher of the metrics' and the measured burn's over the baseline.
"""

from tokenfuse.attribution.rank import SeverityThresholds
from tokenfuse.events import Culprit, SpendSignal, SpikeAttributed, subject_key

_SEVERITY_ORDER = ("low", "medium", "high", "critical")


def measured_key(signal: SpendSignal) -> str:
    """The incident key of the subject the meter measured."""
    if signal.profile_arn:
        return signal.profile_arn
    return subject_key(
        "direct-model", None, signal.account_id or "unknown", signal.region or "", signal.model_ids
    )


def with_measured(result: SpikeAttributed, thresholds: SeverityThresholds | None = None) -> SpikeAttributed:
    """``result`` with the meter's figures for the culprit its invocation-log signal names (other
    signals: unchanged)."""
    signal = result.signal
    if signal.source != "invocation-log" or signal.burn_usd_per_hour is None:
        return result
    key = measured_key(signal)
    burn = signal.burn_usd_per_hour
    seconds = int((signal.window_end - signal.window_start).total_seconds())
    culprits = [_measured(c, signal) if c.subject_key == key else c for c in result.culprits]
    found = next((c for c in culprits if c.subject_key == key), None)
    note = (
        f"measured from model invocation logs by the meter: ${burn:,.2f}/h over {seconds} s "
        f"(armed at ${signal.burn_threshold_usd_per_hour or 0:,.2f}/h), priced per request; "
        "the AWS/Bedrock metrics confirm it as they arrive (a minute or more later)"
    )
    if found is None:
        note += "; the metrics do not show this subject yet"
    baseline = (found.baseline_cost_per_hour_usd or 0.0) if found else 0.0
    measured = (thresholds or SeverityThresholds()).severity(max(0.0, burn - baseline), 0.0)
    severity = max(result.severity, measured, key=_SEVERITY_ORDER.index)
    return result.model_copy(
        update={"culprits": culprits, "severity": severity, "notes": [*result.notes, note]}
    )


def _measured(culprit: Culprit, signal: SpendSignal) -> Culprit:
    update: dict[str, object] = {"callers": list(signal.callers or []) or culprit.callers}
    burn = signal.burn_usd_per_hour
    if burn is not None and (culprit.cost_per_hour_usd is None or burn > culprit.cost_per_hour_usd):
        update["cost_per_hour_usd"] = round(burn, 6)
    return culprit.model_copy(update=update)


__all__ = ["measured_key", "with_measured"]
