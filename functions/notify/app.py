"""Notify: what the bus says needs a person -> the right channel or inbox.

- "Spike Attributed": opens or joins the incident of each culprit profile, posts or updates its
  Slack thread (email as fallback), starts remediation for new incidents.
- "Profile Non-Compliant" (from the inventory): tells FinOps about a profile no team can own.

A failure that outlasts retries raises, so the asynchronous invoke retries and then lands in the
notify dead-letter queue.
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.envelopes import EventBridgeEnvelope
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.alerts.settings import NotifySettings
from tokenfuse.alerts.wiring import build_service
from tokenfuse.events import DETAIL_TYPES, ProfileNonCompliant, SpikeAttributed
from tokenfuse.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = build_service(NotifySettings.from_env(), context)
    if event.get("detail-type") == DETAIL_TYPES[ProfileNonCompliant]:
        profile = parse(event=event, model=ProfileNonCompliant, envelope=EventBridgeEnvelope)
        return service.handle_non_compliant(profile)
    spike: SpikeAttributed = parse(event=event, model=SpikeAttributed, envelope=EventBridgeEnvelope)
    summary = service.handle(spike)
    metrics.add_metric(name="IncidentsOpened", unit="Count", value=len(summary["incidents_opened"]))
    metrics.add_metric(name="AlertMessagesSent", unit="Count", value=summary["messages_sent"])
    if summary["fallbacks"]:
        metrics.add_metric(name="AlertFallbacks", unit="Count", value=len(summary["fallbacks"]))
    return summary
