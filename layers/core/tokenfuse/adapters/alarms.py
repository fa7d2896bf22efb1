"""CloudWatch alarms tokenfuse arms on inference profiles: put, describe, delete."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate

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

    def same_as(self, other: "AlarmDefinition") -> bool:
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


def put_alarm(client: Any, alarm: AlarmDefinition) -> None:
    """Create or replace the alarm (PutMetricAlarm is an upsert by name)."""
    try:
        client.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description[:1024],
            ActionsEnabled=alarm.actions_enabled,
            AlarmActions=list(alarm.alarm_actions),
            Namespace=alarm.namespace,
            MetricName=alarm.metric_name,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            Statistic=alarm.statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            DatapointsToAlarm=alarm.datapoints_to_alarm,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
            TreatMissingData=alarm.treat_missing_data,
        )
    except ClientError as error:
        raise translate(error) from error


def _definition(raw: dict[str, Any]) -> AlarmDefinition:
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


def describe_alarms(client: Any, prefix: str) -> dict[str, AlarmDefinition]:
    """Every metric alarm whose name starts with ``prefix``, by name (paginated)."""
    out: dict[str, AlarmDefinition] = {}
    kwargs: dict[str, Any] = {"AlarmNamePrefix": prefix, "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
    while True:
        try:
            page = client.describe_alarms(**kwargs)
        except ClientError as error:
            raise translate(error) from error
        for raw in page.get("MetricAlarms", []):
            alarm = _definition(raw)
            out[alarm.name] = alarm
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def delete_alarms(client: Any, names: Iterable[str]) -> int:
    """Delete alarms by name (batches of 100); unknown names are ignored by CloudWatch."""
    pending: Sequence[str] = sorted(set(names))
    for start in range(0, len(pending), DELETE_BATCH):
        try:
            client.delete_alarms(AlarmNames=list(pending[start : start + DELETE_BATCH]))
        except ClientError as error:
            raise translate(error) from error
    return len(pending)
