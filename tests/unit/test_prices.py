"""The price table: model-id resolution, routing, the rate a call is priced at and the words that
say so, and the refresh's reading of Price List products (pure: no AWS)."""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.unit.test_render_alerts import load_spike, view_for
from tokenfuse.adapters.price_list import PriceListEntry, RefusedEntry, parse_entry
from tokenfuse.alerts.email_render import render_email
from tokenfuse.alerts.messages import alert_text
from tokenfuse.alerts.slack_render import render_alert
from tokenfuse.attribution import price_refresh
from tokenfuse.attribution.price_refresh import Meter, build_table, classify, per_million
from tokenfuse.attribution.pricing import (
    PriceTable,
    Rates,
    base_model_id,
    load_embedded_prices,
    load_prices,
    price_for,
    routing_of_model_id,
    routing_of_profile,
    table_in_use,
)

SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
FM = "AmazonBedrockFoundationModels"
BR = "AmazonBedrock"


def test_table_loads_once_and_every_entry_is_sourced_and_dated():
    # Given the packaged table (the tests pin the embedded one)
    table = load_prices()
    # Then it is cached, and every model has a source URL, a date and at least one region
    assert load_prices() is table
    assert table is load_embedded_prices()
    assert (table.currency, table.unit, table.origin) == ("USD", "per-million-tokens", "embedded")
    assert len(table.models) >= 12
    for model_id, entry in table.models.items():
        assert entry.source.startswith("https://"), model_id
        assert entry.as_of <= date(2026, 12, 31)
        assert entry.regions, model_id
        for rates in entry.regions.values():
            assert rates.input > 0
            assert rates.output >= rates.input or model_id.startswith("meta."), model_id
    # And every model but one says how the Price List names it, under the service code that sells it
    named = {k: v.price_list for k, v in table.models.items() if v.price_list}
    assert set(table.models) - set(named) == {"mistral.mistral-large-2407-v1:0"}
    assert named[SONNET4].service_code == FM
    assert named[SONNET4].name == "Claude Sonnet 4 (Amazon Bedrock Edition)"
    assert named["amazon.nova-pro-v1:0"].service_code == BR
    assert named["amazon.nova-pro-v1:0"].name == "Nova Pro"


@pytest.mark.parametrize(
    "model_id",
    [
        SONNET,
        f"us.{SONNET}",
        f"eu.{SONNET}",
        f"global.{SONNET}",
        f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}",
        f"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.{SONNET}",
    ],
)
def test_base_model_id_resolves_arns_and_cross_region_ids(model_id):
    assert base_model_id(model_id) == SONNET


def test_base_model_id_keeps_provider_prefixes():
    # "amazon." / "meta." are providers, not cross-region prefixes
    assert base_model_id("amazon.nova-micro-v1:0") == "amazon.nova-micro-v1:0"
    assert base_model_id("us.amazon.nova-micro-v1:0") == "amazon.nova-micro-v1:0"


@pytest.mark.parametrize(
    ("model_id", "region", "expected"),
    [
        (SONNET, "us-east-1", Rates(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)),
        (
            f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET}",
            "us-west-2",
            Rates(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75),
        ),
        (
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "us-east-1",
            Rates(input=0.8, output=4.0, cache_read=0.08, cache_write=1.0),
        ),
        ("anthropic.claude-3-haiku-20240307-v1:0", "us-east-1", Rates(input=0.25, output=1.25)),
        ("amazon.nova-pro-v1:0", "us-east-1", Rates(input=0.8, output=3.2, cache_read=0.2, cache_write=0.8)),
        ("meta.llama3-1-70b-instruct-v1:0", "us-west-2", Rates(input=0.72, output=0.72)),
    ],
)
def test_price_for(model_id, region, expected):
    assert price_for(model_id, region) == expected


@pytest.mark.parametrize(
    ("model_id", "region"),
    [("cohere.command-r-v1:0", "us-east-1"), (SONNET, "ap-southeast-7"), ("not-a-model", "us-east-1")],
)
def test_unknown_model_or_region_is_unpriced_not_zero(model_id, region):
    assert price_for(model_id, region) is None
    assert load_prices().quote(model_id, region, "global") is None


def test_money_by_hand():
    # Given $3 / $15 per million tokens (cache read $0.30, cache write $3.75)
    rates = Rates(input=3.0, output=15.0, cache_read=0.30, cache_write=3.75, cache_write_1h=6.0)
    # Then 3,000 input + 400 output tokens cost $0.015
    assert rates.cost(3_000, 400) == pytest.approx(0.015)
    # And 10,000 cache-read tokens $0.003, 2,000 cache-write tokens $0.0075 (the 5-minute rate)
    assert rates.cost(0, 0, 10_000, 0) == pytest.approx(0.003)
    assert rates.cost(0, 0, 0, 2_000) == pytest.approx(0.0075)
    assert rates.cost(3_000, 400, 10_000, 2_000) == pytest.approx(0.0255)


def test_cache_tokens_of_a_model_without_cache_rates_are_priced_as_input():
    assert Rates(input=0.25, output=1.25).cost(0, 0, 4_000, 4_000) == pytest.approx(0.002)


# -- routing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model_id", "routing"),
    [
        (SONNET, "in-region"),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}", "in-region"),
        (f"us.{SONNET}", "geographic"),
        (f"apac.{SONNET}", "geographic"),
        (f"global.{SONNET}", "global"),
        (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{SONNET}", "global"),
        ("amazon.nova-pro-v1:0", "in-region"),
        ("us.amazon.nova-pro-v1:0", "geographic"),
    ],
)
def test_routing_of_a_model_id(model_id, routing):
    assert routing_of_model_id(model_id) == routing


def _arn(region: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{SONNET4}"


@pytest.mark.parametrize(
    ("regions", "routing"),
    [
        (["us-east-1"], "in-region"),
        (["us-east-1", "us-east-2", "us-west-2"], "geographic"),
        (["eu-west-1", "eu-central-1", "eu-west-3"], "geographic"),
        (["us-gov-west-1", "us-gov-east-1"], "geographic"),
        (["us-east-1", "eu-west-1", "ap-northeast-1"], "global"),
        ([""], "global"),  # a global profile lists its model without a region
    ],
)
def test_routing_of_a_profile_from_the_models_it_lists(regions, routing):
    assert routing_of_profile([_arn(r) for r in regions]) == routing


def sonnet4_table(*, global_rate: bool, flex: bool = False) -> PriceTable:
    """A refreshed table of Sonnet 4: us-east-1 from the Price List (regional, the global rate when
    asked, a flex rate without SKUs when asked), us-west-2's embedded figures kept."""
    regional = {
        "input": {"sku": "QZ4REGIONSKU0001", "effective": "2026-10-15"},
        "output": {"sku": "QZ4REGIONOUT0001", "effective": "2026-11-15"},
    }
    variants: list[dict] = []
    if global_rate:
        sku = {"sku": "QZ4GLOBALSKU0001", "effective": "2026-11-01"}
        variants.append({"routing": "global", "input": 2.7, "output": 13.5, "skus": {"input": sku}})
    if flex:
        variants.append({"tier": "flex", "input": 1.5, "output": 7.5})
    return PriceTable.model_validate(
        {
            "origin": "aws-price-list",
            "refreshed_at": "2026-12-01T09:30:00Z",
            "models": {
                SONNET4: {
                    "name": "Claude Sonnet 4",
                    "source": "AWS Price List API (pricing:GetProducts, AmazonBedrockFoundationModels)",
                    "as_of": "2026-12-01",
                    "regions": {
                        "us-east-1": {
                            "input": 3.0,
                            "output": 15.0,
                            "cache_read": 0.3,
                            "cache_write": 3.75,
                            "cache_write_1h": 6.0,
                            "skus": regional,
                            "variants": variants,
                        },
                        "us-west-2": {"input": 3.0, "output": 15.0, "as_of": "2026-11-27"},
                    },
                }
            },
        }
    )


def test_a_global_call_is_priced_at_the_global_rate_and_says_so():
    # Given a refreshed table with Sonnet 4's global rate in us-east-1 ($2.70 / $13.50)
    quote = sonnet4_table(global_rate=True).quote(f"global.{SONNET4}", "us-east-1", "global")
    # Then 3,000 input + 400 output tokens cost 3,000 x 2.7 / 1e6 + 400 x 13.5 / 1e6 = $0.0135
    assert quote is not None
    assert quote.rates.cost(3_000, 400) == pytest.approx(0.0135)
    # And the words name the rate, its SKU and date, and what the metrics do not say
    assert quote.basis.startswith(
        "priced at the on-demand default-tier global cross-region rate of us-east-1"
    )
    assert "SKU QZ4GLOBALSKU0001, effective 2026-11-01" in quote.basis
    assert (
        "do not say the service tier, batch or the cache TTL (cache writes at the 5-minute rate)"
        in quote.basis
    )


def test_a_geographic_call_is_priced_at_the_in_region_rate():
    quote = sonnet4_table(global_rate=True).quote(f"us.{SONNET4}", "us-east-1", "geographic")
    assert quote is not None
    assert quote.rates.cost(3_000, 400) == pytest.approx(0.015)  # 3,000 x 3 / 1e6 + 400 x 15 / 1e6
    assert "in-region rate of us-east-1, which AWS bills for geographic cross-region calls" in quote.basis
    assert "SKU QZ4REGIONSKU0001, effective 2026-10-15" in quote.basis


def test_a_global_call_without_a_global_rate_falls_back_and_says_so():
    quote = sonnet4_table(global_rate=False).quote(f"global.{SONNET4}", "us-east-1", "global")
    assert quote is not None
    assert quote.rates.cost(3_000, 400) == pytest.approx(0.015)
    assert "as the table has no global cross-region rate for this model" in quote.basis


def test_kept_embedded_figures_name_their_own_date():
    quote = sonnet4_table(global_rate=False).quote(SONNET4, "us-west-2", "in-region")
    assert quote is not None
    assert "(embedded figures as of 2026-11-27, kept by the refresh)" in quote.basis
    # And a model without cache rates is not said to assume a cache TTL
    assert quote.basis.endswith("the AWS/Bedrock metrics do not say the service tier or batch")


def test_the_embedded_table_names_itself():
    quote = load_embedded_prices().quote(SONNET, "us-east-1")
    assert quote is not None
    assert "(embedded price table as of 2026-11-27)" in quote.basis


def test_oldest_date_counts_kept_embedded_figures():
    assert sonnet4_table(global_rate=False).oldest_as_of() == date(2026, 11, 27)


# -- which table is in use -------------------------------------------------------------------------
def _refreshed_file(tmp_path, text: str):
    path = tmp_path / "prices.refreshed.json"
    path.write_text(text)
    return path


def test_the_refreshed_table_is_used_when_the_layer_ships_it(tmp_path):
    path = _refreshed_file(tmp_path, sonnet4_table(global_rate=True).model_dump_json())
    assert table_in_use(path, None).origin == "aws-price-list"
    assert table_in_use(path, "auto").origin == "aws-price-list"


def test_the_embedded_table_when_pinned_absent_or_unreadable(tmp_path, caplog):
    good = _refreshed_file(tmp_path, sonnet4_table(global_rate=True).model_dump_json())
    assert table_in_use(good, "embedded") is load_embedded_prices()
    assert table_in_use(tmp_path / "absent.json", None) is load_embedded_prices()
    # An unreadable refreshed file is never priced with: the embedded table, and one error line
    broken = _refreshed_file(tmp_path, '{"models": {"x": {"name": "x"}}}')
    assert table_in_use(broken, None) is load_embedded_prices()
    assert "refreshed price table unreadable" in caplog.text
    assert "\n" not in caplog.records[-1].getMessage()


# -- the rate said in the alert --------------------------------------------------------------------
def test_the_alert_says_which_rate_was_assumed():
    # Given a culprit whose dollars used Sonnet 4's global rate
    spike = load_spike("spike-alarm.json")
    basis = sonnet4_table(global_rate=True).quote(f"global.{SONNET4}", "us-east-1", "global").basis
    culprit = spike.culprits[0].model_copy(update={"rate_basis": basis})
    spike = spike.model_copy(update={"culprits": [culprit, *spike.culprits[1:]]})
    view = view_for(spike)
    # Then the text, the Slack message and the email each carry it on one line
    assert f"Rate: {basis}" in alert_text(view).splitlines()
    blocks = json.dumps(render_alert(view).blocks)
    assert "Rate: priced at the on-demand default-tier global cross-region rate of us-east-1" in blocks
    assert '<th align="left" style="padding:4px 12px 4px 0">Rate</th>' in render_email(view).html


def test_an_alert_without_a_rate_basis_prints_no_rate_line():
    view = view_for(load_spike("spike-alarm.json"))
    assert not any(line.startswith("Rate:") for line in alert_text(view).splitlines())


# -- reading Price List products -------------------------------------------------------------------
def entry(
    service_code: str,
    attributes: dict,
    price: str = "3.0000000000",
    unit: str = "Units",
    description: str = "AWS Marketplace software usage|us-east-1|Million Input Tokens Regional",
    sku: str = "ABCDEFGH12345678",
) -> PriceListEntry:
    """A Price List entry in the documented format (botocore's GetProducts example)."""
    raw = {
        "product": {
            "productFamily": "Machine Learning",
            "attributes": {"servicecode": service_code, "regionCode": "us-east-1", **attributes},
            "sku": sku,
        },
        "serviceCode": service_code,
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": description,
                            "appliesTo": [],
                            "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": price},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            }
        },
        "version": "20261120183649",
        "publicationDate": "2026-11-20T18:36:49Z",
    }
    parsed = parse_entry(json.dumps(raw))
    assert isinstance(parsed, PriceListEntry)
    return parsed


SONNET4_NAME = "Claude Sonnet 4 (Amazon Bedrock Edition)"


@pytest.mark.parametrize(
    ("usagetype", "meter"),
    [
        ("USE1-MP:USE1_InputTokenCount-Units", Meter("input")),
        ("USE1-MP:USE1_OutputTokenCount-Units", Meter("output")),
        ("USE1-MP:USE1_CacheReadInputTokenCount-Units", Meter("cache_read")),
        ("USE1-MP:USE1_CacheWriteInputTokenCount-Units", Meter("cache_write")),
        ("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", Meter("cache_write_1h", routing="global")),
        ("USE1-MP:USE1_InputTokenCount_Global-Units", Meter("input", routing="global")),
        ("USE1-MP:USE1_InputTokenCount_Global_Batch-Units", Meter("input", routing="global", batch=True)),
        ("USE1-MP:USE1_OutputTokenCount_Batch-Units", Meter("output", batch=True)),
        # the newer naming (5-generation models)
        ("USW2-MP:USW2_input_tokens_standard-Units", Meter("input")),
        ("USW2-MP:USW2_input_tokens_global_standard-Units", Meter("input", routing="global")),
        ("USW2-MP:USW2_cache_write_tokens_1h_standard-Units", Meter("cache_write_1h")),
        ("USW2-MP:USW2_cache_write_tokens_standard-Units", Meter("cache_write")),
        ("USW2-MP:USW2_output_tokens_priority-Units", Meter("output", tier="priority")),
        ("EU-MP:EU_OutputTokenCount-Units", Meter("output")),
        # what is not a per-token rate of the calls the metrics count
        ("USE1-MP:USE1_Reserved_1Month_InputTPM_Geo-Units", price_refresh.RESERVED),
        ("USE1-MP:USE1_ProvisionedThroughput-ModelUnits", price_refresh.PROVISIONED),
        ("USE1-MP:USE1_InputTokenCount_LCtx-Units", price_refresh.LONG_CONTEXT),
        ("USW2-MP:USW2_input_tokens_long_ctx_standard-Units", price_refresh.LONG_CONTEXT),
        ("USE1-MP:USE1_OutputTokenCount_LatencyOptimized-Units", price_refresh.LATENCY),
        ("USE1-MP:USE1_created_image_stable_image_core-Units", price_refresh.NOT_TOKENS),
        ("USE1-MP:USE1_search_units-Units", price_refresh.NOT_TOKENS),
    ],
)
def test_marketplace_usage_types(usagetype, meter):
    product = entry(FM, {"servicename": SONNET4_NAME, "usagetype": usagetype})
    assert classify(product, FM) == meter


NATIVE = {"model": "Nova Pro", "provider": "Amazon", "feature": "On-demand Inference"}


@pytest.mark.parametrize(
    ("attributes", "meter"),
    [
        ({"usagetype": "USE1-NovaPro-input-tokens", "inferenceType": "Input tokens"}, Meter("input")),
        ({"usagetype": "USE1-NovaPro-output-tokens", "inferenceType": "Output tokens"}, Meter("output")),
        (
            {
                "usagetype": "USE1-NovaPro-cache-read-input-token-count",
                "inferenceType": "Cache read input tokens",
            },
            Meter("cache_read"),
        ),
        (
            {
                "usagetype": "USE1-NovaPro-cache-write-input-token-count",
                "inferenceType": "Cache write input tokens",
            },
            Meter("cache_write"),
        ),
        (
            {"usagetype": "USE1-NovaPro-input-tokens-priority", "inferenceType": "Input tokens priority"},
            Meter("input", tier="priority"),
        ),
        ({"usagetype": "USE1-NovaPro-output-tokens-flex"}, Meter("output", tier="flex")),
        # batch said by feature alone: inferenceType is the standard row's
        (
            {
                "usagetype": "USE1-NovaPro-input-tokens-batch",
                "inferenceType": "Input tokens",
                "feature": "Batch Inference",
            },
            Meter("input", batch=True),
        ),
        ({"usagetype": "USE1-NovaPro-input-tokens", "feature": "BatchInference"}, Meter("input", batch=True)),
        (
            {
                "usagetype": "USE1-Nova2.0Lite-input-tokens-cross-region-global-batch",
                "inferenceType": "Input tokens",
            },
            Meter("input", routing="global", batch=True),
        ),
        (
            {
                "usagetype": "USE1-Nova2.0Lite-output-tokens-flex-cross-region-global",
                "inferenceType": "Output tokens flex",
            },
            Meter("output", tier="flex", routing="global"),
        ),
        ({"usagetype": "USE1-Qwen3-32B-input-tokens", "service_tier": "Flex"}, Meter("input", tier="flex")),
        ({"usagetype": "USE1-x-input-tokens", "service_tier": "reserved"}, price_refresh.RESERVED),
        (
            {"usagetype": "USE1-qwen.qwen3-32b-mantle-input-tokens-standard", "service_tier": "standard"},
            price_refresh.MANTLE,
        ),
        (
            {"usagetype": "USE1-NovaLite-input-tokens-custom-model", "inferenceType": "Input tokens"},
            price_refresh.CUSTOM,
        ),
        (
            {"usagetype": "USE1-NovaPro-Customization-Training", "feature": "Model Customization"},
            price_refresh.CUSTOM,
        ),
        (
            {
                "usagetype": "USE1-NovaPro-ProvisionedThroughput-NoCommit-ModelUnits",
                "feature": "Provisioned Throughput",
            },
            price_refresh.PROVISIONED,
        ),
        (
            {"usagetype": "USE1-Llama3-1-70B-input-tokens", "model": "Llama 3.1 70B Latency Optimized"},
            price_refresh.LATENCY,
        ),
        ({"usagetype": "USE1-Nova2.0Omni-input-audio-token-count"}, price_refresh.MEDIA),
        (
            {"usagetype": "USE1-NovaCanvas-T2I-1024-Standard", "inferenceType": "T2I 1024 Standard"},
            price_refresh.MEDIA,
        ),
        (
            {
                "usagetype": "USE1-NovaSonic-speech-understanding-input-token",
                "inferenceType": "Speech Understanding input token",
            },
            price_refresh.MEDIA,
        ),
        ({"usagetype": "USE1-Guardrail-ContentPolicyUnitsConsumed"}, price_refresh.NOT_TOKENS),
        (
            {"usagetype": "USE1-NovaPro-input-tokens", "feature": "Knowledge Base"},
            "feature 'Knowledge Base' is not on-demand or batch inference",
        ),
    ],
)
def test_native_usage_types(attributes, meter):
    product = entry(BR, NATIVE | attributes, price="0.0008", unit="1K tokens")
    assert classify(product, BR) == meter


@pytest.mark.parametrize(
    ("service_code", "price", "unit", "description", "expected"),
    [
        # AmazonBedrock per 1K tokens: $0.0008 per 1K = $0.80 per million
        (BR, "0.0008000000", "1K tokens", "", Decimal("0.8")),
        (BR, "1.25", "1M tokens", "", Decimal("1.25")),
        # Marketplace "Units": per million, as the description says
        (
            FM,
            "3.3000000000",
            "Units",
            "AWS Marketplace software usage|us-east-1|Million Input Tokens Regional CRIS",
            Decimal("3.3"),
        ),
        (FM, "3.00", "Units", "Per 1M input tokens - Global", Decimal("3")),
        (
            FM,
            "3.00",
            "Units",
            "AWS Marketplace software usage|us-east-1|Input Tokens",
            "unit 'Units' does not say how many tokens",
        ),
        (BR, "3.00", "Units", "Million input tokens", "unit 'Units' does not say how many tokens"),
        (BR, "0.001", "1B tokens", "", "unit '1B tokens' does not say how many tokens"),
        (BR, "0", "1K tokens", "", "a $0 rate (never used: it would hide spend)"),
        (BR, "N/A", "1K tokens", "", "price 'N/A' is not a number"),
        (BR, "NaN", "1K tokens", "", "price 'NaN' is not a plausible rate"),
        (BR, "-0.001", "1K tokens", "", "price '-0.001' is not a plausible rate"),
        (BR, "Infinity", "1K tokens", "", "price 'Infinity' is not a plausible rate"),
    ],
)
def test_price_per_million(service_code, price, unit, description, expected):
    product = entry(service_code, {"usagetype": "x"}, price=price, unit=unit, description=description)
    got = per_million(product, service_code)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert not isinstance(got, str)
        usd, sku = got
        assert usd == expected
        assert (sku.sku, sku.effective) == ("ABCDEFGH12345678", date(2026, 11, 1))


def test_a_tiered_price_is_not_a_rate():
    product = entry(BR, {"usagetype": "x"}, price="0.0008", unit="1K tokens")
    raw = product.model_dump(by_alias=True, mode="json")
    term = next(iter(raw["terms"]["OnDemand"].values()))
    term["priceDimensions"]["second"] = {
        "unit": "1K tokens",
        "pricePerUnit": {"USD": "0.0006"},
        "beginRange": "1000000",
    }
    tiered = PriceListEntry.model_validate(raw)
    assert per_million(tiered, BR) == "a tiered price (2 ranges), not one rate per token"


def _marketplace(usagetype: str, price: str, name: str = SONNET4_NAME, sku: str = "") -> PriceListEntry:
    return entry(
        FM,
        {"servicename": name, "usagetype": usagetype},
        price=price,
        sku=sku or hashlib.sha256(usagetype.encode()).hexdigest()[:16].upper(),
    )


def test_build_table_prices_every_way_of_calling_a_model():
    # Given Sonnet 4's products in us-east-1: regional, global, batch, 1-hour cache writes
    products = [
        _marketplace("USE1-MP:USE1_InputTokenCount-Units", "3.0000000000", sku="SONNETIN00000001"),
        _marketplace("USE1-MP:USE1_OutputTokenCount-Units", "15.0000000000"),
        _marketplace("USE1-MP:USE1_CacheReadInputTokenCount-Units", "0.3000000000"),
        _marketplace("USE1-MP:USE1_CacheWriteInputTokenCount-Units", "3.7500000000"),
        _marketplace("USE1-MP:USE1_CacheWrite1hInputTokenCount-Units", "6.0000000000"),
        _marketplace("USE1-MP:USE1_InputTokenCount_Global-Units", "2.7000000000"),
        _marketplace("USE1-MP:USE1_OutputTokenCount_Global-Units", "13.5000000000"),
        _marketplace("USE1-MP:USE1_InputTokenCount_Batch-Units", "1.5000000000"),
        _marketplace("USE1-MP:USE1_OutputTokenCount_Batch-Units", "7.5000000000"),
        # a flex input rate with no flex output rate: an incomplete way of calling it
        _marketplace("USE1-MP:USE1_InputTokenCount_Flex-Units", "1.5000000000"),
        # a model the table does not name, and an unreadable entry
        _marketplace(
            "USE1-MP:USE1_InputTokenCount-Units",
            "15.0000000000",
            name="Claude Opus 9 (Amazon Bedrock Edition)",
        ),
        RefusedEntry(11, "product: Field required"),
    ]
    # When the table is built for us-east-1
    refresh = build_table([(FM, products)], load_embedded_prices(), NOW, ["us-east-1"])
    table = refresh.table
    # Then Sonnet 4 in us-east-1 comes from the Price List: the regional default rates at top level
    entry_ = table.models[SONNET4]
    assert (table.origin, table.refreshed_at, entry_.as_of) == ("aws-price-list", NOW, date(2026, 12, 1))
    east = entry_.regions["us-east-1"]
    assert (east.input, east.output, east.cache_read, east.cache_write, east.cache_write_1h) == (
        3.0,
        15.0,
        0.3,
        3.75,
        6.0,
    )
    assert east.skus["input"].sku == "SONNETIN00000001"
    assert east.skus["input"].effective == date(2026, 11, 1)
    # And the global and batch ways of calling it as variants; the incomplete flex one left out
    labels = {v.label: (v.input, v.output) for v in east.variants}
    assert labels == {"default global": (2.7, 13.5), "default regional batch": (1.5, 7.5)}
    assert f"skipped: {SONNET4} in us-east-1 flex regional: no output rate: left out" in refresh.skipped
    # 5 default figures + 2 global + 2 batch
    assert refresh.rates == 9
    assert refresh.priced == {SONNET4: ["us-east-1"]}
    # And its embedded regions not read are kept with their date; models not in the answer kept whole
    assert entry_.regions["us-west-2"].as_of == date(2026, 11, 27)
    assert not entry_.regions["us-west-2"].skus
    assert table.models[SONNET] == load_embedded_prices().models[SONNET]
    assert f"kept: {SONNET}: embedded figures as of 2026-11-27 (not in the answer)" in refresh.kept
    assert (
        "kept: mistral.mistral-large-2407-v1:0: embedded figures as of 2026-11-27 "
        "(no Price List name recorded)" in refresh.kept
    )
    # And what could not be priced is listed with its reason
    assert any(
        line.startswith("skipped: Claude Opus 9 (Amazon Bedrock Edition): no Bedrock model id is recorded")
        for line in refresh.skipped
    )
    assert "skipped: -: unreadable entry: product: Field required (1 product)" in refresh.skipped
    assert table.skipped == refresh.skipped
    # And the file round-trips
    assert PriceTable.model_validate_json(table.model_dump_json()) == table


def test_a_region_read_without_a_rate_is_no_longer_priced_there():
    products = [
        _marketplace("USE1-MP:USE1_InputTokenCount-Units", "3.0000000000"),
        _marketplace("USE1-MP:USE1_OutputTokenCount-Units", "15.0000000000"),
    ]
    refresh = build_table([(FM, products)], load_embedded_prices(), NOW, ["us-east-1", "us-west-2"])
    assert "us-west-2" not in refresh.table.models[SONNET4].regions
    assert refresh.table.price_for(SONNET4, "us-west-2") is None
    assert any(
        line.startswith(f"dropped: {SONNET4} in us-west-2: the Price List has no rate there")
        for line in refresh.kept
    )


def test_two_prices_for_one_rate_are_left_out_not_picked():
    products = [
        _marketplace("USE1-MP:USE1_InputTokenCount-Units", "3.0000000000"),
        _marketplace("USE1-MP:USE1_OutputTokenCount-Units", "15.0000000000"),
        _marketplace("USE1-MP:USE1_InputTokenCount_Global-Units", "2.7000000000", sku="GLOBALA000000001"),
        _marketplace("USE1-MP:USE1_InputTokenCount_Global-Units", "2.9000000000", sku="GLOBALB000000001"),
        _marketplace("USE1-MP:USE1_OutputTokenCount_Global-Units", "13.5000000000"),
        # the same price twice (another SKU) is one rate
        _marketplace("USE1-MP:USE1_OutputTokenCount-Units", "15.0000000000", sku="DUPLICATE0000001"),
    ]
    refresh = build_table([(FM, products)], load_embedded_prices(), NOW, ["us-east-1"])
    east = refresh.table.models[SONNET4].regions["us-east-1"]
    assert east.output == 15.0 and east.variants == []
    assert (
        f"skipped: {SONNET4} in us-east-1: two different input prices for default global: left out"
        in refresh.skipped
    )
    assert f"skipped: {SONNET4} in us-east-1 default global: no input rate: left out" in refresh.skipped


def test_a_model_without_regional_default_rates_is_not_refreshed_there():
    products = [
        _marketplace("USE1-MP:USE1_InputTokenCount_Global-Units", "2.7000000000"),
        _marketplace("USE1-MP:USE1_OutputTokenCount_Global-Units", "13.5000000000"),
    ]
    refresh = build_table([(FM, products)], load_embedded_prices(), NOW, ["us-east-1"])
    assert refresh.priced == {}
    assert refresh.table.models[SONNET4] == load_embedded_prices().models[SONNET4]
    assert (
        f"skipped: {SONNET4} in us-east-1: no on-demand default-tier regional input and output rates, "
        "so its 2 other rates are left out"
    ) in refresh.skipped
