"""The price table and the model-id resolution that finds a price, with the words that say which
rate was assumed.

Two tables ship in the layer: ``data/prices.json``, the embedded default gathered by hand from AWS's
pricing page (every entry with its sources and date), and ``data/prices.refreshed.json``, which
``tokenfuse prices refresh`` writes from the AWS Price List API (every figure with its SKU and
effective date) before ``sam build``. A function reads the refreshed one when the layer has it (once
per container, at the first price it needs), the embedded one otherwise;
``TOKENFUSE_PRICE_TABLE=embedded`` pins the embedded one (the tests do).

Rates are USD per million tokens. A model or region with no recorded price resolves to ``None``:
the caller flags it as unpriced, never prices it at 0.

What varies, and what attribution can know of it:

- **routing**: an application profile copied from a foundation model is called in its region; one
  copied from a geographic system profile (``us.``, ``eu.``, ...) or a global one (``global.``) is
  cross-region. AWS bills a geographic call at the source region's in-region rate and a global call
  at the global rate (about 10% less on the models that have one), so the table keeps two routings,
  ``regional`` (in-region and geographic) and ``global``. The routing is read from the models a
  profile lists (:func:`routing_of_profile`) or from a ``ModelId`` prefix (:func:`routing_of_model_id`).
- **service tier** (``default``, ``priority``, ``flex``, ``reserved``), **batch** and the **cache
  TTL** (5 minutes or 1 hour): the ``AWS/Bedrock`` series carry none of them, so attribution prices
  at the on-demand default tier with 5-minute cache writes and says so (:attr:`Quote.basis`).
  Reserved-tier capacity is paid per tokens-per-minute whatever is used; tokens beyond it bill at
  the default tier, which is what a spike adds.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tokenfuse.settings import FunctionSettings
from tokenfuse.text import one_line

LOG = logging.getLogger(__name__)

CROSS_REGION_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"})
"""Leading segments of the system-defined cross-region inference profile ids (``us.anthropic...``)."""

EMBEDDED_FILE = "data/prices.json"
REFRESHED_FILE = "data/prices.refreshed.json"

ServiceTier = Literal["default", "priority", "flex", "reserved"]
"""Bedrock's ``service_tier`` values (the ``default`` tier is the one AWS calls Standard)."""
Routing = Literal["in-region", "geographic", "global"]
"""How a call was routed: in its region, through a geographic or through a global cross-region profile."""
PricedRouting = Literal["regional", "global"]
"""The routings AWS prices apart: ``regional`` (in-region and geographic) and ``global``."""
RateField = Literal["input", "output", "cache_read", "cache_write", "cache_write_1h"]
TableOrigin = Literal["embedded", "aws-price-list"]
PriceListService = Literal["AmazonBedrock", "AmazonBedrockFoundationModels"]

RATE_FIELDS: tuple[RateField, ...] = ("input", "output", "cache_read", "cache_write", "cache_write_1h")


class Rates(BaseModel):
    """One model's rates for one way of calling it in one region, USD per million tokens."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0, description="a cache write with the 5-minute TTL")
    cache_write_1h: float | None = Field(default=None, ge=0, description="a cache write with the 1-hour TTL")

    def cost(
        self,
        input_tokens: float,
        output_tokens: float,
        cache_read_tokens: float = 0,
        cache_write_tokens: float = 0,
    ) -> float:
        """USD for these token counts, cache writes at the 5-minute rate (the metrics do not give the
        TTL). Cache tokens of a model without a cache rate are priced as input."""
        cache_read = self.input if self.cache_read is None else self.cache_read
        cache_write = self.input if self.cache_write is None else self.cache_write
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read_tokens * cache_read
            + cache_write_tokens * cache_write
        ) / 1_000_000

    def figures(self) -> "Rates":
        """These figures alone, without a subclass's provenance: what attribution prices with."""
        return Rates.model_validate(self.model_dump(include=set(Rates.model_fields)))


class Sku(BaseModel):
    """Where one refreshed figure comes from: the Price List product and the date its price took effect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    effective: date


class RateVariant(Rates):
    """The rates of one other way of calling the model: a tier, the global routing, batch."""

    tier: ServiceTier = "default"
    routing: PricedRouting = "regional"
    batch: bool = False
    skus: dict[RateField, Sku] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return variant_label(self.tier, self.routing, self.batch)


class RegionPrices(Rates):
    """A model's prices in one region: at top level the on-demand default-tier regional rates (what a
    call is priced at unless more is known), then every other way of calling it."""

    skus: dict[RateField, Sku] = Field(
        default_factory=dict, description="per figure, its Price List SKU (empty: embedded figures)"
    )
    as_of: date | None = Field(
        default=None, description="embedded figures a refresh kept (a region it did not read): their date"
    )
    variants: list[RateVariant] = Field(default_factory=list)

    def find(self, tier: ServiceTier, routing: PricedRouting, batch: bool = False) -> RateVariant | None:
        """One other way of calling the model, or None when the table has none."""
        wanted = (tier, routing, batch)
        return next((v for v in self.variants if (v.tier, v.routing, v.batch) == wanted), None)


class PriceListName(BaseModel):
    """How the AWS Price List names a model: no product there carries the Bedrock model id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_code: PriceListService
    name: str = Field(
        min_length=1,
        description="the `servicename` (AmazonBedrockFoundationModels) or `model` (AmazonBedrock) attribute",
    )


class ModelPrice(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: str
    source: str = Field(description="where the figures come from (a page, or the Price List API)")
    sources: list[str] = Field(
        default_factory=list, description="every page consulted, the primary one first"
    )
    as_of: date = Field(description="the day the figures were read")
    regions: dict[str, RegionPrices]
    price_list: PriceListName | None = Field(
        default=None, description="the model's name in the Price List (null: not known, never refreshed)"
    )
    note: str | None = None


class PriceTable(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    currency: Literal["USD"] = "USD"
    unit: Literal["per-million-tokens"] = "per-million-tokens"
    origin: TableOrigin = "embedded"
    refreshed_at: datetime | None = None
    notes: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(
        default_factory=list, description="the Price List products a refresh could not price, and why"
    )
    models: dict[str, ModelPrice]

    def region_prices(self, model_id: str, region: str) -> tuple[ModelPrice, RegionPrices] | None:
        entry = self.models.get(base_model_id(model_id))
        if entry is None or region not in entry.regions:
            return None
        return entry, entry.regions[region]

    def price_for(self, model_id: str, region: str) -> Rates | None:
        """The on-demand default-tier regional rates of a model (id, ARN or cross-region id) in a
        region, or None when unpriced."""
        found = self.region_prices(model_id, region)
        return found[1].figures() if found else None

    def quote(self, model_id: str, region: str, routing: Routing = "in-region") -> "Quote | None":
        """The rates a call routed so is priced at, and the words that say which rate that is."""
        found = self.region_prices(model_id, region)
        if found is None:
            return None
        entry, prices = found
        variant = prices.find("default", "global") if routing == "global" else None
        fallback = routing == "global" and variant is None
        used: RegionPrices | RateVariant = variant if variant is not None else prices
        basis = _basis(entry, prices, region, routing, fallback=fallback, skus=used.skus, origin=self.origin)
        return Quote(used.figures(), basis)

    def oldest_as_of(self) -> date | None:
        """The oldest date a figure was read (a refreshed table's kept embedded figures included)."""
        dates = [m.as_of for m in self.models.values()]
        dates += [r.as_of for m in self.models.values() for r in m.regions.values() if r.as_of]
        return min(dates, default=None)


@dataclass(frozen=True)
class Quote:
    rates: Rates
    basis: str
    """One sentence for the alert: which rate was used, from which table, and what was assumed."""


_RATE_WORDS: dict[Routing, str] = {
    "in-region": "in-region rate of {region}",
    "geographic": "in-region rate of {region}, which AWS bills for geographic cross-region calls",
    "global": "global cross-region rate of {region}",
}


def _basis(
    entry: ModelPrice,
    prices: RegionPrices,
    region: str,
    routing: Routing,
    *,
    fallback: bool,
    skus: dict[RateField, Sku],
    origin: TableOrigin,
) -> str:
    rate = _RATE_WORDS[routing].format(region=region)
    if fallback:
        rate = f"in-region rate of {region}, as the table has no global cross-region rate for this model"
    if "input" in skus:
        where = f"AWS Price List SKU {skus['input'].sku}, effective {skus['input'].effective}"
    elif origin == "aws-price-list":
        where = f"embedded figures as of {prices.as_of or entry.as_of}, kept by the refresh"
    else:
        where = f"embedded price table as of {entry.as_of}"
    assumed = "the service tier or batch"
    if prices.cache_write is not None:
        assumed = "the service tier, batch or the cache TTL (cache writes at the 5-minute rate)"
    return (
        f"priced at the on-demand default-tier {rate} ({where}); the AWS/Bedrock metrics do not say {assumed}"
    )


def variant_label(tier: ServiceTier, routing: PricedRouting, batch: bool) -> str:
    """``default regional``, ``flex global``, ``default regional batch``..."""
    return f"{tier} {routing}" + (" batch" if batch else "")


def base_model_id(model_id: str) -> str:
    """The foundation-model id behind a model id, a model ARN or a cross-region profile id.

    ``arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0``,
    ``us.anthropic.claude-3-haiku-20240307-v1:0`` and
    ``arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0``
    all give ``anthropic.claude-3-haiku-20240307-v1:0``.
    """
    value = model_id.strip()
    if value.startswith("arn:"):
        # arn:partition:bedrock:region:account:resource-type/resource-id (the id may contain ':')
        parts = value.split(":", 5)
        resource = parts[5] if len(parts) == 6 else value
        value = resource.split("/", 1)[1] if "/" in resource else resource
    head, dot, rest = value.partition(".")
    if dot and head in CROSS_REGION_PREFIXES and "." in rest:
        value = rest
    return value


def routing_of_model_id(model_id: str) -> Routing:
    """A ``ModelId`` value's routing: ``global.`` profiles are global, ``us.``/``eu.``/... geographic,
    a foundation model (id or ARN) in-region."""
    value = model_id.strip()
    if value.startswith("arn:"):
        value = value.rsplit("/", 1)[-1]
    head, dot, rest = value.partition(".")
    if not dot or head not in CROSS_REGION_PREFIXES or "." not in rest:
        return "in-region"
    return "global" if head == "global" else "geographic"


def _geography(region: str) -> str:
    return "us-gov" if region.startswith("us-gov-") else region.split("-", 1)[0]


def routing_of_profile(model_arns: Sequence[str]) -> Routing:
    """An inference profile's routing, from the foundation-model ARNs it lists: one region is
    in-region (a copy of a foundation model); several regions of one geography are geographic; a
    model ARN without a region, or regions of several geographies, are global."""
    regions = set()
    for arn in model_arns:
        parts = arn.split(":")
        regions.add(parts[3] if len(parts) > 3 else "")
    if "" in regions or len({_geography(r) for r in regions}) > 1:
        return "global"
    return "geographic" if len(regions) > 1 else "in-region"


def _data(name: str) -> Traversable:
    return resources.files("tokenfuse").joinpath(name)


@cache
def load_embedded_prices() -> PriceTable:
    """The embedded table (``data/prices.json``), read and validated once per process."""
    return PriceTable.model_validate_json(_data(EMBEDDED_FILE).read_text(encoding="utf-8"))


def table_in_use(refreshed: Traversable, pin: str | None) -> PriceTable:
    """The refreshed table at ``refreshed`` unless it is absent or unreadable, or ``pin`` (the
    ``TOKENFUSE_PRICE_TABLE`` value) is ``embedded``; the embedded table otherwise."""
    if (pin or "auto").strip().lower() == "embedded" or not refreshed.is_file():
        return load_embedded_prices()
    try:
        return PriceTable.model_validate_json(refreshed.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:  # pydantic's ValidationError is a ValueError
        # Never price with a table that does not validate; the embedded one names itself in every
        # alert's rate basis, so the fallback is visible.
        LOG.error("refreshed price table unreadable, using the embedded one: %s", one_line(error))
        return load_embedded_prices()


class PriceTableSettings(FunctionSettings):
    """Which table a function prices with (any function that prices reads it, by its variable)."""

    tokenfuse_price_table: Literal["auto", "embedded"] = "auto"


@cache
def load_prices() -> PriceTable:
    """The table in use (:func:`table_in_use` of the layer's refreshed file), once per process."""
    return table_in_use(_data(REFRESHED_FILE), PriceTableSettings.from_env().tokenfuse_price_table)


def price_for(model_id: str, region: str, table: PriceTable | None = None) -> Rates | None:
    """The rates of ``model_id`` in ``region`` from ``table`` (the one in use by default)."""
    return (table or load_prices()).price_for(model_id, region)
