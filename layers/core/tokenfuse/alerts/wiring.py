"""The alert service built from the notify function's environment (adapters, idempotency)."""

from collections.abc import Callable
from typing import Any

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
from tokenfuse.teams import deployed_directory

IDEMPOTENCY_KEY_PREFIX = "tokenfuse-notify"


def build_service(
    settings: NotifySettings, lambda_context: Any | None = None, test: bool = False
) -> AlertService:
    directory = deployed_directory(
        settings.team_directory_parameter,
        settings.parameter_max_age_seconds,
        finops_slack_channel=settings.finops_slack_channel,
        finops_email=settings.finops_email,
    )
    token = bot_token_from_secret(settings.slack_bot_token_secret_arn, settings.parameter_max_age_seconds)
    table = IncidentsTable(settings.incidents_table_name)
    return AlertService(
        directory=directory,
        table=table,
        slack=SlackDelivery(
            SlackSender(token, base_url=settings.slack_api_base_url),
            table,
            settings.slack_posts_per_team_per_10_minutes,
        ),
        email=EmailDelivery(EmailSender(settings.sender_email)),
        remediation=(
            RemediationStarter(settings.remediation_state_machine_arn)
            if settings.remediation_state_machine_arn
            else None
        ),
        bus=EventBus(settings.event_bus_name) if settings.event_bus_name else None,
        quiet_hours=settings.incident_quiet_hours,
        idempotent=idempotency(settings, lambda_context),
        test=test,
    )


def idempotency(settings: NotifySettings, lambda_context: Any | None = None) -> Idempotent:
    """Powertools idempotency keyed on the signal's dedup key + the profile (SNS re-deliveries,
    EventBridge retries): a repeat returns the first result without posting again."""
    if not settings.idempotency_table_name:
        return lambda function, item: function(item=item)
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name,
        key_attr="id",
        expiry_attr="expiration",
        boto3_session=default_session(),  # reuse the loaded service models across invokes
    )
    config = IdempotencyConfig(
        event_key_jmespath="[dedup_key, profile_arn]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    def run(function: Callable[..., dict[str, Any]], item: CulpritSignal) -> dict[str, Any]:
        wrapped = idempotent_function(
            data_keyword_argument="item",
            persistence_store=persistence,
            config=config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(function)
        result: dict[str, Any] = wrapped(item=item)
        return result

    return run
