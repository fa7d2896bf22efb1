"""The delivery ladder (tokenfuse.alerts.delivery) and the two channels that render and send
(SlackDelivery, EmailDelivery), with in-memory senders: which rungs, in which order, what is tried,
what is skipped, and what each message says about the rungs before it."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokenfuse import incidents
from tokenfuse.adapters.email import EmailDeliveryError, EmailSender
from tokenfuse.adapters.incidents_table import PostSlot
from tokenfuse.adapters.slack import SlackDeliveryError
from tokenfuse.alerts.delivery import (
    Attempt,
    EmailDestination,
    FinOpsNotice,
    IncidentAlert,
    SentMessage,
    SlackDestination,
    Thread,
    deliver,
    ladder,
)
from tokenfuse.alerts.email_delivery import EmailDelivery
from tokenfuse.alerts.slack_delivery import SlackDelivery
from tokenfuse.alerts.view import AlertView, default_links
from tokenfuse.errors import TransientAwsError
from tokenfuse.events import SpikeAttributed
from tokenfuse.notifications import EmailMessage, Posted, SlackMessage
from tokenfuse.teams import Policy, load_directory

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "alerts"
NOW = datetime(2026, 11, 26, 3, 1, tzinfo=UTC)
DIRECTORY = load_directory((ROOT / "config" / "teams.example.yaml").read_text())
FINOPS = DIRECTORY.finops


def alert_view(name: str = "spike-alarm.json", **incident_changes: object) -> AlertView:
    spike = SpikeAttributed.from_bus(json.loads((GOLDEN / name).read_text()))
    route = DIRECTORY.route("support")
    incident = incidents.new_incident(spike, spike.culprits[0], route, None, NOW)
    incident = incident.model_copy(update=incident_changes)
    return AlertView(
        incident,
        spike.signal,
        Policy(mode="approve"),
        "Customer Support",
        route.reason,
        links=default_links(incident),
        reported=spike.culprits[0],
        spike_usd=spike.spike_usd,
    )


# -- the ladder ------------------------------------------------------------------------------------


def rungs_of(destinations) -> list[tuple[str, str, str]]:
    return [(d.medium, d.address, d.audience) for d in destinations]


def test_a_team_on_slack_walks_its_channel_its_inbox_then_finops():
    rungs = ladder(DIRECTORY.route("support"), FINOPS)
    assert rungs_of(rungs) == [
        ("slack", "C0SUPPORT1", "owner"),
        ("email", "support-oncall@example.com", "owner"),
        ("slack", "C0FINOPS01", "finops"),
        ("email", "finops@example.com", "finops"),
    ]
    # only the team's own channel counts against its budget of top-level posts
    assert [getattr(r, "post_budget", None) for r in rungs] == [True, None, False, None]
    assert {r.team for r in rungs[:2]} == {"support"} and {r.team for r in rungs[2:]} == {"finops"}


def test_finops_owning_the_spend_has_its_own_rungs_once():
    assert rungs_of(ladder(DIRECTORY.route(None), FINOPS)) == [
        ("slack", "C0FINOPS01", "finops"),
        ("email", "finops@example.com", "finops"),
    ]


def test_an_email_only_team_starts_with_its_inbox():
    assert rungs_of(ladder(DIRECTORY.route("legal"), FINOPS)) == [
        ("email", "legal-ai@example.com", "owner"),
        ("slack", "C0FINOPS01", "finops"),
        ("email", "finops@example.com", "finops"),
    ]


def test_a_follow_up_starts_in_the_incidents_thread_wherever_it_lives():
    thread = Thread("C0FINOPS01", "111.222", "111.222")  # the first alert fell back to FinOps's channel
    rungs = ladder(DIRECTORY.route("support"), FINOPS, thread)
    assert rungs_of(rungs) == [
        ("slack", "C0FINOPS01", "owner"),
        ("email", "support-oncall@example.com", "owner"),
        ("email", "finops@example.com", "finops"),
    ]
    assert rungs[0].thread == thread


def test_a_channel_or_inbox_shared_with_finops_is_tried_once():
    shared = load_directory(
        "finops: {slack_channel: C0SHARED01, emails: [FinOps@example.com]}\n"
        "teams:\n  - {name: ops, slack_channel: C0SHARED01, emails: [finops@example.com]}\n"
    )
    assert rungs_of(ladder(shared.route("ops"), shared.finops)) == [
        ("slack", "C0SHARED01", "owner"),
        ("email", "finops@example.com", "owner"),
    ]


def test_nowhere_to_go_is_an_empty_ladder_and_an_undelivered_alert():
    empty = load_directory("teams: []\n")
    rungs = ladder(empty.route(None), empty.finops)
    assert rungs == ()
    delivery = deliver(rungs, FinOpsNotice("x", "y"), "FinOps", FakeChannel(), FakeChannel())
    assert not delivery.delivered and delivery.attempts == ()


# -- the walk --------------------------------------------------------------------------------------


@dataclass
class FakeChannel:
    """Answers per address: (outcome, problem, rules out the channel); delivered otherwise."""

    answers: dict[str, tuple[str, str | None, bool]] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def send(self, destination, alert, note):
        self.calls.append((destination.address, note))
        outcome, problem, rules_out = self.answers.get(destination.address, ("delivered", None, False))
        sent = (SentMessage(destination.medium, destination.team, "text"),) if outcome == "delivered" else ()
        return Attempt(destination, outcome, problem, rules_out, sent)


def walk(slack: FakeChannel, email: FakeChannel, route_of: str | None = "support"):
    rungs = ladder(DIRECTORY.route(route_of), FINOPS)
    delivery = deliver(rungs, IncidentAlert(alert_view()), "Customer Support", slack, email)
    return delivery, [(a.destination.address, a.outcome, a.problem) for a in delivery.attempts]


def test_the_first_choice_taking_the_alert_ends_the_walk():
    slack, email = FakeChannel(), FakeChannel()
    delivery, steps = walk(slack, email)
    assert steps == [("C0SUPPORT1", "delivered", None)]
    assert slack.calls == [("C0SUPPORT1", None)] and email.calls == []
    assert delivery.delivered and delivery.first_problem is None


def test_after_the_first_choice_fails_the_owner_and_finops_each_get_it_once():
    slack = FakeChannel({"C0SUPPORT1": ("failed", "internal_error", False)})
    email = FakeChannel()
    delivery, steps = walk(slack, email)
    assert steps == [
        ("C0SUPPORT1", "failed", "internal_error"),
        ("support-oncall@example.com", "delivered", None),
        ("C0FINOPS01", "delivered", None),
    ]
    # each message after a failure says why it comes there, and only what already happened
    assert email.calls == [
        (
            "support-oncall@example.com",
            "This alert could not reach Customer Support in Slack (internal_error): sent by email.",
        )
    ]
    assert slack.calls[1] == (
        "C0FINOPS01",
        "This alert could not reach Customer Support in Slack (internal_error): sent to Customer Support "
        "by email and to the FinOps channel.",
    )
    assert delivery.first_problem == "internal_error" and len(delivery.sent) == 2


def test_finops_falls_to_its_inbox_when_its_channel_fails_too():
    slack = FakeChannel(
        {
            "C0SUPPORT1": ("failed", "internal_error", False),
            "C0FINOPS01": ("failed", "channel_not_found", False),
        }
    )
    email = FakeChannel({"support-oncall@example.com": ("failed", "MessageRejected", False)})
    delivery, steps = walk(slack, email)
    assert [s[1] for s in steps] == ["failed", "failed", "failed", "delivered"]
    assert email.calls[-1] == (
        "finops@example.com",
        "This alert could not reach Customer Support in Slack (internal_error) or Customer Support by email "
        "(MessageRejected) or FinOps in Slack (channel_not_found): sent to FinOps by email.",
    )
    assert delivery.delivered


def test_a_refused_token_skips_every_later_slack_rung_without_calling_slack():
    slack = FakeChannel({"C0SUPPORT1": ("failed", "invalid_auth", True)})
    email = FakeChannel()
    _, steps = walk(slack, email)
    assert steps == [
        ("C0SUPPORT1", "failed", "invalid_auth"),
        ("support-oncall@example.com", "delivered", None),
        ("C0FINOPS01", "skipped", "invalid_auth"),
        ("finops@example.com", "delivered", None),
    ]
    assert [c[0] for c in slack.calls] == ["C0SUPPORT1"]
    # the skipped rung is not a failure to report: FinOps's email names the token's refusal once
    assert email.calls[1][1] == (
        "This alert could not reach Customer Support in Slack (invalid_auth): sent to Customer Support by "
        "email and to FinOps by email."
    )


def test_email_switched_off_and_slack_down_deliver_nothing():
    slack = FakeChannel({"C0SUPPORT1": ("failed", "invalid_auth", True)})
    email = FakeChannel({"support-oncall@example.com": ("failed", "email_disabled", True)})
    delivery, steps = walk(slack, email)
    assert steps == [
        ("C0SUPPORT1", "failed", "invalid_auth"),
        ("support-oncall@example.com", "failed", "email_disabled"),
        ("C0FINOPS01", "skipped", "invalid_auth"),
        ("finops@example.com", "skipped", "email_disabled"),
    ]
    assert not delivery.delivered and delivery.sent == [] and len(email.calls) == 1


def test_finops_told_in_its_channel_needs_no_email():
    slack = FakeChannel({"C0SUPPORT1": ("failed", "channel_not_found", False)})
    email = FakeChannel({"support-oncall@example.com": ("failed", "MessageRejected", False)})
    _, steps = walk(slack, email)
    assert [s[0] for s in steps] == ["C0SUPPORT1", "support-oncall@example.com", "C0FINOPS01"]


# -- the Slack channel -----------------------------------------------------------------------------


@dataclass
class FakeSlack:
    fail: dict[str, SlackDeliveryError] = field(default_factory=dict)
    """Method (``post``, ``reply``, ``update``) -> the error it raises."""
    calls: list[tuple[str, str, str | None, SlackMessage]] = field(default_factory=list)

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        method = "reply" if thread_ts else "post"
        if method in self.fail:
            raise self.fail[method]
        self.calls.append((method, channel, thread_ts, message))
        return Posted(channel, f"{len(self.calls)}.000")

    def update(self, channel: str, ts: str, message: SlackMessage) -> Posted:
        if "update" in self.fail:
            raise self.fail["update"]
        self.calls.append(("update", channel, ts, message))
        return Posted(channel, ts)


@dataclass
class FakeBudget:
    limit_reached: bool = False
    thread: tuple[str, str] | None = None
    digest_ts: str | None = None
    digests: list[tuple[str, list[str]]] = field(default_factory=list)
    posts: list[tuple[str, str]] = field(default_factory=list)

    def claim_post_slot(self, owner: str, now: datetime, limit: int) -> PostSlot:
        channel, ts = self.thread or (None, None)
        return PostSlot(owner, "bucket", not self.limit_reached, limit + 1, channel, ts, self.digest_ts)

    def record_post(self, slot: PostSlot, channel: str, ts: str) -> None:
        self.posts.append((channel, ts))

    def record_digest(self, slot: PostSlot, digest_ts: str, lines: list[str]) -> None:
        self.digests.append((digest_ts, lines))


OWNER_CHANNEL = SlackDestination("C0SUPPORT1", "owner", "support", post_budget=True)


def test_a_new_alert_is_one_top_level_post_that_starts_the_thread():
    slack, budget = FakeSlack(), FakeBudget()
    attempt = SlackDelivery(slack, budget, 5, now=lambda: NOW).send(
        OWNER_CHANNEL, IncidentAlert(alert_view()), None
    )
    (call,) = slack.calls
    assert call[:3] == ("post", "C0SUPPORT1", None)
    assert attempt.delivered and attempt.thread == Thread("C0SUPPORT1", "1.000", "1.000")
    assert budget.posts == [("C0SUPPORT1", "1.000")]
    assert attempt.sent == (SentMessage("C0SUPPORT1", "support", call[3].text),)


def test_a_fallback_post_carries_its_note_first():
    slack = FakeSlack()
    destination = SlackDestination("C0FINOPS01", "finops", "finops")
    SlackDelivery(slack, FakeBudget(), 5).send(destination, IncidentAlert(alert_view()), "Why here.")
    message = slack.calls[0][3]
    assert message.text.startswith("Why here.\nBedrock spend spike: support-chat-prod")
    assert message.blocks[0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Why here."}]}


def test_past_the_budget_an_alert_is_a_digest_line_in_the_latest_thread():
    budget = FakeBudget(limit_reached=True, thread=("C0SUPPORT1", "9.000"))
    slack = FakeSlack()
    attempt = SlackDelivery(slack, budget, 2).send(OWNER_CHANNEL, IncidentAlert(alert_view()), None)
    (call,) = slack.calls
    assert call[:3] == ("reply", "C0SUPPORT1", "9.000") and "over 2 new posts" in call[3].text
    assert attempt.thread == Thread("C0SUPPORT1", "9.000", None) and budget.digests[0][0] == "1.000"
    # the next one updates the same digest in place
    budget.digest_ts = "1.000"
    SlackDelivery(slack, budget, 2).send(OWNER_CHANNEL, IncidentAlert(alert_view()), None)
    assert slack.calls[1][:3] == ("update", "C0SUPPORT1", "1.000") and len(budget.digests[1][1]) == 1


def test_a_follow_up_updates_the_root_and_replies_in_the_thread():
    slack = FakeSlack()
    thread = Thread("C0SUPPORT1", "5.000", "5.000")
    destination = SlackDestination("C0SUPPORT1", "owner", "support", thread=thread)
    view = alert_view(slack_channel="C0SUPPORT1", slack_ts="5.000", slack_message_ts="5.000")
    attempt = SlackDelivery(slack, FakeBudget(), 5).send(
        destination, IncidentAlert(view, follow_up=True), None
    )
    assert [c[:3] for c in slack.calls] == [
        ("update", "C0SUPPORT1", "5.000"),
        ("reply", "C0SUPPORT1", "5.000"),
    ]
    assert attempt.thread is None and [m.kind for m in attempt.sent] == ["update", "reply"]


def test_a_reply_failing_after_its_update_still_lists_the_update_as_sent():
    slack = FakeSlack(fail={"reply": SlackDeliveryError("is_archived", "archived")})
    thread = Thread("C0SUPPORT1", "5.000", "5.000")
    destination = SlackDestination("C0SUPPORT1", "owner", "support", thread=thread)
    view = alert_view(slack_channel="C0SUPPORT1", slack_ts="5.000", slack_message_ts="5.000")
    attempt = SlackDelivery(slack, FakeBudget(), 5).send(
        destination, IncidentAlert(view, follow_up=True), None
    )
    assert (attempt.outcome, attempt.problem, attempt.rules_out_channel) == ("failed", "is_archived", False)
    assert [m.kind for m in attempt.sent] == ["update"]


def test_a_follow_up_whose_thread_failed_reaches_finops_as_the_news_alone():
    slack = FakeSlack()
    view = alert_view(slack_channel="C0SUPPORT1", slack_ts="5.000", slack_message_ts="5.000")
    destination = SlackDestination("C0FINOPS01", "finops", "finops")
    attempt = SlackDelivery(slack, FakeBudget(), 5).send(
        destination, IncidentAlert(view, follow_up=True), "Why."
    )
    (call,) = slack.calls
    assert call[:3] == ("post", "C0FINOPS01", None)
    assert call[3].text.startswith("Why.\ntoken-rate alarm confirms this spike")
    assert attempt.thread is None  # the incident keeps its own thread


@pytest.mark.parametrize(
    ("code", "rules_out"),
    [
        ("invalid_auth", True),
        ("token_revoked", True),
        ("channel_not_found", False),
        ("internal_error", False),
    ],
)
def test_a_slack_failure_rules_out_the_workspace_only_for_token_errors(code, rules_out):
    slack = FakeSlack(fail={"post": SlackDeliveryError(code, "x")})
    attempt = SlackDelivery(slack, FakeBudget(), 5).send(OWNER_CHANNEL, IncidentAlert(alert_view()), None)
    assert (attempt.outcome, attempt.problem, attempt.rules_out_channel) == ("failed", code, rules_out)


def test_no_slack_sender_is_a_failed_attempt_that_rules_slack_out():
    attempt = SlackDelivery(None, FakeBudget(), 5).send(OWNER_CHANNEL, FinOpsNotice("note", "subject"), None)
    assert (attempt.outcome, attempt.problem, attempt.rules_out_channel) == ("failed", "no_token", True)


# -- the email channel -----------------------------------------------------------------------------


@dataclass
class FakeEmail:
    error: Exception | None = None
    sent: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    def send(self, to: list[str], message: EmailMessage) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append((to, message))
        return "msg-1"


TEAM_INBOX = EmailDestination(("support-oncall@example.com",), "owner", "support")


def test_an_email_goes_to_the_rung_addresses_with_its_note():
    fake = FakeEmail()
    attempt = EmailDelivery(fake).send(TEAM_INBOX, IncidentAlert(alert_view()), "Slack failed.")
    ((to, message),) = fake.sent
    assert to == ["support-oncall@example.com"] and message.text.startswith(
        "Slack failed.\n\nBedrock spend spike"
    )
    assert '<p style="color:#a00">Slack failed.</p>' in message.html
    assert attempt.sent == (SentMessage("email", "support", message.text, None, "email"),)


def test_a_notice_email_is_its_text_escaped_in_html():
    fake = FakeEmail()
    EmailDelivery(fake).send(TEAM_INBOX, FinOpsNotice("a <b> & c", "[tokenfuse] note\nsecond line"), None)
    ((_, message),) = fake.sent
    assert message.subject == "[tokenfuse] note second line" and message.text == "a <b> & c"
    assert '<pre style="white-space:pre-wrap">a &lt;b&gt; &amp; c</pre>' in message.html


@pytest.mark.parametrize(
    ("error", "problem", "rules_out"),
    [
        (EmailDeliveryError("rejected", code="MessageRejected"), "MessageRejected", False),
        (EmailDeliveryError("off", code="email_disabled"), "email_disabled", True),
        (TransientAwsError("Throttling"), "TransientAwsError", False),
    ],
)
def test_an_email_failure_is_a_failed_attempt_with_its_code(error, problem, rules_out):
    attempt = EmailDelivery(FakeEmail(error)).send(TEAM_INBOX, IncidentAlert(alert_view()), None)
    assert (attempt.outcome, attempt.problem, attempt.rules_out_channel) == ("failed", problem, rules_out)


def test_without_a_sender_the_real_ses_adapter_refuses_with_email_disabled():
    attempt = EmailDelivery(EmailSender(None)).send(TEAM_INBOX, IncidentAlert(alert_view()), None)
    assert (attempt.problem, attempt.rules_out_channel) == ("email_disabled", True)
