"""The alerts stage's words (tokenfuse.alerts.messages): each function, from values to text.
Dollar figures are worked out here by hand from the sample's own numbers."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokenfuse import incidents
from tokenfuse.alerts import messages
from tokenfuse.alerts.messages import Reach
from tokenfuse.alerts.view import AlertView, default_links
from tokenfuse.events import ArrivalRate, Incident, PeakHours, ProfileNonCompliant, SpikeAttributed
from tokenfuse.teams import Policy, load_directory

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "alerts"
NOW = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)


def spike(name: str = "spike-alarm.json") -> SpikeAttributed:
    return SpikeAttributed.from_bus(json.loads((GOLDEN / name).read_text()))


def incident(name: str = "spike-alarm.json", **changes: object) -> Incident:
    s = spike(name)
    culprit = s.culprits[0].model_copy(update=changes) if changes else s.culprits[0]
    route = load_directory((ROOT / "config" / "teams.example.yaml").read_text()).route("support")
    return incidents.new_incident(s, culprit, route, None, NOW)


def view(i: Incident, **changes: object) -> AlertView:
    fields: dict[str, object] = {
        "incident": i,
        "signal": None,
        "policy": Policy(mode="approve"),
        "owner_label": "Customer Support",
        "route_reason": "tag team=support",
        "links": default_links(i),
    }
    return AlertView(**{**fields, **changes})  # type: ignore[arg-type]


# -- figures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(142.3, "$142.30"), (48120.4, "$48,120"), (0.0, "$0.00"), (1000.0, "$1,000"), (None, "n/a")],
)
def test_usd_shows_cents_under_a_thousand_dollars_only(value, expected):
    assert messages.usd(value) == expected


def test_rate_phrase_names_the_multiple_of_the_baseline():
    ratio = 142.30 / 12.05  # the sample's $/h now and at baseline
    assert messages.rate_phrase(incident()) == f"$142.30/h, {ratio:.1f}x its $12.05/h baseline"
    assert f"{ratio:.1f}" == "11.8"


def test_rate_phrase_without_baseline_spend_says_so():
    assert messages.rate_phrase(incident(baseline_cost_per_hour_usd=0.0)) == "$142.30/h (no baseline spend)"


def test_an_unpriced_rate_is_its_token_rate_never_zero_dollars():
    unpriced = incident(cost_per_hour_usd=None, tokens_per_hour=1_200_000.0, baseline_tokens_per_hour=None)
    assert messages.rate_phrase(unpriced) == (
        "unpriced (model not in the price table): 1,200,000 tokens/h (no baseline traffic)"
    )
    assert messages.hourly_rate(unpriced) == "unpriced"
    assert messages.rate_phrase(incident(cost_per_hour_usd=None, tokens_per_hour=None)) == (
        "unpriced (model not in the price table)"
    )


# -- the alert's facts -----------------------------------------------------------------------------


def test_title_header_and_subject_name_the_profile_and_the_rate():
    v = view(incident())
    assert (
        messages.title(v)
        == "Bedrock spend spike: support-chat-prod at $142.30/h, 11.8x its $12.05/h baseline"
    )
    assert messages.header(view(incident(), test=True)) == "[TEST] support-chat-prod: spend spike"
    assert messages.alert_subject(v) == (
        "[tokenfuse] $142.30/h Bedrock spend spike on support-chat-prod (Customer Support, prod)"
    )
    assert messages.update_subject(messages.alert_subject(v)).startswith("Update: [tokenfuse] $142.30/h")


def test_a_subject_is_one_line_of_at_most_200_characters():
    hostile = incident(profile_name="evil\nBcc: all@example.com\r\n" + "x" * 300)
    subject = messages.alert_subject(view(hostile))
    assert "\n" not in subject and "\r" not in subject and len(subject) == messages.SUBJECT_LIMIT


def test_tokens_line_and_spark_caption():
    i = incident()
    assert messages.tokens_line(i.culprit) == (
        "tokens/request in 1,210 (baseline 1,150), out 3,905 (baseline 410); "
        "1,840 requests in the window (baseline 1,710)"
    )
    assert messages.spark_caption(i.culprit) == "$/h, last 24 h"
    assert messages.spark_caption(incident(hourly_cost_usd=[]).culprit) == "$/h, baseline then now"


def test_sources_line_counts_signals():
    i = incident()
    assert messages.sources_line(i) == "1 signal (token-rate alarm)"
    joined = incidents.joined(i, spike("spike-cad.json"), spike("spike-cad.json").culprits[0], NOW)
    assert messages.sources_line(joined) == "2 signals (token-rate alarm, Cost Anomaly Detection)"


def test_every_kind_has_a_label_and_a_lever():
    for kind in messages.KIND_LABELS:
        assert messages.kind_label(kind) and messages.LEVER_HINTS[kind].endswith(".")
    assert messages.lever(incident(subject="direct-model")) == messages.DIRECT_MODEL_LEVER


def test_direct_model_calls_are_never_tripped_unless_planned():
    direct = incident(subject="direct-model", profile_arn=None, profile_id=None, model_ids=["m"])
    assert messages.view_next_step(view(direct)) == messages.DIRECT_MODEL_NEXT
    planned = direct.model_copy(update={"status": "planned", "planned_note": "load test"})
    assert messages.view_next_step(view(planned)).startswith("Planned activity (load test)")


# -- whole messages --------------------------------------------------------------------------------


def test_a_budget_confirmation_reply_names_actual_and_threshold():
    s = spike()
    budget = s.signal.model_copy(
        update={"source": "budget", "actual_usd": 4828.0, "threshold_usd": 4600.0, "metric_value": None}
    )
    # the budget's own delta: $4,828 - $4,600 = $228; the profile explains $200 of it (87.7%)
    culprit = s.culprits[0].model_copy(update={"delta_usd": 200.0, "hourly_cost_usd": [12.0, 17.25]})
    later = incident().model_copy(update={"signal_count": 2})
    text = messages.signal_reply(budget, later, culprit, s.spike_usd)
    assert text.startswith("AWS Budgets confirms this spike (2026-11-26 02:53-02:58Z: ")
    assert "actual $4,828 vs threshold $4,600): this incident explains $200.00 of $228.00." in text
    assert "Rate at arrival: $17.25/h in the hour to 02:58 UTC" in text
    assert text.endswith("2 signals so far.")


LATE_CAD = {
    "source": "cost-anomaly",
    "window_start": datetime(2026, 11, 25, 0, 0, tzinfo=UTC),
    "window_end": datetime(2026, 11, 26, 0, 0, tzinfo=UTC),
    "received_at": datetime(2026, 11, 26, 18, 4, tzinfo=UTC),  # the day's anomaly, 18 h later
    "impact_usd": 4120.55,
    "metric_value": None,
}


def test_a_late_signal_shows_the_rate_read_at_its_arrival():
    s = spike("spike-cad.json")
    cad = s.signal.model_copy(update=LATE_CAD)
    # attribution read the hour 17:00-18:00 before arrival: the loop has long stopped
    arrival = ArrivalRate(
        hour_start=datetime(2026, 11, 26, 17, tzinfo=UTC),
        hour_end=datetime(2026, 11, 26, 18, tzinfo=UTC),
        cost_per_hour_usd=17.2,
        tokens_per_hour=2_500_000.0,
    )
    culprit = s.culprits[0].model_copy(update={"rate_at_arrival": arrival})
    text = messages.signal_reply(cad, incident(), culprit, s.spike_usd)
    assert "Rate at arrival: $17.20/h in the hour to 18:00 UTC;" in text
    assert messages.rate_at_arrival(culprit, cad) == messages.MeasuredRate(17.2, arrival.hour_end)
    # an unpriced model read at arrival: its tokens, never $0
    unpriced = culprit.model_copy(
        update={"rate_at_arrival": arrival.model_copy(update={"cost_per_hour_usd": None})}
    )
    tokens = "unpriced (model not in the price table): 2,500,000 tokens/h"
    assert f"Rate at arrival: {tokens} in the hour to 18:00 UTC" in (
        messages.signal_reply(cad, incident(), unpriced, s.spike_usd)
    )
    assert messages.rate_at_arrival(unpriced, cad) is None


def test_a_late_signal_without_its_arrival_hour_says_its_rate_is_the_windows():
    s = spike("spike-cad.json")
    cad = s.signal.model_copy(update=LATE_CAD)
    # the window's last hour ($142.30/h) is 18 h old: never shown as the rate at arrival
    culprit = s.culprits[0]
    text = messages.signal_reply(cad, incident(), culprit, s.spike_usd)
    assert "Rate at arrival" not in text
    assert "Rate over the anomaly window: $142.30/h;" in text
    assert messages.rate_at_arrival(culprit, cad) is None
    # a long window's rates come from its peak hours, and the reply says so
    peak = PeakHours(
        start=datetime(2026, 11, 25, 14, tzinfo=UTC),
        end=datetime(2026, 11, 25, 17, tzinfo=UTC),
        hours=3.0,
        cost_usd=426.9,
        baseline_cost_usd=36.15,
        delta_usd=390.75,
        tokens=1.0,
        baseline_tokens=1.0,
    )
    peaked = culprit.model_copy(update={"peak": peak})
    assert "Rate over the anomaly window's peak (14:00-17:00Z): $142.30/h;" in (
        messages.signal_reply(cad, incident(), peaked, s.spike_usd)
    )
    # a daily budget's alert about yesterday, the same
    budget = cad.model_copy(
        update={"source": "budget", "impact_usd": None, "actual_usd": 4828.0, "threshold_usd": 4600.0}
    )
    assert "Rate over the budget period: $142.30/h;" in messages.signal_reply(
        budget, incident(), culprit, s.spike_usd
    )


def test_a_signal_the_incident_explains_less_than_80_percent_of_only_reports():
    s = spike()
    budget = s.signal.model_copy(
        update={"source": "budget", "actual_usd": 4828.0, "threshold_usd": 4600.0, "metric_value": None}
    )
    # $182 of $228 is 79.8%: under the 80% a confirmation needs
    culprit = s.culprits[0].model_copy(update={"delta_usd": 182.0})
    text = messages.signal_reply(budget, incident(), culprit, s.spike_usd)
    assert "confirms" not in text
    assert text.startswith("AWS Budgets reports $228.00 (2026-11-26 02:53-02:58Z: ")
    assert "; this incident explains $182.00." in text


def test_a_repeated_source_reports_with_the_alarm_metric():
    s = spike()
    i = incident()
    culprit = s.culprits[0].model_copy(update={"delta_usd": 0.5 * s.spike_usd})
    text = messages.signal_reply(s.signal, i, culprit, s.spike_usd, test=True)
    assert text.startswith("[TEST] token-rate alarm reports $")
    assert "OutputTokenCount 412,000" in text


def test_the_digest_lists_one_line_per_spike():
    text = messages.digest("Customer Support", ["a", "b", "c"], 5)
    assert text.splitlines() == [
        "More spend spikes for Customer Support in these 10 minutes (over 5 new posts: grouped here):",
        "- a",
        "- b",
        "- c",
    ]
    i = incident()
    assert messages.digest_line(view(i)) == (
        "support-chat-prod: $142.30/h, 11.8x its $12.05/h baseline (output runaway), "
        f"incident {i.incident_id}"
    )


def test_an_unattributed_note_uses_the_spike_when_no_residual_was_measured():
    s = spike().model_copy(update={"unattributed_usd": None, "spike_usd": 9.5})
    text = messages.unattributed(s)
    assert text.startswith("Bedrock spend spike with no inference profile behind it: $9.50 unexplained")
    assert "account 444455556666, us-east-1" in text and "Details:" not in text
    assert messages.unattributed_subject(s) == (
        "[tokenfuse] Bedrock spend spike with no profile behind it (token-rate-alarm)"
    )


def test_a_non_compliant_note_names_every_problem_and_the_creator():
    event = ProfileNonCompliant(
        profile_arn="arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/noown0000001",
        profile_id="noown0000001",
        profile_name=None,
        account_id="444455556666",
        region="us-east-1",
        tags={"team": "growth"},
        team_tag="growth",
        missing_tags=["environment"],
        unknown_team=True,
        creator=None,
        detected_at=NOW,
        reason="unknown team",
    )
    lines = messages.non_compliant(event).splitlines()
    assert lines[0] == (
        "Inference profile noown0000001 cannot be attributed to a team: missing tag(s) `environment`; "
        "team 'growth' is not in the team directory"
    )
    assert lines[2] == "Created by: unknown (no CloudTrail record)"
    assert (
        messages.non_compliant_subject(event)
        == "[tokenfuse] Inference profile noown0000001 is not attributable"
    )


# -- delivery: said only as it happened ------------------------------------------------------------

SLACK_500 = Reach("Customer Support", "slack", "internal_error")


@pytest.mark.parametrize(
    ("failed", "sent", "here", "expected"),
    [
        (
            [SLACK_500],
            [],
            Reach("Customer Support", "email"),
            "This alert could not reach Customer Support in Slack (internal_error): sent by email.",
        ),
        (
            [SLACK_500],
            [Reach("Customer Support", "email")],
            Reach("FinOps", "slack"),
            "This alert could not reach Customer Support in Slack (internal_error): sent to Customer "
            "Support by email and to the FinOps channel.",
        ),
        (
            [SLACK_500, Reach("Customer Support", "email", "MessageRejected")],
            [],
            Reach("FinOps", "slack"),
            "This alert could not reach Customer Support in Slack (internal_error) or Customer Support "
            "by email (MessageRejected): sent to the FinOps channel.",
        ),
        (
            [Reach("Legal AI", "email", "MessageRejected")],
            [],
            Reach("FinOps", "email"),
            "This alert could not reach Legal AI by email (MessageRejected): sent to FinOps by email.",
        ),
    ],
)
def test_a_fallback_note_says_only_what_already_happened(failed, sent, here, expected):
    assert messages.fallback_note(failed, sent, here) == expected


def test_an_undelivered_alert_says_what_was_tried():
    tried = [SLACK_500, Reach("FinOps", "email", "email_disabled")]
    assert messages.not_delivered("incident inc-1", tried) == (
        "incident inc-1: nothing took the alert (tried Customer Support in Slack (internal_error); "
        "FinOps by email (email_disabled))"
    )
    assert "no destination" in messages.not_delivered("incident inc-1", [])
