"""AWS Cost Anomaly Detection: the IMMEDIATE alert over SNS (JSON) and the ``aws.ce`` "Anomaly
Detected" EventBridge event. Both carry the same anomaly; the SNS one names its dimension
``dimensionalValue``, the EventBridge one ``dimensionValue``.
"""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse.errors import MalformedSignal
from tokenfuse.events import RootCause, SpendSignal
from tokenfuse.signals._common import RawSource, as_float, condense, dedup_hash, parse_time, shorten

DETAIL_TYPE = "Anomaly Detected"
EVENT_SOURCE = "aws.ce"


class _Loose(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True, allow_inf_nan=False)


class _Impact(_Loose):
    maxImpact: float | None = None
    totalActualSpend: float | None = None
    totalExpectedSpend: float | None = None
    totalImpact: float | None = None
    totalImpactPercentage: float | None = None


class _Score(_Loose):
    currentScore: float | None = None
    maxScore: float | None = None


class _RootCauseImpact(_Loose):
    contribution: float | None = None


class _RootCause(_Loose):
    linkedAccount: str | None = None
    linkedAccountName: str | None = None
    region: str | None = None
    service: str | None = None
    usageType: str | None = None
    impact: _RootCauseImpact | None = None
    impactContribution: float | None = None


class CostAnomaly(_Loose):
    """The anomaly as AWS sends it (SNS message or EventBridge detail)."""

    accountId: str = Field(min_length=1)
    anomalyId: str = Field(min_length=1)
    anomalyStartDate: str | None = None
    anomalyEndDate: str | None = None
    dimensionalValue: str | None = None
    dimensionValue: str | None = None
    monitorArn: str | None = None
    monitorName: str | None = None
    anomalyDetailsLink: str | None = None
    anomalyScore: _Score | None = None
    impact: _Impact
    rootCauses: list[_RootCause] = Field(default_factory=list)


def looks_like(message: dict[str, Any]) -> bool:
    """True for a Cost Anomaly Detection SNS message (it names an anomaly)."""
    return "anomalyId" in message


def parse(
    detail: dict[str, Any], *, received_at: datetime, sent_at: datetime | None, raw_source: RawSource
) -> SpendSignal:
    """One SpendSignal for one anomaly (SNS message or EventBridge ``detail``)."""
    try:
        anomaly = CostAnomaly.model_validate(detail)
    except ValidationError as error:
        raise condense(error, "cost anomaly") from None

    impact = anomaly.impact
    if impact.totalImpact is None:
        raise MalformedSignal("cost anomaly: impact.totalImpact is missing")
    alerted = sent_at or received_at
    start = (
        parse_time(anomaly.anomalyStartDate, "cost anomaly anomalyStartDate")
        if anomaly.anomalyStartDate
        else None
    )
    end = _window_end(anomaly.anomalyEndDate, alerted)
    if start is None:
        start = end - timedelta(days=1)
    if end < start:
        raise MalformedSignal("cost anomaly: anomalyEndDate is before anomalyStartDate")

    causes = [
        RootCause(
            account_id=cause.linkedAccount,
            account_name=cause.linkedAccountName,
            region=cause.region,
            service=cause.service,
            usage_type=cause.usageType,
            contribution_usd=cause.impactContribution
            if cause.impactContribution is not None
            else (cause.impact.contribution if cause.impact else None),
        )
        for cause in anomaly.rootCauses
    ]
    regions = {cause.region for cause in causes}
    region = regions.pop() if len(regions) == 1 else None
    dimension = anomaly.dimensionalValue or anomaly.dimensionValue
    score = anomaly.anomalyScore
    total = round(impact.totalImpact, 2)
    what = dimension or (causes[0].service if causes else None) or "spend"
    summary = (
        f"Cost anomaly on {what} in account {anomaly.accountId}: ${total:,.2f} over expected"
        + (f" ({impact.totalImpactPercentage:.0f}%)" if impact.totalImpactPercentage is not None else "")
        + f", {start:%Y-%m-%d} to {end:%Y-%m-%d %H:%M}Z"
    )
    return SpendSignal(
        source="cost-anomaly",
        # The same anomaly with the same impact is one notification (SNS re-delivery, or SNS and
        # EventBridge both); an anomaly whose impact grew is a re-alert with new facts.
        dedup_key=dedup_hash("cost-anomaly", anomaly.anomalyId, f"{total:.2f}"),
        received_at=received_at,
        account_id=anomaly.accountId,
        region=region,
        window_start=start,
        window_end=end,
        actual_usd=as_float(impact.totalActualSpend),
        expected_usd=as_float(impact.totalExpectedSpend),
        impact_usd=as_float(impact.totalImpact),
        impact_percent=as_float(impact.totalImpactPercentage),
        anomaly_id=anomaly.anomalyId,
        monitor_arn=anomaly.monitorArn,
        monitor_name=anomaly.monitorName,
        anomaly_score=_score(score),
        details_url=anomaly.anomalyDetailsLink,
        root_causes=causes,
        raw_source=raw_source,
        summary=shorten(summary, 300),
    )


def _score(score: _Score | None) -> float | None:
    if score is None:
        return None
    return score.currentScore if score.currentScore is not None else score.maxScore


def _window_end(end_date: str | None, alerted: datetime) -> datetime:
    """The anomaly's last day is a whole day of cost: the window runs to that day's end, or to
    the alert if the day is not over yet."""
    if not end_date:
        return alerted
    end = parse_time(end_date, "cost anomaly anomalyEndDate")
    if end.hour == end.minute == end.second == end.microsecond == 0:
        end = min(end + timedelta(days=1), max(alerted, end))
    return end
