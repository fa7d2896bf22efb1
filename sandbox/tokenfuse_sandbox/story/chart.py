"""The demo's chart: a self-contained HTML page with two inline SVG plots of the culprit profile's
spend rate ($/h) - the loop minute by minute, the day hour by hour - as measured (bars) beside the
counterfactual (dashed: what the loop would have cost had nothing stopped it), with numbered marks
for the loop's start, the alert, each decision, the trip, the restore, the team's fix, Budgets and
CAD, and under each plot a legend that says what each number is, who and when.

Layout rules, checked in a real browser (tests/e2e/test_demo_chart.py): every label is a
monospace text whose width is known before the browser draws it; marks that fall close together
share one row of badges pushed apart sideways (a leader line goes back to the instant); axis ticks
are round (:mod:`tokenfuse.charts`); the SVGs scale to the page (viewBox, width 100%)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tokenfuse.charts import fitting_time_ticks, text_width, value_axis, widest
from tokenfuse.html_email import templates

if TYPE_CHECKING:
    from tokenfuse_sandbox.story.report import DemoReport

W = 800.0
FONT = 12.0
BADGE_FONT = 11.0
BADGE_R = 9.0
BADGE_GAP = 3.0
KEY_Y = 14.0
BADGE_Y = 34.0
PLOT_TOP = 54.0
PLOT_BOTTOM = PLOT_TOP + 190.0
TICK_Y = PLOT_BOTTOM + 22.0
DATE_Y = TICK_Y + 15.0
H = DATE_Y + 8.0
PAD_R = text_width("Wed 30 Nov", FONT) / 2 + 6
"""Room right of the plot for a tick label (and its date) centred on the window's last instant."""

MEASURED = "#4c78a8"
COUNTERFACTUAL = "#333333"
COUNTERFACTUAL_FILL = "#e45756"
MARK_COLOURS = {
    "loop": "#d62728",
    "alert": "#e06c00",
    "decision": "#9467bd",
    "trip": "#2ca02c",
    "restore": "#138d99",
    "fix": "#c2399a",
    "budgets": "#8c564b",
    "cad": "#666666",
}
"""Mark kinds (the report's ``series.marks``) in the order they are numbered at one instant."""

DECIDED = {"approve": "approved", "decline": "declined", "snooze": "snoozed"}
POLICY_DECISIONS = {
    "timeout": "nobody decided in time: the approval timed out",
    "auto": "policy auto: blocked without asking",
    "notify": "policy notify: alert only, nothing blocked",
    "dry-run": "dry run: nothing blocked",
    "protected": "protected profile: never blocked",
}


@dataclass(frozen=True)
class Mark:
    kind: str
    number: int
    at: datetime
    words: str
    """What happened, in words ("approved by alex (U0SUPPORT1)")."""
    aside: str = ""
    """What the legend adds after the instant ("the loop's calls refused from 14:02:20")."""

    @property
    def colour(self) -> str:
        return MARK_COLOURS[self.kind]


@dataclass(frozen=True)
class Plot:
    name: str
    title: str
    points: list[tuple[datetime, float]]
    step: timedelta
    window: tuple[datetime, datetime]


# --------------------------------------------------------------------------------------------------
# Reading the report (whatever it lacks is left out, never drawn as None)
# --------------------------------------------------------------------------------------------------
def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _points(raw: object) -> list[tuple[datetime, float]]:
    """(instant, finite value >= 0) pairs, oldest first; anything else is dropped."""
    out = []
    for item in raw if isinstance(raw, (list, tuple)) else ():
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            continue
        at, value = _instant(item[0]), item[1]
        if at is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value) and value >= 0:
            out.append((at, float(value)))
    return sorted(out)


def _window(
    raw: object, points: Sequence[tuple[datetime, float]], step: timedelta
) -> tuple[datetime, datetime]:
    if isinstance(raw, (list, tuple)) and len(raw) == 2:
        start, end = _instant(raw[0]), _instant(raw[1])
        if start is not None and end is not None and end > start:
            return start, end
    if points:
        return points[0][0], max(points[-1][0] + step, points[0][0] + step)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now, now + step


def marks_of(report: DemoReport) -> list[Mark]:
    """The report's marks in time order, numbered from 1, each said in words."""
    summary = report.summary
    raw = report.series.get("marks")
    found: list[tuple[datetime, int, str, tuple[str, str]]] = []
    order = list(MARK_COLOURS)
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or item.get("kind") not in MARK_COLOURS:
            continue
        at = _instant(item.get("at"))
        if at is None:
            continue
        kind = str(item["kind"])
        found.append((at, order.index(kind), kind, _words(kind, item, summary)))
    found.sort(key=lambda m: (m[0], m[1]))
    return [Mark(kind, n, at, *words) for n, (at, _, kind, words) in enumerate(found, start=1)]


def _words(kind: str, item: dict[str, object], summary: dict[str, object]) -> tuple[str, str]:
    """(what happened, what the legend adds after the instant)."""
    team = summary.get("team")
    if kind == "decision":
        decision, by = str(item.get("decision") or ""), item.get("by")
        if decision in DECIDED:
            return (f"{DECIDED[decision]} by {by}" if by else DECIDED[decision]), ""
        return POLICY_DECISIONS.get(decision, f"decision {decision}" if decision else "a decision"), ""
    if kind == "trip":
        contained = _instant(summary.get("contained_at"))
        refused = f"the loop's calls refused from {contained:%H:%M:%S}" if contained else ""
        return "the trip: deny in force", refused
    return {
        "loop": "the loop starts",
        "alert": "first alert to the owning team",
        "restore": "the restore: deny lifted",
        "fix": f"the {team} team's fix ships" if team else "the team's fix ships",
        "budgets": "the AWS Budgets alert arrives",
        "cad": "the Cost Anomaly Detection alert arrives",
    }[kind], ""


# --------------------------------------------------------------------------------------------------
# Words and figures
# --------------------------------------------------------------------------------------------------
def when(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b} {at:%H:%M:%S} UTC"


def after(delta: timedelta) -> str:
    """+15 s, +2 min 15 s, +8 h, +1 h 30 min (from the loop's start)."""
    seconds = round(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return sign + (" ".join(p for p in parts if p) or "0 s")


def usd(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return f"${value:,.2f}"


# --------------------------------------------------------------------------------------------------
# One plot, laid out (the template draws it)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str
    date: str | None = None
    at: str = ""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    at: str
    title: str


@dataclass(frozen=True)
class Badge:
    mark: Mark
    x: float
    """The mark's instant on the time axis."""
    badge_x: float
    """The badge's centre, pushed sideways to clear its neighbours."""


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    pad_l: float
    right: float
    value_ticks: list[Tick]
    time_ticks: list[Tick]
    bars: list[Bar]
    badges: list[Badge]
    counterfactual_line: str
    counterfactual_area: str
    counterfactual_from: str
    counterfactual_to: str
    key_counterfactual_x: float
    legend: list[Mark]
    note: str


def _badges(xs: Sequence[float], left: float, right: float) -> list[float]:
    """Badge centres for marks at ``xs`` (in order): each at its mark, pushed right just enough to
    clear the one before, then pulled back left from the right edge when the row runs out."""
    pitch = 2 * BADGE_R + BADGE_GAP
    placed: list[float] = []
    for x in xs:
        placed.append(max(x, left + BADGE_R, placed[-1] + pitch if placed else -math.inf))
    limit = right - BADGE_R
    for i in range(len(placed) - 1, -1, -1):
        placed[i] = min(placed[i], limit)
        limit = placed[i] - pitch
    return placed


def _points_attr(corners: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)


def _iso(at: datetime) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%SZ}"


def layout(
    plot: Plot, marks: Sequence[Mark], counterfactual: Sequence[tuple[datetime, float]], note: str = ""
) -> Layout:
    """Where everything of one plot goes, in the SVG's own units (``W`` x ``H``)."""
    t0, t1 = plot.window
    hour = timedelta(hours=1)
    bars = [
        (max(at, t0), min(at + plot.step, t1), v) for at, v in plot.points if at < t1 and at + plot.step > t0
    ]
    cf = [(max(at, t0), min(at + hour, t1), v) for at, v in counterfactual if at < t1 and at + hour > t0]
    axis = value_axis(max([v for *_, v in bars] + [v for *_, v in cf] + [0.0]))
    money = [axis.money(v) for v in axis.ticks]
    pad_l = max(widest(money, FONT) + 14, PAD_R)
    right = W - PAD_R
    span = (t1 - t0).total_seconds()

    def x(at: datetime) -> float:
        return pad_l + (at - t0).total_seconds() / span * (right - pad_l)

    def y(value: float) -> float:
        return PLOT_BOTTOM - value / axis.top * (PLOT_BOTTOM - PLOT_TOP)

    corners: list[tuple[float, float]] = []
    for left, end, value in cf:
        corners += [(x(left), y(value)), (x(end), y(value))]
    area = [*corners, (corners[-1][0], PLOT_BOTTOM), (corners[0][0], PLOT_BOTTOM)] if corners else []
    gap = 1.0 if plot.step >= timedelta(minutes=1) else 0.0
    shown = [m for m in marks if t0 <= m.at <= t1]
    return Layout(
        name=plot.name,
        title=plot.title,
        pad_l=pad_l,
        right=right,
        value_ticks=[Tick(pad_l, y(v), label) for v, label in zip(axis.ticks, money, strict=True)],
        time_ticks=[
            Tick(x(t.at), PLOT_BOTTOM, t.time, t.date, _iso(t.at))
            for t in fitting_time_ticks(t0, t1, right - pad_l, FONT)
        ],
        bars=[
            Bar(
                x(left),
                y(v),
                max(1.0, x(end) - x(left) - gap),
                PLOT_BOTTOM - y(v),
                _iso(left),
                f"{left:%a %H:%M}: ${v:,.2f}/h measured",
            )
            for left, end, v in bars
        ],
        badges=[
            Badge(m, x(m.at), bx)
            for m, bx in zip(shown, _badges([x(m.at) for m in shown], pad_l, right), strict=True)
        ],
        counterfactual_line=_points_attr(corners),
        counterfactual_area=_points_attr(area),
        counterfactual_from=_iso(cf[0][0]) if cf else "",
        counterfactual_to=_iso(cf[-1][1]) if cf else "",
        key_counterfactual_x=pad_l + 16 + text_width("measured", FONT) + 20,
        legend=shown,
        note=note,
    )


# --------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------
def _facts(report: DemoReport, marks: Sequence[Mark]) -> list[tuple[str, str]]:
    """The table above the plots: every row says something (an unknown reads as what it means)."""
    s = report.summary
    contained = _instant(s.get("contained_at"))
    cf = _counterfactual_usd(report)

    def at(key: str, otherwise: str) -> str:
        instant = _instant(s.get(key))
        return when(instant) if instant else otherwise

    decisions = "; ".join(f"{m.words} at {m.at:%H:%M:%S}" for m in marks if m.kind == "decision")
    fix = next((m for m in marks if m.kind == "fix"), None)
    no_baseline = "no baseline hour to project from"
    return [
        ("loop started", at("loop_started_at", "no loop seen")),
        ("alerted", at("alerted_at", "no alert reached the owning team")),
        ("decision", decisions or f"none taken (policy {report.policy})"),
        ("contained (deny in force)", when(contained) if contained else "not by tokenfuse"),
        ("restored", at("restored_at", "not yet (still blocked)") if contained else "nothing to restore"),
        ("the team's fix", when(fix.at) if fix else "not shipped in the story"),
        ("what happened", str(s.get("what_happened") or "the loop ran on")),
        (
            "spent before containment" if contained else "spent by the loop",
            usd(s.get("spent_before_containment_usd")) or "not measured",
        ),
        ("counterfactual: Budgets only (8 h)", cf.get("budgets") or no_baseline),
        ("counterfactual: CAD only (24 h)", cf.get("cad") or no_baseline),
    ]


def _counterfactual_usd(report: DemoReport) -> dict[str, str]:
    raw = report.summary.get("counterfactual_usd")
    figures = raw if isinstance(raw, dict) else {}
    return {k: text for k in ("budgets", "cad") if (text := usd(figures.get(k)))}


def _day_note(report: DemoReport, drawn: bool) -> str:
    cf = _counterfactual_usd(report)
    basis = str(report.summary.get("counterfactual_basis") or "")
    if drawn and basis and len(cf) == 2:
        return (
            f"Dashed, a {basis}: {cf['budgets']} had only Budgets caught it (8 h), "
            f"{cf['cad']} had only CAD caught it (24 h)."
        )
    return "No counterfactual drawn: the loop's spend had no baseline hour to project from."


def render(report: DemoReport) -> str:
    series, s = report.series, report.summary
    marks = marks_of(report)
    counterfactual = _points(series.get("counterfactual_usd_per_hour"))
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    minute_points, hourly_points = (
        _points(series.get("minute_usd_per_hour")),
        _points(series.get("hourly_usd")),
    )
    profile = str(series.get("profile") or "the culprit profile")
    plots = [
        layout(
            Plot("minute", f"The loop, minute by minute: {profile}'s spend rate ($/h)", minute_points, minute,
                 _window(series.get("window"), minute_points, minute)),
            marks, counterfactual,
        ),
        layout(
            Plot("day", f"The day, hour by hour: {profile}'s spend rate ($/h) until CAD would have caught it",
                 hourly_points, hour, _window(series.get("day_window"), hourly_points, hour)),
            marks, counterfactual, _day_note(report, drawn=bool(counterfactual)),
        ),
    ]  # fmt: skip
    return templates("tokenfuse_sandbox.story").get_template("chart.html").render(
        report=report,
        arn=s.get("profile_arn"),
        team=s.get("team"),
        facts=_facts(report, marks),
        plots=plots,
        start=_instant(s.get("loop_started_at")),
        after=after,
        when=when,
        colours=MARK_COLOURS,
        measured=MEASURED,
        counterfactual=COUNTERFACTUAL,
        counterfactual_fill=COUNTERFACTUAL_FILL,
        geometry={
            "w": W, "h": H, "font": FONT, "badge_font": BADGE_FONT, "badge_r": BADGE_R, "key_y": KEY_Y,
            "badge_y": BADGE_Y, "top": PLOT_TOP, "bottom": PLOT_BOTTOM, "tick_y": TICK_Y, "date_y": DATE_Y,
        },
    )  # fmt: skip
