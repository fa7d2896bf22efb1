"""Attribution end to end over in-memory fakes: a seeded spike among several profiles is attributed
to the right profile with the right delta, share, kind, owner, month-end and severity."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.support.attribution_fakes import (
    ACCOUNT,
    HAIKU3,
    NOVA_MICRO,
    REGION,
    SONNET,
    UNPRICED,
    FakeBedrock,
    FakeCloudWatch,
    baseline_hours,
    hours,
    seed,
)
from tokenfuse.attribution import AttributionSettings, Attributor, ScopeClients, should_publish
from tokenfuse.attribution.service import scopes_of
from tokenfuse.events import RootCause, SpendSignal

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = (datetime(2026, 11, 20, 10, 0, tzinfo=UTC), NOW)

# Shapes: (invocations per hour, input, output, cache read, cache write per request)
BASE = (100, 3_000, 400, 0, 0)
SPIKES = {
    "request-storm": (1_000, 3_000, 400, 0, 0),
    "output-runaway": (100, 3_000, 4_000, 0, 0),
    "context-bloat": (100, 30_000, 400, 0, 0),
    "unknown": (200, 3_000, 800, 0, 0),
}


def signal(**overrides) -> SpendSignal:
    fields = {
        "source": "cost-anomaly",
        "dedup_key": "anomaly-1",
        "received_at": NOW,
        "account_id": "123456789012",
        "region": "us-east-1",
        "window_start": WINDOW[0],
        "window_end": WINDOW[1],
        "impact_usd": 40.0,
        "raw_source": "eventbridge",
        "summary": "test",
    }
    fields.update(overrides)
    return SpendSignal(**fields)


def world(chat_now=BASE, chat_base=BASE, search_now=(100, 3_000, 400, 0, 0)):
    """Four profiles: chat (Sonnet v2, team search), search (Claude 3 Haiku, doubles),
    batch (Nova Micro, untagged, flat), odd (unpriced model, flat)."""
    bedrock, cloudwatch = FakeBedrock(), FakeCloudWatch()
    bedrock.add("chat00000001", SONNET, {"team": "search", "feature": "chat", "environment": "prod"})
    bedrock.add("search000001", HAIKU3, {"team": "search", "tokenfuse:protected": "true"})
    bedrock.add("batch0000001", NOVA_MICRO)
    bedrock.add("odd000000001", UNPRICED, {"team": "labs"})
    window, before = hours(*WINDOW), baseline_hours(*WINDOW)
    seed(cloudwatch.put, "chat00000001", before, *chat_base)
    seed(cloudwatch.put, "chat00000001", window, *chat_now)
    seed(cloudwatch.put, "search000001", before, 50, 3_000, 400)
    seed(cloudwatch.put, "search000001", window, *search_now[:3])
    for profile in ("batch0000001", "odd000000001"):
        seed(cloudwatch.put, profile, before + window, 10, 1_000, 100)
    return bedrock, cloudwatch


def attributor(bedrock, cloudwatch, **settings) -> Attributor:
    return Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch),
        AttributionSettings(**settings),
        now=lambda: NOW,
    )


def test_request_storm_attributed_with_money_by_hand():
    # Given chat goes from 100 to 1,000 requests an hour (3,000 in / 400 out = $0.015 each)
    # and search doubles (50 -> 100 an hour at $0.00125 each)
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"])
    # When the anomaly is attributed (keeping culprits of any share)
    result = attributor(bedrock, cloudwatch, min_share=0).attribute(signal())
    # Then chat is the first culprit: window $30 (2 h x 1,000 x $0.015) against a baseline of $3
    chat, search = result.culprits
    assert (chat.profile_id, chat.kind) == ("chat00000001", "request-storm")
    assert chat.window_cost_usd == pytest.approx(30.0)
    assert chat.baseline_cost_usd == pytest.approx(3.0)
    assert chat.delta_usd == pytest.approx(27.0)
    assert search.delta_usd == pytest.approx(0.125)
    assert chat.share == pytest.approx(27.0 / 27.125, abs=1e-4)
    assert chat.share + search.share == pytest.approx(1.0, abs=1e-3)
    assert (chat.cost_per_hour_usd, chat.baseline_cost_per_hour_usd) == (
        pytest.approx(15.0),
        pytest.approx(1.5),
    )
    assert (chat.invocations, chat.baseline_invocations) == (2_000, 200)
    assert (chat.tokens_per_request.input, chat.tokens_per_request.output) == (3_000, 400)
    assert (chat.baseline_tokens_per_request.input, chat.baseline_tokens_per_request.output) == (3_000, 400)
    # And the owner comes from the tags
    assert (chat.team, chat.feature, chat.environment, chat.tagged, chat.protected) == (
        "search",
        "chat",
        "prod",
        True,
        False,
    )
    assert (search.team, search.protected) == ("search", True)
    assert chat.model_ids == [SONNET] and chat.unpriced_models == []
    # And month-end = read hours of November ($3 x 7 + $30) + unread Nov 1..13 10:00 (298 h x $1.5/h)
    # + the rest of the month (252 h) at $15/h
    assert chat.month_end_usd == pytest.approx(21 + 30 + 298 * 1.5 + 252 * 15.0)
    # And the sparkline's series is the last 24 hours: this world seeds only the baseline copies
    # (the same 2 hours on each earlier day, so none in the 22 hours before the window), then $15, $15
    assert chat.hourly_cost_usd == pytest.approx([0.0] * 22 + [15.0, 15.0])
    # And the totals, the unattributed part of CAD's $40 impact and the severity
    assert result.spike_usd == pytest.approx(27.125)
    assert result.unattributed_usd == pytest.approx(40 - 27.125)
    assert result.severity == "medium"  # $13.56/h, +$3,418 by month end
    assert (result.window_start, result.window_end, result.baseline_days) == (*WINDOW, 7)
    assert should_publish(result)
    # And by default a culprit under 1% of the spike (search, 0.5%) is left out of the list
    assert [c.profile_id for c in attributor(bedrock, cloudwatch).attribute(signal()).culprits] == [
        "chat00000001"
    ]


@pytest.mark.parametrize("kind", ["request-storm", "output-runaway", "context-bloat", "unknown"])
def test_each_kind_of_spike(kind):
    # Given chat's traffic changes shape as the kind says
    bedrock, cloudwatch = world(chat_now=SPIKES[kind], search_now=(50, 3_000, 400))
    # When attributed
    result = attributor(bedrock, cloudwatch).attribute(signal())
    # Then chat is the only culprit, with all of the spike, and the kind is named
    (chat,) = result.culprits
    assert chat.profile_id == "chat00000001"
    assert chat.kind == kind
    assert chat.share == 1.0
    assert chat.delta_usd > 0


def test_rate_shift_when_the_cache_stops_hitting():
    # Given chat's prompts were 90% cache reads and now are all fresh input: same shape, pricier tokens
    bedrock, cloudwatch = world(chat_base=(100, 300, 400, 2_700, 0), chat_now=(100, 3_000, 400, 0, 0))
    # When attributed
    (chat, *_) = attributor(bedrock, cloudwatch).attribute(signal()).culprits
    # Then it is a rate shift: tokens per request flat (cache reads count as prompt), cost per token up
    assert chat.tokens_per_request == chat.baseline_tokens_per_request
    assert chat.kind == "rate-shift"
    # $0.0077 -> $0.015 a request, 200 requests
    assert chat.delta_usd == pytest.approx(200 * (0.015 - (300 * 3 + 400 * 15 + 2_700 * 0.3) / 1e6))


def test_unpriced_model_is_flagged_never_priced_at_zero():
    # Given the unpriced profile's traffic grows tenfold, and nothing else moves
    bedrock, cloudwatch = world(search_now=(50, 3_000, 400))
    seed(cloudwatch.put, "odd000000001", hours(*WINDOW), 90, 1_000, 100)
    # When attributed
    result = attributor(bedrock, cloudwatch).attribute(signal(impact_usd=None))
    # Then it is listed, flagged, with no dollars at all
    (odd,) = result.culprits
    assert odd.unpriced_models == [UNPRICED]
    assert odd.window_cost_usd is None and odd.delta_usd is None and odd.share is None
    assert odd.month_end_usd is None
    assert odd.invocations == 200
    assert result.spike_usd == 0
    assert result.unattributed_usd is None
    assert should_publish(result)


def test_no_culprit_when_nothing_grew():
    bedrock, cloudwatch = world(search_now=(50, 3_000, 400))
    result = attributor(bedrock, cloudwatch).attribute(signal())
    assert result.culprits == []
    assert result.unattributed_usd == 40.0
    assert result.severity == "low"
    assert not should_publish(result)


def test_token_rate_alarm_names_its_profile_even_when_flat():
    # Given an alarm on the (flat) batch profile while chat storms
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"], search_now=(50, 3_000, 400))
    alarm = signal(source="token-rate-alarm", impact_usd=None, profile_id="batch0000001", account_id=None)
    # When attributed
    result = attributor(bedrock, cloudwatch).attribute(alarm)
    # Then chat (the spike) and the named profile are both there, the named one with no share
    assert [c.profile_id for c in result.culprits] == ["chat00000001", "batch0000001"]
    batch = result.culprits[1]
    assert (batch.share, batch.tagged, batch.team) == (0.0, False, None)
    assert should_publish(result)


def test_untagged_profile_is_flagged():
    bedrock, cloudwatch = world(search_now=(50, 3_000, 400))
    seed(cloudwatch.put, "batch0000001", hours(*WINDOW), 990, 1_000, 100)
    (batch,) = attributor(bedrock, cloudwatch).attribute(signal()).culprits
    assert (batch.profile_id, batch.tagged, batch.team) == ("batch0000001", False, None)
    assert batch.kind == "request-storm"


def profile_arn(profile_id: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{profile_id}"


def test_owner_read_from_the_inventory_first_then_from_bedrock():
    # Given the inventory knows batch's tags (Bedrock has none for it) and does not know chat
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"])
    seed(cloudwatch.put, "batch0000001", hours(*WINDOW), 990, 1_000, 100)
    inventory = {profile_arn("batch0000001"): {"team": "batch-jobs", "environment": "prod"}}
    asked: list[str] = []

    def known_tags(arn):
        asked.append(arn)
        return inventory.get(arn)

    result = Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch),
        AttributionSettings(min_share=0),  # batch's Nova Micro storm is well under 1% of chat's
        now=lambda: NOW,
        known_tags=known_tags,
    ).attribute(signal())
    owners = {c.profile_id: (c.team, c.tagged) for c in result.culprits}
    # Then batch's owner comes from the inventory, chat's from its Bedrock tags
    assert owners == {
        "chat00000001": ("search", True),
        "search000001": ("search", True),
        "batch0000001": ("batch-jobs", True),
    }
    assert sorted(asked) == sorted(profile_arn(p) for p in owners)


def test_custom_tag_keys():
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"], search_now=(50, 3_000, 400))
    bedrock.tags[next(iter(bedrock.profiles))] = [{"key": "Owner", "value": "growth"}]
    (chat,) = attributor(bedrock, cloudwatch, team_tag_key="Owner").attribute(signal()).culprits
    assert (chat.team, chat.tagged) == ("growth", True)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # inverted: swapped
        (WINDOW[1], WINDOW[0], WINDOW),
        # empty: the hour before the end
        (NOW, NOW, (NOW - timedelta(hours=1), NOW)),
        # in the future: cut at now
        (WINDOW[0], NOW + timedelta(days=3), WINDOW),
        # a whole month (a budget): the last 24 h
        (datetime(2026, 11, 1, tzinfo=UTC), NOW, (NOW - timedelta(hours=24), NOW)),
        # minutes: whole hours
        (WINDOW[0] + timedelta(minutes=7), NOW - timedelta(minutes=3), WINDOW),
    ],
)
def test_odd_windows_are_handled(start, end, expected):
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"])
    result = attributor(bedrock, cloudwatch).attribute(signal(window_start=start, window_end=end))
    assert (result.window_start, result.window_end) == expected


def test_baseline_days_configurable_and_new_profile_averages_its_own_days():
    # Given chat was created 3 days ago (so only 3 baseline days exist)
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"], search_now=(50, 3_000, 400))
    arn = next(iter(bedrock.profiles))
    bedrock.profiles[arn]["createdAt"] = NOW - timedelta(days=3, hours=5)
    # When attributed with a 7-day baseline
    (chat,) = attributor(bedrock, cloudwatch).attribute(signal()).culprits
    # Then the baseline is the average of those 3 days, not diluted by 4 empty ones
    assert chat.baseline_invocations == 200
    # And with a 2-day baseline it is the same
    (chat2,) = attributor(bedrock, cloudwatch, baseline_days=2).attribute(signal()).culprits
    assert chat2.baseline_invocations == 200


def test_scopes_from_root_causes():
    cad = signal(
        account_id="111111111111",
        region=None,
        root_causes=[
            RootCause(account_id="222222222222", region="us-west-2", service="Amazon Bedrock"),
            RootCause(account_id="222222222222", region="us-west-2", service="Amazon Bedrock"),
            RootCause(region="eu-west-1", service="Amazon Bedrock"),
            RootCause(account_id="333333333333", region="us-east-1", service="Amazon EC2"),
        ],
    )
    assert scopes_of(cad, "us-east-1") == [("222222222222", "us-west-2"), ("111111111111", "eu-west-1")]
    alarm = signal(
        account_id=None,
        region=None,
        profile_arn="arn:aws:bedrock:eu-west-1:444444444444:application-inference-profile/abc",
    )
    assert scopes_of(alarm, "us-east-1") == [("444444444444", "eu-west-1")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # no filters: every account and region the inventory knows profiles in
        (None, [("222222222222", "us-east-1"), ("222222222222", "us-west-2"), ("333333333333", "us-east-1")]),
        # a linked-account filter keeps that account's scopes
        ({"LinkedAccount": ["222222222222"]}, [("222222222222", "us-east-1"), ("222222222222", "us-west-2")]),
        # and a region filter narrows further
        ({"LinkedAccount": ["222222222222"], "Region": ["us-west-2"]}, [("222222222222", "us-west-2")]),
        # an account the inventory does not know is still looked in, in the signal's region
        ({"LinkedAccount": ["999999999999"]}, [("999999999999", "us-east-1")]),
    ],
)
def test_budget_scope_is_its_cost_filters_within_the_inventory(filters, expected):
    # Given a Budgets alert from the payer account, which names no region
    budget = signal(source="budget", account_id="111111111111", region=None, cost_filters=filters)
    known = [("222222222222", "us-east-1"), ("222222222222", "us-west-2"), ("333333333333", "us-east-1")]
    # Then its scope comes from its filters and where the inventory knows profiles
    assert scopes_of(budget, "us-east-1", known) == expected
    # And without an inventory, an unfiltered budget falls back to its own account
    if filters is None:
        assert scopes_of(budget, "us-east-1") == [("111111111111", "us-east-1")]


def test_each_scope_gets_its_own_clients():
    # Given two accounts with one storming profile each
    worlds = {}
    for account, profile in (("222222222222", "aaaa"), ("333333333333", "bbbb")):
        bedrock, cloudwatch = FakeBedrock(account=account), FakeCloudWatch()
        bedrock.add(profile, SONNET, {"team": profile})
        seed(cloudwatch.put, profile, baseline_hours(*WINDOW), 100, 3_000, 400)
        seed(cloudwatch.put, profile, hours(*WINDOW), 1_000 if profile == "aaaa" else 500, 3_000, 400)
        worlds[account] = ScopeClients(bedrock, cloudwatch)
    asked = []

    def clients(account, region):
        asked.append((account, region))
        return worlds[account]

    cad = signal(
        root_causes=[
            RootCause(account_id="222222222222", region="us-east-1"),
            RootCause(account_id="333333333333", region="us-east-1"),
        ]
    )
    # When attributed
    result = Attributor(clients, now=lambda: NOW).attribute(cad)
    # Then each account was read with its own clients and the culprits merged, largest first
    assert asked == [("222222222222", "us-east-1"), ("333333333333", "us-east-1")]
    assert [(c.profile_id, c.account_id, c.team) for c in result.culprits] == [
        ("aaaa", "222222222222", "aaaa"),
        ("bbbb", "333333333333", "bbbb"),
    ]
    assert result.spike_usd == pytest.approx(27.0 + 12.0)


def test_named_profile_missing_from_the_list_is_fetched_or_skipped():
    # Given an alarm naming a profile the list does not return (e.g. listed elsewhere), and one
    # naming a profile that does not exist at all
    bedrock, cloudwatch = world(search_now=(50, 3_000, 400))
    arn = bedrock.add("hidden000001", SONNET, {"team": "ops"}, type_="HIDDEN")
    seed(cloudwatch.put, "hidden000001", baseline_hours(*WINDOW) + hours(*WINDOW), 10, 1_000, 100)
    alarm = signal(source="token-rate-alarm", impact_usd=None, profile_arn=arn, profile_id="hidden000001")
    # When attributed
    result = attributor(bedrock, cloudwatch).attribute(alarm)
    # Then it was fetched with GetInferenceProfile and reported
    assert [c.profile_id for c in result.culprits] == ["hidden000001"]
    assert bedrock.calls["get_inference_profile"] == 1
    # And a profile that does not exist is skipped without failing
    gone = signal(source="token-rate-alarm", impact_usd=None, profile_id="gone00000000")
    assert attributor(bedrock, cloudwatch).attribute(gone).culprits == []


def test_a_window_longer_than_max_window_hours_is_attributed_on_its_end_and_says_so():
    # Given a Budgets-like signal spanning the month so far
    bedrock, cloudwatch = world(chat_now=SPIKES["output-runaway"])
    month = signal(source="budget", window_start=datetime(2026, 11, 1, tzinfo=UTC), window_end=NOW)
    # When attributed with the default 24-hour cap
    result = attributor(bedrock, cloudwatch).attribute(month)
    # Then the last 24 hours are attributed, and the result says the window was clamped
    assert result.window_start == NOW - timedelta(hours=24)
    assert any(note.startswith("window clamped: the signal spans 2026-11-01 00:00Z") for note in result.notes)
    # and a window inside the cap carries no such note
    assert not any("clamped" in n for n in attributor(bedrock, cloudwatch).attribute(signal()).notes)


LATE = NOW + timedelta(hours=18, minutes=42)  # CAD reports the 10:00-12:00 anomaly the next morning


def test_a_late_signal_reads_each_culprit_in_the_last_complete_hour_before_it_arrived():
    # Given chat's request storm in the window, then, the next morning 05:00-06:00, its usual 100
    # requests an hour, 60 under its id and 40 under its ARN (both ModelId forms are added up)
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"])
    arrival_hour = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    seed(cloudwatch.put, "chat00000001", [arrival_hour], 60, 3_000, 400)
    seed(cloudwatch.put, bedrock.profiles_arn("chat00000001"), [arrival_hour], 40, 3_000, 400)
    late = Attributor(
        lambda account, region: ScopeClients(bedrock, cloudwatch), AttributionSettings(), now=lambda: LATE
    )
    # When the anomaly arrives at 06:42
    result = late.attribute(signal(received_at=LATE))
    (chat,) = result.culprits
    # Then its rate at arrival is that hour's: 100 requests x $0.015 (3,000 in, 400 out on Sonnet)
    arrival = chat.rate_at_arrival
    assert arrival is not None
    assert (arrival.hour_start, arrival.hour_end) == (arrival_hour, arrival_hour + timedelta(hours=1))
    assert arrival.cost_per_hour_usd == pytest.approx(100 * (3_000 * 3 + 400 * 15) / 1e6)
    assert arrival.tokens_per_hour == pytest.approx(100 * 3_400)
    # while the window's own figures stay the window's ($15/h)
    assert chat.cost_per_hour_usd == pytest.approx(15.0)
    # and it took one GetMetricData call more than a prompt signal's attribution (one per scope)
    prompt = attributor(bedrock, cloudwatch)
    prompt.attribute(signal())
    assert late.stats.get_metric_data_calls == prompt.stats.get_metric_data_calls + 1


def test_a_prompt_signal_reads_no_arrival_hour_and_an_unreadable_one_leaves_it_null():
    bedrock, cloudwatch = world(chat_now=SPIKES["request-storm"])
    # a signal whose window holds the hour it arrives in: nothing more is read
    prompt = attributor(bedrock, cloudwatch).attribute(signal())
    assert prompt.culprits[0].rate_at_arrival is None

    class ArrivalDenied(FakeCloudWatch):
        def get_metric_data(self, **kwargs):
            if kwargs["StartTime"] >= NOW:  # only the arrival hour's read is refused
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")
            return super().get_metric_data(**kwargs)

    denied = ArrivalDenied()
    denied.data = cloudwatch.data
    late = Attributor(
        lambda account, region: ScopeClients(bedrock, denied), AttributionSettings(), now=lambda: LATE
    )
    result = late.attribute(signal(received_at=LATE))
    # the window's figures stand; the rate at arrival is unknown, never the window's
    assert result.culprits[0].rate_at_arrival is None
    assert result.culprits[0].cost_per_hour_usd == pytest.approx(15.0)
