"""Rendering is pure: golden files over real-shaped SpikeAttributed payloads.

Regenerate after an intended change: TOKENFUSE_REGEN_GOLDEN=1 pytest tests/unit/test_render_alerts.py
(and commit the files under tests/golden/alerts/). Block Kit goldens compare as JSON (slack_sdk
serialises keys in its own order); text and HTML compare to the byte.
"""

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.adversarial import HOSTILE_STRINGS, OVERSIZED, unicode_text
from tokenfuse import incidents
from tokenfuse.alerts.email_render import render_email, render_update_email
from tokenfuse.alerts.feedback_buttons import FEEDBACK_BLOCK_ID, parse_feedback_value
from tokenfuse.alerts.messages import LEVER_HINTS, next_step
from tokenfuse.alerts.slack_render import (
    render_alert,
    render_digest,
    render_notice,
    render_signal_reply,
)
from tokenfuse.alerts.sparkline import sparkline
from tokenfuse.alerts.view import AlertView, default_links
from tokenfuse.events import SpikeAttributed
from tokenfuse.teams import Policy, load_directory

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "alerts"
REGENERATE = os.environ.get("TOKENFUSE_REGEN_GOLDEN") == "1"
NOW = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)


def load_spike(name: str) -> SpikeAttributed:
    return SpikeAttributed.from_bus(json.loads((GOLDEN / name).read_text()))


def directory():
    return load_directory((ROOT / "config" / "teams.example.yaml").read_text())


def view_for(spike: SpikeAttributed, index: int = 0, test: bool = False) -> AlertView:
    d = directory()
    culprit = spike.culprits[index]
    route = d.route(culprit.team if culprit.tagged else None)
    incident = incidents.new_incident(spike, culprit, route, None, NOW)
    return AlertView(
        incident=incident,
        signal=spike.signal,
        policy=d.policy_for(route.team, incident.environment),
        owner_label=route.team.label if route.team else "FinOps",
        route_reason=route.reason,
        test=test,
        links=default_links(incident),
    )


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if REGENERATE or not path.exists():
        path.write_text(rendered)
    assert rendered == path.read_text(), f"{name} changed: TOKENFUSE_REGEN_GOLDEN=1 to accept"


def check_golden_json(name: str, rendered: dict) -> None:
    path = GOLDEN / name
    if REGENERATE or not path.exists():
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n")
    assert rendered == json.loads(path.read_text()), f"{name} changed: TOKENFUSE_REGEN_GOLDEN=1 to accept"


CASES = [
    ("spike-alarm.json", 0, "alarm-support"),
    ("spike-alarm.json", 1, "alarm-untagged-finops"),
    ("spike-cad.json", 0, "cad-support"),
]


@pytest.mark.parametrize(("spike_file", "index", "golden"), CASES)
def test_slack_message_matches_golden(spike_file, index, golden):
    # Given a real-shaped attributed spike, When rendered for Slack
    message = render_alert(view_for(load_spike(spike_file), index))
    # Then text and blocks are exactly the reviewed ones
    check_golden_json(f"{golden}.slack.json", {"text": message.text, "blocks": message.blocks})
    check_golden(f"{golden}.txt", message.text + "\n")


@pytest.mark.parametrize(("spike_file", "index", "golden"), CASES)
def test_email_matches_golden(spike_file, index, golden):
    email = render_email(view_for(load_spike(spike_file), index))
    check_golden(f"{golden}.email.txt", f"Subject: {email.subject}\n\n{email.text}\n")
    check_golden(f"{golden}.email.html", email.html)


def test_plain_text_reads_alone():
    text = render_alert(view_for(load_spike("spike-alarm.json"))).text
    assert text.splitlines()[0] == (
        "Bedrock spend spike: support-chat-prod at $142.30/h, 11.8x its $12.05/h baseline"
    )
    for expected in (
        "Customer Support",
        "chat-assistant",
        "prod",
        "444455556666",
        "us-east-1",
        "Month-end at this rate: $48,120",
        "output runaway",
        "3,905 (baseline 410)",
        "cap max output tokens",
        "approve: block for 30 min",
        "Status: Detected at",
        "Rate now: $142.30/h",
        "▁",
        "█",
    ):
        assert expected in text
    assert "*" not in text and ":bulb:" not in text  # no Slack markup in the fallback


def test_cad_alert_has_feedback_buttons_with_only_incident_and_choice():
    view = view_for(load_spike("spike-cad.json"))
    blocks = render_alert(view).blocks
    actions = next(b for b in blocks if b.get("block_id") == FEEDBACK_BLOCK_ID)
    values = [json.loads(e["value"]) for e in actions["elements"]]
    assert [v["choice"] for v in values] == ["accurate", "false-positive", "planned"]
    assert all(
        set(v) == {"incident_id", "choice"} and v["incident_id"] == view.incident.incident_id for v in values
    )
    assert parse_feedback_value(actions["elements"][2]["value"]) == (view.incident.incident_id, "planned")
    assert "Cost Anomaly Detection details" in render_alert(view).text


def test_alarm_alert_has_no_feedback_buttons():
    blocks = render_alert(view_for(load_spike("spike-alarm.json"))).blocks
    assert not any(b.get("block_id") == FEEDBACK_BLOCK_ID for b in blocks)


def test_test_alert_is_labelled():
    view = view_for(load_spike("spike-alarm.json"), test=True)
    assert render_alert(view).text.startswith("[TEST] ")
    assert render_email(view).subject.startswith("[TEST] ")


def test_email_subject_has_dollars_and_profile():
    subject = render_email(view_for(load_spike("spike-alarm.json"))).subject
    assert "$142.30/h" in subject and "support-chat-prod" in subject


def test_html_is_escaped():
    spike = load_spike("spike-alarm.json")
    culprit = spike.culprits[0].model_copy(update={"profile_name": "<script>x</script>"})
    spike = spike.model_copy(update={"culprits": [culprit]})
    html = render_email(view_for(spike)).html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_signal_reply_and_update_email_for_a_cad_confirmation():
    alarm, cad = load_spike("spike-alarm.json"), load_spike("spike-cad.json")
    d = directory()
    route = d.route("support")
    opened = incidents.new_incident(alarm, alarm.culprits[0], route, None, NOW)
    later = incidents.joined(opened, cad, cad.culprits[0], NOW)
    view = AlertView(
        later,
        cad.signal,
        d.policy_for("support", "prod"),
        "Customer Support",
        route.reason,
        reported=cad.culprits[0],
        spike_usd=cad.spike_usd,
    )
    reply = render_signal_reply(view).text
    # CAD's impact is $4,120.55; the profile's own delta over the day is $10.86: far below 80%
    assert reply.startswith("Cost Anomaly Detection reports $4,121 (")
    assert "this incident explains $10.86." in reply and "confirms" not in reply
    assert "impact $4,121" in reply and "2 signals so far" in reply
    assert render_update_email(view).subject.startswith("Update: ")


def test_digest_lists_every_overflow_spike():
    message = render_digest("Customer Support", ["a: $1/h", "b: $2/h"], 5)
    assert message.text.count("\n- ") == 2 and "over 5 new posts" in message.text


@pytest.mark.parametrize("kind", list(LEVER_HINTS))
def test_every_kind_has_a_lever_hint(kind):
    assert LEVER_HINTS[kind].endswith(".")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Policy(mode="notify"), "Notify only"),
        (
            Policy(mode="auto", action="detach"),
            "block until restored (calls denied until a person restores it) now",
        ),
        (
            Policy(mode="approve", on_timeout="trip", approval_timeout_minutes=10),
            "no answer in 10 min: tokenfuse blocks it anyway",
        ),
        (Policy(mode="approve", min_spike_usd_per_hour=500), "Below Customer Support's prod threshold"),
    ],
)
def test_next_step_follows_the_policy(policy, expected):
    incident = view_for(load_spike("spike-alarm.json")).incident
    assert expected in next_step(policy, incident, "Customer Support")


def test_next_step_for_protected_and_planned():
    incident = view_for(load_spike("spike-alarm.json")).incident
    assert "protected" in next_step(Policy(mode="auto"), incident.model_copy(update={"protected": True}), "x")
    planned = incident.model_copy(update={"status": "planned", "planned_note": "load test"})
    assert "Planned activity (load test)" in next_step(Policy(mode="auto"), planned, "x")


def test_sparkline():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([]) == ""
    assert sparkline([5, 5]) == "▄▄"
    assert sparkline([1, None, 8]) == "▁ █"
    assert len(sparkline(list(range(100)))) == 24


def _with_culprit(**changes) -> SpikeAttributed:
    spike = load_spike("spike-alarm.json")
    culprit = spike.culprits[0].model_copy(update=changes)
    return spike.model_copy(update={"culprits": [culprit]})


def test_an_unpriced_spike_reads_unpriced_with_its_token_rate_never_zero_dollars():
    spike = _with_culprit(
        unpriced_models=["cohere.command-r-v1:0"],
        window_cost_usd=None,
        baseline_cost_usd=None,
        delta_usd=None,
        share=None,
        cost_per_hour_usd=None,
        baseline_cost_per_hour_usd=None,
        month_end_usd=None,
        hourly_cost_usd=[],
        tokens_per_hour=1_100_000.0,
        baseline_tokens_per_hour=110_000.0,
    )
    view = view_for(spike)
    text = render_alert(view).text
    assert text.splitlines()[0] == (
        "Bedrock spend spike: support-chat-prod at unpriced (model not in the price table): "
        "1,100,000 tokens/h, 10.0x its 110,000 tokens/h baseline"
    )
    assert "$0" not in text
    assert "unpriced" in render_email(view).subject


def test_a_running_last_hour_is_marked_on_the_sparkline():
    spike = _with_culprit(hourly_cost_usd=[12.0] * 23 + [142.3], last_hour_minutes=3)
    text = render_alert(view_for(spike)).text
    assert "Spend ($/h, last 24 h; the last bar is the running hour's first 3 min):" in text
    assert "the running hour's first 3 min" in unescape(render_email(view_for(spike)).html)


def test_direct_model_calls_read_as_such_and_are_never_tripped():
    model = "anthropic.claude-3-5-haiku-20241022-v1:0"
    spike = _with_culprit(
        subject="direct-model",
        profile_arn=None,
        profile_id=None,
        profile_name=None,
        model_ids=[model],
        team=None,
        feature=None,
        environment=None,
        tagged=False,
    )
    view = view_for(spike)
    message = render_alert(view)
    assert message.text.splitlines()[0].startswith(
        f"Bedrock spend spike: direct calls to {model} at $142.30/h"
    )
    assert "Owner: FinOps" in message.text
    assert "no inference profile to block" in message.text and "approve:" not in message.text
    assert "give the callers an application inference profile" in message.text
    fields = next(b for b in message.blocks if "fields" in b)["fields"]
    assert fields[0]["text"] == f"*Model called directly*\n`{model}`\nno inference profile"
    email = render_email(view)
    assert "Model called directly" in email.html and "None" not in email.text
    assert quote(model, safe="") in next(link.url for link in view.links if link.kind == "token-metrics")


# -- hostile values never break a message ---------------------------------------------------------


def _text_lengths(blocks: list[dict]) -> list[tuple[str, int]]:
    """(where, length) of every text in the blocks: header, section text, field, context element."""
    found = []
    for block in blocks:
        if block["type"] == "header":
            found.append(("header", len(block["text"]["text"])))
        for item in [block["text"]] if block["type"] == "section" and "text" in block else []:
            found.append(("section", len(item["text"])))
        found += [("field", len(f["text"])) for f in block.get("fields", [])]
        if block["type"] == "context":
            found += [("context", len(e["text"])) for e in block["elements"]]
    return found


SLACK_LIMITS = {"header": 150, "section": 3000, "field": 2000, "context": 2000}


@settings(max_examples=60)
@given(
    name=st.one_of(unicode_text, st.sampled_from(HOSTILE_STRINGS), st.text(min_size=2000, max_size=4000)),
    owner=st.one_of(unicode_text, st.sampled_from(HOSTILE_STRINGS)),
)
def test_any_profile_name_and_owner_render_within_slacks_limits(name, owner):
    # Given a profile name and a team label as hostile as a tag or a directory file can carry
    spike = _with_culprit(profile_name=name or None)
    view = replace(view_for(spike), owner_label=owner or "FinOps", route_reason=name)
    # When rendered for Slack (slack_sdk validates each block as it serialises) and email
    message = render_alert(view, note=name or None)
    email = render_email(view, note=name or None)
    # Then every text is within Slack's limit, and the HTML carries no raw markup from the values
    assert all(length <= SLACK_LIMITS[where] for where, length in _text_lengths(message.blocks))
    assert "<script>" not in email.html and "\n" not in email.subject and len(email.subject) <= 200


@pytest.mark.parametrize("text", [*HOSTILE_STRINGS, OVERSIZED * 4])
def test_a_finops_notice_of_any_text_renders_within_the_limits(text):
    message = render_notice(text or "-", note=text or None)
    assert all(length <= SLACK_LIMITS[where] for where, length in _text_lengths(message.blocks))
    assert message.text.endswith(text or "-")  # the plain text is never cut: only the blocks are


def test_a_digest_longer_than_a_section_is_clipped_with_an_ellipsis():
    lines = [f"profile-{n}: {'x' * 100}" for n in range(40)]
    message = render_digest("Customer Support", lines, 5)
    (section,) = message.blocks
    assert len(section["text"]["text"]) == 3000 and section["text"]["text"].endswith("…")
    assert message.text.count("\n- ") == 40
