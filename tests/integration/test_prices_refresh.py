"""`tokenfuse prices refresh` against the sandbox's Price List emulation (moto, botocore parsing the
response bytes), the emulation itself, and attribution pricing with the refreshed table.

The emulation's figures are read off its catalogue as AWS would print them (per 1K tokens for
AmazonBedrock, per million for the Marketplace listings); every dollar below is worked out by hand."""

from datetime import UTC, date, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from tests.support.attribution_fakes import FakeBedrock, FakeCloudWatch, baseline_hours, hours, seed
from tokenfuse.adapters import price_list as adapter
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients
from tokenfuse.attribution.price_refresh import refresh_prices
from tokenfuse.attribution.pricing import PriceTable, load_embedded_prices
from tokenfuse.errors import TokenfuseError
from tokenfuse.events import SpendSignal
from tokenfuse_cli.main import app
from tokenfuse_sandbox.emulation import price_list

SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def pricing():
    with price_list.emulated():
        yield boto3.client("pricing", region_name="us-east-1")


def test_refresh_in_the_sandbox_writes_a_table_priced_by_hand(tmp_path):
    # When the CLI refreshes from the sandbox's emulated Price List for us-east-1
    out = tmp_path / "prices.refreshed.json"
    result = CliRunner().invoke(
        app, ["prices", "refresh", "--sandbox", "--region", "us-east-1", "--output", str(out)]
    )
    # Then it wrote a table and said what it read, priced, kept and skipped
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "tokenfuse prices refresh: the AWS Price List (sandbox emulation)"
    assert "read: AmazonBedrockFoundationModels in us-east-1: 1 pages, 27 entries" in lines
    assert "read: AmazonBedrock in us-east-1: 1 pages, 21 entries" in lines
    assert lines[-1] == f"wrote {out}"
    table = PriceTable.model_validate_json(out.read_text())
    assert table.origin == "aws-price-list"
    # And Sonnet 4 (Marketplace, per million): $3 / $15, cache read $0.30, 5-minute write $3.75,
    # 1-hour write $6; global 10% less: $2.70 / $13.50; batch half: $1.50 / $7.50
    east = table.models[SONNET4].regions["us-east-1"]
    assert (east.input, east.output, east.cache_read, east.cache_write, east.cache_write_1h) == (
        pytest.approx(3.0),
        pytest.approx(15.0),
        pytest.approx(0.3),
        pytest.approx(3.75),
        pytest.approx(6.0),
    )
    assert {v.label: (v.input, v.output) for v in east.variants} == {
        "default global": (pytest.approx(2.7), pytest.approx(13.5)),
        "default regional batch": (pytest.approx(1.5), pytest.approx(7.5)),
    }
    assert len(east.skus["input"].sku) == 16 and east.skus["input"].effective == date(2026, 11, 1)
    # And Nova Pro (AmazonBedrock, per 1K): $0.0008 / $0.0032 per 1K = $0.80 / $3.20 per million;
    # priority x1.75 = $1.40 / $5.60, flex and batch half = $0.40 / $1.60
    nova = table.models[NOVA_PRO].regions["us-east-1"]
    assert (nova.input, nova.output, nova.cache_read, nova.cache_write) == (
        pytest.approx(0.8),
        pytest.approx(3.2),
        pytest.approx(0.2),
        pytest.approx(0.8),
    )
    assert {v.label: (v.input, v.output) for v in nova.variants} == {
        "priority regional": (pytest.approx(1.4), pytest.approx(5.6)),
        "flex regional": (pytest.approx(0.4), pytest.approx(1.6)),
        "default regional batch": (pytest.approx(0.4), pytest.approx(1.6)),
    }
    # And every product it could not price is named with its reason, never guessed
    skipped = "\n".join(line for line in lines if line.startswith("skipped:"))
    for reason in (
        "Claude Opus 4.1 (Amazon Bedrock Edition): no Bedrock model id is recorded for this name",
        "Claude Sonnet 4 (Amazon Bedrock Edition): reserved-tier capacity",
        "Claude Sonnet 4 (Amazon Bedrock Edition): the long-context rate",
        "Llama 3.1 70B Latency Optimized: latency-optimized inference",
        "Nova Canvas: not text tokens",
        "Nova Micro: a $0 rate",
        "Nova Pro: Provisioned Throughput",
        "gpt-oss-120b: a bedrock-mantle rate",
    ):
        assert f"skipped: {reason}" in skipped
    assert table.skipped == [line for line in lines if line.startswith("skipped:")]
    # And what it did not price keeps its embedded figures
    assert f"kept: {SONNET4} in us-west-2: embedded figures as of 2026-11-27 (region not read)" in lines
    assert (
        table.models["meta.llama3-8b-instruct-v1:0"]
        == load_embedded_prices().models["meta.llama3-8b-instruct-v1:0"]
    )


def test_refresh_in_the_sandbox_writes_nothing_without_output():
    result = CliRunner().invoke(app, ["prices", "refresh", "--sandbox", "--region", "us-west-2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "--sandbox: not written (pass --output PATH to keep it)"


def test_the_refresh_pages_through_botocore_s_paginator(pricing, monkeypatch):
    # Given pages of 5 products
    monkeypatch.setattr(adapter, "PAGE_SIZE", 5)
    refresh = refresh_prices(pricing, load_embedded_prices(), NOW, ["us-east-1"])
    # Then 27 Marketplace entries took 6 pages, and the table is the same as with pages of 100
    assert "read: AmazonBedrockFoundationModels in us-east-1: 6 pages, 27 entries" in refresh.read
    monkeypatch.setattr(adapter, "PAGE_SIZE", 100)
    assert refresh_prices(pricing, load_embedded_prices(), NOW, ["us-east-1"]).table == refresh.table


def test_a_region_with_no_prices_drops_the_embedded_figures_there(pricing):
    refresh = refresh_prices(pricing, load_embedded_prices(), NOW, ["us-east-1", "eu-west-1"])
    assert refresh.table.price_for(SONNET4, "eu-west-1") is None
    assert refresh.table.price_for(SONNET4, "us-east-1") is not None
    assert any(line.startswith(f"dropped: {SONNET4} in eu-west-1") for line in refresh.kept)


def test_the_emulation_answers_in_the_documented_format(pricing):
    # Filters on any attribute, entries as JSON strings botocore hands back untouched
    page = pricing.get_products(
        ServiceCode="AmazonBedrock",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"},
            {"Type": "TERM_MATCH", "Field": "model", "Value": "Nova Lite"},
        ],
        FormatVersion="aws_v1",
    )
    assert page["FormatVersion"] == "aws_v1" and "NextToken" not in page
    entries = [adapter.parse_entry(raw) for raw in page["PriceList"]]
    assert all(isinstance(raw, str) for raw in page["PriceList"])
    assert {e.attribute("usagetype") for e in entries} == {
        "USW2-NovaLite-input-tokens",
        "USW2-NovaLite-output-tokens",
        "USW2-NovaLite-cache-read-input-token-count",
        "USW2-NovaLite-cache-write-input-token-count",
    }
    term = next(iter(entries[0].terms.on_demand.values()))
    assert term.offer_term_code == "JRTCKXETXF" and term.sku == entries[0].sku
    # ANY_OF / NONE_OF / CONTAINS
    usage = {"Type": "CONTAINS", "Field": "usagetype", "Value": "NovaPro-input-tokens"}
    found = pricing.get_products(ServiceCode="AmazonBedrock", Filters=[usage], MaxResults=100)["PriceList"]
    assert len(found) == 2 * 4  # two regions: standard, priority, flex, batch
    none_of = {"Type": "NONE_OF", "Field": "regionCode", "Value": "us-east-1"}
    west = pricing.get_products(ServiceCode="AmazonBedrock", Filters=[usage, none_of])["PriceList"]
    assert len(west) == 4


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"NextToken": "bm90LWEtdG9rZW4="}, "InvalidNextTokenException"),
        ({"FormatVersion": "aws_v2"}, "InvalidParameterException"),
        ({"MaxResults": 101}, "InvalidParameterException"),
        ({"Filters": [{"Type": "REGEX", "Field": "model", "Value": "x"}]}, "InvalidParameterException"),
    ],
)
def test_the_emulation_refuses_as_aws_does(pricing, kwargs, code):
    with pytest.raises(ClientError) as caught:
        pricing.get_products(ServiceCode="AmazonBedrock", **kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_a_token_of_another_query_is_refused(pricing):
    first = pricing.get_products(ServiceCode="AmazonBedrock", MaxResults=1)
    with pytest.raises(ClientError) as caught:
        pricing.get_products(ServiceCode="AmazonBedrockFoundationModels", NextToken=first["NextToken"])
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"
    # and the adapter turns it into the domain's own error, in one line
    with pytest.raises(TokenfuseError) as error:
        list(
            adapter.get_products(
                _RefusingClient(pricing, first["NextToken"]), "AmazonBedrockFoundationModels"
            )
        )
    assert "InvalidNextTokenException" in str(error.value) and "\n" not in str(error.value)


class _RefusingClient:
    """A pricing client whose paginator starts from another query's token."""

    def __init__(self, client, token: str) -> None:
        self.client, self.token = client, token

    def get_paginator(self, name: str):
        paginator = self.client.get_paginator(name)

        class Start:
            def paginate(inner, **kwargs):
                kwargs["PaginationConfig"] = {**kwargs["PaginationConfig"], "StartingToken": self.token}
                return paginator.paginate(**kwargs)

        return Start()


def test_refresh_without_credentials_is_one_line_and_exit_2(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr("tokenfuse.adapters.aws.default_session", boto3.Session)
    result = CliRunner().invoke(
        app, ["prices", "refresh", "--region", "us-east-1", "--output", str(tmp_path / "t.json")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: no AWS credentials: the Price List API needs pricing:GetProducts"
    ]
    assert not (tmp_path / "t.json").exists()


def test_the_whole_sandbox_answers_the_price_list():
    from tokenfuse_sandbox import Sandbox

    with Sandbox(load_handlers=False, function_urls=False):
        client = boto3.client("pricing", region_name="us-east-1")
        refresh = refresh_prices(client, load_embedded_prices(), NOW, ["us-west-2"])
    assert refresh.priced[SONNET4] == ["us-west-2"]
    assert not price_list.installed()


# -- attribution with the refreshed table ----------------------------------------------------------
def test_a_global_profile_is_priced_at_the_global_rate_and_the_culprit_says_so(pricing):
    # Given the refreshed table, and two Sonnet 4 profiles: one copied from the global system profile
    # (its model listed without a region), one from the US geographic one
    table = refresh_prices(pricing, load_embedded_prices(), NOW, ["us-east-1"]).table
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    glob = bedrock.add("global000001", SONNET4, {"team": "search"})
    geo = bedrock.add("geograph0001", SONNET4, {"team": "search"})
    bedrock.profiles[glob]["models"] = [{"modelArn": f"arn:aws:bedrock:::foundation-model/{SONNET4}"}]
    bedrock.profiles[geo]["models"] = [
        {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{SONNET4}"}
        for r in ("us-east-1", "us-east-2", "us-west-2")
    ]
    window = (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), NOW)
    # both go from 100 to 1,000 requests an hour of 3,000 input and 400 output tokens
    for profile in ("global000001", "geograph0001"):
        seed(cloudwatch.put, profile, baseline_hours(*window), 100, 3_000, 400)
        seed(cloudwatch.put, profile, hours(*window), 1_000, 3_000, 400)
    signal = SpendSignal(
        source="cost-anomaly",
        dedup_key="anomaly-1",
        received_at=NOW,
        account_id="123456789012",
        region="us-east-1",
        window_start=window[0],
        window_end=window[1],
        impact_usd=60.0,
        raw_source="eventbridge",
        summary="test",
    )
    attributor = Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch),
        AttributionSettings(min_share=0),
        prices=table,
        now=lambda: NOW,
    )
    culprits = {c.profile_id: c for c in attributor.attribute(signal).culprits}
    # When attributed: a request at the global rate costs 3,000 x 2.7 / 1e6 + 400 x 13.5 / 1e6 = $0.0135,
    # at the in-region rate 3,000 x 3 / 1e6 + 400 x 15 / 1e6 = $0.015; the window is 2 h x 1,000 requests
    glob_c, geo_c = culprits["global000001"], culprits["geograph0001"]
    assert glob_c.window_cost_usd == pytest.approx(2 * 1_000 * 0.0135)
    assert glob_c.baseline_cost_usd == pytest.approx(2 * 100 * 0.0135)
    assert geo_c.window_cost_usd == pytest.approx(2 * 1_000 * 0.015)
    # And each culprit says which rate was assumed, and why
    assert glob_c.rate_basis.startswith(
        "priced at the on-demand default-tier global cross-region rate of us-east-1"
    )
    assert "AWS Price List SKU" in glob_c.rate_basis
    assert "the AWS/Bedrock metrics do not say the service tier, batch or the cache TTL" in glob_c.rate_basis
    assert "which AWS bills for geographic cross-region calls" in geo_c.rate_basis
