"""Intake: every spend signal in, one SpendSignal on the bus per notification.

The intake SQS queue holds SNS notifications (raw message delivery off) and EventBridge events as
message bodies. For each record: parse, enrich a Budgets signal with its budget's cost filters,
and put the signal on the bus once: re-deliveries of one notification (same ``dedup_key``) are
absorbed by Powertools idempotency (DynamoDB).

A record is never dropped in silence. One that is not a signal, does not parse or is not
plausible (an empty body, JSON nested too deeply, a window far from now, money beyond the bounds,
a figure not in US dollars: :mod:`tokenfuse.signals`) is *refused*: one ``rejected: ...`` log line
(control characters escaped), the ``SignalsRejected`` metric, and a batch item failure, so SQS's
redrive moves it to the dead-letter queue after ``maxReceiveCount``; nothing reaches the bus. A
signal the bus or the idempotency table does not take fails the same way with one
``not delivered: ...`` line (``SignalsNotDelivered``) and is retried by SQS.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse import clock
from tokenfuse.adapters.aws import default_session
from tokenfuse.adapters.budgets import BudgetsReader
from tokenfuse.adapters.bus import EventBus
from tokenfuse.composition import composition_root, own_account
from tokenfuse.composition import reset as reset_roots
from tokenfuse.errors import AccessDenied, NotFound, SignalError
from tokenfuse.events import SpendSignal
from tokenfuse.observability import correlate, logger, metrics, subsegment
from tokenfuse.settings import FunctionSettings
from tokenfuse.signals import parse_signal
from tokenfuse.text import one_line

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
"""How long a delivered signal's dedup key is remembered: well beyond SNS/SQS re-delivery."""


class IntakeSettings(FunctionSettings):
    """IntakeFunction's environment (template.yaml; see :mod:`tokenfuse.settings`)."""

    event_bus_name: str
    idempotency_table_name: str
    budgets_role_arn: str | None = None


def enrich(signal: SpendSignal, budgets: BudgetsReader) -> SpendSignal:
    """A Budgets signal with the budget's cost filters (from the account the alert names).
    A budget tokenfuse may not read, or that is gone, leaves ``cost_filters`` null (logged)."""
    if signal.source != "budget" or not signal.account_id or not signal.budget_name:
        return signal
    try:
        filters = budgets.cost_filters(signal.account_id, signal.budget_name)
    except (NotFound, AccessDenied) as error:
        logger.warning(f"budget {signal.budget_name} not enriched: {error}")
        return signal
    return signal.model_copy(update={"cost_filters": filters})


@dataclass
class Intake:
    """The intake's collaborators; build one with :meth:`from_settings` (once per container: see
    :func:`dependencies`). The Budgets reader is the exception: :meth:`start_invocation` renews it,
    because through ``BUDGETS_ROLE_ARN`` it holds an assumed role's credentials, which expire
    within the hour while a container lives for hours."""

    bus: EventBus
    persistence: BasePersistenceLayer
    budgets_role_arn: str | None = None
    idempotency: IdempotencyConfig = field(
        default_factory=lambda: IdempotencyConfig(
            event_key_jmespath="dedup_key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        )
    )
    now: Callable[[], datetime] = clock.now
    own_account: str | None = None
    """The function's account (tokenfuse's): its meter's spend-rate events may name any account."""
    _deliver_once: Callable[..., dict[str, Any]] | None = None
    budgets: BudgetsReader = field(init=False)

    def __post_init__(self) -> None:
        self.budgets = BudgetsReader(self.budgets_role_arn)

    @classmethod
    def from_settings(cls, settings: IntakeSettings) -> "Intake":
        return cls(
            bus=EventBus(settings.event_bus_name),
            persistence=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_session=default_session()
            ),
            budgets_role_arn=settings.budgets_role_arn,
        )

    def start_invocation(self, context: LambdaContext) -> None:
        """Per invocation: idempotency sees this invocation's remaining time (for in-progress
        expiry), and the Budgets reader starts afresh (no assumed role outlives an invocation)."""
        self.idempotency.register_lambda_context(context)
        self.budgets = BudgetsReader(self.budgets_role_arn)
        self.own_account = own_account(context)

    def handle_record(self, record: SQSRecord) -> list[str]:
        """Parse one SQS record and put its signal(s) on the bus once; the dedup keys handled.
        Raises (after one log line and a metric) for a record refused or not delivered.

        The record's correlation id is its SQS message id until it parses, then each signal's
        ``dedup_key`` (the id every later hop of the spike logs). Traced in a subsegment of its own,
        not with ``tracer.capture_method``: that logs every exception with its traceback, a second
        line for each refused record."""
        message_id = record.message_id
        correlate(message_id)
        metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=1)
        with subsegment("handle_record"):
            signals = self._parse(record)
            for signal in signals:
                correlate(signal.dedup_key)
                try:
                    self.deliver(signal)
                except Exception as error:
                    logger.error(
                        f"not delivered: {type(error).__name__}: {one_line(str(error))}",
                        message_id=message_id,
                        dedup_key=signal.dedup_key,
                    )
                    metrics.add_metric(name="SignalsNotDelivered", unit=MetricUnit.Count, value=1)
                    raise
        return [signal.dedup_key for signal in signals]

    def _parse(self, record: SQSRecord) -> list[SpendSignal]:
        try:
            # The body as SQS gave it: a missing (empty) or odd one is refused like any other.
            return parse_signal(
                record.raw_event.get("body", ""), received_at=self.now(), tokenfuse_account=self.own_account
            )
        except SignalError as error:
            self._refuse(record, f"{type(error).__name__}: {error}")
            raise
        except Exception as error:  # a parser bug must still dead-letter with its reason, not crash
            self._refuse(record, f"unexpected {type(error).__name__}: {error}", exc_info=True)
            raise

    @staticmethod
    def _refuse(record: SQSRecord, reason: str, *, exc_info: bool = False) -> None:
        logger.error(f"rejected: {one_line(reason)}", message_id=record.message_id, exc_info=exc_info or None)
        metrics.add_metric(name="SignalsRejected", unit=MetricUnit.Count, value=1)

    def deliver(self, signal: SpendSignal) -> dict[str, Any]:
        """Enrich and put one signal, at most once per ``dedup_key`` (while remembered)."""
        return self._once()(signal=signal.to_bus())

    def _once(self) -> Callable[..., dict[str, Any]]:
        if self._deliver_once is None:

            def put_signal(signal: dict[str, Any]) -> dict[str, Any]:
                spend = enrich(SpendSignal.from_bus(signal), self.budgets)
                self.bus.put(spend)
                metrics.add_metric(name="SignalsPut", unit=MetricUnit.Count, value=1)
                logger.info(
                    f"put {spend.source} signal: {spend.summary}",
                    dedup_key=spend.dedup_key,
                    source=spend.source,
                )
                return {"dedup_key": spend.dedup_key, "source": spend.source}

            self._deliver_once = idempotent_function(
                put_signal,
                data_keyword_argument="signal",
                persistence_store=self.persistence,
                config=self.idempotency,
            )
        return self._deliver_once


@composition_root
def dependencies(settings: IntakeSettings) -> Intake:
    """IntakeFunction's composition root (:mod:`tokenfuse.composition`)."""
    return Intake.from_settings(settings)


def get_intake() -> Intake:
    """The container's Intake, for the environment's settings (validated once)."""
    return dependencies(IntakeSettings.from_env())


def reset() -> None:
    """Forget the built Intake (and every other root): tests that change the environment."""
    reset_roots()


__all__ = ["Intake", "IntakeSettings", "dependencies", "enrich", "get_intake", "reset"]
