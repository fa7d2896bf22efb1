"""The incident's root post as a live status card (issue 14): every remediation step moves it,
the card is edited in place in Slack (or one short email per change for a team without Slack),
its "Next:" is true for the stage, a decision replaces the approval buttons, and the close closes
the incident in the table. Golden files keep each state's card and email stable:
``TOKENFUSE_REGEN_GOLDEN=1 pytest tests/unit/test_status_card.py`` after an intended change."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from tokenfuse import incidents
from tokenfuse.adapters.slack import SlackDeliveryError
from tokenfuse.alerts import messages
from tokenfuse.alerts.status_cards import StatusCards
from tokenfuse.events import Incident, RemediationEvent, SpikeAttributed
from tokenfuse.notifications import EmailMessage, Posted, SlackMessage
from tokenfuse.remediation.card_steps import card_changes, closed_changes
from tokenfuse.remediation.messages import in_force
from tokenfuse.remediation.models import (
    RemediationIncident,
    RestoreResult,
    ScpChange,
    TagChange,
    TripRecord,
    VerifyResult,
)
from tokenfuse.teams import TeamDirectory, load_directory

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "tests" / "golden" / "alerts"
GOLDEN = ROOT / "tests" / "golden" / "cards"
REGENERATE = os.environ.get("TOKENFUSE_REGEN_GOLDEN") == "1"
OPENED = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)
ASKED = OPENED + timedelta(seconds=5)
DECIDED = OPENED + timedelta(minutes=2)
TRIPPED = DECIDED + timedelta(seconds=10)
RESTORE_AT = TRIPPED + timedelta(minutes=30)  # the example directory's prod cooldown: 30 min
VERIFIED = TRIPPED + timedelta(minutes=5)
APPROVER = "U0SUPPORT1"


class Ledger:
    """The incidents table as a dict (versioned, like the DynamoDB one)."""

    def __init__(self, *found: Incident) -> None:
        self.items: dict[str, tuple[Incident, int]] = {i.incident_id: (i, 1) for i in found}

    def current(self, profile_arn: str) -> tuple[Incident, int] | None:
        return next((v for v in self.items.values() if v[0].subject_key == profile_arn), None)

    def open(self, incident: Incident, previous_incident_id: str | None) -> bool:
        self.items[incident.incident_id] = (incident, 1)
        return True

    def save(self, incident: Incident, version: int) -> bool:
        if self.items[incident.incident_id][1] != version:
            return False
        self.items[incident.incident_id] = (incident, version + 1)
        return True

    def get(self, incident_id: str) -> tuple[Incident, int] | None:
        return self.items.get(incident_id)


class Slack:
    def __init__(self, fail: bool = False) -> None:
        self.updates: list[tuple[str, str, SlackMessage]] = []
        self.fail = fail

    def update(self, channel: str, ts: str, message: SlackMessage) -> Posted:
        if self.fail:
            raise SlackDeliveryError("message_not_found", "gone")
        self.updates.append((channel, ts, message))
        return Posted(channel, ts)


class Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], EmailMessage]] = []

    def send(self, to: list[str], message: EmailMessage) -> str:
        self.sent.append((to, message))
        return f"m-{len(self.sent)}"


def directory() -> TeamDirectory:
    return load_directory((ROOT / "config" / "teams.example.yaml").read_text())


def opened_incident(**changes: object) -> Incident:
    spike = SpikeAttributed.from_bus(json.loads((ALERTS / "spike-alarm.json").read_text()))
    route = directory().route("support")
    incident = incidents.new_incident(spike, spike.culprits[0], route, None, OPENED)
    defaults: dict[str, object] = {
        "slack_channel": "C0SUPPORT1",
        "slack_ts": "1795662060.000100",
        "slack_message_ts": "1795662060.000100",
        "announced": True,
    }
    return incident.model_copy(update=defaults | changes)


def trip_record(incident: Incident) -> TripRecord:
    return TripRecord.model_validate(
        {
            "trip_id": "t1",
            "incident_id": incident.incident_id,
            "profile_arn": incident.profile_arn,
            "profile_id": incident.profile_id,
            "account_id": incident.account_id,
            "region": incident.region,
            "action": "throttle",
            "mechanism": "guard-scp",
            "dry_run": False,
            "actor": APPROVER,
            "tripped_at": TRIPPED,
            "restore_after": RESTORE_AT,
            "complete": True,
            "scp": ScpChange(policy_id="p-guard001", arns_before=[], added=True, status="applied"),
            "tag": TagChange(key="tokenfuse:state", previous=None, set_to="tripped", status="applied"),
        }
    )


def event(incident: Incident, step: str, at: datetime, **fields: Any) -> RemediationEvent:
    return RemediationEvent.model_validate(
        {
            "incident_id": incident.incident_id,
            "profile_arn": incident.profile_arn,
            "step": step,
            "action": "throttle",
            "at": at,
            "actor": "tokenfuse",
            **fields,
        }
    )


def approved_story(incident: Incident) -> list[tuple[str, RemediationEvent | None]]:
    """The audited steps of an approved throttle, as the remediation tasks record them."""
    trip = trip_record(incident)
    verify = VerifyResult(
        still_running=False,
        expect="stopped",
        before_tokens_per_minute=120_000.0,
        after_tokens_per_minute=0.0,
        threshold_ratio=0.2,
        before_start=OPENED - timedelta(minutes=5),
        split_at=TRIPPED,
        after_end=VERIFIED,
    )
    restored = RestoreResult(
        profile_arn=str(incident.profile_arn), trip_id="t1", restored=True, note="prior state put back"
    )
    deadline = ASKED + timedelta(minutes=15)
    return [
        (
            "awaiting-approval",
            event(
                incident,
                "approval-requested",
                ASKED,
                details={
                    "approval_id": "Abc123_-xy",
                    "approver_team": "support",
                    "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "cooldown_seconds": 1800,
                    "via": "slack",
                    "approvers": [APPROVER],
                    "slack_channel": "C0SUPPORT1",
                    "slack_ts": "1795662065.000200",
                },
            ),
        ),
        (
            "approved",
            event(
                incident,
                "approval-decided",
                DECIDED,
                decision="approve",
                actor=APPROVER,
                details={"approval_id": "Abc123_-xy", "snooze_seconds": 3600},
            ),
        ),
        (
            "blocked",
            event(
                incident,
                "tripped",
                TRIPPED,
                decision="approve",
                actor=APPROVER,
                details={"trip": trip.to_json(), "in_force": [], "problems": []},
            ),
        ),
        ("verified", event(incident, "verified", VERIFIED, details=verify.to_json())),
        ("restored", event(incident, "restored", RESTORE_AT, details=restored.to_json())),
        ("closed", None),
    ]


def walk(cards: StatusCards, incident: Incident) -> list[tuple[str, Incident]]:
    """Every step of the approved story through the cards, as the auditor moves them."""
    seen = []
    remediation = RemediationIncident.model_validate(incident.to_bus())
    for stage, step in approved_story(incident):
        if step is None:
            moved = cards.advance(
                incident.incident_id,
                closed_changes({"outcome": "blocked for 30 min, then restored"}, RESTORE_AT),
                close=True,
            )
        else:
            if step.step == "tripped":  # in_force as the trip task lists it
                trip = TripRecord.model_validate(step.details["trip"])
                details = {**step.details, "in_force": in_force(trip)}
                step = step.model_copy(update={"details": details})  # noqa: PLW2901 - the same step, completed
            changes = card_changes(step, remediation)
            assert changes is not None, stage
            moved = cards.advance(incident.incident_id, changes)
        assert moved is not None
        assert moved.card is not None and moved.card.stage == stage
        seen.append((stage, moved))
    return seen


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if REGENERATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
    assert rendered == path.read_text(), f"{name} changed: TOKENFUSE_REGEN_GOLDEN=1 to accept"


def slack_walk() -> tuple[Slack, Ledger, list[tuple[str, Incident]]]:
    incident = opened_incident()
    ledger, slack = Ledger(incident), Slack()
    seen = walk(StatusCards(ledger, directory(), slack, Inbox(), now=lambda: RESTORE_AT), incident)
    return slack, ledger, seen


# -- Slack: the root post, edited in place ----------------------------------------------------------


def test_every_step_edits_the_root_post_in_place():
    slack, _, seen = slack_walk()
    root = [u for u in slack.updates if u[1] == "1795662060.000100"]
    assert [u[0] for u in root] == ["C0SUPPORT1"] * len(seen)  # one edit per state, in its channel


@pytest.mark.parametrize(
    ("stage", "status", "next_step"),
    [
        (
            "awaiting-approval",
            "Awaiting approval from <@U0SUPPORT1> until 03:16 UTC.",
            "<@U0SUPPORT1> choose: block for 30 min, decline or snooze; no decision by 03:16 UTC: "
            "tokenfuse blocks it anyway and tells FinOps.",
        ),
        (
            "approved",
            "Approved by <@U0SUPPORT1> at 03:03 UTC: block for 30 min, starting now.",
            "tokenfuse applies the block (block for 30 min) now.",
        ),
        (
            "blocked",
            "Blocked since 03:03 UTC (block for 30 min) until 03:33 UTC: guard SCP p-guard001 lists the "
            "profile ARN (deny); tag tokenfuse:state=tripped (was absent).",
            "tokenfuse checks after 5 min that the spend stopped; the block lifts at 03:33 UTC "
            "(automatic restore).",
        ),
        (
            "verified",
            "Blocked, spend stopped (verified) since 03:08 UTC (block for 30 min) until 03:33 UTC",
            "the block lifts at 03:33 UTC (automatic restore).",
        ),
        ("restored", "Restored at 03:33 UTC: calls go through again.", "The remediation closes"),
        (
            "closed",
            "Closed at 03:33 UTC: blocked for 30 min, then restored.",
            "Nothing: the remediation is over; later signals are reported in this thread.",
        ),
    ],
)
def test_each_state_says_where_it_stands_and_what_comes_next(stage, status, next_step):
    slack, _, seen = slack_walk()
    root = [m for (_, ts, m) in slack.updates if ts == "1795662060.000100"]
    message = root[[s for s, _ in seen].index(stage)]
    assert f"Status: {status}" in message.text, message.text
    assert f"Next: {next_step}" in message.text, message.text


def test_the_rate_now_is_the_last_measure_with_its_time():
    slack, _, _ = slack_walk()
    texts = [m.text for (_, ts, m) in slack.updates if ts == "1795662060.000100"]
    assert "Rate now: $142.30/h (measured 02:58 UTC)" in texts[0]  # the spike's own figure
    # verified: 120,000 -> 0 tokens/min after the block: $142.30/h x 0 / 120,000 = $0.00/h
    assert all("Rate now: $0.00/h (measured 03:08 UTC)" in t for t in texts[3:])
    assert texts[0].startswith("Bedrock spend spike: support-chat-prod peaked at $142.30/h")


def test_a_decision_replaces_the_approval_buttons_once():
    slack, _, _ = slack_walk()
    request = [m for (_, ts, m) in slack.updates if ts == "1795662065.000200"]
    assert len(request) == 1  # the decision, once; later steps leave the request alone
    (decided,) = request
    assert decided.text == (
        ":heavy_check_mark: *Decided.* Approved by <@U0SUPPORT1> at 03:03 UTC: block for 30 min, "
        "starting now."
    )
    assert [b["type"] for b in decided.blocks] == ["section"]  # no actions block: the buttons are gone


def test_the_close_closes_the_incident_in_the_table():
    _, ledger, seen = slack_walk()
    incident, _ = ledger.items[seen[0][1].incident_id]
    assert (incident.status, incident.closed_at) == ("closed", RESTORE_AT)
    assert incident.card is not None and incident.card.outcome == "blocked for 30 min, then restored"


def test_a_closed_incident_stays_closed_when_a_late_confirmation_joins_it():
    _, ledger, seen = slack_walk()
    closed, _ = ledger.items[seen[0][1].incident_id]
    cad = SpikeAttributed.from_bus(json.loads((ALERTS / "spike-cad.json").read_text()))
    later = incidents.joined(closed, cad, cad.culprits[0], RESTORE_AT + timedelta(hours=20))
    assert later.status == "closed" and later.signal_count == closed.signal_count + 1


def test_every_card_is_valid_block_kit_within_slacks_limits():
    slack, _, _ = slack_walk()
    for _, _, message in slack.updates:
        assert len(message.blocks) <= 50
        for block in message.blocks:
            parsed = Block.parse(block)
            assert parsed is not None
            parsed.validate_json()  # slack_sdk's own limits (header 150, section 3,000, fields 10 ...)
        assert len(message.text) <= 40_000


def test_every_state_of_the_card_matches_its_golden_file():
    slack, _, seen = slack_walk()
    root = [m for (_, ts, m) in slack.updates if ts == "1795662060.000100"]
    for (stage, _), message in zip(seen, root, strict=True):
        check_golden(f"{stage}.slack.json", json.dumps(message.blocks, indent=2, ensure_ascii=False) + "\n")
        check_golden(f"{stage}.txt", message.text + "\n")


def test_a_slack_failure_moves_the_card_but_never_raises():
    incident = opened_incident()
    ledger = Ledger(incident)
    cards = StatusCards(ledger, directory(), Slack(fail=True), None, now=lambda: TRIPPED)
    moved = cards.advance(incident.incident_id, {"stage": "blocked", "since": TRIPPED, "action": "throttle"})
    assert moved is not None and moved.card is not None and moved.card.stage == "blocked"


def test_an_unknown_incident_is_left_alone():
    cards = StatusCards(Ledger(), directory(), Slack(), None, now=lambda: TRIPPED)
    assert cards.advance("inc-gone", {"stage": "restored", "since": TRIPPED}) is None


# -- email-only teams: one short message per state change -----------------------------------------


def test_a_team_without_slack_gets_one_short_email_per_state_change():
    incident = opened_incident(
        slack_channel=None, slack_ts=None, slack_message_ts=None, emails=["support-oncall@example.com"]
    )
    ledger, inbox = Ledger(incident), Inbox()
    seen = walk(StatusCards(ledger, directory(), Slack(), inbox, now=lambda: RESTORE_AT), incident)
    # awaiting approval is the approval email itself (with its signed links): no second message
    assert len(inbox.sent) == len(seen) - 1
    for (stage, _), (to, mail) in zip(seen[1:], inbox.sent, strict=True):
        assert to == ["support-oncall@example.com"]
        assert mail.subject.startswith("[tokenfuse] support-chat-prod: ")
        assert len(mail.text.splitlines()) <= 5  # short: status, rate now, next, the incident
        assert "<script" not in mail.html
        check_golden(f"{stage}.email.txt", f"Subject: {mail.subject}\n\n{mail.text}\n")
        check_golden(f"{stage}.email.html", mail.html)


def test_a_decline_and_a_snooze_say_who_decided_and_what_follows():
    incident = opened_incident()
    remediation = RemediationIncident.model_validate(incident.to_bus())
    for decision, status, follows in [
        ("decline", "Declined by <@U0SUPPORT1> at 03:03 UTC: not blocked.", "Customer Support handles"),
        ("snooze", "Snoozed by <@U0SUPPORT1> at 03:03 UTC until 04:03 UTC.", "looks again at 04:03 UTC"),
    ]:
        ledger, slack = Ledger(incident), Slack()
        cards = StatusCards(ledger, directory(), slack, None, now=lambda: DECIDED)
        step = event(
            incident,
            "approval-decided",
            DECIDED,
            decision=decision,
            actor=APPROVER,
            details={"approval_id": "Abc123_-xy", "snooze_seconds": 3600},
        )
        changes = card_changes(step, remediation)
        assert changes is not None
        cards.advance(incident.incident_id, changes)
        (_, _, card) = slack.updates[-1]
        assert f"Status: {status}" in card.text and follows in card.text


def test_the_first_card_never_dates_its_rate_after_it_was_read():
    # attribution's window ends on its whole-minute grid: a spike read at 14:00:15 spans to 14:01
    read = datetime(2026, 11, 25, 14, 0, 15, tzinfo=UTC)
    incident = opened_incident(opened_at=read, window_end=datetime(2026, 11, 25, 14, 1, tzinfo=UTC))
    card = messages.card_of(incident)
    assert card.rate_at == read
    incident = opened_incident(opened_at=read, window_end=datetime(2026, 11, 25, 13, 58, tzinfo=UTC))
    assert messages.card_of(incident).rate_at == datetime(2026, 11, 25, 13, 58, tzinfo=UTC)
