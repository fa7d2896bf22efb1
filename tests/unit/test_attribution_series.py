"""The ranking pass and the peak hours (pure): labels matched to profiles or models, the candidates
picked for the hourly read, and the run of hours a long window's kind and rates come from."""

from datetime import UTC, datetime, timedelta

import pytest

from tokenfuse.adapters.bedrock import InferenceProfile
from tokenfuse.attribution.peak import find_peak, peak_run
from tokenfuse.attribution.pricing import Rates
from tokenfuse.attribution.series import SeriesTotals, Subject, looks_like_profile, rank_series, subjects_of
from tokenfuse.attribution.usage import HourGrid, Usage

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SONNET = Rates(input=3.0, output=15.0)
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"


def profile(profile_id: str, created: datetime | None = None) -> InferenceProfile:
    return InferenceProfile(ARN + profile_id, profile_id, profile_id, (MODEL,), created)


@pytest.mark.parametrize(
    ("excess", "run"),
    [
        ([0, 0, 0], None),
        ([-1, 2, 3, -1, 5], (1, 3)),  # the longest run wins over a bigger single hour
        ([1, 1, 0, 5, 5], (3, 5)),  # equal lengths: the one with more excess
        ([1] * 9 + [0], (0, 6)),  # cut to 6 hours ...
        ([1, 1, 1, 9, 9, 9, 9, 9, 9, 1], (3, 9)),  # ... the 6 with the most excess
        ([0, 0, 4], (2, 3)),  # a run that reaches the end
    ],
)
def test_peak_run(excess, run):
    assert peak_run(excess) == run


def test_peak_of_a_long_window_counts_a_running_last_hour_for_its_minutes():
    start = NOW - timedelta(hours=8)
    hours = [Usage(1, 1_000, 100)] * 6 + [Usage(10, 10_000, 1_000)] * 2
    baseline = [Usage(1, 1_000, 100)] * 8
    peak = find_peak(start, hours, baseline, SONNET, last_hour_fraction=0.25)
    assert peak is not None
    assert (peak.start, peak.end, peak.hours) == (start + timedelta(hours=6), NOW, 1.25)
    assert peak.usage == Usage(20, 20_000, 2_000)
    # a window of 6 hours or less has no separate peak: its whole window is the spike
    assert find_peak(start, hours[:6], baseline[:6], SONNET) is None


def test_labels_are_matched_to_both_forms_of_a_profile_or_to_a_model():
    profiles = [profile("aaaaaaaaaaaa"), profile("bbbbbbbbbbbb"), profile("cccccccccccc")]
    labels = {
        "aaaaaaaaaaaa",
        ARN + "aaaaaaaaaaaa",
        ARN + "bbbbbbbbbbbb",
        "anthropic.claude-3-haiku-20240307-v1:0",
    }
    labels |= {"us.anthropic.claude-3-5-sonnet-20241022-v2:0", "dddddddddddd"}
    subjects, unlisted = subjects_of(labels, profiles, named={"cccccccccccc"})
    by_key = {s.key: s for s in subjects}
    assert by_key[ARN + "aaaaaaaaaaaa"].labels == ("aaaaaaaaaaaa", ARN + "aaaaaaaaaaaa")
    assert by_key[ARN + "bbbbbbbbbbbb"].labels == (ARN + "bbbbbbbbbbbb",)
    # a named profile never seen is read under both forms
    assert by_key[ARN + "cccccccccccc"].labels == ("cccccccccccc", ARN + "cccccccccccc")
    assert by_key[ARN + "cccccccccccc"].named
    # a foundation model and a system profile are direct calls; a 12-character id no profile has is unlisted
    direct = sorted(s.model_id for s in subjects if s.direct)
    assert direct == [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    ]
    assert unlisted == ["dddddddddddd"]
    assert looks_like_profile(ARN + "x1y2z3x1y2z3") and looks_like_profile("x1y2z3x1y2z3")
    assert not looks_like_profile("amazon.nova-micro-v1:0") and not looks_like_profile(ARN + "x1y2z3")


def test_candidates_cover_the_spike_with_few_reads():
    # Given 30 profiles: one grew by $900, four by $10, 25 by $1 (baseline 168 h of $1, window 2 h)
    grid = HourGrid.build(NOW - timedelta(hours=2), NOW, NOW)
    profiles = [profile(f"p{i:011d}") for i in range(30)]
    totals = SeriesTotals()
    per_request = (3_000 * 3 + 400 * 15) / 1e6  # $0.015

    def requests(dollars: float) -> float:
        return dollars / per_request

    for i, p in enumerate(profiles):
        growth = 900.0 if i == 0 else 10.0 if i < 5 else 1.0
        window = requests(2 * 1.0 + growth)
        base = requests(168 * 1.0)
        for part, count in ((totals.window, window), (totals.baseline, base)):
            totals.add(part, "Invocations", {p.profile_id: count})
            totals.add(part, "InputTokenCount", {p.profile_id: count * 3_000})
            totals.add(part, "OutputTokenCount", {p.profile_id: count * 400})
    subjects, _ = subjects_of(totals.labels, profiles, set())
    ranked = rank_series(subjects, totals, grid, lambda s: SONNET)
    # Then the $900 one first; 99% of the $965 is covered by the first five ($940), still under
    # it; the $1 ones add one each until 99% ($955.35) is reached: 5 + 16 = 21, capped at 20
    assert [c.subject.profile.profile_id for c in ranked.candidates][:1] == ["p00000000000"]
    assert ranked.candidates[0].delta == pytest.approx(900.0)
    assert len(ranked.candidates) == 20
    # And with most of it in one series, five are read (the minimum) and no more
    few = rank_series(subjects, totals, grid, lambda s: SONNET, coverage=0.9)
    assert len(few.candidates) == 5


def test_an_unpriced_series_is_a_candidate_by_token_growth():
    grid = HourGrid.build(NOW - timedelta(hours=1), NOW, NOW)
    totals = SeriesTotals()
    totals.add(totals.window, "OutputTokenCount", {"cohere.command-r-v1:0": 5_000.0})
    totals.add(totals.baseline, "OutputTokenCount", {"cohere.command-r-v1:0": 168 * 100.0})
    subjects, _ = subjects_of(totals.labels, [], set())
    (candidate,) = rank_series(subjects, totals, grid, lambda s: None).candidates
    assert candidate.subject == Subject(None, "cohere.command-r-v1:0", ("cohere.command-r-v1:0",))
    assert candidate.delta is None and candidate.token_growth == pytest.approx(5_000 - 100)
