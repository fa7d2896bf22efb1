"""`tokenfuse prices`: the price table attribution uses, where each rate comes from, its dates, and a
warning when it is stale; `tokenfuse prices refresh` builds it from the AWS Price List."""

import os
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from tokenfuse import clock
from tokenfuse.adapters import aws
from tokenfuse.adapters.price_list import PRICING_REGION
from tokenfuse.attribution.price_refresh import Refresh, refresh_prices
from tokenfuse.attribution.pricing import (
    EMBEDDED_FILE,
    REFRESHED_FILE,
    ModelPrice,
    PriceTable,
    RateVariant,
    RegionPrices,
    load_embedded_prices,
    load_prices,
    variant_label,
)
from tokenfuse.errors import CredentialsMissing, TokenfuseError, TransientAwsError
from tokenfuse.text import one_line

STALE_AFTER_DAYS = 90
EXIT_MISSING = 2
"""A missing credential, region or file: one line and exit 2, as every command."""

app = typer.Typer(
    help="The price table attribution uses (`tokenfuse prices`), and its refresh from AWS.",
    invoke_without_command=True,
)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _source(entry: ModelPrice, rates: RegionPrices | RateVariant) -> str:
    if rates.skus:
        newest = max(sku.effective for sku in rates.skus.values())
        first = rates.skus.get("input") or next(iter(rates.skus.values()))
        return f"SKU {first.sku}, effective {newest}"
    as_of = rates.as_of if isinstance(rates, RegionPrices) and rates.as_of else entry.as_of
    return f"embedded, as of {as_of}"


def describe(table: PriceTable, path: str) -> str:
    if table.origin == "aws-price-list":
        when = f" at {table.refreshed_at:%Y-%m-%d %H:%MZ}" if table.refreshed_at else ""
        return f"price table: refreshed from the AWS Price List{when} ({path})"
    return f"price table: the embedded default ({path})"


def render(table: PriceTable, today: date, title: str | None = None) -> tuple[list[str], str | None]:
    """The table's lines (a title, a header, one line per model, region and way of calling it, the
    unit) and a warning when its oldest figure is older than 90 days."""
    lines = [title or describe(table, EMBEDDED_FILE)]
    lines.append(
        f"{'model':<44} {'region':<12} {'rate':<24} {'input':>7} {'output':>7} {'cache r':>7} "
        f"{'cache w':>7} {'w 1h':>7}  source"
    )
    for model_id, entry in sorted(table.models.items()):
        for region, prices in sorted(entry.regions.items()):
            rows: list[tuple[str, RegionPrices | RateVariant]] = [
                (variant_label("default", "regional", False), prices)
            ]
            rows += [(variant.label, variant) for variant in prices.variants]
            for label, rates in rows:
                figures = (
                    rates.input,
                    rates.output,
                    rates.cache_read,
                    rates.cache_write,
                    rates.cache_write_1h,
                )
                money = " ".join(f"{_money(value):>7}" for value in figures)
                lines.append(f"{model_id:<44} {region:<12} {label:<24} {money}  {_source(entry, rates)}")
    lines.append(
        f"USD per million tokens; cache w = 5-minute write, w 1h = 1-hour write; {len(table.models)} models"
    )
    oldest = table.oldest_as_of()
    if oldest is not None and (today - oldest).days > STALE_AFTER_DAYS:
        age = (today - oldest).days
        warning = (
            f"warning: the oldest price is {age} days old ({oldest}): run `tokenfuse prices refresh` "
            "or check AWS's Bedrock pricing page"
        )
        return lines, warning
    return lines, None


def _fail(message: str, code: int = EXIT_MISSING) -> typer.Exit:
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


def _read_table(path: Path) -> PriceTable:
    try:
        return PriceTable.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _fail(f"cannot read {path}: {error.strerror or error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise _fail(f"{path} is not a price table: {where}: {first['msg']}") from None


def _in_use() -> tuple[PriceTable, str]:
    table = load_prices()
    name = REFRESHED_FILE if table.origin == "aws-price-list" else EMBEDDED_FILE
    return table, name


@app.callback()
def prices(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only models whose id contains this.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Show this table file instead of the one in use.")
    ] = None,
    embedded: Annotated[bool, typer.Option("--embedded", help="Show the embedded default table.")] = False,
) -> None:
    """The per-model, per-region prices attribution uses: every way of calling a model the table
    knows, where each rate comes from (embedded default, or the Price List SKU and its effective
    date), and a warning once the oldest is 90 days old."""
    if ctx.invoked_subcommand is not None:
        return
    if file is not None:
        table, name = _read_table(file), str(file)
    elif embedded:
        table, name = load_embedded_prices(), EMBEDDED_FILE
    else:
        table, name = _in_use()
    if model:
        table = table.model_copy(update={"models": {k: v for k, v in table.models.items() if model in k}})
    lines, warning = render(table, clock.now().date(), describe(table, name))
    typer.echo("\n".join(lines))
    if warning:
        typer.echo(warning, err=True)


def layer_file() -> Path:
    """Where the layer's refreshed table lives (what `sam build` ships)."""
    return Path(str(resources.files("tokenfuse").joinpath(REFRESHED_FILE)))


def _write(table: PriceTable, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(table.model_dump_json(indent=2) + "\n", encoding="utf-8")
    part.replace(path)


def _report(refresh: Refresh) -> list[str]:
    regions = sum(len(r) for r in refresh.priced.values())
    lines = [*refresh.read]
    lines.append(
        f"priced: {len(refresh.priced)} models in {regions} model-regions, {refresh.rates} rates"
        + (f" ({', '.join(sorted(refresh.priced))})" if refresh.priced else "")
    )
    return lines + refresh.kept + refresh.skipped


def _refresh(regions: list[str] | None, sandbox: bool, now: datetime) -> Refresh:
    embedded = load_embedded_prices()
    if not sandbox:
        return refresh_prices(aws.client("pricing", PRICING_REGION), embedded, now, regions)
    import boto3

    from tokenfuse_sandbox.emulation import price_list

    with price_list.emulated():
        client = aws.client("pricing", PRICING_REGION, session=boto3.Session())
        return refresh_prices(client, embedded, now, regions)


@app.command("refresh")
def refresh(
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            help="Read this region's prices (repeatable). Default: every region the embedded table prices.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Write the table here. Default: the layer's data/prices.refreshed.json."
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox", help="Read the sandbox's emulated Price List (no AWS); writes only with --output."
        ),
    ] = False,
) -> None:
    """Build the price table from the AWS Price List API (pricing:GetProducts in us-east-1, service
    codes AmazonBedrock and AmazonBedrockFoundationModels): every rate with its SKU and effective
    date, every product it cannot price listed with the reason. Deployed functions read the file the
    layer ships, so run this before `sam build`."""
    now = clock.now()
    try:
        result = _refresh(region, sandbox, now)
    except CredentialsMissing:  # every call goes through aws_call: botocore's errors arrive translated
        raise _fail("no AWS credentials: the Price List API needs pricing:GetProducts") from None
    except TransientAwsError as error:
        raise _fail(f"the Price List could not be read: {error}", 1) from None
    except TokenfuseError as error:
        raise _fail(f"the Price List refused: {error}", 1) from None
    typer.echo(f"tokenfuse prices refresh: the AWS Price List{' (sandbox emulation)' if sandbox else ''}")
    typer.echo("\n".join(_report(result)))
    if not result.priced:
        raise _fail("nothing priced: no table written", 1)
    path = output if output is not None else (None if sandbox else layer_file())
    if path is None:
        typer.echo("--sandbox: not written (pass --output PATH to keep it)")
        return
    try:
        _write(result.table, path)
    except OSError as error:
        raise _fail(f"cannot write {path}: {error.strerror or error}") from None
    typer.echo(f"wrote {path}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="prices")
