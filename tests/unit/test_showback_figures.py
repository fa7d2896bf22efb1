"""Showback figures on hand-built lines: every dollar worked out here, by hand."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.usage import Usage
from tokenfuse.showback.budgets import create_budget_request, plan_budgets
from tokenfuse.showback.digest import due_at, due_recipients
from tokenfuse.showback.forecast import fit, next_quarter
from tokenfuse.showback.period import Period, check_readable
from tokenfuse.showback.reading import Line
from tokenfuse.showback.reconcile import reconcile
from tokenfuse.showback.report import ReportOptions, build_report
from tokenfuse.teams import TeamDirectory, TeamDirectoryError, load_directory

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday
FIRST = date(2026, 11, 2)  # 35 days before
SONNET = Rates(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
LLAMA = Rates(input=0.72, output=0.72)
HAIKU = Rates(input=0.25, output=1.25)


def days(requests, inp, out, count=35, cache=0.0):
    """Usage per day: ``requests(d)`` requests of ``inp``/``out(d)`` tokens, d = 0 .. count-1."""
    out_of = out if callable(out) else (lambda d: out)
    return {
        FIRST + timedelta(days=d): Usage(
            requests(d), requests(d) * inp, requests(d) * out_of(d), cache_read_tokens=requests(d) * cache
        )
        for d in range(count)
    }


def line(name, tags, rates, model, usage, subject="profile", account="444455556666", region="us-east-1"):
    arn = (
        None
        if subject == "direct-model"
        else f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{name}"
    )
    return Line(account, region, subject, name, arn, model, rates, tags, usage)


def tags(team, feature, env):
    return {"team": team, "feature": feature, "environment": env}


SUPPORT = line(
    "support-agent",
    tags("support-bot", "agent-answers", "prod"),
    SONNET,
    "anthropic.claude-sonnet-4-20250514-v1:0",
    days(lambda d: 14_000 + 100 * d, 500, lambda d: 5_000 if d >= 28 else 1_500),
)
ANALYTICS = line(
    "analytics",
    tags("analytics", "insights", "dev"),
    LLAMA,
    "meta.llama3-3-70b-instruct-v1:0",
    days(lambda d: 5_000 - 50 * d, 3_000, 600),
)
UNTAGGED = line(
    "batch-experiments",
    {},
    SONNET,
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    days(lambda d: 2_000, 1_500, 1_000),
)
GHOST = line(
    "ml-research-eval",
    {"team": "ml-research"},
    HAIKU,
    "anthropic.claude-3-haiku-20240307-v1:0",
    days(lambda d: 6_000, 2_500, 400),
)
DIRECT = line("anthropic.claude-3-haiku-20240307-v1:0", {}, HAIKU, "anthropic.claude-3-haiku-20240307-v1:0",
              days(lambda d: 3_000, 1_000, 200), subject="direct-model")  # fmt: skip
DRILL_TAGGED = {**tags("support-bot", "agent-answers", "prod"), "tokenfuse:drill": "true"}
DRILL = line("tokenfuse-drill-20261201t100000-a1b2c3", DRILL_TAGGED, HAIKU,
             "anthropic.claude-3-haiku-20240307-v1:0", days(lambda d: 1_000, 500, 100))  # fmt: skip
DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {"name": "support-bot", "slack_channel": "C0SUPPORT1"},
            {"name": "analytics", "slack_channel": "C0ANALYT01"},
        ]
    }
)


def team_for(value):
    route = DIRECTORY.route(value)
    return route.team.name if route.team else None


@pytest.fixture(scope="module")
def report():
    lines = [SUPPORT, ANALYTICS, UNTAGGED, GHOST, DIRECT, DRILL]
    return build_report(
        lines, period=Period.last_week(NOW.date()), now=NOW, team_for=team_for, options=ReportOptions()
    )


def test_period_is_the_previous_monday_to_sunday():
    assert Period.last_week(date(2026, 12, 9)) == Period(date(2026, 11, 30), date(2026, 12, 7))
    assert Period.last_week(date(2026, 12, 7)).previous() == Period(date(2026, 11, 23), date(2026, 11, 30))
    with pytest.raises(ValueError, match="455 days"):
        check_readable(Period(date(2025, 1, 1), date(2025, 1, 8)), NOW.date())
    with pytest.raises(ValueError, match="nothing is measured"):
        check_readable(Period(date(2026, 12, 8), date(2026, 12, 9)), NOW.date())


def test_cost_per_request_and_tokens_by_hand(report):
    # the week is days 28..34: requests = 7 x 14,000 + 100 x (28 + ... + 34) = 98,000 + 21,700
    requests = 7 * 14_000 + 100 * sum(range(28, 35))
    assert requests == 119_700
    cost = requests * (500 * 3.0 + 5_000 * 15.0) / 1e6  # $9,157.05
    support = next(t for t in report.teams if t.team == "support-bot")
    feature = support.features[0]
    assert feature.requests == 119_700
    assert feature.spend_usd == pytest.approx(9_157.05)
    assert feature.cost_per_request_usd == pytest.approx(cost / requests) == pytest.approx(0.0765)
    assert feature.output_tokens_per_request == 5_000
    # the week before: days 21..27 at 1,500 output tokens
    before = 7 * 14_000 + 100 * sum(range(21, 28))
    assert feature.previous_spend_usd == pytest.approx(round(before * (500 * 3 + 1_500 * 15) / 1e6, 2))


def test_drill_canaries_are_in_no_figure(report):
    support = next(t for t in report.teams if t.team == "support-bot")
    assert support.spend_usd == pytest.approx(9_157.05)  # the canary's $0.25 a day is not there
    assert all("drill" not in i.label for i in report.unattributed.items)
    assert "drill" not in report.model_dump_json()


def test_a_teams_profile_tagged_as_a_drill_stays_in_the_figures():
    # Given a team's own profile that carries the drill tag but not a canary's name
    posing = line("support-agent-2", DRILL_TAGGED, HAIKU, "anthropic.claude-3-haiku-20240307-v1:0",
                  days(lambda d: 1_000, 500, 100))  # fmt: skip
    report = build_report(
        [posing], period=Period.last_week(NOW.date()), now=NOW, team_for=team_for, options=ReportOptions()
    )
    # Then its spend is the team's: 7 days x 1,000 requests x (500 x $0.25 + 100 x $1.25) per million
    (support,) = report.teams
    assert support.team == "support-bot" and support.spend_usd == pytest.approx(7 * 1_000 * 250 / 1e6)


def test_unattributed_breakdown_and_attributable_percent_by_hand(report):
    untagged = 7 * 2_000 * (1_500 * 3.0 + 1_000 * 15.0) / 1e6  # $273.00
    ghost = 7 * 6_000 * (2_500 * 0.25 + 400 * 1.25) / 1e6  # $47.25
    direct = 7 * 3_000 * (1_000 * 0.25 + 200 * 1.25) / 1e6  # $10.50
    analytics = sum(5_000 - 50 * d for d in range(28, 35)) * (3_000 + 600) * 0.72 / 1e6
    u = report.unattributed
    assert (u.untagged_usd, u.unknown_team_usd, u.direct_model_usd) == pytest.approx(
        (untagged, ghost, direct)
    )
    assert report.unattributed_usd == pytest.approx(273.0 + 47.25 + 10.5)
    total = 9_157.05 + round(analytics, 2) + 330.75
    assert report.total_spend_usd == pytest.approx(total)
    assert report.attributable_percent == pytest.approx(round(100 * (total - 330.75) / total, 2))


def test_team_spend_plus_unattributed_is_the_total_to_the_cent(report):
    assert (
        round(sum(t.spend_usd for t in report.teams) + report.unattributed_usd, 2) == report.total_spend_usd
    )
    for team in report.teams:
        assert round(sum(f.spend_usd for f in team.features), 2) == team.spend_usd


def test_movers_are_ranked_by_the_size_of_the_change(report):
    assert [m.label for m in report.movers][:2] == ["support-bot/agent-answers", "analytics/insights"]
    analytics = next(m for m in report.movers if m.label == "analytics/insights")
    assert analytics.change_usd < 0  # shrinking: 50 requests a day fewer


def test_output_cap_sized_at_the_features_median(report):
    cap = next(lever for lever in report.levers if lever.lever == "output-cap")
    # median of the 28 daily figures (21 at 1,500, 7 at 5,000) is 1,500: 3,500 tokens saved a request
    saved_week = 119_700 * 3_500 * 15.0 / 1e6
    assert cap.saving_usd_per_month == pytest.approx(round(saved_week * 30 / 7, 2))
    assert cap.basis.startswith("estimate:") and "1,500" in cap.basis


def test_batch_lever_for_dev_is_half_the_cost(report):
    batch = next(lever for lever in report.levers if lever.lever == "batch")
    cost = sum(5_000 - 50 * d for d in range(28, 35)) * 3_600 * 0.72 / 1e6
    assert (batch.team, batch.environment) == ("analytics", "dev")
    assert batch.saving_usd_per_month == pytest.approx(round(cost / 2 * 30 / 7, 2))
    assert not any(lever.lever == "prompt-caching" for lever in report.levers)  # 500 tokens: below 1,024


def test_forecast_arithmetic_by_hand(report):
    # support-bot: Dec 1-6 measured (days 29..34), Dec 7-31 (days 35..59) from the fitted line at $0.0765
    unit = 0.0765
    month_to_date = sum(14_000 + 100 * d for d in range(29, 35)) * unit
    rest = sum(14_000 + 100 * d for d in range(35, 60)) * unit
    f = report.forecast.teams["support-bot"]
    assert f.month_to_date_usd == pytest.approx(round(month_to_date, 2))
    assert f.month_end_usd.base == pytest.approx(round(month_to_date + rest, 2))
    assert f.month_end_usd.stress == pytest.approx(round(month_to_date + 1.5 * rest, 2))
    saving = 119_700 * 3_500 * 15.0 / 1e6 * 30 / 7 / (9_157.05 * 30 / 7)  # the cap's share of the cost
    assert f.month_end_usd.optimized == pytest.approx(round(month_to_date + rest * (1 - saving), 2), abs=0.02)
    # 2027-Q1: days 60 .. 149 (Jan 1 .. Mar 31)
    quarter = sum(14_000 + 100 * d for d in range(60, 150)) * unit
    assert f.next_quarter_usd.base == pytest.approx(round(quarter, 2))
    assert report.forecast.quarter == "2027-Q1" and report.forecast.month == "2026-12"


def test_least_squares_line_and_quarters():
    trend = fit(date(2026, 1, 1), [10, 12, 14, 16])
    assert (trend.intercept, trend.slope) == pytest.approx((10.0, 2.0))
    assert trend.at(date(2026, 1, 11)) == pytest.approx(30.0)
    assert fit(date(2026, 1, 1), [5, 3, 1]).at(date(2026, 1, 31)) == 0.0  # never below zero
    assert next_quarter(date(2026, 11, 5))[2] == "2027-Q1"
    assert next_quarter(date(2026, 2, 5))[:2] == (date(2026, 4, 1), date(2026, 7, 1))


def unit_price(usd_per_hour):
    return ReportOptions(unit_prices={"anthropic.claude-sonnet-4-20250514-v1:0": usd_per_hour})


def test_provisioned_throughput_break_even_by_hand():
    period = Period.last_week(NOW.date())
    monthly = 9_157.05 * 30 / 7  # $39,244.50 a month on demand
    below = build_report([SUPPORT], period=period, now=NOW, team_for=team_for, options=unit_price(60.0))
    assert not any(lever.lever == "provisioned-throughput" for lever in below.levers)  # 60 x 730 = $43,800
    assert any("not proposed" in note for note in below.notes)
    above = build_report([SUPPORT], period=period, now=NOW, team_for=team_for, options=unit_price(40.0))
    pt = next(lever for lever in above.levers if lever.lever == "provisioned-throughput")
    assert pt.saving_usd_per_month == pytest.approx(round(monthly - 40.0 * 730, 2))


def test_budget_plan_caps_dev_only_features(report):
    plan = plan_budgets(report)
    by_name = {b.name: b for b in plan.budgets}
    insights = by_name["tokenfuse-analytics-insights"]
    assert [n.notification_type for n in insights.notifications] == ["FORECASTED", "ACTUAL"]
    assert insights.notifications[1].hard_cap
    agent = by_name["tokenfuse-support-bot-agent-answers"]
    assert [n.notification_type for n in agent.notifications] == ["FORECASTED"]
    base = report.forecast.teams["support-bot"].month_end_usd.base
    assert by_name["tokenfuse-support-bot"].limit_usd == float(-(-base * 1.2 // 1))
    request = create_budget_request(
        insights, "111122223333", "arn:aws:sns:us-east-1:111122223333:tokenfuse-budgets-dev"
    )
    assert request["Budget"]["FilterExpression"]["And"][1]["Tags"] == {
        "Key": "feature", "Values": ["insights"], "MatchOptions": ["EQUALS"]
    }  # fmt: skip
    assert request["NotificationsWithSubscribers"][1]["Notification"]["NotificationType"] == "ACTUAL"


def test_reconciliation_names_each_teams_variance():
    day = date(2026, 12, 1)
    billed = {day: {"team$support-bot": 1_300.0, "team$": 99.0}}
    result = reconcile([SUPPORT, UNTAGGED, DIRECT, DRILL], billed, Period(day, day + timedelta(days=1)),
                       tag_keys=ReportOptions().tag_keys, team_for=team_for)  # fmt: skip
    rows = {r.team_tag: r for r in result.days[0].teams}
    ours = (14_000 + 100 * 29) * (500 * 3 + 5_000 * 15) / 1e6  # $1,292.85 (day 29)
    assert rows["support-bot"].metrics_usd == pytest.approx(ours)
    assert rows["support-bot"].variance_usd == pytest.approx(round(1_300.0 - ours, 2))
    untagged_and_direct = 2_000 * (1_500 * 3 + 1_000 * 15) / 1e6 + 3_000 * (250 + 250) / 1e6  # $39 + $1.50
    assert rows[""].metrics_usd == pytest.approx(untagged_and_direct)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", datetime(2026, 12, 7, 8, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 12, 7, 13, tzinfo=UTC)),  # 08:00 EST
        ("Asia/Kathmandu", datetime(2026, 12, 7, 3, tzinfo=UTC)),  # 08:00 +05:45 = 02:15 UTC, next hour
        ("Pacific/Kiritimati", datetime(2026, 12, 7, 1, tzinfo=UTC)),  # 08:00 +14 is Sunday: not before 01:00
    ],
)
def test_digest_is_due_monday_eight_in_the_teams_zone(zone, expected):
    assert due_at(date(2026, 12, 7), zone) == expected


def test_due_recipients_per_hour():
    directory = load_directory(
        "teams:\n  - {name: a, slack_channel: C0AAAAAAAA}\n"
        "  - {name: b, slack_channel: C0BBBBBBBB, timezone: America/New_York}\n"
        "finops: {slack_channel: C0FINOPS01}\n"
    )
    assert [r.name for r in due_recipients(directory, datetime(2026, 12, 7, 8, 0, tzinfo=UTC))] == [
        "a",
        "finops",
    ]
    assert [r.name for r in due_recipients(directory, datetime(2026, 12, 7, 13, 0, tzinfo=UTC))] == ["b"]
    assert due_recipients(directory, datetime(2026, 12, 8, 8, 0, tzinfo=UTC)) == []  # a Tuesday


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc", "../etc/passwd", "", "Europe/Paris\n"])
def test_a_teams_timezone_must_be_an_iana_zone(zone):
    with pytest.raises(TeamDirectoryError, match="timezone: not an IANA time zone"):
        load_directory(f"teams:\n  - name: a\n    slack_channel: C0AAAAAAAA\n    timezone: {zone!r}\n")
