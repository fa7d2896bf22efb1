"""CloudWatch alarms tokenfuse arms on inference profiles: put, describe, delete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from tokenfuse.adapters.aws import aws_call

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.literals import ComparisonOperatorType, StatisticType
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef

DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """One metric alarm, as tokenfuse puts it (and reads it back to compare)."""

    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str = "GreaterThanThreshold"
    treat_missing_data: str = "notBreaching"
    description: str = ""
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = field(default_factory=tuple)

    def same_as(self, other: AlarmDefinition) -> bool:
        """True when putting ``self`` would change nothing that matters (description aside)."""
        return (
            self.namespace == other.namespace
            and self.metric_name == other.metric_name
            and sorted(self.dimensions) == sorted(other.dimensions)
            and self.statistic == other.statistic
            and self.period == other.period
            and self.evaluation_periods == other.evaluation_periods
            and self.datapoints_to_alarm == other.datapoints_to_alarm
            and abs(self.threshold - other.threshold) < 1e-9
            and self.comparison == other.comparison
            and self.treat_missing_data == other.treat_missing_data
            and sorted(self.alarm_actions) == sorted(other.alarm_actions)
        )


def put_alarm(client: CloudWatchClient, alarm: AlarmDefinition) -> None:
    """Create or replace the alarm (PutMetricAlarm is an upsert by name)."""
    # tokenfuse's own definitions (thresholds.alarm_definition) hold CloudWatch's names: "Sum", ...
    statistic = cast("StatisticType", alarm.statistic)
    comparison = cast("ComparisonOperatorType", alarm.comparison)
    with aws_call("cloudwatch:PutMetricAlarm", resource=alarm.name):
        client.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description[:1024],
            ActionsEnabled=alarm.actions_enabled,
            AlarmActions=list(alarm.alarm_actions),
            Namespace=alarm.namespace,
            MetricName=alarm.metric_name,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            Statistic=statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            DatapointsToAlarm=alarm.datapoints_to_alarm,
            Threshold=alarm.threshold,
            ComparisonOperator=comparison,
            TreatMissingData=alarm.treat_missing_data,
        )


def _definition(raw: MetricAlarmTypeDef) -> AlarmDefinition:
    return AlarmDefinition(
        name=raw["AlarmName"],
        namespace=raw.get("Namespace", ""),
        metric_name=raw.get("MetricName", ""),
        dimensions=tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions", [])),
        statistic=raw.get("Statistic", ""),
        period=int(raw.get("Period", 0)),
        evaluation_periods=int(raw.get("EvaluationPeriods", 0)),
        datapoints_to_alarm=int(raw.get("DatapointsToAlarm") or raw.get("EvaluationPeriods", 0)),
        threshold=float(raw.get("Threshold", 0.0)),
        comparison=raw.get("ComparisonOperator", ""),
        treat_missing_data=raw.get("TreatMissingData", "missing"),
        description=raw.get("AlarmDescription", ""),
        actions_enabled=bool(raw.get("ActionsEnabled", True)),
        alarm_actions=tuple(raw.get("AlarmActions", [])),
    )


def describe_alarms(client: CloudWatchClient, prefix: str) -> dict[str, AlarmDefinition]:
    """Every metric alarm whose name starts with ``prefix``, by name (botocore's paginator)."""
    out: dict[str, AlarmDefinition] = {}
    pages = client.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": 100}
    )
    with aws_call("cloudwatch:DescribeAlarms", resource=prefix):
        for page in pages:
            for raw in page.get("MetricAlarms", []):
                alarm = _definition(raw)
                out[alarm.name] = alarm
    return out


def delete_alarms(client: CloudWatchClient, names: Iterable[str]) -> int:
    """Delete alarms by name (batches of 100); unknown names are ignored by CloudWatch."""
    pending: Sequence[str] = sorted(set(names))
    for start in range(0, len(pending), DELETE_BATCH):
        with aws_call("cloudwatch:DeleteAlarms"):
            client.delete_alarms(AlarmNames=list(pending[start : start + DELETE_BATCH]))
    return len(pending)
