"""The CUR 2.0 query on DuckDB over local Parquet (the Athena path is not run here)."""

from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tokenfuse.showback.cur import cur_parameters, cur_query
from tokenfuse.showback.period import Period

TAGS = pa.map_(pa.string(), pa.string())


def rows():
    """CUR 2.0 line items as Data Exports writes them (a subset of its columns, its names and types)."""
    team = [("user_team", "search"), ("user_feature", "answers"), ("user_environment", "prod")]
    bedrock = [("product_name", "Amazon Bedrock")]
    claude = [("product_name", "Claude 3 Haiku (Amazon Bedrock Edition)")]
    bed, ec2 = "AmazonBedrock", "AmazonEC2"
    haiku = "AnthropicClaude3Haiku"
    day = datetime
    return [
        # (start, product code, product map, usage type, line type, amount, cost, tags)
        (day(2026, 11, 30, 3), bed, bedrock, "USE1-NovaPro-input-tokens", "Usage", 1_000_000, 0.80, team),
        (day(2026, 11, 30, 3), bed, bedrock, "USE1-NovaPro-output-tokens", "Usage", 250_000, 0.80, team),
        (
            day(2026, 12, 1, 9),
            bed,
            bedrock,
            "USE1-NovaPro-cache-read-input-token-count",
            "Usage",
            400_000,
            0.08,
            team,
        ),
        # Anthropic bills as its own product (Marketplace usage type), untagged
        (
            day(2026, 12, 2, 9),
            haiku,
            claude,
            "USW2-MP:USW2_InputTokenCount-Units",
            "Usage",
            2_000_000,
            0.50,
            [],
        ),
        (
            day(2026, 12, 2, 9),
            haiku,
            claude,
            "USW2-MP:USW2_OutputTokenCount-Units",
            "Usage",
            100_000,
            0.125,
            [],
        ),
        # outside the period, another service, a tax line: not counted
        (day(2026, 12, 7, 0), bed, bedrock, "USE1-NovaPro-input-tokens", "Usage", 9_000_000, 7.20, team),
        (
            day(2026, 12, 1, 0),
            ec2,
            [("product_name", "Amazon EC2")],
            "BoxUsage:t3.micro",
            "Usage",
            24,
            0.25,
            team,
        ),
        (day(2026, 12, 1, 0), bed, bedrock, "", "Tax", 0, 0.15, team),
    ]


@pytest.fixture
def cur(tmp_path):
    data = rows()
    table = pa.table(
        {
            "line_item_usage_start_date": pa.array([r[0] for r in data], pa.timestamp("us")),
            "line_item_product_code": [r[1] for r in data],
            "product": pa.array([r[2] for r in data], TAGS),
            "line_item_usage_type": [r[3] for r in data],
            "line_item_line_item_type": [r[4] for r in data],
            "line_item_usage_amount": pa.array([float(r[5]) for r in data]),
            "line_item_unblended_cost": pa.array([float(r[6]) for r in data]),
            "line_item_usage_account_id": ["444455556666"] * len(data),
            "resource_tags": pa.array([r[7] for r in data], TAGS),
        }
    )
    path = tmp_path / "cur2-00001.snappy.parquet"
    pq.write_table(table, path)
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW cur2 AS SELECT * FROM read_parquet('{path}')")
    return connection


def test_the_query_sums_cost_and_tokens_per_tag_on_duckdb(cur):
    period = Period(date(2026, 11, 30), date(2026, 12, 7))
    result = cur.execute(cur_query("cur2"), cur_parameters(period)).fetchall()
    by_team = {r[0]: r for r in result}
    search = by_team["search"]
    assert search[1:4] == ("answers", "prod", "444455556666")
    assert search[4] == pytest.approx(0.80 + 0.80 + 0.08)  # no EC2, no tax, nothing from Dec 7
    assert search[5:9] == (400_000, 0, 1_000_000, 250_000)  # cache read, cache write, input, output
    untagged = by_team[None]  # Claude as its own product, no tags: the missing keys read as NULL
    assert untagged[1] is None and untagged[4] == pytest.approx(0.625)
    assert untagged[7:9] == (2_000_000, 100_000)


@pytest.mark.parametrize("table", ["cur2; DROP TABLE x", "a.b.c", "x'y", ""])
def test_only_a_table_name_is_substituted(table):
    with pytest.raises(ValueError, match="not a table name"):
        cur_query(table)


def test_one_text_for_both_engines():
    text = cur_query('"cid_data_export"."cur2"')
    assert 'FROM "cid_data_export"."cur2"' in text
    assert text.count("?") == 2  # the period: Athena ExecutionParameters, DuckDB parameters
