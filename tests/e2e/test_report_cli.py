"""`tokenfuse report --sandbox` and `tokenfuse budgets plan --sandbox` as a user runs them, on the demo
organization (sandbox/tokenfuse_sandbox/story/showback.py); the HTML page in a real headless browser."""

import csv
import json
from pathlib import Path

import pytest

from tests.e2e.test_sandbox_cli import tokenfuse
from tests.support.browser import Browser

# one worker builds the module's sandbox once for all its tests
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("test_report_cli")]
ROOT = Path(__file__).resolve().parents[2]

# The demo organization's week 2026-11-30 .. 12-06 (days 28..34 of the story), by hand:
SUPPORT = (7 * 14_000 + 100 * sum(range(28, 35))) * (500 * 3.0 + 5_000 * 15.0) / 1e6  # sonnet 4: $9,157.05
SEARCH = (7 * 40_000 + 400 * sum(range(28, 35))) * (1_200 * 0.8 + 250 * 3.2) / 1e6  # nova pro: $645.568
DOCS = 7 * 9_000 * (2_000 * 0.8 + 150 * 4.0 + 6_000 * 0.08) / 1e6  # 3.5 haiku, cache reads: $168.84
ANALYTICS = sum(5_000 - 50 * d for d in range(28, 35)) * (3_000 + 600) * 0.72 / 1e6  # llama 3.3 70b: $62.5968
UNTAGGED = 7 * 2_000 * (1_500 * 3.0 + 1_000 * 15.0) / 1e6  # 3.5 sonnet: $273.00
UNKNOWN = 7 * 6_000 * (2_500 * 0.25 + 400 * 1.25) / 1e6  # 3 haiku: $47.25
DIRECT = 7 * 3_000 * (1_000 * 0.25 + 200 * 1.25) / 1e6  # 3 haiku called directly: $10.50
DRILL_PER_DAY = 1_000 * (500 * 0.25 + 100 * 1.25) / 1e6  # billed, in no figure: $0.25


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    proc = tokenfuse(
        "report", "--sandbox", "--json", str(folder / "r.json"), "--csv", str(folder / "r.csv"),
        "--html", str(folder / "r.html"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, json.loads((folder / "r.json").read_text()), folder


def test_json_has_the_contracts_keys(outputs):
    _, report, _ = outputs
    keys = ("period", "total_spend_usd", "unattributed_usd", "unattributed", "attributable_percent")
    for key in (*keys, "teams", "forecast", "levers"):
        assert key in report
    assert report["period"] == {"start": "2026-11-30T00:00:00Z", "end": "2026-12-07T00:00:00Z"}
    assert set(report["unattributed"]) >= {"untagged_usd", "unknown_team_usd", "direct_model_usd"}
    team = report["teams"][0]
    assert set(team) >= {"team", "spend_usd", "requests", "cost_per_request_usd", "input_tokens_per_request",
                         "output_tokens_per_request", "features"}  # fmt: skip
    assert set(report["forecast"]["month_end_usd"]) == {"base", "optimized", "stress"}
    assert set(report["levers"][0]) >= {"team", "feature", "lever", "saving_usd_per_month", "basis"}


def test_figures_of_the_demo_organization_by_hand(outputs):
    _, report, _ = outputs
    teams = {t["team"]: t for t in report["teams"]}
    assert teams["support-bot"]["spend_usd"] == pytest.approx(round(SUPPORT, 2))
    assert teams["support-bot"]["cost_per_request_usd"] == pytest.approx(0.0765)
    assert teams["search"]["spend_usd"] == pytest.approx(round(SEARCH, 2))
    assert teams["search"]["cost_per_request_usd"] == pytest.approx((1_200 * 0.8 + 250 * 3.2) / 1e6, abs=1e-6)
    assert teams["docs-summarizer"]["spend_usd"] == pytest.approx(round(DOCS, 2))
    assert teams["docs-summarizer"]["features"][0]["cache_read_tokens_per_request"] == 6_000
    assert teams["analytics"]["spend_usd"] == pytest.approx(round(ANALYTICS, 2))
    u = report["unattributed"]
    assert (u["untagged_usd"], u["unknown_team_usd"], u["direct_model_usd"]) == pytest.approx(
        (UNTAGGED, UNKNOWN, DIRECT)
    )
    attributable = round(SUPPORT, 2) + round(SEARCH, 2) + round(DOCS, 2) + round(ANALYTICS, 2)
    total = attributable + UNTAGGED + UNKNOWN + DIRECT
    assert report["total_spend_usd"] == pytest.approx(total)  # $10,364.81
    assert report["attributable_percent"] == pytest.approx(round(100 * attributable / total, 2))  # 96.81


def test_team_spend_plus_unattributed_equals_the_total(outputs):
    _, report, _ = outputs
    assert (
        round(sum(t["spend_usd"] for t in report["teams"]) + report["unattributed_usd"], 2)
        == report["total_spend_usd"]
    )


def test_drill_canary_is_in_no_figure_but_explains_the_variance(outputs):
    _, report, _ = outputs
    assert "tokenfuse-drill-canary" not in json.dumps(report)  # the canary profile's name
    days = report["reconciliation"]["days"]
    support = [next(r for r in d["teams"] if r["team_tag"] == "support-bot") for d in days]
    assert all(r["variance_usd"] == pytest.approx(DRILL_PER_DAY) for r in support)
    others = [r for d in days for r in d["teams"] if r["team_tag"] != "support-bot"]
    assert all(r["variance_usd"] == 0 for r in others)


def test_terminal_table_and_csv(outputs):
    stdout, report, folder = outputs
    assert "Support Bot" in stdout and "$9,157.05" in stdout and "attributable 96.81%" in stdout
    assert "None" not in stdout and "null" not in stdout
    rows = list(csv.DictReader((folder / "r.csv").open()))
    assert len(rows) == 4 + 3  # four features, three unattributed items
    assert round(sum(float(r["spend_usd"]) for r in rows), 2) == report["total_spend_usd"]


def test_bad_options_exit_2_with_one_line():
    proc = tokenfuse("report", "--sandbox", "--start", "2026-11-30")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("tokenfuse report: --start and --end go together")


def test_html_page_in_a_real_browser_nothing_clipped_nothing_overlaps(outputs, browser: Browser):
    _, report, folder = outputs
    browser.open_file(folder / "r.html")
    assert "http" not in (folder / "r.html").read_text().split("<body>")[0].replace("http://www.w3.org", "")
    charts = browser.boxes("svg.chart")
    assert len(charts) == 3
    for index, chart in enumerate(charts):
        texts = browser.boxes(f"figure:nth-of-type({index + 1}) svg text")
        assert texts, "a chart without labels"
        for box in texts:
            assert box.inside(chart), f"{box.text!r} sticks out of its chart"
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                assert not a.overlaps(b), f"{a.text!r} overlaps {b.text!r}"
    width = browser.script("return document.documentElement.clientWidth")
    for table in browser.boxes("table"):
        assert table.right <= width + 0.5, "a table is wider than the page"
    for cell in browser.boxes("td, th"):
        assert cell.right <= width + 0.5
    overflowing = browser.script(
        "return Array.from(document.querySelectorAll('td, th, .kpi')).filter("
        "e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"
    )
    assert overflowing == []
    total = browser.boxes("#kpi-total b")[0].text
    assert total == f"${report['total_spend_usd']:,.2f}"


def test_budgets_plan_applied_in_moto():
    proc = tokenfuse("budgets", "plan", "--sandbox", "--apply", "--json", "-")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    budgets = {b["name"]: b for b in result["plan"]["budgets"]}
    assert set(result["applied"].values()) == {"created"} and set(result["applied"]) == set(budgets)
    insights = budgets["tokenfuse-analytics-insights"]
    assert [n["notification_type"] for n in insights["notifications"]] == ["FORECASTED", "ACTUAL"]
    # support-bot's base month-end, by hand: Dec 1-6 measured + Dec 7-31 on its line, at $0.0765 a request
    base = sum(14_000 + 100 * d for d in range(29, 60)) * 0.0765
    assert budgets["tokenfuse-support-bot"]["forecast_usd"] == pytest.approx(round(base, 2))
    assert budgets["tokenfuse-support-bot"]["limit_usd"] == float(-(-round(base, 2) * 1.2 // 1))
