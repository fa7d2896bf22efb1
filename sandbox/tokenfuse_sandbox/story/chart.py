"""The demo's chart: a self-contained HTML file with two inline SVG plots of the culprit profile's
spend rate ($/h) - the day around the loop (hourly) and the loop itself (per minute) - with marks
for the loop's start, the alert, the approval, the trip, the restore, Budgets and CAD."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfuse_sandbox.story.report import DemoReport

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 260, 70, 20, 30, 40
COLORS = {
    "loop starts": "#d62728",
    "alert": "#ff7f0e",
    "approval": "#9467bd",
    "trip": "#2ca02c",
    "restore": "#17becf",
    "Budgets": "#8c564b",
    "CAD": "#7f7f7f",
}


def _t(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _plot(
    title: str,
    points: list[tuple[str, float]],
    marks: list[dict[str, Any]],
    *,
    window: tuple[str, str],
    step_seconds: int,
    label_format: str,
) -> str:
    t0, t1 = _t(window[0]).timestamp(), _t(window[1]).timestamp()
    span = max(1.0, t1 - t0)
    top = max([v for _, v in points] + [1.0]) * 1.1

    def x(ts: float) -> float:
        return PAD_L + (ts - t0) / span * (W - PAD_L - PAD_R)

    def y(v: float) -> float:
        return H - PAD_B - v / top * (H - PAD_T - PAD_B)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img">']
    parts.append(f'<text x="{PAD_L}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#333"/>')
    parts.append(f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#333"/>')
    for i in range(5):
        v = top * i / 4
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">${v:,.0f}/h</text>'
            f'<line x1="{PAD_L}" y1="{y(v):.1f}" x2="{W - PAD_R}" y2="{y(v):.1f}" stroke="#eee"/>'
        )
    for i in range(7):
        ts = t0 + span * i / 6
        label = datetime.fromtimestamp(ts, UTC).strftime(label_format)
        parts.append(
            f'<text x="{x(ts):.1f}" y="{H - PAD_B + 16}" font-size="11" text-anchor="middle">{label}</text>'
        )
    bar = max(1.0, step_seconds / span * (W - PAD_L - PAD_R) - 1)
    for stamp, value in points:
        ts = _t(stamp).timestamp()
        if t0 <= ts < t1:
            parts.append(
                f'<rect x="{x(ts):.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                f'height="{H - PAD_B - y(value):.1f}" '
                f'fill="#4c78a8"><title>{stamp}: ${value:,.2f}/h</title></rect>'
            )
    for n, mark in enumerate(marks):
        ts = _t(mark["at"]).timestamp()
        if not t0 <= ts <= t1:
            continue
        color = COLORS.get(mark["label"], "#000")
        parts.append(
            f'<line x1="{x(ts):.1f}" y1="{PAD_T}" x2="{x(ts):.1f}" y2="{H - PAD_B}" stroke="{color}" '
            f'stroke-dasharray="4 3"/><text x="{x(ts) + 3:.1f}" y="{PAD_T + 12 + 12 * (n % 4)}" '
            f'font-size="11" '
            f'fill="{color}">{escape(mark["label"])} {mark["at"][11:16]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render(report: DemoReport) -> str:
    series, s = report.series, report.summary
    minute = series.get("minute_usd_per_hour", [])
    hourly = series.get("hourly_usd", [])
    marks = series.get("marks", [])
    window = series.get("window") or [s.get("loop_started_at"), s.get("loop_started_at")]
    day_window = series.get("day_window") or window
    cf = s.get("counterfactual_usd") or {}
    facts = [
        ("loop started", s.get("loop_started_at")),
        ("alerted", s.get("alerted_at")),
        ("contained (deny in force)", s.get("contained_at")),
        ("restored", s.get("restored_at")),
        ("spent before containment", f"${s.get('spent_before_containment_usd') or 0:,.2f}"),
        ("counterfactual: Budgets only (8 h)", f"${cf.get('budgets') or 0:,.2f}"),
        ("counterfactual: CAD only (24 h)", f"${cf.get('cad') or 0:,.2f}"),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>tokenfuse demo: {escape(report.scenario)}</title>"
        "<style>body{font-family:sans-serif;margin:24px}th{text-align:left;padding-right:16px}"
        "td{font-family:monospace}</style></head><body>"
        f"<h1>tokenfuse demo: {escape(report.scenario)}</h1>"
        f"<p>Profile {escape(str(s.get('profile_arn')))} (team {escape(str(s.get('team')))}); decision "
        f"{escape(report.decision)}, policy {escape(report.policy)}. Simulated clock, local sandbox; "
        "dollars read back from the sandbox's CloudWatch metrics and priced with tokenfuse's price table.</p>"
        f"<table>{rows}</table>"
        + _plot(
            "The loop, minute by minute ($/h)",
            minute,
            marks,
            window=(window[0], window[1]),
            step_seconds=60,
            label_format="%H:%M",
        )
        + _plot(
            "The day (hourly spend, $/h)",
            hourly,
            marks,
            window=(day_window[0], day_window[1]),
            step_seconds=3600,
            label_format="%a %H:%M",
        )
        + "</body></html>\n"
    )
