"""NotifyFunction's composition root: the alert service built from the function's environment.

:func:`dependencies` holds, per container, the adapters (incidents table, SES, the remediation
starter, the bus) and the idempotency layer. :meth:`NotifyDependencies.service` builds the
:class:`AlertService` of one invocation: the team directory and the Slack bot token are read then,
through Powertools' max-age cache, so a directory edit or a token rotation reaches a warm container.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from tokenfuse.adapters.aws import default_session
from tokenfuse.adapters.bus import EventBus
from tokenfuse.adapters.email import EmailSender
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.remediation import RemediationStarter
from tokenfuse.adapters.slack import SlackSender, bot_token_from_secret
from tokenfuse.alerts.email_delivery import EmailDelivery
from tokenfuse.alerts.service import AlertService, CulpritSignal, Idempotent
from tokenfuse.alerts.settings import NotifySettings
from tokenfuse.alerts.slack_delivery import SlackDelivery
from tokenfuse.composition import composition_root
from tokenfuse.events import SpikeAttributed
from tokenfuse.observability import correlate, metrics
from tokenfuse.teams import deployed_directory

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

IDEMPOTENCY_KEY_PREFIX = "tokenfuse-notify"


class NotifyIdempotency:
    """Powertools idempotency keyed on the signal's dedup key + the profile (SNS re-deliveries,
    EventBridge retries): a repeat returns the first result without posting again. Without an
    idempotency table, every culprit is processed."""

    def __init__(self, settings: NotifySettings) -> None:
        self.persistence: BasePersistenceLayer | None = None
        self.config: IdempotencyConfig | None = None
        if not settings.idempotency_table_name:
            return
        from aws_lambda_powertools.utilities import idempotency

        self.persistence = idempotency.DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name,
            key_attr="id",
            expiry_attr="expiration",
            boto3_session=default_session(),  # reuse the loaded service models across invokes
        )
        self.config = idempotency.IdempotencyConfig(
            event_key_jmespath="[dedup_key, profile_arn]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        )

    def register(self, lambda_context: Any | None) -> None:
        """Let idempotency see this invocation's remaining time (for in-progress expiry)."""
        if self.config is not None and lambda_context is not None:
            self.config.register_lambda_context(lambda_context)

    def run(self, function: Callable[..., dict[str, Any]], item: CulpritSignal) -> dict[str, Any]:
        """``function(item=item)`` at most once per key; the lines that follow carry its incident."""
        if self.persistence is None or self.config is None:
            result = function(item=item)
        else:
            from aws_lambda_powertools.utilities.idempotency import idempotent_function

            wrapped = idempotent_function(
                data_keyword_argument="item",
                persistence_store=self.persistence,
                config=self.config,
                key_prefix=IDEMPOTENCY_KEY_PREFIX,
            )(function)
            result = wrapped(item=item)
        correlate(None, incident_id=result.get("incident_id") or None)
        return result


@dataclass(frozen=True)
class NotifyDependencies:
    settings: NotifySettings
    table: IncidentsTable
    email: EmailSender
    remediation: RemediationStarter | None
    bus: EventBus | None
    idempotency: NotifyIdempotency

    def service(self, lambda_context: Any | None = None, test: bool = False) -> AlertService:
        """The alert service of one invocation (see the module's docstring)."""
        settings = self.settings
        directory = deployed_directory(
            settings.team_directory_parameter,
            settings.parameter_max_age_seconds,
            finops_slack_channel=settings.finops_slack_channel,
            finops_email=settings.finops_email,
        )
        token = bot_token_from_secret(settings.slack_bot_token_secret_arn, settings.parameter_max_age_seconds)
        self.idempotency.register(lambda_context)
        idempotent: Idempotent = self.idempotency.run
        return AlertService(
            directory=directory,
            table=self.table,
            slack=SlackDelivery(
                SlackSender(token, base_url=settings.slack_api_base_url),
                self.table,
                settings.slack_posts_per_team_per_10_minutes,
            ),
            email=EmailDelivery(self.email),
            remediation=self.remediation,
            bus=self.bus,
            quiet_hours=settings.incident_quiet_hours,
            idempotent=idempotent,
            test=test,
        )


@composition_root
def dependencies(settings: NotifySettings) -> NotifyDependencies:
    """NotifyFunction's composition root (:mod:`tokenfuse.composition`)."""
    return NotifyDependencies(
        settings=settings,
        table=IncidentsTable(settings.incidents_table_name),
        email=EmailSender(settings.sender_email),
        remediation=(
            RemediationStarter(settings.remediation_state_machine_arn)
            if settings.remediation_state_machine_arn
            else None
        ),
        bus=EventBus(settings.event_bus_name) if settings.event_bus_name else None,
        idempotency=NotifyIdempotency(settings),
    )


def build_service(
    settings: NotifySettings, lambda_context: Any | None = None, test: bool = False
) -> AlertService:
    """The alert service for these settings (the container's adapters; see :func:`dependencies`)."""
    return dependencies(settings).service(lambda_context, test)


def notify_spike(spike: SpikeAttributed, service: AlertService) -> dict[str, Any]:
    """A "Spike Attributed": incidents opened or joined, alerts sent; the summary, with its metrics."""
    summary = service.handle(spike)
    metrics.add_metric(name="IncidentsOpened", unit=MetricUnit.Count, value=len(summary["incidents_opened"]))
    metrics.add_metric(name="AlertMessagesSent", unit=MetricUnit.Count, value=summary["messages_sent"])
    if summary["fallbacks"]:
        metrics.add_metric(name="AlertFallbacks", unit=MetricUnit.Count, value=len(summary["fallbacks"]))
    return summary


__all__ = ["NotifyDependencies", "NotifyIdempotency", "build_service", "dependencies", "notify_spike"]
