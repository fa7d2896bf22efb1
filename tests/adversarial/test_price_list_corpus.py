"""Adversarial corpus: the Price List entries `tokenfuse prices refresh` reads. Every node of a
real-shaped ``GetProducts`` entry (botocore's example format, a Marketplace token rate) is deleted or
swapped for another JSON shape, hostile strings go into the attributes and the price, and entries
that are not JSON objects at all are sent. Each entry is priced, or skipped or refused with one line
naming it; nothing crashes, nothing is priced at $0 or below, nothing disappears."""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.adversarial import HOSTILE_STRINGS, OVERSIZED, deeply_nested, mutations
from tokenfuse.adapters.price_list import PriceListEntry, parse_entry
from tokenfuse.attribution.price_refresh import build_table
from tokenfuse.attribution.pricing import RATE_FIELDS, load_embedded_prices

FM = "AmazonBedrockFoundationModels"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SKU = "EXMAZJU2GSMT5EQC"

SAMPLE: dict[str, Any] = {
    "product": {
        "productFamily": "Machine Learning",
        "attributes": {
            "servicecode": FM,
            "servicename": "Claude Sonnet 4 (Amazon Bedrock Edition)",
            "regionCode": "us-east-1",
            "location": "US East (N. Virginia)",
            "locationType": "AWS Region",
            "usagetype": "USE1-MP:USE1_InputTokenCount-Units",
            "operation": "Usage",
        },
        "sku": SKU,
    },
    "serviceCode": FM,
    "terms": {
        "OnDemand": {
            f"{SKU}.JRTCKXETXF": {
                "priceDimensions": {
                    f"{SKU}.JRTCKXETXF.6YS6EN2CT7": {
                        "unit": "Units",
                        "endRange": "Inf",
                        "description": "AWS Marketplace software usage|us-east-1|Million Input Tokens",
                        "appliesTo": [],
                        "rateCode": f"{SKU}.JRTCKXETXF.6YS6EN2CT7",
                        "beginRange": "0",
                        "pricePerUnit": {"USD": "3.0000000000"},
                    }
                },
                "sku": SKU,
                "effectiveDate": "2026-11-01T00:00:00Z",
                "offerTermCode": "JRTCKXETXF",
                "termAttributes": {},
            }
        }
    },
    "version": "20261120183649",
    "publicationDate": "2026-11-20T18:36:49Z",
}


def _output_entry() -> PriceListEntry:
    """Sonnet 4's output rate, untouched: with it, an intact input entry prices the model."""
    raw = copy.deepcopy(SAMPLE)
    raw["product"]["attributes"]["usagetype"] = "USE1-MP:USE1_OutputTokenCount-Units"
    raw["product"]["sku"] = "OUTPUT0000000001"
    term = raw["terms"]["OnDemand"][f"{SKU}.JRTCKXETXF"]
    next(iter(term["priceDimensions"].values()))["pricePerUnit"]["USD"] = "15.0000000000"
    parsed = parse_entry(json.dumps(raw))
    assert isinstance(parsed, PriceListEntry)
    return parsed


def check(raw: object) -> None:
    """The refresh over this entry and the intact output entry: priced, or said why not."""
    refresh = build_table(
        [(FM, [parse_entry(raw, 0), _output_entry()])], load_embedded_prices(), NOW, ["us-east-1"]
    )
    table = refresh.table
    assert all("\n" not in line and len(line) < 600 for line in refresh.skipped + refresh.kept)
    for entry in table.models.values():
        for prices in entry.regions.values():
            for rates in (prices, *prices.variants):
                for name in RATE_FIELDS:
                    value = getattr(rates, name)
                    assert value is None or value > 0, (name, value)
    priced = SONNET4 in refresh.priced
    east = table.models[SONNET4].regions.get("us-east-1")
    if priced:
        # the entry priced something of Sonnet 4's in us-east-1, with a SKU
        assert east is not None and east.skus
    else:
        # the entry is accounted for: a skipped line names it, or the lone output rate is left out
        assert refresh.skipped, "an unpriced entry left no line"


def test_the_sample_prices_sonnet_4():
    refresh = build_table(
        [(FM, [parse_entry(json.dumps(SAMPLE)), _output_entry()])], load_embedded_prices(), NOW, ["us-east-1"]
    )
    east = refresh.table.models[SONNET4].regions["us-east-1"]
    assert (east.input, east.output, east.skus["input"].sku) == (3.0, 15.0, SKU)


CASES = list(mutations(SAMPLE))


@pytest.mark.parametrize(("label", "mutated"), CASES, ids=[label for label, _ in CASES])
def test_every_node_deleted_or_swapped(label, mutated):
    check(json.dumps(mutated))


_TARGETS = {
    "servicename": ("product", "attributes", "servicename"),
    "usagetype": ("product", "attributes", "usagetype"),
    "regionCode": ("product", "attributes", "regionCode"),
    "price": (
        "terms",
        "OnDemand",
        f"{SKU}.JRTCKXETXF",
        "priceDimensions",
        f"{SKU}.JRTCKXETXF.6YS6EN2CT7",
        "pricePerUnit",
        "USD",
    ),
    "unit": (
        "terms",
        "OnDemand",
        f"{SKU}.JRTCKXETXF",
        "priceDimensions",
        f"{SKU}.JRTCKXETXF.6YS6EN2CT7",
        "unit",
    ),
}
HOSTILE = [
    (f"{where} = {value!r:.30}", where, value)
    for where in _TARGETS
    for value in [*HOSTILE_STRINGS, "1e999", "-3", "0.0", "0x10", "3,00", "  3  "]
]


@pytest.mark.parametrize(("label", "where", "value"), HOSTILE, ids=[label for label, _, _ in HOSTILE])
def test_hostile_values(label, where, value):
    mutated = copy.deepcopy(SAMPLE)
    node = mutated
    *path, last = _TARGETS[where]
    for part in path:
        node = node[part]
    node[last] = value
    check(json.dumps(mutated))


NOT_ENTRIES = {
    "not JSON": "{not json",
    "a JSON list": "[1, 2]",
    "a JSON string": '"PriceList"',
    "null": "null",
    "empty": "",
    "deeply nested": deeply_nested(),
    "oversized": json.dumps({**SAMPLE, "padding": OVERSIZED * 200}),
    "an object, not a string": SAMPLE,
    "a number": 42,
}


@pytest.mark.parametrize("raw", NOT_ENTRIES.values(), ids=list(NOT_ENTRIES))
def test_what_is_not_an_entry_is_refused_in_one_line(raw):
    refused = parse_entry(raw, 7)
    assert not isinstance(refused, PriceListEntry)
    assert refused.index == 7 and refused.reason and "\n" not in refused.reason
    check(raw)
