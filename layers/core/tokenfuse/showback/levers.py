"""Levers sized from measurements (pure). Every figure is an estimate, labelled as such, with its
basis in words; each saving is per month (30 days) at the period's daily volume.

- ``output-cap``: a feature whose output tokens per request ran above 3x its own median (of its
  daily figures over the trend window) -> capping output (``maxTokens``) at that median saves the
  output tokens above it on every request.
- ``prompt-caching``: input that is large (at least 1,024 tokens a request, the smallest prompt
  Bedrock caches), most of the cost (at least half), stable (daily input per request within 10% of
  its mean) and never read from cache -> the smallest day's input per request is taken as a shared
  prefix, read from cache on 90% of requests and written on 10% (cache write rates apply there).
- ``smaller-model``: short answers (at most 300 output tokens a request) on a model with a smaller
  sibling of its family in the price table -> the same tokens at the sibling's rates; quality is not
  measured, so the basis says to evaluate first.
- ``batch``: a non-interactive environment (dev, test, qa, staging, sandbox) or feature (named batch,
  offline, nightly, eval, backfill, report) -> Bedrock batch inference, half the on-demand price for
  the models that offer it.
- ``provisioned-throughput``: only where a model-unit price is given (AWS publishes neither the price
  table in an API nor a unit's throughput) and the model's on-demand spend per month in that account
  and region is above one unit's month (730 h): the saving assumes one unit carries the volume.
"""

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tokenfuse.attribution.pricing import PriceTable, Rates
from tokenfuse.showback.figures import FeatureGroup
from tokenfuse.showback.models import Lever, LeverName
from tokenfuse.showback.period import Period
from tokenfuse.showback.reading import Line

MONTH_DAYS = 30
HOURS_PER_MONTH = 730
OUTPUT_RUNAWAY_FACTOR = 3.0
CACHE_MIN_INPUT_TOKENS = 1_024
CACHE_MIN_INPUT_SHARE = 0.5
CACHE_STABLE_SPREAD = 0.10
CACHE_HIT_RATE = 0.9
SHORT_ANSWER_TOKENS = 300
BATCH_DISCOUNT = 0.5
NON_INTERACTIVE_ENVIRONMENTS = frozenset({"dev", "test", "qa", "staging", "sandbox"})
NON_INTERACTIVE_FEATURE_WORDS = ("batch", "offline", "nightly", "eval", "backfill", "report")
SMALLER_MODEL = {
    "anthropic.claude-sonnet-4-20250514-v1:0": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0": "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-pro-v1:0": "amazon.nova-lite-v1:0",
    "amazon.nova-lite-v1:0": "amazon.nova-micro-v1:0",
    "meta.llama3-3-70b-instruct-v1:0": "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-1-70b-instruct-v1:0": "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-70b-instruct-v1:0": "meta.llama3-8b-instruct-v1:0",
}
"""A model -> the smaller model of its family tokenfuse suggests trying (both in prices.json)."""


@dataclass(frozen=True)
class LeverContext:
    period: Period
    trend: Period
    """The days the medians and the stability are read over (the trend window)."""
    prices: PriceTable
    unit_prices: Mapping[str, float]
    """Provisioned Throughput: model id -> USD per model-unit hour (what the operator gives)."""


def _tokens(value: float) -> str:
    return f"{value:,.0f}"


def _rate(value: float) -> str:
    return f"${value:,.3f}/M".replace(".000/M", "/M")


def _daily_per_request(line: Line, trend: Period, part: str) -> list[float]:
    out = []
    for day in trend.dates():
        usage = line.days.get(day)
        if usage and usage.invocations > 0:
            out.append(getattr(usage, part) / usage.invocations)
    return out


def _monthly(value_in_period: float, period: Period) -> float:
    return value_in_period * MONTH_DAYS / period.days


def _lever(group: FeatureGroup, name: LeverName, saving: float, basis: str) -> Lever:
    return Lever(
        team=group.team,
        feature=group.feature,
        environment=group.environment,
        lever=name,
        saving_usd_per_month=round(saving, 2),
        basis=f"estimate: {basis}",
    )


def output_cap(group: FeatureGroup, line: Line, rates: Rates, ctx: LeverContext) -> Lever | None:
    usage = line.usage(ctx.period.start, ctx.period.end)
    daily = _daily_per_request(line, ctx.trend, "output_tokens")
    if usage.invocations <= 0 or not daily:
        return None
    median = statistics.median(daily)
    now = usage.output_tokens / usage.invocations
    if median <= 0 or now <= OUTPUT_RUNAWAY_FACTOR * median:
        return None
    saved = (now - median) * usage.invocations * rates.output / 1_000_000
    return _lever(
        group, "output-cap", _monthly(saved, ctx.period),
        f"{_tokens(now)} output tokens per request over the period, {now / median:.1f}x this feature's "
        f"median of {_tokens(median)} (daily, {ctx.trend.days} days); a maxTokens cap at {_tokens(median)} "
        f"saves {_tokens(now - median)} output tokens on each of {_tokens(usage.invocations)} requests at "
        f"{_rate(rates.output)}",
    )  # fmt: skip


def prompt_caching(group: FeatureGroup, line: Line, rates: Rates, ctx: LeverContext) -> Lever | None:
    usage = line.usage(ctx.period.start, ctx.period.end)
    if usage.invocations <= 0 or usage.cache_read_tokens > 0 or rates.cache_read is None:
        return None
    daily = _daily_per_request(line, ctx.trend, "input_tokens")
    now = usage.input_tokens / usage.invocations
    cost = usage.cost(rates)
    input_share = usage.input_tokens * rates.input / 1_000_000 / cost if cost > 0 else 0.0
    mean = statistics.fmean(daily) if daily else 0.0
    spread = (max(daily) - min(daily)) / mean if mean > 0 else 1.0
    if now < CACHE_MIN_INPUT_TOKENS or input_share < CACHE_MIN_INPUT_SHARE or spread > CACHE_STABLE_SPREAD:
        return None
    prefix = min(daily)
    write = rates.cache_write if rates.cache_write is not None else rates.input
    per_token = CACHE_HIT_RATE * (rates.input - rates.cache_read) - (1 - CACHE_HIT_RATE) * (
        write - rates.input
    )
    saved = prefix * usage.invocations * per_token / 1_000_000
    if saved <= 0:
        return None
    return _lever(
        group, "prompt-caching", _monthly(saved, ctx.period),
        f"{_tokens(now)} input tokens per request ({input_share:.0%} of the cost), stable within "
        f"{spread:.0%} day to day, no cache reads; the smallest day's {_tokens(prefix)} taken as a shared "
        f"prefix read from cache on {CACHE_HIT_RATE:.0%} of requests ({_rate(rates.cache_read)} instead of "
        f"{_rate(rates.input)}) and written on {1 - CACHE_HIT_RATE:.0%} ({_rate(write)})",
    )  # fmt: skip


def smaller_model(group: FeatureGroup, line: Line, rates: Rates, ctx: LeverContext) -> Lever | None:
    usage = line.usage(ctx.period.start, ctx.period.end)
    sibling = SMALLER_MODEL.get(line.model_id)
    if usage.invocations <= 0 or sibling is None:
        return None
    cheaper = ctx.prices.price_for(sibling, line.region)
    per_request = usage.output_tokens / usage.invocations
    if cheaper is None or per_request > SHORT_ANSWER_TOKENS:
        return None
    saved = usage.cost(rates) - usage.cost(cheaper)
    if saved <= 0:
        return None
    return _lever(
        group, "smaller-model", _monthly(saved, ctx.period),
        f"short answers ({_tokens(per_request)} output tokens per request); the same tokens on {sibling} "
        f"({_rate(cheaper.input)} in, {_rate(cheaper.output)} out) instead of {line.model_id} "
        f"({_rate(rates.input)} in, {_rate(rates.output)} out); answer quality is not measured: "
        "evaluate before routing",
    )  # fmt: skip


def is_non_interactive(environment: str, feature: str) -> bool:
    name = feature.lower()
    return environment.lower() in NON_INTERACTIVE_ENVIRONMENTS or any(
        word in name for word in NON_INTERACTIVE_FEATURE_WORDS
    )


def batch(group: FeatureGroup, line: Line, rates: Rates, ctx: LeverContext) -> Lever | None:
    if not is_non_interactive(group.environment, group.feature):
        return None
    cost = line.cost(ctx.period.start, ctx.period.end)
    if cost <= 0:
        return None
    why = (
        f"environment {group.environment}"
        if group.environment.lower() in NON_INTERACTIVE_ENVIRONMENTS
        else (f"feature {group.feature}")
    )
    return _lever(
        group, "batch", _monthly(cost * BATCH_DISCOUNT, ctx.period),
        f"{why} is not interactive; Bedrock batch inference is priced at {BATCH_DISCOUNT:.0%} of on-demand "
        f"for the models that offer it (check {line.model_id}); answers arrive within hours",
    )  # fmt: skip


LEVERS = (output_cap, prompt_caching, smaller_model, batch)


def feature_levers(group: FeatureGroup, ctx: LeverContext) -> list[Lever]:
    """Every lever that applies to a feature, one per lever (a feature on several profiles: summed)."""
    found: dict[str, list[Lever]] = {}
    for line in group.lines:
        if line.rates is None:
            continue
        for size in LEVERS:
            lever = size(group, line, line.rates, ctx)
            if lever is not None:
                found.setdefault(lever.lever, []).append(lever)
    out = []
    for levers in found.values():
        biggest = max(levers, key=lambda lever: lever.saving_usd_per_month)
        total = round(sum(lever.saving_usd_per_month for lever in levers), 2)
        basis = biggest.basis if len(levers) == 1 else f"{biggest.basis} (largest of {len(levers)} profiles)"
        out.append(biggest.model_copy(update={"saving_usd_per_month": total, "basis": basis}))
    return sorted(out, key=lambda lever: -lever.saving_usd_per_month)


def provisioned_throughput(
    groups: Sequence[FeatureGroup], ctx: LeverContext
) -> tuple[list[Lever], list[str]]:
    """Levers where a model's on-demand month passes one model unit's; and notes on the models assessed."""
    spend: dict[tuple[str, str, str], list[tuple[FeatureGroup, float]]] = {}
    for group in groups:
        for line in group.lines:
            key = (line.account_id, line.region, line.model_id)
            spend.setdefault(key, []).append(
                (group, _monthly(line.cost(ctx.period.start, ctx.period.end), ctx.period))
            )
    levers: list[Lever] = []
    notes: list[str] = []
    for (account, region, model), parts in sorted(spend.items()):
        price = ctx.unit_prices.get(model)
        if price is None:
            continue
        on_demand = sum(usd for _, usd in parts)
        unit_month = price * HOURS_PER_MONTH
        where = f"{model} in {account} {region}"
        unit = f"one model unit's ${unit_month:,.2f} (${price:,.2f}/h x {HOURS_PER_MONTH} h)"
        if on_demand <= unit_month:
            notes.append(
                f"Provisioned Throughput for {where}: ${on_demand:,.2f} a month on demand, below {unit}: "
                "not proposed"
            )
            continue
        owner = max(parts, key=lambda part: part[1])[0]
        basis = (
            f"${on_demand:,.2f} a month on demand for {where}, above {unit}; assumes one unit carries the "
            "volume (a unit's throughput is not published: ask AWS)"
        )
        levers.append(_lever(owner, "provisioned-throughput", on_demand - unit_month, basis))
    return levers, notes


def combined_fraction(levers: Sequence[Lever], monthly_cost: float) -> float:
    """The share of a feature's cost its levers would save together: 1 - the product of (1 - each
    lever's share), as if each acted on what the others leave."""
    if monthly_cost <= 0:
        return 0.0
    kept = 1.0
    for lever in levers:
        kept *= 1.0 - min(1.0, max(0.0, lever.saving_usd_per_month / monthly_cost))
    return 1.0 - kept


def trend_window(today: date, days: int) -> Period:
    return Period(today - timedelta(days=days), today)
