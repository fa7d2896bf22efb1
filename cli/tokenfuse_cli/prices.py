"""`tokenfuse prices`: the price table attribution uses, its dates, and a warning when it is stale."""

from datetime import date
from typing import Annotated

import typer

from tokenfuse import clock
from tokenfuse.attribution.pricing import PriceTable, load_prices

STALE_AFTER_DAYS = 90


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def render(table: PriceTable, today: date) -> tuple[list[str], str | None]:
    """The table's lines (one per model and region) and a warning when its oldest entry is stale."""
    lines = [f"{'model':<48} {'region':<12} {'input':>8} {'output':>8} {'cache r':>8} {'cache w':>8}  as of"]
    for model_id, price in sorted(table.models.items()):
        for region, rates in sorted(price.regions.items()):
            lines.append(
                f"{model_id:<48} {region:<12} {_money(rates.input):>8} {_money(rates.output):>8} "
                f"{_money(rates.cache_read):>8} {_money(rates.cache_write):>8}  {price.as_of}"
            )
    lines.append(f"USD per million tokens; sources in {len(table.models)} entries of prices.json")
    oldest = table.oldest_as_of()
    if oldest is not None and (today - oldest).days > STALE_AFTER_DAYS:
        age = (today - oldest).days
        warning = f"warning: the oldest price is {age} days old ({oldest}): check AWS's Bedrock pricing page"
        return lines, warning
    return lines, None


def prices(
    model: Annotated[str | None, typer.Option("--model", help="Only models whose id contains this.")] = None,
) -> None:
    """The per-model, per-region prices attribution uses, with their dates."""
    table = load_prices()
    if model:
        table = table.model_copy(update={"models": {k: v for k, v in table.models.items() if model in k}})
    lines, warning = render(table, clock.now().date())
    typer.echo("\n".join(lines))
    if warning:
        typer.echo(warning, err=True)


def register(app: typer.Typer) -> None:
    app.command("prices")(prices)
