"""Notify: what the bus says needs a person -> the right channel or inbox.

- "Spike Attributed": opens or joins the incident of each culprit profile, posts or updates its
  Slack thread (email as fallback), starts remediation for new incidents.
- "Profile Non-Compliant" (from the inventory): tells FinOps about a profile no team can own.

A failure that outlasts retries raises, so the asynchronous invoke retries and then lands in the
notify dead-letter queue. The correlation id is the spike's signal ``dedup_key`` (the EventBridge
event id for a non-compliant profile); ``incident_id`` joins it once the incident is known.
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.alerts.settings import NotifySettings
from tokenfuse.alerts.wiring import dependencies, notify_spike
from tokenfuse.events import DETAIL_TYPES, ProfileNonCompliant, SpikeAttributed
from tokenfuse.observability import EVENT_BRIDGE_ID, lambda_handler_shell


class SpikeAttributedEvent(EventBridgeModel):
    detail: SpikeAttributed


class ProfileNonCompliantEvent(EventBridgeModel):
    detail: ProfileNonCompliant


@lambda_handler_shell(correlation_id_path=f"detail.signal.dedup_key || {EVENT_BRIDGE_ID}")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = dependencies(NotifySettings.from_env()).service(context)
    if event.get("detail-type") == DETAIL_TYPES[ProfileNonCompliant]:
        return service.handle_non_compliant(parse(event=event, model=ProfileNonCompliantEvent).detail)
    return notify_spike(parse(event=event, model=SpikeAttributedEvent).detail, service)
