"""`tokenfuse prices`: every model, region and way of calling it, where each rate comes from, and a
warning once the oldest figure is 90 days old; refusals of `tokenfuse prices refresh` in one line."""

from datetime import date, timedelta

from typer.testing import CliRunner

from tests.unit.test_prices import sonnet4_table
from tokenfuse.attribution.pricing import PriceTable, load_prices
from tokenfuse_cli.main import app
from tokenfuse_cli.prices import render


def refreshed() -> PriceTable:
    return sonnet4_table(global_rate=True, flex=True)


def test_lists_every_model_and_region_with_its_date():
    table = load_prices()
    lines, warning = render(table, table.oldest_as_of())
    rows = sum(len(price.regions) for price in table.models.values())
    assert len(lines) == rows + 3  # title + header + rows + the unit line
    assert lines[0] == "price table: the embedded default (data/prices.json)"
    sonnet = next(line for line in lines if line.startswith("anthropic.claude-3-5-sonnet-20241022-v2:0 "))
    assert sonnet.split()[1:10] == [
        "us-east-1",
        "default",
        "regional",
        "3",
        "15",
        "0.3",
        "3.75",
        "-",
        "embedded,",
    ]
    assert sonnet.endswith("embedded, as of 2026-11-27")
    assert warning is None


def test_a_refreshed_table_shows_every_way_of_calling_and_its_sku():
    lines, _ = render(refreshed(), date(2026, 12, 1), "title")
    rows = [line.split() for line in lines[2:-1]]
    assert [row[1:4] for row in rows] == [
        ["us-east-1", "default", "regional"],
        ["us-east-1", "default", "global"],
        ["us-east-1", "flex", "regional"],
        ["us-west-2", "default", "regional"],
    ]
    # the figures, then the source: the input SKU and the newest effective date of the row's figures
    assert rows[0][4:] == [
        "3",
        "15",
        "0.3",
        "3.75",
        "6",
        "SKU",
        "QZ4REGIONSKU0001,",
        "effective",
        "2026-11-15",
    ]
    assert rows[1][4:] == [
        "2.7",
        "13.5",
        "-",
        "-",
        "-",
        "SKU",
        "QZ4GLOBALSKU0001,",
        "effective",
        "2026-11-01",
    ]
    assert rows[2][-4:] == ["embedded,", "as", "of", "2026-12-01"]
    assert rows[3][-4:] == ["embedded,", "as", "of", "2026-11-27"]


def test_warns_when_the_oldest_price_is_older_than_90_days():
    table = load_prices()
    oldest: date = table.oldest_as_of()
    assert render(table, oldest + timedelta(days=90))[1] is None
    _, warning = render(table, oldest + timedelta(days=91))
    assert warning is not None and "91 days old" in warning and "tokenfuse prices refresh" in warning


def test_a_refreshed_table_warns_for_the_embedded_figures_it_kept():
    # refreshed 2026-12-01, but us-west-2's kept figures are of 2026-11-27
    _, warning = render(refreshed(), date(2027, 2, 26))
    assert warning is not None and "91 days old (2026-11-27)" in warning


def test_command_filters_by_model():
    result = CliRunner().invoke(app, ["prices", "--model", "nova-micro"])
    assert result.exit_code == 0
    models = {line.split()[0] for line in result.output.splitlines()[2:-1]}
    assert models == {"amazon.nova-micro-v1:0"}


def test_command_shows_a_table_file(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(refreshed().model_dump_json())
    result = CliRunner().invoke(app, ["prices", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[0]
        == f"price table: refreshed from the AWS Price List at 2026-12-01 09:30Z ({path})"
    )


def test_command_shows_the_embedded_table():
    result = CliRunner().invoke(app, ["prices", "--embedded", "--model", "claude-3-haiku"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "price table: the embedded default (data/prices.json)"


def test_a_missing_or_invalid_file_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["prices", "--file", str(tmp_path / "absent.json")])
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: cannot read {tmp_path / 'absent.json'}: No such file or directory"
    ]
    bad = tmp_path / "bad.json"
    bad.write_text('{"models": {"x": {"name": "x"}}}')
    invalid = runner.invoke(app, ["prices", "--file", str(bad)])
    assert invalid.exit_code == 2
    (line,) = invalid.stderr.strip().splitlines()
    assert line.startswith(f"error: {bad} is not a price table: models.x.source: Field required")
