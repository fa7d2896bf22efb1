"""The packaged price table and the model-id resolution."""

from datetime import date

import pytest

from tokenfuse.attribution.pricing import PriceTable, Rates, base_model_id, load_prices, price_for

SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"


def test_table_loads_once_and_every_entry_is_sourced_and_dated():
    # Given the packaged table
    table = load_prices()
    # Then it is cached, and every model has a source URL, a date and at least one region
    assert load_prices() is table
    assert table.currency == "USD"
    assert table.unit == "per-million-tokens"
    assert len(table.models) >= 12
    for model_id, entry in table.models.items():
        assert entry.source.startswith("https://"), model_id
        assert entry.as_of <= date(2026, 12, 31)
        assert entry.regions, model_id
        for rates in entry.regions.values():
            assert rates.input > 0
            assert rates.output >= rates.input or model_id.startswith("meta."), model_id


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


def test_money_by_hand():
    # Given $3 / $15 per million tokens (cache read $0.30, cache write $3.75)
    rates = Rates(input=3.0, output=15.0, cache_read=0.30, cache_write=3.75)
    # Then 3,000 input + 400 output tokens cost $0.015
    assert rates.cost(3_000, 400) == pytest.approx(0.015)
    # And 10,000 cache-read tokens $0.003, 2,000 cache-write tokens $0.0075
    assert rates.cost(0, 0, 10_000, 0) == pytest.approx(0.003)
    assert rates.cost(0, 0, 0, 2_000) == pytest.approx(0.0075)
    assert rates.cost(3_000, 400, 10_000, 2_000) == pytest.approx(0.0255)


def test_cache_tokens_of_a_model_without_cache_rates_are_priced_as_input():
    assert Rates(input=0.25, output=1.25).cost(0, 0, 4_000, 4_000) == pytest.approx(0.002)


def test_a_custom_table_validates():
    table = PriceTable.model_validate(
        {
            "models": {
                "x.model-v1:0": {
                    "name": "X",
                    "source": "https://example.com",
                    "as_of": "2026-11-01",
                    "regions": {
                        "us-east-1": {"input": 1, "output": 2, "cache_read": None, "cache_write": None}
                    },
                }
            }
        }
    )
    assert table.price_for("us.x.model-v1:0", "us-east-1") == Rates(input=1, output=2)
    assert table.oldest_as_of() == date(2026, 11, 1)
