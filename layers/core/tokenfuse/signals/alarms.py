"""Token-rate alarms: a CloudWatch alarm on an ``AWS/Bedrock`` metric with a ``ModelId`` dimension
(tokenfuse's own per-profile alarms are such alarms), as the "CloudWatch Alarm State Change"
EventBridge event or as the JSON an alarm action publishes to SNS. Only a transition into ALARM
is a signal; any other state change is unsupported.

For an application inference profile the ``ModelId`` value is the profile id (the last ARN
segment); the full profile ARN is matched too.
"""

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse.arns import PROFILE_ARN, PROFILE_ID, profile_arn
from tokenfuse.errors import MalformedSignal, UnsupportedSignal
from tokenfuse.events import SpendSignal
from tokenfuse.signals._common import (
    RawSource,
    as_float,
    condense,
    dedup_hash,
    load_json,
    parse_time,
    shorten,
)

DETAIL_TYPE = "CloudWatch Alarm State Change"
EVENT_SOURCE = "aws.cloudwatch"
NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"
OWN_ALARM_PREFIX = "tokenfuse-"
"""Names of the alarms tokenfuse's inventory creates start with this."""
DEFAULT_PERIOD = 300
"""The window an alarm that names no period is read over (CloudWatch's default period)."""
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
MAX_EVALUATION_RANGE = 7 * 86_400
MAX_EVALUATION_RANGE_SUB_HOURLY = 86_400
"""PutMetricAlarm: Period is 10, 20, 30 or a multiple of 60 seconds, and Period x
EvaluationPeriods is at most 7 days (1 day for periods under an hour). An alarm beyond these is
not one CloudWatch sends."""

_ALARM_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):cloudwatch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):alarm:"
)
_REASON_VALUE = re.compile(r"\[\s*(-?\d+(?:\.\d+)?(?:[Ee][+-]?\d+)?)\s*\(|datapoint \((-?\d+(?:\.\d+)?)\)")


class _Loose(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", allow_inf_nan=False)


class _State(_Loose):
    value: str
    reason: str | None = None
    reasonData: str | None = None
    timestamp: str


class _Metric(_Loose):
    namespace: str | None = None
    name: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)


class _MetricStat(_Loose):
    metric: _Metric
    period: int | None = None
    stat: str | None = None


class _MetricQuery(_Loose):
    id: str | None = None
    metricStat: _MetricStat | None = None
    expression: str | None = None


class _Configuration(_Loose):
    metrics: list[_MetricQuery] = Field(default_factory=list)


class AlarmStateChange(_Loose):
    """The ``detail`` of a "CloudWatch Alarm State Change" event."""

    alarmName: str = Field(min_length=1)
    state: _State
    previousState: _State | None = None
    configuration: _Configuration = Field(default_factory=_Configuration)


class _Dimension(_Loose):
    name: str
    value: str


class _Trigger(_Loose):
    MetricName: str | None = None
    Namespace: str | None = None
    Dimensions: list[_Dimension] = Field(default_factory=list)
    Period: int | None = None
    EvaluationPeriods: int | None = None
    Threshold: float | None = None
    Metrics: list[dict[str, Any]] = Field(default_factory=list)


class AlarmNotification(_Loose):
    """What an alarm action publishes to SNS."""

    AlarmName: str = Field(min_length=1)
    AlarmArn: str | None = None
    AWSAccountId: str | None = None
    NewStateValue: str
    OldStateValue: str | None = None
    NewStateReason: str | None = None
    StateChangeTime: str
    Region: str | None = None
    Trigger: _Trigger | None = None


def looks_like(message: dict[str, Any]) -> bool:
    return "AlarmName" in message and "NewStateValue" in message


def from_eventbridge(
    event_account: str,
    event_region: str,
    resources: list[str],
    detail: dict[str, Any],
    *,
    received_at: datetime,
    raw_source: RawSource,
) -> SpendSignal:
    try:
        change = AlarmStateChange.model_validate(detail)
    except ValidationError as error:
        raise condense(error, "alarm state change") from None
    previous = change.previousState.value if change.previousState else None
    _require_into_alarm(change.alarmName, change.state.value, previous)

    metric, period = _bedrock_metric_eventbridge(change)
    model_id = _require_token_alarm(change.alarmName, metric.dimensions[DIMENSION] if metric else None)

    changed_at = parse_time(change.state.timestamp, "alarm state timestamp")
    span = evaluation_range(change.alarmName, period, None)
    reason = _reason_data(change.state.reasonData)
    start_text = reason.get("startDate")
    start = parse_time(start_text, "alarm reasonData startDate") if isinstance(start_text, str) else None
    if start is None or start > changed_at:
        start = changed_at - span
    datapoints = reason.get("recentDatapoints")
    value = as_float(datapoints[-1]) if isinstance(datapoints, list) and datapoints else None
    alarm_arn = next((r for r in resources if ":alarm:" in r), None)
    return _signal(
        alarm_name=change.alarmName,
        alarm_arn=alarm_arn,
        account=event_account,
        region=event_region,
        partition=_partition(alarm_arn),
        metric_name=metric.name if metric else None,
        model_id=model_id,
        changed_at=changed_at,
        start=start,
        value=value,
        threshold=as_float(reason.get("threshold")),
        received_at=received_at,
        raw_source=raw_source,
    )


def from_sns(message: dict[str, Any], *, received_at: datetime, raw_source: RawSource) -> SpendSignal:
    try:
        alarm = AlarmNotification.model_validate(message)
    except ValidationError as error:
        raise condense(error, "alarm notification") from None
    _require_into_alarm(alarm.AlarmName, alarm.NewStateValue, alarm.OldStateValue)

    trigger = alarm.Trigger or _Trigger()
    found, metric_name = _bedrock_metric_sns(trigger)
    model_id = _require_token_alarm(alarm.AlarmName, found)

    arn = _ALARM_ARN.match(alarm.AlarmArn or "")
    region = arn.group("region") if arn else _region_of_name(alarm.Region)
    account = arn.group("account") if arn else alarm.AWSAccountId
    changed_at = parse_time(alarm.StateChangeTime, "alarm StateChangeTime")
    span = evaluation_range(alarm.AlarmName, trigger.Period, trigger.EvaluationPeriods)
    value_match = _REASON_VALUE.search(alarm.NewStateReason or "")
    value = as_float(next((g for g in value_match.groups() if g), None)) if value_match else None
    return _signal(
        alarm_name=alarm.AlarmName,
        alarm_arn=alarm.AlarmArn,
        account=account,
        region=region,
        partition=_partition(alarm.AlarmArn),
        metric_name=metric_name,
        model_id=model_id,
        changed_at=changed_at,
        start=changed_at - span,
        value=value,
        threshold=as_float(trigger.Threshold),
        received_at=received_at,
        raw_source=raw_source,
    )


def evaluation_range(name: str, period: int | None, evaluation_periods: int | None) -> timedelta:
    """How far back an alarm looked when it changed state: Period x EvaluationPeriods, within
    CloudWatch's own bounds (MalformedSignal beyond them, before any date arithmetic)."""
    seconds = DEFAULT_PERIOD if period is None else period
    evaluations = 1 if evaluation_periods is None else evaluation_periods
    alarm = f"alarm {shorten(name, 80)}"
    if seconds not in HIGH_RESOLUTION_PERIODS and (seconds <= 0 or seconds % 60):
        raise MalformedSignal(
            f"{alarm}: Period {shorten(seconds, 30)} is not 10, 20, 30 or a multiple of 60 seconds"
        )
    if evaluations < 1:
        raise MalformedSignal(f"{alarm}: EvaluationPeriods {shorten(evaluations, 30)} is below 1")
    limit = MAX_EVALUATION_RANGE_SUB_HOURLY if seconds < 3600 else MAX_EVALUATION_RANGE
    if seconds * evaluations > limit:
        raise MalformedSignal(
            f"{alarm}: Period x EvaluationPeriods ({seconds} s x {shorten(evaluations, 30)}) is over"
            f" CloudWatch's {limit:,} s evaluation range"
        )
    return timedelta(seconds=seconds * evaluations)


def profile_from_model_id(
    model_id: str, *, account: str | None, region: str | None, partition: str = "aws"
) -> tuple[str | None, str | None]:
    """``(profile_id, profile_arn)`` for a ModelId dimension value: an application inference
    profile's ARN or bare id. A foundation model id (or a system cross-region profile) is not a
    profile: ``(None, None)``."""
    arn = PROFILE_ARN.fullmatch(model_id)
    if arn:
        return arn.group("profile_id"), model_id
    if PROFILE_ID.fullmatch(model_id):
        if account and region:
            return model_id, profile_arn(model_id, account=account, region=region, partition=partition)
        return model_id, None
    return None, None


def _signal(
    *,
    alarm_name: str,
    alarm_arn: str | None,
    account: str | None,
    region: str | None,
    partition: str,
    metric_name: str | None,
    model_id: str,
    changed_at: datetime,
    start: datetime,
    value: float | None,
    threshold: float | None,
    received_at: datetime,
    raw_source: RawSource,
) -> SpendSignal:
    profile_id, profile_arn = profile_from_model_id(
        model_id, account=account, region=region, partition=partition
    )
    summary = (
        f"Alarm {alarm_name} in ALARM: {metric_name or 'metric'}"
        + (f" {value:g}" if value is not None else "")
        + (f" over {threshold:g}" if threshold is not None else "")
        + f" for {'profile ' + profile_id if profile_id else 'model ' + model_id}"
        + (f" in {account}/{region}" if account and region else "")
        + f" at {changed_at:%Y-%m-%d %H:%M}Z"
    )
    return SpendSignal(
        source="token-rate-alarm",
        dedup_key=dedup_hash(
            "token-rate-alarm", alarm_arn or f"{account}:{region}:{alarm_name}", changed_at.isoformat()
        ),
        received_at=received_at,
        account_id=account,
        region=region,
        window_start=start,
        window_end=changed_at,
        alarm_name=alarm_name,
        alarm_arn=alarm_arn,
        metric_name=metric_name,
        metric_value=value,
        alarm_threshold=threshold,
        profile_id=profile_id,
        profile_arn=profile_arn,
        raw_source=raw_source,
        summary=shorten(summary, 300),
    )


def _require_into_alarm(name: str, state: str, previous: str | None) -> None:
    if state != "ALARM":
        raise UnsupportedSignal(
            f"alarm {shorten(name, 80)} went to {shorten(state, 20)}: only a change into ALARM"
        )
    if previous == "ALARM":
        raise UnsupportedSignal(f"alarm {shorten(name, 80)} stayed in ALARM: not a transition")


def _require_token_alarm(name: str, model_id: str | None) -> str:
    if model_id:
        return model_id
    if name.startswith(OWN_ALARM_PREFIX):
        raise MalformedSignal(
            f"alarm {shorten(name, 80)} has no {NAMESPACE} metric with a {DIMENSION} dimension"
        )
    raise UnsupportedSignal(f"alarm {shorten(name, 80)} is not on an {NAMESPACE} metric with a {DIMENSION}")


def _bedrock_metric_eventbridge(change: AlarmStateChange) -> tuple[_Metric | None, int | None]:
    for query in change.configuration.metrics:
        stat = query.metricStat
        if stat and stat.metric.namespace == NAMESPACE and stat.metric.dimensions.get(DIMENSION):
            return stat.metric, stat.period
    return None, None


def _bedrock_metric_sns(trigger: _Trigger) -> tuple[str | None, str | None]:
    if trigger.Namespace == NAMESPACE:
        for dimension in trigger.Dimensions:
            if dimension.name == DIMENSION and dimension.value:
                return dimension.value, trigger.MetricName
    # A metric-math alarm lists its metrics instead (same shape as PutMetricAlarm's Metrics).
    for query in trigger.Metrics:
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if not isinstance(metric, dict) or metric.get("Namespace") != NAMESPACE:
            continue
        dimensions = metric.get("Dimensions")
        for dimension in dimensions if isinstance(dimensions, list) else []:
            if isinstance(dimension, dict) and dimension.get("Name", dimension.get("name")) == DIMENSION:
                value = dimension.get("Value", dimension.get("value"))
                if isinstance(value, str) and value:
                    name = metric.get("MetricName")
                    return value, name if isinstance(name, str) else None
    return None, None


def _reason_data(text: str | None) -> dict[str, Any]:
    """``state.reasonData``: JSON AWS documents as informational. Text that is not JSON is read as
    no data; JSON nested too deeply is refused like any other."""
    data = load_json(text, "alarm reasonData", lenient=True) if text else None
    return data if isinstance(data, dict) else {}


def _region_of_name(name: str | None) -> str | None:
    """The region an SNS notification without ``AlarmArn`` names in prose ("EU (Ireland)")."""
    if not name:
        return None
    from tokenfuse.adapters.regions import region_code  # botocore's data, read only when needed

    return region_code(name)


def _partition(arn: str | None) -> str:
    match = _ALARM_ARN.match(arn or "")
    return match.group("partition") if match else "aws"
