"""Build the price table from the AWS Price List (``tokenfuse prices refresh``).

For each region, both Bedrock service codes are read (:mod:`tokenfuse.adapters.price_list`) and
every product is either priced or skipped with the reason:

- **which model**: no product carries the Bedrock model id, so the product's name (its
  ``servicename`` in ``AmazonBedrockFoundationModels``, its ``model`` in ``AmazonBedrock``) is looked
  up among the names the embedded table records (``price_list``); a name it does not record is
  skipped, never guessed.
- **which figure**: input, output, cache read, cache write with the 5-minute or the 1-hour TTL, read
  from ``usagetype`` (and ``inferenceType``); **which tier** (``default``, ``priority``, ``flex``),
  **routing** (``regional`` or ``global``) and **batch**, from ``service_tier``, ``inferenceType``,
  ``feature`` and ``usagetype``, whichever AWS filled in. Reserved-tier capacity, Provisioned
  Throughput, customization, latency-optimized and long-context rates, bedrock-mantle rates and
  other media are skipped, each with its reason: they are not a per-token rate of the calls the
  ``AWS/Bedrock`` metrics count, or the metrics cannot tell them apart.
- **the figure**: one flat USD price per product (a tiered or non-USD or $0 price is skipped), per
  1K tokens (``1K tokens``) or per 1M tokens (``1M tokens``, or ``Units`` with a description that
  says "million"), stored per million with the product's SKU and the date its price took effect.

A model is refreshed in a region when its on-demand default-tier regional input and output rates
are there; the other ways of calling it become variants when they have both too. Models the refresh
does not price keep their embedded figures, sources and date, and are listed as kept.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tokenfuse.adapters.price_list import (
    BEDROCK_SERVICE_CODES,
    PriceListEntry,
    ReadStats,
    RefusedEntry,
    get_products,
)
from tokenfuse.attribution.pricing import (
    ModelPrice,
    PricedRouting,
    PriceTable,
    RateField,
    RateVariant,
    RegionPrices,
    ServiceTier,
    Sku,
    variant_label,
)
from tokenfuse.text import one_line

FOUNDATION_MODELS = "AmazonBedrockFoundationModels"

MANTLE = "a bedrock-mantle rate (the OpenAI-compatible endpoint, metered in AWS/BedrockMantle)"
RESERVED = "reserved-tier capacity, paid per tokens-per-minute whatever is used"
PROVISIONED = "Provisioned Throughput, paid per model unit and hour"
CUSTOM = "model customization or a custom model, not on-demand inference"
LATENCY = "latency-optimized inference, which the AWS/Bedrock metrics do not tell apart"
LONG_CONTEXT = "the long-context rate (prompts over 200K tokens), which the metrics do not tell apart"
MEDIA = "not text tokens (images, audio, video or speech)"
NOT_TOKENS = "not a per-token rate"
NO_NAME = "no model name (`servicename` or `model` attribute)"
UNKNOWN_NAME = "no Bedrock model id is recorded for this name (price_list in prices.json)"

_REFRESHED_NOTES = [
    "Built by `tokenfuse prices refresh` from the AWS Price List API (pricing:GetProducts in us-east-1, "
    "service codes AmazonBedrock and AmazonBedrockFoundationModels); each figure names its SKU and the "
    "date its price took effect. Entries whose source is a web page kept their embedded figures.",
    "USD per million tokens. Top-level rates: on-demand, default (Standard) tier, regional (in-region "
    "and geographic cross-region); 'variants': global cross-region, priority, flex and batch rates.",
    "A region absent from a model's 'regions' has no price: the model is reported as unpriced there.",
]


@dataclass(frozen=True)
class Meter:
    """What one product prices."""

    field: RateField
    tier: ServiceTier = "default"
    routing: PricedRouting = "regional"
    batch: bool = False


def _flat(text: str) -> str:
    """Lower case, separators removed: ``USE1-MP:USE1_InputTokenCount_Global-Units`` ->
    ``use1mpuse1inputtokencountglobalunits``."""
    return re.sub(r"[\s_\-:.]+", "", text.lower())


def _figure(flat: str) -> RateField | None:
    if "cachewrite" in flat:
        after = flat.split("cachewrite", 1)[1]
        return "cache_write_1h" if re.search(r"1h", after) else "cache_write"
    if "cacheread" in flat:
        return "cache_read"
    if "inputtoken" in flat:
        return "input"
    if "outputtoken" in flat or "responsetoken" in flat:
        return "output"
    return None


_CAPACITY = (("reserved", RESERVED), ("tpm", RESERVED), ("provisioned", PROVISIONED))
_NOT_INFERENCE = (("customiz", CUSTOM), ("custommodel", CUSTOM), ("training", CUSTOM), ("storage", CUSTOM))
_NOT_COUNTED = (("latencyoptimized", LATENCY), ("longctx", LONG_CONTEXT), ("lctx", LONG_CONTEXT))
_MEDIA_WORDS = ("image", "audio", "video", "speech", "canvas", "reel")


def _excluded(flat: str) -> str | None:
    for marker, reason in (*_CAPACITY, *_NOT_INFERENCE, *_NOT_COUNTED, ("longcontext", LONG_CONTEXT)):
        if marker in flat:
            return reason
    return None


def classify(entry: PriceListEntry, service_code: str) -> Meter | str:
    """The figure a product prices, or why it is skipped."""
    usage = entry.attribute("usagetype")
    flat = _flat(usage)
    if service_code == FOUNDATION_MODELS:
        return _classify_marketplace(flat)
    return _classify_native(entry, usage, flat)


def _classify_marketplace(flat: str) -> Meter | str:
    # {REGION}-MP:{REGION}_{Dimension}[_Global][_Batch]-Units, or ..._input_tokens_[global_]standard-Units
    reason = _excluded(flat)
    if reason:
        return reason
    figure = _figure(flat)
    if figure is None:
        return NOT_TOKENS
    tier: ServiceTier = "priority" if "priority" in flat else "flex" if "flex" in flat else "default"
    return Meter(figure, tier, "global" if "global" in flat else "regional", "batch" in flat)


def _native_exclusion(entry: PriceListEntry, flat: str) -> str | None:
    if "mantle" in flat:
        return MANTLE
    feature = _flat(entry.attribute("feature"))
    reason = _excluded(f"{feature} {flat} {_flat(entry.attribute('model'))}")
    if reason:
        return reason
    if feature not in {"", "ondemandinference", "batchinference"}:
        return f"feature {one_line(entry.attribute('feature'), 60)!r} is not on-demand or batch inference"
    if any(word in flat or word in _flat(entry.attribute("inferenceType")) for word in _MEDIA_WORDS):
        return MEDIA
    if entry.attribute("service_tier").lower() == "reserved":
        return RESERVED
    return None


def _classify_native(entry: PriceListEntry, usage: str, flat: str) -> Meter | str:
    # {REGION}-{Model}-{input|output}-tokens[-priority|-flex|-batch][-cross-region-global], with
    # inferenceType ("Input tokens flex"), feature ("On-demand Inference", "Batch Inference") and,
    # on newer rows, service_tier
    reason = _native_exclusion(entry, flat)
    if reason:
        return reason
    inference = entry.attribute("inferenceType").lower()
    figure = _figure(f"{_flat(inference)} {flat}")
    if figure is None:
        return NOT_TOKENS
    declared = entry.attribute("service_tier").lower()
    words = set(re.split(r"[\s_\-]+", usage.lower())) | set(inference.split())
    feature = _flat(entry.attribute("feature"))
    batch = declared == "batch" or feature == "batchinference" or "batch" in words
    tier: ServiceTier = "default"
    for name in ("priority", "flex"):
        if declared == name or name in words:
            tier = name
    return Meter(figure, tier, "global" if "crossregionglobal" in flat else "regional", batch)


_MILLION = re.compile(r"\b(million|1m)\b")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


_PER_1K = {"1k tokens", "1000 tokens", "1k token"}
_PER_1M = {"1m tokens", "1000000 tokens", "1m token", "million tokens"}


def _scale(unit: str, description: str, service_code: str) -> Decimal | None:
    """What to multiply a price by for USD per million tokens; None when the unit does not say."""
    unit = unit.strip().lower()
    if unit in _PER_1K:
        return Decimal(1000)
    marketplace_units = unit == "units" and service_code == FOUNDATION_MODELS
    if unit in _PER_1M or (marketplace_units and _MILLION.search(description.lower())):
        return Decimal(1)
    return None


def _usd(raw: str | None) -> Decimal | str:
    if raw is None:
        return "no USD price"
    try:
        usd = Decimal(raw)
    except InvalidOperation:
        return f"price {one_line(raw, 40)!r} is not a number"
    if not usd.is_finite() or usd < 0 or usd > 1_000_000:
        return f"price {one_line(raw, 40)!r} is not a plausible rate"
    if usd == 0:
        return "a $0 rate (never used: it would hide spend)"
    return usd


def per_million(entry: PriceListEntry, service_code: str) -> tuple[Decimal, Sku] | str:
    """The product's price in USD per million tokens with its provenance, or why it is skipped."""
    dimensions = [
        (term, dim) for term in entry.terms.on_demand.values() for dim in term.price_dimensions.values()
    ]
    if not dimensions:
        return "no on-demand price"
    if len({dim.price_per_unit.get("USD") for _, dim in dimensions}) != 1:
        return f"a tiered price ({len(dimensions)} ranges), not one rate per token"
    term, dim = dimensions[0]
    usd = _usd(dim.price_per_unit.get("USD"))
    if isinstance(usd, str):
        return usd
    scale = _scale(dim.unit, dim.description, service_code)
    if scale is None:
        return f"unit {one_line(dim.unit, 40)!r} does not say how many tokens"
    return usd * scale, Sku(sku=entry.sku, effective=term.effective_date.date())


VariantKey = tuple[ServiceTier, PricedRouting, bool]
_DEFAULT: VariantKey = ("default", "regional", False)


@dataclass
class _Figure:
    usd: Decimal
    sku: Sku
    usagetype: str


@dataclass
class Refresh:
    """What a refresh read, priced and left out."""

    table: PriceTable
    read: list[str] = field(default_factory=list)
    """One line per query: service code, region, pages, products."""
    priced: dict[str, list[str]] = field(default_factory=dict)
    """model id -> the regions it was refreshed in."""
    rates: int = 0
    kept: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, embedded: PriceTable, regions: Sequence[str]) -> None:
        self.embedded = embedded
        self.regions = set(regions)
        self.names: dict[tuple[str, str], str] = {
            (entry.price_list.service_code, _flat(entry.price_list.name)): model_id
            for model_id, entry in embedded.models.items()
            if entry.price_list
        }
        self.figures: dict[tuple[str, str], dict[VariantKey, dict[RateField, _Figure]]] = {}
        self.skips: dict[tuple[str, str], list[str]] = {}
        self.conflicts: set[tuple[str, str, VariantKey, RateField]] = set()

    def skip(self, name: str, reason: str, usagetype: str) -> None:
        self.skips.setdefault((name, reason), []).append(usagetype)

    def add(self, entry: PriceListEntry | RefusedEntry, service_code: str) -> None:
        if isinstance(entry, RefusedEntry):
            self.skip("-", f"unreadable entry: {entry.reason}", "")
            return
        marketplace = service_code == FOUNDATION_MODELS
        name = entry.attribute("servicename") if marketplace else entry.attribute("model")
        name = name or ("" if marketplace else entry.attribute("titanModel"))
        usage = entry.attribute("usagetype")
        meter = classify(entry, service_code)
        if isinstance(meter, str):
            self.skip(name or "-", meter, usage)
            return
        if not name:
            self.skip("-", NO_NAME, usage)
            return
        model_id = self.names.get((service_code, _flat(name)))
        if model_id is None:
            self.skip(name, UNKNOWN_NAME, usage)
            return
        region = entry.attribute("regionCode")
        if not _REGION.fullmatch(region):
            self.skip(name, f"regionCode {one_line(region, 40)!r} is not an AWS region", usage)
            return
        price = per_million(entry, service_code)
        if isinstance(price, str):
            self.skip(name, price, usage)
            return
        usd, sku = price
        key: VariantKey = (meter.tier, meter.routing, meter.batch)
        slot = self.figures.setdefault((model_id, region), {}).setdefault(key, {})
        earlier = slot.get(meter.field)
        if earlier is not None and earlier.usd != usd:
            self.conflicts.add((model_id, region, key, meter.field))
        elif earlier is None:
            slot[meter.field] = _Figure(usd, sku, usage)

    def result(self, now: datetime, read: list[str]) -> Refresh:
        refresh = Refresh(table=self.embedded, read=read)
        for model_id, region, key, figure in sorted(self.conflicts):
            self.figures[(model_id, region)][key].pop(figure, None)
            refresh.skipped.append(
                f"skipped: {model_id} in {region}: two different {figure} prices for "
                f"{variant_label(*key)}: left out"
            )
        regions: dict[str, dict[str, RegionPrices]] = {}
        for (model_id, region), variants in sorted(self.figures.items()):
            prices = self._region(model_id, region, variants, refresh)
            if prices is not None:
                regions.setdefault(model_id, {})[region] = prices
                refresh.priced.setdefault(model_id, []).append(region)
        models: dict[str, ModelPrice] = {}
        for model_id, entry in self.embedded.models.items():
            if model_id in regions:
                assert entry.price_list is not None  # only named models are priced
                models[model_id] = ModelPrice(
                    name=entry.name,
                    source=f"AWS Price List API (pricing:GetProducts, {entry.price_list.service_code})",
                    as_of=now.date(),
                    regions=regions[model_id] | self._carried(model_id, entry, regions[model_id], refresh),
                    price_list=entry.price_list,
                )
            else:
                why = "no Price List name recorded" if entry.price_list is None else "not in the answer"
                refresh.kept.append(f"kept: {model_id}: embedded figures as of {entry.as_of} ({why})")
                models[model_id] = entry
        for (name, reason), usages in sorted(self.skips.items()):
            example = next((u for u in usages if u), "")
            sample = f", e.g. {one_line(example, 80)}" if example else ""
            count = f"{len(usages)} product{'s' if len(usages) != 1 else ''}"
            refresh.skipped.append(f"skipped: {one_line(name, 80)}: {reason} ({count}{sample})")
        refresh.table = PriceTable(
            origin="aws-price-list",
            refreshed_at=now,
            notes=_REFRESHED_NOTES,
            skipped=refresh.skipped,
            models=models,
        )
        return refresh

    def _carried(
        self, model_id: str, entry: ModelPrice, refreshed: dict[str, RegionPrices], refresh: Refresh
    ) -> dict[str, RegionPrices]:
        """The embedded regions of a refreshed model the refresh did not read (kept, with their
        date); a region it read and found no rate in is no longer priced, and said so."""
        carried = {}
        for region, prices in sorted(entry.regions.items()):
            if region in refreshed:
                continue
            if region in self.regions:
                refresh.kept.append(
                    f"dropped: {model_id} in {region}: the Price List has no rate there, so the embedded "
                    "figure is not carried over (unpriced there)"
                )
            else:
                carried[region] = prices.model_copy(update={"as_of": prices.as_of or entry.as_of})
                refresh.kept.append(
                    f"kept: {model_id} in {region}: embedded figures as of {entry.as_of} (region not read)"
                )
        return carried

    def _region(
        self,
        model_id: str,
        region: str,
        variants: dict[VariantKey, dict[RateField, _Figure]],
        refresh: Refresh,
    ) -> RegionPrices | None:
        base = variants.get(_DEFAULT, {})
        if "input" not in base or "output" not in base:
            refresh.skipped.append(
                f"skipped: {model_id} in {region}: no on-demand default-tier regional input and output "
                f"rates, so its {sum(len(v) for v in variants.values())} other rates are left out"
            )
            return None
        others = []
        for key, figures in sorted(variants.items()):
            if key == _DEFAULT:
                continue
            if "input" not in figures or "output" not in figures:
                refresh.skipped.append(
                    f"skipped: {model_id} in {region} {variant_label(*key)}: "
                    f"no {'input' if 'input' not in figures else 'output'} rate: left out"
                )
                continue
            others.append(RateVariant(tier=key[0], routing=key[1], batch=key[2], **_rates(figures)))
        refresh.rates += len(base) + sum(len(v.skus) for v in others)
        return RegionPrices(**_rates(base), variants=others)


def _rates(figures: dict[RateField, _Figure]) -> dict[str, Any]:
    out: dict[str, Any] = {name: float(f.usd) for name, f in figures.items()}
    out["skus"] = {name: f.sku for name, f in figures.items()}
    return out


def build_table(
    answers: Iterable[tuple[str, Iterable[PriceListEntry | RefusedEntry]]],
    embedded: PriceTable,
    now: datetime,
    regions: Sequence[str],
    read: Sequence[str] = (),
) -> Refresh:
    """The refreshed table from ``(service code, entries)`` answers for ``regions``; pure."""
    builder = _Builder(embedded, regions)
    for service_code, entries in answers:
        for entry in entries:
            builder.add(entry, service_code)
    return builder.result(now, list(read))  # read last: a lazy caller fills it while answering


def default_regions(table: PriceTable) -> list[str]:
    """Every region the table prices a model in."""
    return sorted({region for entry in table.models.values() for region in entry.regions})


def refresh_prices(
    client: Any, embedded: PriceTable, now: datetime, regions: Sequence[str] | None = None
) -> Refresh:
    """Read both Bedrock service codes per region from the Price List (``client``: a ``pricing``
    client in us-east-1) and build the table."""
    read: list[str] = []
    wanted = list(regions or default_regions(embedded))

    def answers() -> Iterator[tuple[str, Iterable[PriceListEntry | RefusedEntry]]]:
        for region in wanted:
            for service_code in BEDROCK_SERVICE_CODES:
                stats = ReadStats()
                yield service_code, get_products(client, service_code, region, stats)
                read.append(f"read: {service_code} in {region}: {stats.pages} pages, {stats.entries} entries")

    return build_table(answers(), embedded, now, wanted, read)
