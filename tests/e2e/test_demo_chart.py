"""The demo's chart in a real headless browser (issue 14): no two labels overlap, nothing sticks out
of its plot, every mark is drawn and said, the ticks are round, the counterfactual is drawn above
what was measured once the loop was stopped, the page fits an 800 px and a 1400 px window, and no
``None`` / ``null`` / empty text anywhere.

One real demo run (approve, policy approve) feeds the chart as the CLI does; synthetic reports give
the hard layouts: marks 5 s apart, a minute plot a day long, a decline (no trip), a time-out, a
snooze then approve, a notify policy. Their dollars are set here by hand."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Box, Browser
from tests.support.demo_runs import DemoRuns, same_run
from tokenfuse_sandbox.story import chart
from tokenfuse_sandbox.story.report import DemoReport

pytestmark = same_run()  # the default story's one run, on the worker that tells it

LOOP = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
WIDTHS = (800, 1400)
ROUND_SECONDS = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200}
DATE_LABEL = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$"
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NOTHING = re.compile(r"\b(None|null|undefined|NaN)\b|\$nan|\$inf")


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# The reports: one real run, synthetic hard layouts
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    report: DemoReport
    marks: set[str]
    """Mark kinds the chart must draw (in the day plot; the minute plot draws those in its window)."""
    stopped: datetime
    """When the loop was stopped (the deny, else the team's fix): the counterfactual is above
    every measured bar from here on."""


def synthetic(
    name: str,
    *,
    decision: str = "approve",
    policy: str = "approve",
    decisions: Sequence[tuple[timedelta, str, str | None]] = (),
    alert: timedelta = timedelta(seconds=15),
    trip: timedelta | None = None,
    contained: timedelta | None = None,
    restore: timedelta | None = None,
    fix: timedelta = timedelta(minutes=18),
    minute_window: tuple[timedelta, timedelta] = (timedelta(minutes=-20), timedelta(hours=1)),
    loop_rate: float = 244.0,
    base_rate: float = 17.0,
) -> Case:
    """A report as build_report writes it: the loop runs at ``loop_rate`` $/h from LOOP until the
    fix, except while denied; ordinary traffic at ``base_rate``; the counterfactual at ``loop_rate``
    for 24 h."""
    denied_from = LOOP + contained if contained is not None else None
    denied_to = LOOP + restore if restore is not None else None

    def rate(t: datetime) -> float:
        if denied_from and denied_from <= t and (denied_to is None or t < denied_to):
            return 0.0
        return loop_rate if LOOP <= t < LOOP + fix else base_rate

    start, end = LOOP + minute_window[0], LOOP + minute_window[1]
    minutes = [(iso(start + timedelta(minutes=i)), rate(start + timedelta(minutes=i)))
               for i in range(int((end - start).total_seconds() // 60))]  # fmt: skip
    h_start, h_end = LOOP - timedelta(hours=12), max(LOOP + timedelta(hours=25), end + timedelta(hours=1))
    hours = []
    for i in range(int((h_end - h_start).total_seconds() // 3600)):
        at = h_start + timedelta(hours=i)
        hours.append((iso(at), sum(rate(at + timedelta(minutes=m)) for m in range(60)) / 60))
    marks: list[dict[str, Any]] = [
        {"kind": "loop", "at": iso(LOOP)},
        {"kind": "alert", "at": iso(LOOP + alert)},
        {"kind": "fix", "at": iso(LOOP + fix)},
        {"kind": "budgets", "at": iso(LOOP + timedelta(hours=8))},
        {"kind": "cad", "at": iso(LOOP + timedelta(hours=24))},
    ]
    if trip is not None:
        marks.append({"kind": "trip", "at": iso(LOOP + trip)})
    if restore is not None:
        marks.append({"kind": "restore", "at": iso(LOOP + restore)})
    for after, choice, by in decisions:
        marks.append({"kind": "decision", "at": iso(LOOP + after), "decision": choice, "by": by})
    cf_rate = loop_rate
    summary: dict[str, Any] = {
        "profile_arn": "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/bt4to3zn521q",
        "team": "support-bot",
        "loop_started_at": iso(LOOP),
        "alerted_at": iso(LOOP + alert),
        "contained_at": iso(LOOP + contained) if contained is not None else None,
        "restored_at": iso(LOOP + restore) if restore is not None else None,
        "spent_before_containment_usd": 9.49,
        "counterfactual_usd": {"budgets": 8 * cf_rate, "cad": 24 * cf_rate},
        "counterfactual_basis": "projection: the loop's measured spend ran at 14.4x the same hour yesterday",
        "what_happened": "as the synthetic story says",
    }
    series = {
        "profile": "support-bot",
        "minute_usd_per_hour": minutes,
        "hourly_usd": hours,
        "marks": marks,
        "window": [iso(start), iso(end)],
        "day_window": [iso(h_start), iso(h_end)],
        "counterfactual_usd_per_hour": [(iso(LOOP + timedelta(hours=i)), cf_rate) for i in range(24)],
    }
    report = DemoReport(name, decision, policy, [], [], [], [], summary, series)
    kinds = {m["kind"] for m in marks}
    stopped = LOOP + (contained if contained is not None else fix)
    return Case(report, kinds, stopped)


ALEX = "alex (U0SUPPORT1)"
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def synthetic_cases() -> dict[str, Case]:
    return {
        "marks-5s-apart": synthetic(
            "marks-5s-apart", alert=5 * S, decisions=[(10 * S, "approve", ALEX)],
            trip=15 * S, contained=20 * S, restore=25 * S, fix=30 * S,
            minute_window=(-2 * M, 3 * M),
        ),
        "day-long": synthetic(
            "day-long", decision="decline", decisions=[(2 * M + 15 * S, "decline", ALEX)],
            fix=timedelta(hours=20), minute_window=(-20 * M, timedelta(hours=26)),
        ),
        "decline": synthetic(
            "decline", decision="decline", decisions=[(2 * M + 15 * S, "decline", ALEX)],
        ),
        "timeout": synthetic(
            "timeout", decision="timeout", decisions=[(M + 15 * S, "timeout", None)],
            trip=M + 15 * S, contained=M + 20 * S, restore=16 * M + 15 * S,
        ),
        "snooze": synthetic(
            "snooze", decision="snooze",
            decisions=[(2 * M + 15 * S, "snooze", ALEX), (7 * M + 15 * S, "approve", ALEX)],
            trip=7 * M + 15 * S, contained=7 * M + 20 * S, restore=22 * M + 15 * S,
        ),
        "notify": synthetic("notify", policy="notify", decisions=[(15 * S, "notify", None)]),
    }  # fmt: skip


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory, demo_runs: DemoRuns) -> dict[str, tuple[Case, Path]]:
    """Every case's chart written as the demo writes it (the real run's by run_demo itself: the
    session's one run of the default story)."""
    out = tmp_path_factory.mktemp("charts")
    run = demo_runs.get()
    real = run.report
    s = real.summary
    found = {m["kind"] for m in real.series["marks"]}
    stopped = datetime.fromisoformat(s["contained_at"])
    built = {"real": (Case(real, found, stopped), run.folder / "chart.html")}
    for name, case in synthetic_cases().items():
        path = out / f"{name}.html"
        path.write_text(chart.render(case.report))
        built[name] = (case, path)
    return built


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Browser]:
    """The session's browser, put back to its usual window once this module is done."""
    yield browser
    browser.set_viewport(1280, 900)


CASES = ["real", "marks-5s-apart", "day-long", "decline", "timeout", "snooze", "notify"]


def test_the_real_run_has_every_mark_the_story_saw(cases):
    case, _ = cases["real"]
    # Budgets and CAD are marked only when the story sent their alert (a loop contained in seconds
    # leaves a day that is not anomalous, and CAD says nothing)
    sent = {e.where for e in case.report.timeline if e.kind == "signal"}
    late = {"budgets": "BudgetsTopic" in sent, "cad": "CostAnomalyTopic" in sent}
    expected = {"loop", "alert", "decision", "trip", "restore", "fix"}
    assert case.marks == expected | {kind for kind, seen in late.items() if seen}


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------
_TEXT = """
var svg = document.querySelectorAll("svg")[arguments[0]];
return Array.from(svg.querySelectorAll("text")).map(function (e) {
  var r = e.getBoundingClientRect();
  var size = parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a;
  return [r.left, r.top, r.right, r.bottom, (e.textContent || "").trim(), size];
});
"""
_ROOM = """
var parent = document.querySelectorAll("svg")[arguments[0]].parentElement, s = getComputedStyle(parent);
return parent.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", CASES)
def test_no_label_overlaps_none_is_clipped_the_page_fits_the_window(cases, page: Browser, name, width):
    _, path = cases[name]
    page.set_viewport(width)
    page.open_file(path)
    svgs = page.boxes("svg")
    assert len(svgs) == 2
    client = page.script("return document.documentElement.clientWidth")
    assert page.script("return document.documentElement.scrollWidth") <= client, "horizontal scroll"
    for element in page.boxes("body *"):
        assert element.right <= client + 0.5, f"{element.text[:60]!r} runs past the window"
    for index, (plot, svg) in enumerate(zip(("minute", "day"), svgs, strict=True)):
        assert svg.right - svg.left >= page.script(_ROOM, index) - 0.5, "the plot is narrower than the page"
        texts = page.script(_TEXT, index)
        boxes = [Box(*t[:5]) for t in texts]
        for box, (*_, size) in zip(boxes, texts, strict=True):
            assert box.text, "an empty label"
            assert box.inside(svg), f"{box.text!r} sticks out of the {plot} plot"
            assert size >= 10, f"{box.text!r} is drawn at {size:.1f} px: too small to read"
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), f"{plot} plot: {a.text!r} overlaps {b.text!r}"


# --------------------------------------------------------------------------------------------------
# Marks, ticks, counterfactual, words
# --------------------------------------------------------------------------------------------------
_MARKS = """
return Array.from(document.querySelectorAll(arguments[0])).map(function (e) {
  return [e.getAttribute("data-mark"), e.getAttribute("data-at"), e.getAttribute("data-number")];
});
"""


@pytest.mark.parametrize("name", CASES)
def test_every_mark_drawn_numbered_and_said(cases, page: Browser, name):
    case, path = cases[name]
    page.open_file(path)
    window = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in case.report.series["window"]]
    expected = sorted((m["kind"], m["at"][:19]) for m in case.report.series["marks"])
    day = page.script(_MARKS, 'svg[data-plot="day"] g.mark')
    assert sorted((kind, at[:19]) for kind, at, _ in day) == expected
    minute = page.script(_MARKS, 'svg[data-plot="minute"] g.mark')
    inside = [(k, a) for k, a in expected if window[0] <= datetime.fromisoformat(a + "+00:00") <= window[1]]
    assert sorted((kind, at[:19]) for kind, at, _ in minute) == inside
    assert {kind for kind, _ in expected} == case.marks
    legend = page.boxes('figure[data-plot="day"] ol.legend li')
    badges = {number: kind for kind, _, number in day}
    assert len(legend) == len(day)
    for item in legend:
        number, _, words = item.text.partition(" ")
        assert number in badges and words, item.text
    said = " | ".join(item.text for item in legend)
    for kind, words in {
        "trip": "the trip: deny in force",
        "restore": "the restore: deny lifted",
        "fix": "the support-bot team's fix ships",
        "budgets": "the AWS Budgets alert arrives",
        "cad": "the Cost Anomaly Detection alert arrives",
    }.items():
        assert (words in said) == (kind in case.marks), kind
    for m in case.report.series["marks"]:
        if m["kind"] == "decision":
            assert VERBS[m["decision"]] in said and (m["by"] or "") in said


VERBS = {
    "approve": "approved by",
    "decline": "declined by",
    "snooze": "snoozed by",
    "timeout": "nobody decided in time",
    "notify": "policy notify",
}


def _money(label: str) -> Decimal:
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*(\.\d+)?", label), label
    return Decimal(label[1:].replace(",", ""))


def _round_step(step: Decimal) -> bool:
    mantissa = step.normalize().as_tuple()
    return mantissa.digits in ((1,), (2,), (5,))


@pytest.mark.parametrize("name", CASES)
def test_ticks_are_round_and_dated_where_the_plot_crosses_a_day(cases, page: Browser, name):
    case, path = cases[name]
    page.open_file(path)
    series = case.report.series
    for plot, window in (("minute", series["window"]), ("day", series["day_window"])):
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in window)
        values = [_money(b.text) for b in page.boxes(f'svg[data-plot="{plot}"] text.tick-y')]
        assert values[0] == 0 and len(values) >= 3
        steps = {b - a for a, b in itertools.pairwise(values)}
        assert len(steps) == 1 and _round_step(steps.pop()), values
        ticks = sorted(page.boxes(f'svg[data-plot="{plot}"] text.tick-x'), key=lambda b: b.left)
        dates = {
            round((d.left + d.right) / 2): d.text
            for d in page.boxes(f'svg[data-plot="{plot}"] text.tick-date')
        }
        seconds = []
        for tick in ticks:
            parts = [int(p) for p in tick.text.split(":")]
            assert len(parts) in (2, 3), tick.text
            seconds.append(parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0))
        gaps = {(b - a) % 86400 for a, b in itertools.pairwise(seconds)}
        assert len(gaps) == 1, [t.text for t in ticks]
        gap = gaps.pop()
        assert gap in ROUND_SECONDS and all(s % gap == 0 for s in seconds), [t.text for t in ticks]
        crosses = start.date() != (end - timedelta(microseconds=1)).date()
        if not crosses:
            assert not dates, f"{plot}: dates on a plot within one day"
            continue
        # every tick's full instant, from the dates under the first tick and under each new day
        day: date | None = None
        for tick, second in zip(ticks, seconds, strict=True):
            label = dates.get(round((tick.left + tick.right) / 2))
            new_day = day is None or second < (seconds[ticks.index(tick) - 1])
            assert (label is not None) == new_day, f"{plot}: {tick.text} dated {label!r}"
            if label is not None:
                match = DATE_LABEL.match(label)
                assert match, label
                day = date(start.year, MONTHS.index(match[3]) + 1, int(match[2]))
                assert f"{day:%a}" == match[1], label
            assert day is not None
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=second)
            assert start <= at <= end, f"{plot}: tick {tick.text} on {day} outside {start} .. {end}"


_COUNTERFACTUAL = """
var line = document.querySelector(arguments[0] + " polyline.counterfactual");
if (!line) return null;
var m = line.getScreenCTM(), out = [];
for (var i = 0; i < line.points.numberOfItems; i++) {
  var p = line.points.getItem(i);
  out.push([m.a * p.x + m.c * p.y + m.e, m.b * p.x + m.d * p.y + m.f]);
}
var bars = Array.from(document.querySelectorAll(arguments[0] + " rect.measured")).map(function (e) {
  var r = e.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom, e.getAttribute("data-at")];
});
return [out, bars];
"""


def _line_y(corners: list[list[float]], x: float) -> float | None:
    """The stepped line's y at x (None where it does not run)."""
    for (x1, y1), (x2, _) in itertools.pairwise(corners):
        if x1 <= x <= x2 and x2 > x1:
            return float(y1)
    return None


@pytest.mark.parametrize("name", CASES)
def test_the_counterfactual_is_drawn_above_the_measured_bars_once_the_loop_was_stopped(
    cases, page: Browser, name
):
    case, path = cases[name]
    page.open_file(path)
    for plot in ("minute", "day"):
        found = page.script(_COUNTERFACTUAL, f'svg[data-plot="{plot}"]')
        assert found is not None, f"no counterfactual in the {plot} plot"
        corners, bars = found
        step = timedelta(minutes=1) if plot == "minute" else timedelta(hours=1)
        seconds = int(step.total_seconds())
        first = datetime.fromtimestamp(int(case.stopped.timestamp()) // seconds * seconds + seconds, UTC)
        compared = clearly_above = 0
        for left, top, right, _, at in bars:
            y = _line_y(corners, (left + right) / 2)
            if datetime.fromisoformat(at.replace("Z", "+00:00")) < first or y is None:
                continue  # bars of the minute (hour) the loop was stopped in hold some of its spend
            compared += 1
            assert y <= top + 0.5, f"{plot}: the counterfactual runs under the bar of {at}"
            clearly_above += top - y > 5
        assert compared and clearly_above, f"{plot}: no measured bar after the stop to compare with"
    note = page.boxes('figure[data-plot="day"] p.note')[0].text
    if name != "real":  # the synthetic counterfactual: 244 $/h for 8 h and for 24 h, worked out by hand
        assert (
            "$1,952.00 had only Budgets caught it (8 h)" in note
            and "$5,856.00 had only CAD caught it (24 h)" in note
        )
    assert "projection" in note
    assert (
        page.boxes('svg[data-plot="day"] text.key')[-1].text == "counterfactual: had nothing stopped the loop"
    )


@pytest.mark.parametrize("name", CASES)
def test_no_none_null_or_empty_anywhere_on_the_page(cases, page: Browser, name):
    _, path = cases[name]
    page.open_file(path)
    text = page.script("return document.body.innerText")
    assert not NOTHING.search(text), NOTHING.search(text)
    for cell in page.boxes("td, th, li, figcaption, p"):
        assert cell.text, "an empty cell, legend item or caption"
