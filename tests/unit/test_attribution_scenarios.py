"""The scenarios of issue 12 over the in-memory fakes (Metrics Insights answered by the sandbox's own
emulation code), every dollar worked out by hand in the test: direct model calls in a CAD day, an
unpriced runaway, an alarm at 12:03, a 4-hour storm inside CAD's day, a profile created mid-month,
and the double-counting guard."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.attribution_fakes import (
    HAIKU3,
    SONNET,
    UNPRICED,
    FakeBedrock,
    FakeCloudWatch,
    hours,
    seed,
)
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients, should_publish
from tokenfuse.events import RootCause, SpendSignal

ACCOUNT, REGION = "123456789012", "us-east-1"
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
DAY = datetime(2026, 11, 19, tzinfo=UTC)  # the CAD day
HOUR = timedelta(hours=1)


def per_request(model: str, tokens_in: float, tokens_out: float) -> float:
    """Dollars of one request at the list rates worked out here (per million tokens)."""
    rates = {SONNET: (3.0, 15.0), HAIKU3: (0.25, 1.25), HAIKU35: (0.8, 4.0)}[model]
    return (tokens_in * rates[0] + tokens_out * rates[1]) / 1e6


def cad(**overrides) -> SpendSignal:
    fields = {
        "source": "cost-anomaly",
        "dedup_key": "anomaly-1",
        "received_at": DAY + timedelta(days=1, hours=14),
        "account_id": ACCOUNT,
        "region": REGION,
        "window_start": DAY,
        "window_end": DAY + timedelta(days=1),
        "impact_usd": 6.5,
        "root_causes": [RootCause(account_id=ACCOUNT, region=REGION, service="Amazon Bedrock")],
        "raw_source": "eventbridge",
        "summary": "CAD anomaly",
    }
    return SpendSignal(**(fields | overrides))


def attribute(bedrock, cloudwatch, signal, now, **settings):
    attributor = Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch),
        AttributionSettings(**settings),
        now=lambda: now,
    )
    return attributor.attribute(signal), attributor


def five_flat_profiles(bedrock, cloudwatch, start, end):
    """Five Sonnet profiles, 100 requests an hour at 3,000 in / 400 out, every hour in [start, end)."""
    for i in range(5):
        bedrock.add(f"flat{i:08d}", SONNET, {"team": f"team{i}"})
        seed(cloudwatch.put, f"flat{i:08d}", hours(start, end), 100, 3_000, 400)


def test_direct_model_calls_in_a_cad_day_are_a_culprit_with_the_right_dollars():
    # Given a flat week on five profiles, and direct calls to Claude 3.5 Haiku (no profile):
    # 50 requests an hour at 2,000 in / 500 out, then 10x for four hours of the CAD day
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    five_flat_profiles(bedrock, cloudwatch, DAY - timedelta(days=7), DAY + timedelta(days=1))
    storm = hours(DAY + timedelta(hours=10), DAY + timedelta(hours=14))
    ordinary = [h for h in hours(DAY - timedelta(days=7), DAY + timedelta(days=1)) if h not in storm]
    seed(cloudwatch.put, HAIKU35, ordinary, 50, 2_000, 500)
    seed(cloudwatch.put, HAIKU35, storm, 500, 2_000, 500)
    # When CAD's anomaly for that account and day is attributed, the next day at 14:00
    now = DAY + timedelta(days=1, hours=14)
    result, _ = attribute(bedrock, cloudwatch, cad(), now)
    # Then there is something to publish: the direct calls, a culprit of their own
    assert should_publish(result)
    (direct,) = result.culprits
    assert (direct.subject, direct.profile_arn, direct.profile_id, direct.profile_name) == (
        "direct-model",
        None,
        None,
        None,
    )
    assert (direct.model_ids, direct.team, direct.tagged, direct.callers) == ([HAIKU35], None, False, None)
    assert direct.subject_key == f"direct-model/{ACCOUNT}/{REGION}/{HAIKU35}"
    # $0.0036 a request: $0.18 an ordinary hour, $1.80 a storm hour
    ordinary_hour, storm_hour = 50 * per_request(HAIKU35, 2_000, 500), 500 * per_request(HAIKU35, 2_000, 500)
    assert (ordinary_hour, storm_hour) == (pytest.approx(0.18), pytest.approx(1.8))
    # the day's totals: 20 ordinary hours and 4 storm hours against 24 ordinary hours
    assert direct.window_cost_usd == pytest.approx(20 * ordinary_hour + 4 * storm_hour)
    assert direct.baseline_cost_usd == pytest.approx(24 * ordinary_hour)
    assert direct.delta_usd == pytest.approx(4 * (storm_hour - ordinary_hour))  # $6.48
    assert direct.share == 1.0
    # the rate and kind come from the four peak hours, the totals stay beside them
    assert (direct.peak.start, direct.peak.end, direct.peak.hours) == (storm[0], storm[-1] + HOUR, 4.0)
    assert (direct.cost_per_hour_usd, direct.baseline_cost_per_hour_usd) == (
        pytest.approx(storm_hour),
        pytest.approx(ordinary_hour),
    )
    assert direct.kind == "request-storm"
    assert result.direct_model_usd == pytest.approx(6.48)
    assert result.spike_usd == pytest.approx(6.48)
    assert result.unattributed_usd == pytest.approx(6.5 - 6.48)
    # month-end: Nov 12-19 read (188 ordinary + 4 storm hours), Nov 1-11 (264 h) at the baseline
    # rate, the 264 h from Nov 20 to the month's end at the storm's rate
    assert direct.month_end_usd == pytest.approx(188 * 0.18 + 4 * 1.8 + 264 * 0.18 + 264 * 1.8, abs=0.01)
    # And the profiles, flat, are not blamed
    assert all(c.subject == "direct-model" for c in result.culprits)


def test_profiles_on_the_same_model_are_taken_out_of_its_direct_calls():
    # Given a profile on Claude 3 Haiku whose calls AWS would also count under the model's own
    # ModelId (unconfirmed: tokenfuse guards against it), and direct calls on that model that triple
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("haikuapp0001", HAIKU3, {"team": "search"})
    week, window = hours(DAY - timedelta(days=7), DAY), hours(DAY, DAY + 2 * HOUR)
    seed(cloudwatch.put, "haikuapp0001", week + window, 100, 1_000, 100)
    seed(cloudwatch.put, HAIKU3, week, 100 + 40, 1_000, 100)  # the profile's 100 and 40 direct
    seed(cloudwatch.put, HAIKU3, window, 100 + 120, 1_000, 100)
    now = DAY + 2 * HOUR
    result, _ = attribute(bedrock, cloudwatch, cad(window_end=now, impact_usd=None), now)
    # Then the direct culprit counts only what the profile does not explain: 40 -> 120 requests an hour
    (direct,) = result.culprits
    cost = per_request(HAIKU3, 1_000, 100)
    assert direct.model_ids == [HAIKU3]
    assert direct.invocations == 240
    assert direct.delta_usd == pytest.approx(2 * (120 - 40) * cost)
    # And the result says how the double counting was avoided
    assert any("minus what the profiles on" in note for note in result.notes)


def test_a_model_series_smaller_than_its_profiles_is_taken_as_direct_calls_alone():
    # Given a busy profile on Claude 3 Haiku that goes quiet, and direct calls (fewer than the
    # profile's) that triple: AWS cannot be counting the profile's calls in the model's series
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("haikuapp0001", HAIKU3, {"team": "search"})
    week, window = hours(DAY - timedelta(days=7), DAY), hours(DAY, DAY + 2 * HOUR)
    seed(cloudwatch.put, "haikuapp0001", week, 1_000, 1_000, 100)
    seed(cloudwatch.put, HAIKU3, week, 40, 1_000, 100)
    seed(cloudwatch.put, HAIKU3, window, 120, 1_000, 100)
    now = DAY + 2 * HOUR
    result, _ = attribute(bedrock, cloudwatch, cad(window_end=now, impact_usd=None), now)
    # Then nothing is subtracted: the direct calls grew from 40 to 120 an hour
    (direct,) = result.culprits
    assert direct.delta_usd == pytest.approx(2 * (120 - 40) * per_request(HAIKU3, 1_000, 100))
    assert not any("minus what the profiles on" in note for note in result.notes)


def test_an_unpriced_runaway_is_flagged_with_its_token_rate_and_a_severity_from_growth():
    # Given a profile on a model with no price whose traffic grows tenfold in the alarm's hour
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("odd000000001", UNPRICED, {"team": "labs"})
    now = DAY + timedelta(hours=12)
    seed(cloudwatch.put, "odd000000001", hours(now - timedelta(days=7, hours=1), now - HOUR), 10, 1_000, 100)
    seed(cloudwatch.put, "odd000000001", [now - HOUR], 100, 1_000, 100)
    alarm = cad(
        source="token-rate-alarm",
        window_start=now - HOUR,
        window_end=now,
        impact_usd=None,
        profile_id="odd000000001",
    )
    result, _ = attribute(bedrock, cloudwatch, alarm, now)
    (odd,) = result.culprits
    # Then no dollars anywhere, never $0: the model is named as unpriced, the token rate is there
    assert odd.unpriced_models == [UNPRICED]
    assert (odd.window_cost_usd, odd.delta_usd, odd.cost_per_hour_usd, odd.month_end_usd) == (None,) * 4
    assert (odd.tokens_per_hour, odd.baseline_tokens_per_hour) == (100 * 1_100, 10 * 1_100)
    # And the severity comes from the token growth: 10x is critical
    assert result.severity == "critical"
    assert result.spike_usd == 0


def test_an_alarm_at_12_03_ends_at_12_03_and_marks_the_running_hour():
    # Given a profile at 600 requests an hour (10 a minute, 3,000 in / 400 out) all week, whose answers
    # run 10x longer from 12:00; the alarm fires at 12:03
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("chat00000001", SONNET, {"team": "support"})
    noon = DAY + timedelta(hours=12)
    seed(cloudwatch.put, "chat00000001", hours(noon - timedelta(days=7), noon), 600, 3_000, 400)
    for minute in range(3):
        seed(cloudwatch.put, "chat00000001", [noon + timedelta(minutes=minute)], 10, 3_000, 4_000)
    now = noon + timedelta(minutes=3)
    alarm = cad(
        source="token-rate-alarm",
        window_start=noon,
        window_end=now,
        impact_usd=None,
        profile_id="chat00000001",
        root_causes=[],
    )
    result, _ = attribute(bedrock, cloudwatch, alarm, now)
    # Then the window ends at 12:03, and the running hour is marked: 3 minutes of it
    assert (result.window_start, result.window_end, result.last_hour_minutes) == (noon, now, 3)
    (chat,) = result.culprits
    # 30 requests so far at $0.069 = $2.07 over 0.05 h: $41.40/h; the baseline's same 3 minutes,
    # 30 requests at $0.015 = $0.45: $9.00/h
    runaway, ordinary = per_request(SONNET, 3_000, 4_000), per_request(SONNET, 3_000, 400)
    assert chat.window_cost_usd == pytest.approx(30 * runaway)
    assert chat.baseline_cost_usd == pytest.approx(30 * ordinary)
    assert chat.cost_per_hour_usd == pytest.approx(30 * runaway / 0.05)
    assert chat.baseline_cost_per_hour_usd == pytest.approx(600 * ordinary)
    # And the sparkline's last bar is the running hour's rate, not 3 minutes of spend beside whole hours
    assert chat.last_hour_minutes == 3
    assert chat.hourly_cost_usd[-1] == pytest.approx(30 * runaway / 0.05)
    assert chat.hourly_cost_usd[:-1] == pytest.approx([600 * ordinary] * 23)
    assert chat.kind == "output-runaway"


def test_a_four_hour_storm_inside_cads_day_is_classified_from_its_peak_hours():
    # Given a profile at 100 requests an hour whose answers run 10x longer for four hours of the day
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("chat00000001", SONNET, {"team": "support"})
    storm = hours(DAY + timedelta(hours=10), DAY + timedelta(hours=14))
    everything = hours(DAY - timedelta(days=7), DAY + timedelta(days=1))
    seed(cloudwatch.put, "chat00000001", [h for h in everything if h not in storm], 100, 3_000, 400)
    seed(cloudwatch.put, "chat00000001", storm, 100, 3_000, 4_000)
    result, _ = attribute(bedrock, cloudwatch, cad(impact_usd=21.6), DAY + timedelta(days=1, hours=14))
    (chat,) = result.culprits
    # Then the kind comes from the peak (4,000 output tokens a request against 400), not "unknown"
    assert chat.kind == "output-runaway"
    assert (chat.tokens_per_request.output, chat.baseline_tokens_per_request.output) == (4_000, 400)
    assert (chat.peak.start, chat.peak.hours) == (storm[0], 4.0)
    # $6.90 a peak hour against $1.50; beside it, the day's totals: 20 x $1.50 + 4 x $6.90 against 24 x $1.50
    ordinary, runaway = 100 * per_request(SONNET, 3_000, 400), 100 * per_request(SONNET, 3_000, 4_000)
    assert (chat.cost_per_hour_usd, chat.baseline_cost_per_hour_usd) == (
        pytest.approx(runaway),
        pytest.approx(ordinary),
    )
    assert chat.window_cost_usd == pytest.approx(20 * ordinary + 4 * runaway)
    assert chat.baseline_cost_usd == pytest.approx(24 * ordinary)
    assert chat.delta_usd == pytest.approx(21.6)
    assert chat.invocations == 2_400
    assert result.unattributed_usd == pytest.approx(0.0)


def test_the_month_end_of_a_profile_created_mid_month_counts_only_the_hours_it_existed():
    # Given a profile created on Nov 10 at 00:00, flat at 100 requests an hour ever since, that
    # doubles in a 2-hour window on Nov 19 (read back 7 days: from Nov 12)
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    created = datetime(2026, 11, 10, tzinfo=UTC)
    bedrock.add("young0000001", SONNET, {"team": "search"}, created_at=created)
    start, end = DAY + timedelta(hours=10), DAY + timedelta(hours=12)
    seed(cloudwatch.put, "young0000001", hours(created, start), 100, 3_000, 400)
    seed(cloudwatch.put, "young0000001", hours(start, end), 200, 3_000, 400)
    result, _ = attribute(bedrock, cloudwatch, cad(window_start=start, window_end=end, impact_usd=None), end)
    (young,) = result.culprits
    # Then month-end = the hours read (Nov 12 10:00 to Nov 19 12:00: 170 h, 2 of them doubled)
    # + the unread hours since creation (Nov 10 00:00 to Nov 12 10:00: 58 h, not 250 h from Nov 1)
    # at the baseline's $1.50/h + the 276 h left (Nov 19 12:00 to Dec 1) at $3.00/h
    hour = 100 * per_request(SONNET, 3_000, 400)
    assert young.month_end_usd == pytest.approx(
        168 * hour + 2 * 2 * hour + 58 * hour + 276 * 2 * hour, abs=0.01
    )
