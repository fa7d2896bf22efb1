"""The AWS Price List API (``pricing:GetProducts``): Bedrock's products, one validated entry at a time.

The API answers in ``us-east-1`` (its endpoint ``api.pricing.us-east-1.amazonaws.com`` serves every
region's prices). ``GetProducts`` pages through ``PriceList``, a list of JSON **strings**, each one
product with its terms, as botocore's own example shows::

    {"product": {"productFamily": ..., "attributes": {"servicecode": ..., "usagetype": ...,
                 "regionCode": ..., ...}, "sku": "WQGC34PB2AWS8R4U"},
     "serviceCode": "AmazonEC2",
     "terms": {"OnDemand": {"WQGC34PB2AWS8R4U.JRTCKXETXF": {
         "priceDimensions": {"WQGC34PB2AWS8R4U.JRTCKXETXF.6YS6EN2CT7": {
             "unit": "GB-Mo", "description": ..., "beginRange": "0", "endRange": "Inf",
             "appliesTo": [], "rateCode": ..., "pricePerUnit": {"USD": "0.1380000000"}}},
         "sku": "WQGC34PB2AWS8R4U", "effectiveDate": "2017-08-01T00:00:00Z",
         "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
     "version": "20170901182201", "publicationDate": "2017-09-01T18:22:01Z"}

Bedrock's prices are under two service codes: ``AmazonBedrock`` (Amazon's and openly licensed
models, keyed by a ``model`` attribute, priced per 1K tokens) and ``AmazonBedrockFoundationModels``
(models sold through AWS Marketplace, keyed by a ``servicename`` like "Claude Sonnet 4 (Amazon
Bedrock Edition)", priced per 1M tokens, the unit often just "Units" with the scale in the
description). An entry that is not valid JSON or not of this shape is handed back as
:class:`RefusedEntry` with one line saying why; unknown extra fields are accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse.adapters.aws import aws_call
from tokenfuse.text import one_line

if TYPE_CHECKING:
    from mypy_boto3_pricing import PricingClient
    from mypy_boto3_pricing.type_defs import FilterTypeDef

PRICING_REGION = "us-east-1"
BEDROCK_SERVICE_CODES = ("AmazonBedrock", "AmazonBedrockFoundationModels")
PAGE_SIZE = 100
"""GetProducts' largest page."""
MAX_ENTRY_CHARS = 100_000
"""A real entry is a few KB; one far larger is refused before it is parsed."""

_ENTRY = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class PriceDimension(BaseModel):
    model_config = _ENTRY

    unit: str
    description: str = ""
    price_per_unit: dict[str, str] = Field(alias="pricePerUnit")
    begin_range: str | None = Field(default=None, alias="beginRange")
    end_range: str | None = Field(default=None, alias="endRange")
    rate_code: str | None = Field(default=None, alias="rateCode")


class OfferTerm(BaseModel):
    model_config = _ENTRY

    sku: str = Field(min_length=1)
    effective_date: datetime = Field(alias="effectiveDate")
    offer_term_code: str | None = Field(default=None, alias="offerTermCode")
    price_dimensions: dict[str, PriceDimension] = Field(alias="priceDimensions")


class Terms(BaseModel):
    model_config = _ENTRY

    on_demand: dict[str, OfferTerm] = Field(default_factory=dict, alias="OnDemand")


class Product(BaseModel):
    model_config = _ENTRY

    sku: str = Field(min_length=1)
    product_family: str | None = Field(default=None, alias="productFamily")
    attributes: dict[str, str | None]


class PriceListEntry(BaseModel):
    """One product of a GetProducts answer, with its on-demand terms."""

    model_config = _ENTRY

    product: Product
    service_code: str = Field(alias="serviceCode")
    terms: Terms = Field(default_factory=Terms)
    version: str | None = None
    publication_date: datetime | None = Field(default=None, alias="publicationDate")

    @property
    def sku(self) -> str:
        return self.product.sku

    def attribute(self, name: str) -> str:
        """An attribute's value, ``""`` when absent or null."""
        return (self.product.attributes.get(name) or "").strip()


@dataclass(frozen=True)
class RefusedEntry:
    """An entry of the answer that could not be read (its place in the answer), and why (one line)."""

    index: int
    reason: str


def parse_entry(raw: object, index: int = 0) -> PriceListEntry | RefusedEntry:
    """One ``PriceList`` string as an entry, or refused with the reason."""
    if not isinstance(raw, str):
        return RefusedEntry(index, f"not a JSON string ({type(raw).__name__})")
    if len(raw) > MAX_ENTRY_CHARS:
        return RefusedEntry(index, f"over {MAX_ENTRY_CHARS:,} characters")
    try:
        return PriceListEntry.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "entry"
        return RefusedEntry(index, one_line(f"{where}: {first['msg']}", 120))


@dataclass
class ReadStats:
    pages: int = 0
    entries: int = 0


def get_products(
    client: PricingClient,
    service_code: str,
    region_code: str | None = None,
    stats: ReadStats | None = None,
) -> Iterator[PriceListEntry | RefusedEntry]:
    """Every product of ``service_code`` (in ``region_code`` only, when given), through botocore's
    paginator, each one parsed or refused. ``client`` is a ``pricing`` client (us-east-1)."""
    filters: list[FilterTypeDef] = (
        [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region_code}] if region_code else []
    )
    pages = client.get_paginator("get_products").paginate(
        ServiceCode=service_code,
        Filters=filters,
        FormatVersion="aws_v1",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    stats = stats if stats is not None else ReadStats()
    with aws_call("pricing:GetProducts", resource=service_code):
        for page in pages:
            stats.pages += 1
            for raw in page.get("PriceList", []):
                stats.entries += 1
                yield parse_entry(raw, stats.entries - 1)
