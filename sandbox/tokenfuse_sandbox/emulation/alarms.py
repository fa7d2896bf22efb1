"""Emulation: CloudWatch alarm evaluation over moto's stored metric data.

moto 5.2 stores alarms and metric data but never evaluates an alarm. :class:`AlarmEvaluator`
does, at an instant of the simulated clock, for every metric alarm of an account and region:

- single-metric alarms (``Namespace`` / ``MetricName`` / ``Dimensions`` (exact set) /
  ``Statistic`` or ``ExtendedStatistic`` ``pNN`` / ``Unit`` / ``Period`` / ``EvaluationPeriods`` /
  ``DatapointsToAlarm`` / ``Threshold`` / ``ComparisonOperator`` / ``TreatMissingData``);
- ``Metrics`` alarms whose queries are plain ``MetricStat`` queries, the returned one (or an
  arithmetic ``Expression`` over them: ``+ - * /``, numbers, query ids, e.g. ``m1*0.5+m2``).

The last ``EvaluationPeriods`` whole periods before the evaluation instant are the datapoints; the
alarm is ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) of them breach,
else OK; with no datapoint at all it is INSUFFICIENT_DATA (``missing``), breaching
(``breaching``), OK (``notBreaching``) or unchanged (``ignore``). On a state change it:

1. sets the alarm's state in moto (``Alarm.update_state``; the timestamp is the simulated now), so
   ``DescribeAlarms`` / ``DescribeAlarmHistory`` show it;
2. puts the ``CloudWatch Alarm State Change`` event (source ``aws.cloudwatch``; detail
   ``alarmName``, ``state``, ``previousState``, ``configuration {metrics, description}``; resources
   [alarm ARN]; time = the simulated now) on the default bus of the alarm's account and region
   through moto's events backend, so moto's own rules match and deliver it;
3. when ``ActionsEnabled``, publishes CloudWatch's SNS JSON (``AlarmName``, ``AlarmDescription``,
   ``AWSAccountId``, ``NewStateValue``, ``NewStateReason``, ``StateChangeTime``, ``Region`` (long
   name), ``AlarmArn``, ``OldStateValue``, ``Trigger`` ...) with the subject
   ``ALARM: "<name>" in <Region>`` to each SNS topic of the new state's actions.

:meth:`AlarmEvaluator.attach` evaluates at every minute boundary the simulated clock crosses.

What it does NOT prove: CloudWatch's real evaluation timing (ingestion delay, evaluation
every minute with look-back beyond the evaluation range for ``missing``), partial-period
handling, metric math functions (``FILL``, ``METRICS()``, ``SUM``, ...), anomaly-detection
bands, composite alarms, Metrics Insights queries, ``EvaluateLowSampleCountPercentile``, percentiles
of ``StatisticValues`` sets (only raw values are used), alarm actions other than SNS (Lambda,
Auto Scaling, EC2, SSM), or the exact wording of every state reason. The ``Region`` long names
follow what CloudWatch notifications have used ("EU (Ireland)"); they are not checked against a
live account. moto creates alarms in state OK (AWS: INSUFFICIENT_DATA); the evaluator starts from
whatever moto holds. Metric data put without a ``Timestamp`` gets moto's wall-clock time, not the
simulated one: put data with explicit timestamps.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import json
import math
import operator
import threading
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    MetricAggregatedDatum,
    MetricDatum,
    cloudwatch_backends,
)
from moto.events.models import events_backends
from moto.sns.exceptions import SNSNotFoundError
from moto.sns.models import sns_backends

from .clock import SimulatedClock, boundaries

__all__ = ["AlarmEvaluator", "StateChange", "region_long_name"]

_OPS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
_SNS_STATISTIC = {
    "SampleCount": "SAMPLE_COUNT",
    "Average": "AVERAGE",
    "Sum": "SUM",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
}
# CloudWatch notifications name EU regions the older way.
_REGION_NAME_OVERRIDES = {
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
}
_region_names: dict[str, str] | None = None


def region_long_name(region: str) -> str:
    """The region's long name as CloudWatch notifications write it (``US East (N. Virginia)``)."""
    global _region_names  # noqa: PLW0603
    if region in _REGION_NAME_OVERRIDES:
        return _REGION_NAME_OVERRIDES[region]
    if _region_names is None:
        from botocore.loaders import Loader

        data = Loader().load_data("endpoints")
        _region_names = {
            r: v.get("description", r) for p in data["partitions"] for r, v in p["regions"].items()
        }
    return _region_names.get(region, region)


def _cw_ts(t: datetime) -> str:
    """CloudWatch's timestamp form in alarm payloads: ``2019-10-01T13:56:40.987+0000``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@dataclass(frozen=True)
class StateChange:
    """One alarm state change the evaluator made, with what it sent."""

    account_id: str
    region: str
    alarm_name: str
    alarm_arn: str
    old_state: str
    new_state: str
    reason: str
    reason_data: str
    at: datetime
    event: dict[str, Any]
    sns_message: dict[str, Any] | None


@dataclass(frozen=True)
class _Query:
    """One metric to read: what CloudWatch would fetch for an alarm or a MetricStat query."""

    namespace: str
    name: str
    dims: frozenset[tuple[str, str]]
    stat: str
    period: int
    unit: str | None


@dataclass
class _Spec:
    """An alarm reduced to what evaluation needs."""

    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str
    statistic_label: str | None  # for reasonData; None for metric math
    queries: dict[str, _Query]  # query id -> metric
    expression: ast.Expression | None  # None: the single query is the value
    returned_id: str


class _UnsupportedAlarm(Exception):
    pass


_BIN_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _check_expression(node: ast.AST, ids: set[str]) -> None:
    if isinstance(node, ast.Expression):
        _check_expression(node.body, ids)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
        _check_expression(node.left, ids)
        _check_expression(node.right, ids)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check_expression(node.operand, ids)
    elif (isinstance(node, ast.Constant) and isinstance(node.value, int | float)) or (
        isinstance(node, ast.Name) and node.id in ids
    ):
        pass
    else:
        raise _UnsupportedAlarm(f"unsupported metric math: {ast.dump(node)}")


def _binop(op: ast.operator, left: float | None, right: float | None) -> float | None:
    if left is None or right is None or (isinstance(op, ast.Div) and right == 0):
        return None
    return _BIN_OPS[type(op)](left, right)


def _eval_expression(node: ast.AST, values: dict[str, float | None]) -> float | None:
    """Evaluate a checked expression; None when a term has no datapoint (or on division by zero)."""
    result: float | None
    match node:
        case ast.Expression(body=body):
            result = _eval_expression(body, values)
        case ast.BinOp(left=left, op=op, right=right):
            result = _binop(op, _eval_expression(left, values), _eval_expression(right, values))
        case ast.UnaryOp(operand=operand):
            v = _eval_expression(operand, values)
            result = None if v is None else -v
        case ast.Constant(value=int() | float() as value):
            result = float(value)
        case ast.Name(id=name):
            result = values.get(name)
        case _:
            result = None
    return result


def _returns_data(query: Any, n_queries: int) -> bool:
    if query.return_data is None:
        return n_queries == 1
    return str(query.return_data).lower() == "true"


def _query(metric: Any, stat: str, period: Any, unit: str | None) -> _Query:
    return _Query(
        metric.namespace,
        metric.metric_name,
        frozenset((d.name, d.value) for d in metric.dimensions),
        stat,
        int(period),
        unit,
    )


def _spec_for(alarm: Alarm) -> _Spec:
    if alarm.rule:
        raise _UnsupportedAlarm("composite alarm")
    if alarm.threshold_metric_id:
        raise _UnsupportedAlarm("anomaly-detection alarm")
    if alarm.comparison_operator not in _OPS:
        raise _UnsupportedAlarm(f"comparison {alarm.comparison_operator}")
    n = int(alarm.evaluation_periods)
    common: dict[str, Any] = {
        "evaluation_periods": n,
        "datapoints_to_alarm": int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else n,
        "threshold": float(alarm.threshold),
        "comparison": alarm.comparison_operator,
        "treat_missing": alarm.treat_missing_data or "missing",
    }
    return _metrics_spec(alarm, common) if alarm.metric_data_queries else _single_spec(alarm, common)


def _single_spec(alarm: Alarm, common: dict[str, Any]) -> _Spec:
    stat = alarm.statistic or alarm.extended_statistic
    if not stat:
        raise _UnsupportedAlarm("no statistic")
    metric = types.SimpleNamespace(
        namespace=alarm.namespace, metric_name=alarm.metric_name, dimensions=alarm.dimensions
    )
    q = _query(metric, stat, alarm.period, alarm.unit)
    return _Spec(
        period=q.period, statistic_label=stat, queries={"m": q}, expression=None, returned_id="m", **common
    )


def _metrics_spec(alarm: Alarm, common: dict[str, Any]) -> _Spec:
    queries: dict[str, _Query] = {}
    expressions: dict[str, str] = {}
    returned = None
    for mq in alarm.metric_data_queries:
        if mq.metric_stat is not None:
            ms = mq.metric_stat
            queries[mq.id] = _query(ms.metric, ms.stat, ms.period, ms.unit)
        elif mq.expression:
            expressions[mq.id] = mq.expression
        if _returns_data(mq, len(alarm.metric_data_queries)):
            returned = mq.id
    if returned is None:
        raise _UnsupportedAlarm("no query returns data")
    periods = {q.period for q in queries.values()}
    if len(periods) != 1:
        raise _UnsupportedAlarm("queries of different periods")
    expression = None
    if returned in expressions:
        try:
            expression = ast.parse(expressions[returned], mode="eval")
        except SyntaxError as e:
            raise _UnsupportedAlarm(f"unsupported metric math: {expressions[returned]}") from e
        _check_expression(expression, set(queries))
    elif returned not in queries:
        raise _UnsupportedAlarm("returned query is neither a MetricStat nor an expression")
    return _Spec(
        period=periods.pop(),
        statistic_label=queries[returned].stat if expression is None else None,
        queries=queries,
        expression=expression,
        returned_id=returned,
        **common,
    )


_SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]


class _Index:
    """Metric data of one backend grouped by (namespace, name, dimension set), sorted by time; kept
    across evaluations and brought up to date with what was put since (moto's list only grows), so
    an evaluation each simulated minute does not read a week of history again."""

    def __init__(self) -> None:
        self._data: list[Any] | None = None
        self._read = 0
        self._series: dict[_SeriesKey, tuple[list[datetime], list[Any]]] = {}

    def update(self, data: list[Any]) -> None:
        """Index what ``data`` holds beyond what was read (all of it for another list)."""
        if data is not self._data or len(data) < self._read:
            self._data, self._read, self._series = data, 0, {}
        end = len(data)
        for d in data[self._read : end]:
            key = (d.namespace, d.name, frozenset((x.name, x.value) for x in d.dimensions))
            times, items = self._series.setdefault(key, ([], []))
            at = _utc(d.timestamp)
            if not times or at >= times[-1]:
                times.append(at)
                items.append(d)
            else:  # put late: after the data of the same time already there, as a stable sort keeps it
                i = bisect.bisect_right(times, at)
                times.insert(i, at)
                items.insert(i, d)
        self._read = end

    def stat(self, q: _Query, start: datetime, end: datetime) -> tuple[float | None, float]:
        """(statistic, sample count) of ``q`` over ``[start, end)``; statistic None when no data."""
        series = self._series.get((q.namespace, q.name, q.dims))
        if series is None:
            return None, 0.0
        times, data = series
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        values: list[float] = []
        total, count, lows, highs = 0.0, 0.0, [], []
        for d in data[lo:hi]:
            if q.unit and d.unit and d.unit != q.unit:
                continue
            if isinstance(d, MetricAggregatedDatum):
                total += d.sum
                count += d.sample_count
                lows.append(d.min)
                highs.append(d.max)
            elif isinstance(d, MetricDatum):
                values.append(d.value)
                total += d.value
                count += 1
                lows.append(d.value)
                highs.append(d.value)
        if count == 0:
            return None, 0.0
        aggregates = {
            "Sum": total,
            "SampleCount": count,
            "Average": total / count,
            "Minimum": min(lows),
            "Maximum": max(highs),
        }
        if q.stat in aggregates:
            return aggregates[q.stat], count
        if q.stat.startswith("p") and values:
            ordered = sorted(values)
            rank = max(0, math.ceil(float(q.stat[1:]) / 100 * len(ordered)) - 1)
            return ordered[rank], count
        return None, count


class AlarmEvaluator:
    """Evaluates moto's CloudWatch metric alarms and sends what AWS sends on a state change.

    ``clock`` supplies "now" (a :class:`SimulatedClock`, or any callable returning an aware datetime;
    default ``tokenfuse.clock.now``). Thread-safe: one evaluation at a time.
    """

    def __init__(self, clock: SimulatedClock | Callable[[], datetime] | None = None) -> None:
        if clock is None:
            from tokenfuse import clock as tf_clock

            self._now: Callable[[], datetime] = tf_clock.now
        elif isinstance(clock, SimulatedClock):
            self._now = clock.now
        else:
            self._now = clock
        self._lock = threading.RLock()
        self._changes: list[StateChange] = []
        self._indexes: dict[int, _Index] = {}  # per backend (each keeps its backend's list)
        self.skipped: dict[str, str] = {}
        """Alarm ARN -> why it is not evaluated (composite, anomaly band, unsupported math...)."""

    @property
    def changes(self) -> list[StateChange]:
        """Every state change so far, in order (a copy)."""
        with self._lock:
            return list(self._changes)

    # --- driving ---------------------------------------------------------------------------------

    def attach(self, clock: SimulatedClock, every: timedelta = timedelta(minutes=1)) -> Callable[[], None]:
        """Evaluate at each ``every`` boundary the clock crosses when it moves; returns a detacher."""

        def on_advance(old: datetime, new: datetime) -> None:
            instants = boundaries(old, new, every)
            if instants:
                self.evaluate_at(instants)

        return clock.add_listener(on_advance)

    def evaluate(
        self, at: datetime | None = None, *, account_id: str | None = None, region: str | None = None
    ) -> list[StateChange]:
        """Evaluate every alarm (of one account and/or region if given) at ``at`` (default: now)."""
        return self.evaluate_at([at or self._now()], account_id=account_id, region=region)

    def evaluate_at(
        self, instants: list[datetime], *, account_id: str | None = None, region: str | None = None
    ) -> list[StateChange]:
        """Evaluate at each instant in order (e.g. every minute a clock jump crossed)."""
        instants = sorted(_utc(t) for t in instants)
        out: list[StateChange] = []
        with self._lock:
            for acct, reg, backend in self._backends():
                if (account_id and acct != account_id) or (region and reg != region):
                    continue
                out.extend(self._evaluate_backend(acct, reg, backend, instants))
            self._changes.extend(out)
        return out

    @staticmethod
    def _backends() -> list[tuple[str, str, CloudWatchBackend]]:
        out = []
        for acct, per_region in list(cloudwatch_backends.items()):
            for reg, backend in list(per_region.items()):
                out.append((acct, reg, backend))
        return out

    # --- evaluation ------------------------------------------------------------------------------

    def _evaluate_backend(
        self, account_id: str, region: str, backend: CloudWatchBackend, instants: list[datetime]
    ) -> list[StateChange]:
        specs: list[tuple[Alarm, _Spec]] = []
        for alarm in list(backend.alarms.values()):
            try:
                specs.append((alarm, _spec_for(alarm)))
            except (_UnsupportedAlarm, TypeError, ValueError) as e:
                self.skipped[alarm.alarm_arn] = str(e)
        if not specs:
            return []
        index = self._indexes.setdefault(id(backend), _Index())
        index.update(backend.metric_data)
        changes = []
        for at in instants:
            for alarm, spec in specs:
                decision = _decide(spec, _datapoints(spec, index, at), alarm.state_value, at)
                if decision is None:
                    continue
                new, reason, reason_data = decision
                changes.append(
                    _apply(
                        account_id=account_id,
                        region=region,
                        alarm=alarm,
                        new=new,
                        reason=reason,
                        reason_data=reason_data,
                        at=at,
                    )
                )
        return changes


_Point = tuple[datetime, float | None, float]  # (period start, value or None, sample count)


def _datapoints(spec: _Spec, index: _Index, at: datetime) -> list[_Point]:
    """The last ``EvaluationPeriods`` whole periods before ``at``, newest first."""
    period = timedelta(seconds=spec.period)
    end = datetime.fromtimestamp(int(at.timestamp()) // spec.period * spec.period, UTC)
    points: list[_Point] = []
    for k in range(spec.evaluation_periods):
        start, stop = end - (k + 1) * period, end - k * period
        if spec.expression is None:
            value, count = index.stat(spec.queries[spec.returned_id], start, stop)
        else:
            parts = {qid: index.stat(q, start, stop) for qid, q in spec.queries.items()}
            value = _eval_expression(spec.expression, {k: v for k, (v, _) in parts.items()})
            count = sum(c for _, c in parts.values())
        points.append((start, value, count))
    return points


def _decide(spec: _Spec, points: list[_Point], old: str, at: datetime) -> tuple[str, str, str] | None:
    """(new state, reason, reasonData JSON) when the state changes, else None."""
    compare, words = _OPS[spec.comparison]
    present = [p for p in points if p[1] is not None]
    missing = len(points) - len(present)
    breaching = sum(1 for _, v, _ in present if v is not None and compare(v, spec.threshold))
    if spec.treat_missing == "breaching":
        breaching += missing
    if not present and spec.treat_missing == "ignore":
        return None
    if not present and spec.treat_missing == "missing":
        new = "INSUFFICIENT_DATA"
    else:
        new = "ALARM" if breaching >= spec.datapoints_to_alarm else "OK"
    if new == old:
        return None

    considered = len(points) if spec.treat_missing in ("breaching", "notBreaching") else len(present)
    shown = ", ".join(f"{v!r} ({t.strftime('%d/%m/%y %H:%M:%S')})" for t, v, _ in present)
    m = spec.datapoints_to_alarm
    minimum = f"minimum {m} datapoint{'s' if m != 1 else ''} for {old} -> {new} transition"
    if new == "INSUFFICIENT_DATA":
        reason = f"Insufficient Data: {missing} datapoint{'s were' if missing != 1 else ' was'} unknown."
    else:
        k, negation = (breaching, "") if new == "ALARM" else (considered - breaching, "not ")
        reason = (
            f"Threshold Crossed: {k} out of the last {considered} datapoints [{shown}] "
            f"{'was' if k == 1 else 'were'} {negation}{words} the threshold ({spec.threshold!r}) ({minimum})."
        )
    data: dict[str, Any] = {"version": "1.0", "queryDate": _cw_ts(at)}
    if present:
        data["startDate"] = _cw_ts(present[-1][0])
    if spec.statistic_label:
        data["statistic"] = spec.statistic_label
    data["period"] = spec.period
    data["recentDatapoints"] = [v for _, v, _ in reversed(present)]
    data["threshold"] = spec.threshold
    if present:
        data["evaluatedDatapoints"] = [
            {"timestamp": _cw_ts(t), "sampleCount": c, "value": v} for t, v, c in present
        ]
    return new, reason, json.dumps(data, separators=(",", ":"))


def _apply(
    *, account_id: str, region: str, alarm: Alarm, new: str, reason: str, reason_data: str, at: datetime
) -> StateChange:
    """Set the state in moto, put the EventBridge event, publish to the SNS actions."""
    old = alarm.state_value
    previous = {
        "reason": alarm.state_reason,
        "reasonData": alarm.state_reason_data,
        "timestamp": _cw_ts(_utc(alarm.state_updated_timestamp)),
        "value": old,
    }
    if not previous["reasonData"] or previous["reasonData"] == "{}":
        previous.pop("reasonData")
    alarm.update_state(reason, reason_data, new)
    alarm.state_updated_timestamp = at
    detail: dict[str, Any] = {
        "alarmName": alarm.name,
        "state": {"reason": reason, "reasonData": reason_data, "timestamp": _cw_ts(at), "value": new},
        "previousState": previous,
        "configuration": _event_configuration(alarm),
    }
    entry = {
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Detail": json.dumps(detail),
        "Resources": [alarm.alarm_arn],
        "Time": at.timestamp(),
    }
    results = events_backends[account_id][region].put_events([entry])
    event = {
        "version": "0",
        "id": results[0].get("EventId", "") if results else "",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account_id,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [alarm.alarm_arn],
        "detail": detail,
    }

    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(new, alarm.insufficient_data_actions)
    topics = [a for a in actions or [] if a.startswith("arn:") and a.split(":")[2] == "sns"]
    sns_message = None
    if alarm.actions_enabled and topics:
        sns_message = _sns_message(
            account_id=account_id, region=region, alarm=alarm, old=old, new=new, reason=reason, at=at
        )
        subject = f'{new}: "{alarm.name}" in {region_long_name(region)}'[:100]
        for topic in topics:
            parts = topic.split(":")
            with contextlib.suppress(SNSNotFoundError):  # a missing topic: CloudWatch logs a failed action
                sns_backends[parts[4]][parts[3]].publish(json.dumps(sns_message), arn=topic, subject=subject)
    return StateChange(
        account_id=account_id,
        region=region,
        alarm_name=alarm.name,
        alarm_arn=alarm.alarm_arn,
        old_state=old,
        new_state=new,
        reason=reason,
        reason_data=reason_data,
        at=at,
        event=event,
        sns_message=sns_message,
    )


def _event_configuration(alarm: Alarm) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = []
    if not alarm.metric_data_queries:
        metrics.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": {
                    "metric": {
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                        "name": alarm.metric_name,
                        "namespace": alarm.namespace,
                    },
                    "period": int(alarm.period),
                    "stat": alarm.statistic or alarm.extended_statistic,
                },
                "returnData": True,
            }
        )
    else:
        for q in alarm.metric_data_queries:
            entry: dict[str, Any] = {"id": q.id}
            if q.metric_stat is not None:
                ms = q.metric_stat
                entry["metricStat"] = {
                    "metric": {
                        "dimensions": {d.name: d.value for d in ms.metric.dimensions},
                        "name": ms.metric.metric_name,
                        "namespace": ms.metric.namespace,
                    },
                    "period": int(ms.period),
                    "stat": ms.stat,
                }
            if q.expression:
                entry["expression"] = q.expression
            if q.label:
                entry["label"] = q.label
            entry["returnData"] = _returns_data(q, len(alarm.metric_data_queries))
            metrics.append(entry)
    config: dict[str, Any] = {"metrics": metrics}
    if alarm.description:
        config["description"] = alarm.description
    return config


def _sns_message(
    *, account_id: str, region: str, alarm: Alarm, old: str, new: str, reason: str, at: datetime
) -> dict[str, Any]:
    common_tail = {
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    }
    if not alarm.metric_data_queries:
        trigger: dict[str, Any] = {"MetricName": alarm.metric_name, "Namespace": alarm.namespace}
        if alarm.statistic:
            trigger["StatisticType"] = "Statistic"
            trigger["Statistic"] = _SNS_STATISTIC.get(alarm.statistic, alarm.statistic.upper())
        else:
            trigger["StatisticType"] = "ExtendedStatistic"
            trigger["ExtendedStatistic"] = alarm.extended_statistic
        trigger["Unit"] = alarm.unit
        trigger["Dimensions"] = [{"value": d.value, "name": d.name} for d in alarm.dimensions]
        trigger["Period"] = int(alarm.period)
        trigger.update(common_tail)
    else:
        metrics = []
        for q in alarm.metric_data_queries:
            entry: dict[str, Any] = {}
            if q.expression:
                entry["Expression"] = q.expression
            entry["Id"] = q.id
            if q.label:
                entry["Label"] = q.label
            if q.metric_stat is not None:
                ms = q.metric_stat
                entry["MetricStat"] = {
                    "Metric": {
                        "Dimensions": [{"value": d.value, "name": d.name} for d in ms.metric.dimensions],
                        "MetricName": ms.metric.metric_name,
                        "Namespace": ms.metric.namespace,
                    },
                    "Period": int(ms.period),
                    "Stat": ms.stat,
                }
            entry["ReturnData"] = _returns_data(q, len(alarm.metric_data_queries))
            metrics.append(entry)
        periods = [int(q.metric_stat.period) for q in alarm.metric_data_queries if q.metric_stat is not None]
        period = int(alarm.period) if alarm.period else (periods[0] if periods else 0)
        trigger = {"Period": period, "Metrics": metrics, **common_tail}
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": _cw_ts(_utc(alarm.configuration_updated_timestamp)),
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": _cw_ts(at),
        "Region": region_long_name(region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": trigger,
    }
