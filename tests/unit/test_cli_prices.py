"""`tokenfuse prices`: every model and region of the table, and a warning once it is 90 days old."""

from datetime import date, timedelta

from typer.testing import CliRunner

from tokenfuse.attribution.pricing import load_prices
from tokenfuse_cli.main import app
from tokenfuse_cli.prices import render


def test_lists_every_model_and_region_with_its_date():
    table = load_prices()
    lines, warning = render(table, table.oldest_as_of())
    rows = sum(len(price.regions) for price in table.models.values())
    assert len(lines) == rows + 2  # header + rows + the unit line
    sonnet = next(line for line in lines if line.startswith("anthropic.claude-3-5-sonnet-20241022-v2:0 "))
    assert sonnet.split()[1:6] == ["us-east-1", "3", "15", "0.3", "3.75"]
    assert warning is None


def test_warns_when_the_oldest_price_is_older_than_90_days():
    table = load_prices()
    oldest: date = table.oldest_as_of()
    assert render(table, oldest + timedelta(days=90))[1] is None
    _, warning = render(table, oldest + timedelta(days=91))
    assert warning is not None and "91 days old" in warning


def test_command_filters_by_model():
    result = CliRunner().invoke(app, ["prices", "--model", "nova-micro"])
    assert result.exit_code == 0
    models = {line.split()[0] for line in result.output.splitlines()[1:-1]}
    assert models == {"amazon.nova-micro-v1:0"}
