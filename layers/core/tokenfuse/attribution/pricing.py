"""The price table (``tokenfuse/data/prices.json``) and the model-id resolution that finds a price.

Rates are USD per million tokens (AWS lists per 1,000 tokens: the file holds that figure x 1,000).
A model or region with no recorded price resolves to ``None``: the caller flags it as unpriced,
never prices it at 0.
"""

from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CROSS_REGION_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"})
"""Leading segments of the system-defined cross-region inference profile ids (``us.anthropic...``)."""


class Rates(BaseModel):
    """One model's on-demand rates in one region, USD per million tokens."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)

    def cost(
        self,
        input_tokens: float,
        output_tokens: float,
        cache_read_tokens: float = 0,
        cache_write_tokens: float = 0,
    ) -> float:
        """USD for these token counts. Cache tokens of a model without a cache rate are priced as input."""
        cache_read = self.input if self.cache_read is None else self.cache_read
        cache_write = self.input if self.cache_write is None else self.cache_write
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_read_tokens * cache_read
            + cache_write_tokens * cache_write
        ) / 1_000_000


class ModelPrice(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: str
    source: str = Field(description="the page the figures come from")
    sources: list[str] = Field(
        default_factory=list, description="every page consulted, the primary one first"
    )
    as_of: date
    regions: dict[str, Rates]
    note: str | None = None


class PriceTable(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    currency: Literal["USD"] = "USD"
    unit: Literal["per-million-tokens"] = "per-million-tokens"
    notes: list[str] = Field(default_factory=list)
    models: dict[str, ModelPrice]

    def price_for(self, model_id: str, region: str) -> Rates | None:
        """The rates of a model (id, ARN or cross-region id) in a region, or None when unpriced."""
        entry = self.models.get(base_model_id(model_id))
        if entry is None:
            return None
        return entry.regions.get(region)

    def oldest_as_of(self) -> date | None:
        return min((m.as_of for m in self.models.values()), default=None)


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


@cache
def load_prices() -> PriceTable:
    """The packaged price table, read and validated once per process."""
    text = resources.files("tokenfuse").joinpath("data/prices.json").read_text(encoding="utf-8")
    return PriceTable.model_validate_json(text)


def price_for(model_id: str, region: str, table: PriceTable | None = None) -> Rates | None:
    """The rates of ``model_id`` in ``region`` from ``table`` (the packaged one by default)."""
    return (table or load_prices()).price_for(model_id, region)
