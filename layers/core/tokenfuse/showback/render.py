"""The report as people read it: CSV rows, the self-contained HTML page (Jinja2, autoescaped, charts
as inline SVG: no script, no CDN), and the words shared by the terminal table and the digest."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tokenfuse.showback.models import ShowbackReport

CSV_COLUMNS = (
    "team", "feature", "environment", "spend_usd", "previous_spend_usd", "change_usd", "change_percent",
    "requests", "cost_per_request_usd", "input_tokens_per_request", "output_tokens_per_request",
    "cache_read_tokens_per_request", "cache_write_tokens_per_request", "top_model",
)  # fmt: skip
CHAR_PX = 7.2
"""Width of one character of the page's 12px monospace labels (the browser test checks the boxes)."""


def usd(value: float | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def signed_usd(value: float) -> str:
    return ("+" if value > 0 else "") + usd(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def per_request(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def tokens(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def to_csv(report: ShowbackReport) -> str:
    """One row per team feature and environment, one per unattributed item (team empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for team in report.teams:
        for f in team.features:
            writer.writerow(
                [team.team, f.feature, f.environment, f.spend_usd, f.previous_spend_usd, f.change_usd,
                 _blank(f.change_percent), f.requests, _blank(f.cost_per_request_usd),
                 _blank(f.input_tokens_per_request), _blank(f.output_tokens_per_request),
                 _blank(f.cache_read_tokens_per_request), _blank(f.cache_write_tokens_per_request),
                 f.models[0].model_id if f.models else ""]
            )  # fmt: skip
    for item in report.unattributed.items:
        writer.writerow(
            ["", f"{item.kind}: {item.label}", "", item.spend_usd, item.previous_spend_usd, item.change_usd,
             _blank(item.change_percent), item.requests, _blank(item.cost_per_request_usd),
             _blank(item.input_tokens_per_request), _blank(item.output_tokens_per_request),
             _blank(item.cache_read_tokens_per_request), _blank(item.cache_write_tokens_per_request),
             item.models[0].model_id if item.models else ""]
        )  # fmt: skip
    return out.getvalue()


def _blank(value: float | None) -> str | float:
    return "" if value is None else value


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: float
    x: float
    width: float
    negative: bool = False


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart laid out for SVG: labels in a left column sized to the longest."""

    title: str
    bars: tuple[Bar, ...]
    width: float
    height: float
    label_width: float
    zero_x: float


ROW = 26.0
TOP = 8.0
VALUE_WIDTH = 110.0
PLOT_WIDTH = 360.0


def bar_chart(title: str, rows: Sequence[tuple[str, float]], format_value: str = "usd") -> Chart:
    """Bars for ``rows`` (label, value); negative values grow left of a zero line."""
    labels = [label for label, _ in rows]
    label_width = max((len(label) for label in labels), default=4) * CHAR_PX + 16
    low = min([0.0, *(v for _, v in rows)])
    high = max([0.0, *(v for _, v in rows)])
    scale = PLOT_WIDTH / (high - low) if high > low else 0.0
    zero_x = label_width + (-low) * scale
    bars = []
    for i, (label, value) in enumerate(rows):
        width = abs(value) * scale
        x = zero_x if value >= 0 else zero_x - width
        text = signed_usd(value) if format_value == "signed" else usd(value)
        bars.append(Bar(label, value, text, TOP + i * ROW, x, max(width, 1.0), value < 0))
    return Chart(title, tuple(bars), label_width + PLOT_WIDTH + VALUE_WIDTH, TOP * 2 + ROW * len(rows),
                 label_width, zero_x)  # fmt: skip


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("tokenfuse.showback", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def filters() -> dict[str, object]:
    return {
        "usd": usd,
        "signed_usd": signed_usd,
        "percent": percent,
        "per_request": per_request,
        "tokens": tokens,
    }


def to_html(report: ShowbackReport) -> str:
    """The self-contained page: tables and three charts (spend by team, the movers, the month-end)."""
    env = environment()
    env.filters.update(filters())
    spend_rows = [(t.display_name, t.spend_usd) for t in report.teams]
    spend_rows.append(("unattributed", report.unattributed_usd))
    movers = [(m.label, m.change_usd) for m in report.movers]
    forecast_rows = [(f"{team} base", f.month_end_usd.base) for team, f in report.forecast.teams.items()]
    charts = [
        bar_chart("Spend by team", spend_rows),
        bar_chart("Biggest movers (change against the period before)", movers, "signed"),
        bar_chart(f"Month-end forecast, {report.forecast.month} (base)", forecast_rows),
    ]
    last_day = (report.period.end - timedelta(days=1)).strftime("%Y-%m-%d")
    return env.get_template("report.html.j2").render(report=report, charts=charts, last_day=last_day)
