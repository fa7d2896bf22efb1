"""Attribution: from a spend signal to the inference profiles (and teams) behind it, in dollars.

``Attributor(clients).attribute(signal) -> SpikeAttributed`` is the entry point; ``pricing``, ``usage``,
``kinds`` and ``rank`` are pure and tested without AWS.
"""

from tokenfuse.attribution.pricing import PriceTable, Rates, base_model_id, load_prices, price_for
from tokenfuse.attribution.service import (
    AttributeSettings,
    AttributionSettings,
    Attributor,
    AwsClientFactory,
    ClientFactory,
    ScopeClients,
    should_publish,
)

__all__ = [
    "AttributeSettings",
    "AttributionSettings",
    "Attributor",
    "AwsClientFactory",
    "ClientFactory",
    "PriceTable",
    "Rates",
    "ScopeClients",
    "base_model_id",
    "load_prices",
    "price_for",
    "should_publish",
]
