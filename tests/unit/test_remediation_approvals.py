"""Taking decisions: signed Slack clicks, approver checks, double clicks, time-outs, email links,
the button table and the audit of refused clicks. In-memory fakes only (the handler and DynamoDB
are in tests/integration/test_approve_handler.py and tests/adversarial/test_approve_corpus.py)."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.support.adversarial import NESTING_LIMIT, OVERSIZED, deeply_nested
from tokenfuse.adapters.stepfunctions import TaskNoLongerWaiting
from tokenfuse.alerts.feedback_buttons import feedback_value, parse_feedback_value
from tokenfuse.alerts.slack_render import feedback_actions
from tokenfuse.errors import TransientAwsError
from tokenfuse.remediation import links
from tokenfuse.remediation.blocks import (
    approval_blocks,
    button_value,
    parse_button_value,
    parse_restore_value,
    rendered,
    restore_blocks,
)
from tokenfuse.remediation.decisions import ApprovalDesk, DecisionReply
from tokenfuse.remediation.email_links import EmailLinks
from tokenfuse.remediation.interactions import SlackInteractions, request_text
from tokenfuse.remediation.models import PolicyDecision, RemediationIncident
from tokenfuse.remediation.refusals import Refusals, printable

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
KEY = b"k" * 64
NOW = 1_800_000_000


class FakeStore:
    def __init__(self):
        self.items = {}
        self.refused = []

    def put_approval(self, approval_id, item):
        self.items[approval_id] = dict(item)

    def get_approval(self, approval_id):
        item = self.items.get(approval_id)
        return dict(item) if item else None

    def mark_decided(self, approval_id, decision, actor, via, now_epoch):
        from tokenfuse.adapters.approvals_table import ConditionFailed

        item = self.items[approval_id]
        if item["status"] != "pending" or item["deadline"] < now_epoch:
            raise ConditionFailed("no")
        item.update(status="decided", decision=decision, actor=actor, via=via)

    def reopen(self, approval_id, actor):
        self.items[approval_id].update(status="pending", decision=None, actor=None)

    def put_refused_click(self, at_iso, record, now_epoch):
        self.refused.append(dict(record, at=at_iso))


class FakeCallbacks:
    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def succeed(self, token, output):
        if self.error:
            raise self.error
        self.calls.append((token, output))


class FakeResponder:
    def __init__(self):
        self.sent = []

    def respond(self, url, message):
        self.sent.append((url, message))


@pytest.fixture
def store():
    s = FakeStore()
    s.put_approval(
        "Abc123_-xy",
        {
            "status": "pending",
            "task_token": "TOKEN-1",
            "team": "search",
            "approver_slack_ids": ["U0ALICE001"],
            "approver_emails": ["alice@example.com"],
            "deadline": NOW + 900,
        },
    )
    return s


def clock(now=NOW):
    return lambda: datetime.fromtimestamp(now, UTC)


def signed(body: str, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 scheme: v0=hex(HMAC-SHA256(secret, 'v0:<ts>:<body>'))."""
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def click(
    value: str,
    user: str = "U0ALICE001",
    response_url: str | None = "https://hooks.slack.test/r/1",
    action_id: str | None = None,
) -> str:
    """A ``block_actions`` body as Slack sends it (the action id of the approval button whose
    choice ends the value, unless given)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0SEARCH01"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id or f"tokenfuse_approval_{value.rsplit(':', 1)[-1]}",
                "block_id": "tokenfuse_approval_Abc123_-xy",
                "value": value,
                "action_ts": f"{NOW}.000100",
            }
        ],
    }
    if response_url:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def slack(store, callbacks, responder=None, now=NOW, **hooks):
    desk = ApprovalDesk(store, callbacks, now=clock(now), approver_of=hooks.pop("approver_of", None))
    refusals = Refusals(store, now=clock(now))
    return SlackInteractions(
        lambda: SECRET, desk, refusals, responder=responder, now_epoch=lambda: now, **hooks
    )


def answer(reply):
    return json.loads(reply.body)


def test_button_value_carries_only_id_and_choice():
    assert button_value("Abc123_-xy", "snooze") == "Abc123_-xy:snooze"
    assert parse_button_value("Abc123_-xy:snooze") == ("Abc123_-xy", "snooze")
    assert parse_button_value("Abc123_-xy:explode") is None
    assert parse_button_value("short:approve") is None


def test_our_signing_matches_slack_sdks_verifier():
    body = click("Abc123_-xy:approve")
    headers = signed(body, int(time.time()))
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_valid_click_resumes_the_execution_once(store):
    callbacks, responder = FakeCallbacks(), FakeResponder()
    body = click("Abc123_-xy:approve")
    reply = slack(store, callbacks, responder).handle(body, signed(body, NOW))
    assert reply.status == 200
    assert callbacks.calls == [
        ("TOKEN-1", {"decision": "approve", "actor": "U0ALICE001", "approval_id": "Abc123_-xy"})
    ]
    assert store.items["Abc123_-xy"]["status"] == "decided"
    assert "Approved" in json.loads(reply.body)["text"]
    assert responder.sent[0][1] == {"replace_original": True, "text": json.loads(reply.body)["text"]}


def test_double_click_is_answered_politely_and_changes_nothing(store):
    callbacks, responder = FakeCallbacks(), FakeResponder()
    handler = slack(store, callbacks, responder)
    body = click("Abc123_-xy:approve")
    handler.handle(body, signed(body, NOW))
    second = click("Abc123_-xy:decline")
    reply = handler.handle(second, signed(second, NOW))
    assert reply.status == 200
    assert "Already decided: approve" in json.loads(reply.body)["text"]
    assert len(callbacks.calls) == 1
    assert store.items["Abc123_-xy"]["decision"] == "approve"
    assert responder.sent[-1][1]["response_type"] == "ephemeral"


def test_forged_signature_is_401(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve")
    reply = slack(store, callbacks).handle(body, signed(body, NOW, secret="not-the-secret"))
    assert reply.status == 401
    assert callbacks.calls == []
    assert store.items["Abc123_-xy"]["status"] == "pending"


def test_tampered_body_is_401(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve")
    headers = signed(body, NOW)
    reply = slack(store, callbacks).handle(click("Abc123_-xy:approve", user="U0MALLORY1"), headers)
    assert reply.status == 401
    assert callbacks.calls == []


def test_replayed_request_older_than_five_minutes_is_401(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve")
    reply = slack(store, callbacks).handle(body, signed(body, NOW - 301))
    assert reply.status == 401
    assert callbacks.calls == []


def test_missing_headers_are_401(store):
    assert slack(store, FakeCallbacks()).handle(click("Abc123_-xy:approve"), {}).status == 401


def test_unauthorised_user_is_refused_politely_and_nothing_changes(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve", user="U0MALLORY1")
    reply = slack(store, callbacks).handle(body, signed(body, NOW))
    answer = json.loads(reply.body)
    assert answer["tokenfuse_status"] == 403
    assert "only on-call approvers of team search" in answer["text"]
    assert callbacks.calls == []
    assert store.items["Abc123_-xy"]["status"] == "pending"


def test_click_after_the_deadline_changes_nothing(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve")
    reply = slack(store, callbacks, now=NOW + 901).handle(body, signed(body, NOW + 901))
    assert "timed out" in json.loads(reply.body)["text"]
    assert callbacks.calls == []


def test_click_the_state_machine_no_longer_waits_for(store):
    body = click("Abc123_-xy:approve")
    reply = slack(store, FakeCallbacks(TaskNoLongerWaiting("TaskTimedOut"))).handle(body, signed(body, NOW))
    assert "Too late" in json.loads(reply.body)["text"]


def test_transient_failure_reopens_the_approval_for_another_click(store):
    body = click("Abc123_-xy:approve")
    reply = slack(store, FakeCallbacks(TransientAwsError("Throttling"))).handle(body, signed(body, NOW))
    assert json.loads(reply.body)["tokenfuse_status"] == 503
    assert store.items["Abc123_-xy"]["status"] == "pending"


def test_feedback_buttons_go_to_the_feedback_hook(store):
    seen = []

    def hook(incident_id, choice, actor):
        seen.append((incident_id, choice, actor))
        return DecisionReply(200, "thanks", changed=True)

    body = click(feedback_value("inc-1", "planned"), action_id="anomaly_feedback_planned")
    reply = slack(store, FakeCallbacks(), feedback=hook).handle(body, signed(body, NOW))
    assert reply.status == 200 and answer(reply)["text"] == "thanks"
    assert seen == [("inc-1", "planned", "U0ALICE001")]
    assert store.refused == []


# -- email links ---------------------------------------------------------------------------------


def token(choice="approve", email="alice@example.com", expires=NOW + 900, key=KEY):
    return links.sign(key, links.LinkClaims("Abc123_-xy", choice, email, expires))


def email_links(store, callbacks, now=NOW):
    desk = ApprovalDesk(store, callbacks, now=clock(now))
    return EmailLinks(lambda: KEY, desk, Refusals(store, now=clock(now)), lambda: now)


def test_link_url_carries_the_token():
    url = links.link_url("https://abc.lambda-url.us-east-1.on.aws/", token())
    parts = urlsplit(url)
    assert parts.path == "/email/approve"
    assert parse_qs(parts.query)["token"] == [token()]


def test_valid_link_confirms_then_decides_once(store):
    callbacks = FakeCallbacks()
    handler = email_links(store, callbacks)
    page = handler.confirm_page(token())
    assert page.status == 200 and 'method="post"' in page.body
    assert callbacks.calls == []  # a GET never decides (mail scanners follow links)
    reply = handler.decide(urlencode({"token": token()}))
    assert reply.status == 200 and "Approved" in reply.body
    assert callbacks.calls == [
        ("TOKEN-1", {"decision": "approve", "actor": "alice@example.com", "approval_id": "Abc123_-xy"})
    ]


def test_reused_link_is_single_use(store):
    callbacks = FakeCallbacks()
    handler = email_links(store, callbacks)
    handler.decide(urlencode({"token": token()}))
    again = handler.decide(urlencode({"token": token("decline")}))
    assert again.status == 200 and "Already decided" in again.body
    assert len(callbacks.calls) == 1


def test_expired_link_is_401(store):
    callbacks = FakeCallbacks()
    reply = email_links(store, callbacks, now=NOW + 901).decide(urlencode({"token": token()}))
    assert reply.status == 401 and "expired" in reply.body
    assert callbacks.calls == []


@pytest.mark.parametrize(
    "bad",
    [
        token(key=b"another key"),
        token()[:-2] + "xx",
        token().replace(".", ""),
        "",
    ],
)
def test_tampered_or_missing_link_is_rejected(store, bad):
    callbacks = FakeCallbacks()
    reply = email_links(store, callbacks).decide(urlencode({"token": bad}))
    assert reply.status in {400, 401}
    assert callbacks.calls == []
    assert store.items["Abc123_-xy"]["status"] == "pending"


def test_link_for_someone_not_an_approver_is_refused(store):
    callbacks = FakeCallbacks()
    reply = email_links(store, callbacks).decide(urlencode({"token": token(email="bob@example.com")}))
    assert reply.status == 403
    assert callbacks.calls == []


# -- the button table: action id and value together ----------------------------------------------

ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"


def _rendered_buttons():
    """Every button tokenfuse renders, from the real renderers."""
    incident = RemediationIncident(
        incident_id="inc-1", profile_arn=ARN, profile_id="abc123def456", account_id="111111111111",
        region="us-east-1", team="search", slack_channel="C0SEARCH01", slack_ts="100.1",
    )  # fmt: skip
    policy = PolicyDecision(
        mode="approve", team_mode="approve", action="detach", decision=None, reasons=[], team="search",
        approver_team="search", environment="prod", approval_timeout_seconds=900, snooze_seconds=3600,
        verify_delay_seconds=300, cooldown_seconds=3600, on_timeout="none", dry_run=False,
        mechanism="guard-scp", trips_last_hour=0,
    )  # fmt: skip
    deadline = datetime.fromtimestamp(NOW + 900, UTC)
    blocks = [
        *rendered(approval_blocks(incident, policy, "Abc123_-xy", ["U0ALICE001"], deadline)),
        feedback_actions("inc-1"),
        *rendered(restore_blocks("Detached.", ARN)),
    ]
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_every_rendered_button_has_a_route_that_takes_its_own_value(store):
    buttons = _rendered_buttons()
    handler = slack(store, FakeCallbacks())
    assert len(buttons) == 7
    assert {b["action_id"] for b in buttons} == set(handler.buttons)


def test_each_rendered_button_dispatches_to_its_handler(store):
    seen = []

    def feedback(incident_id, choice, actor):
        seen.append(("feedback", incident_id, choice))
        return DecisionReply(200, "thanks", changed=True)

    def restore(profile_arn, user):
        seen.append(("restore", profile_arn, user))
        return DecisionReply(200, "restoring", changed=True)

    callbacks = FakeCallbacks()
    handler = slack(store, callbacks, feedback=feedback, restore=restore)
    for button in _rendered_buttons():
        if button["action_id"].startswith("tokenfuse_approval_"):
            store.items["Abc123_-xy"].update(status="pending")
        body = click(button["value"], action_id=button["action_id"])
        assert answer(handler.handle(body, signed(body, NOW)))["tokenfuse_status"] == 200
    assert [c[1]["decision"] for c in callbacks.calls] == ["approve", "decline", "snooze"]
    assert seen == [
        ("feedback", "inc-1", "accurate"),
        ("feedback", "inc-1", "false-positive"),
        ("feedback", "inc-1", "planned"),
        ("restore", ARN, "U0ALICE001"),
    ]
    assert store.refused == []


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("tokenfuse_approval_approve", "Abc123_-xy:decline"),  # the value of another button
        ("tokenfuse_approval_decline", feedback_value("inc-1", "planned")),
        ("anomaly_feedback_planned", feedback_value("inc-1", "accurate")),
        ("anomaly_feedback_accurate", "Abc123_-xy:approve"),
        ("tokenfuse_restore", "Abc123_-xy:approve"),
        ("tokenfuse_restore", "restore:arn:aws:iam::111111111111:role/admin"),
        ("tokenfuse_restore", f"restore:{ARN}/../../foundation-model/x"),
        ("tokenfuse_approval_approve", ""),
        ("tokenfuse_approval_approve", OVERSIZED),
        ("tokenfuse_approval_approve", "Abc123_-x\u00e9:approve"),
    ],
)
def test_a_value_that_does_not_parse_for_its_action_id_is_refused_and_audited(store, action_id, value):
    callbacks = FakeCallbacks()
    body = click(value, action_id=action_id)
    reply = slack(store, callbacks, feedback=lambda *a: pytest.fail("no feedback"),
                  restore=lambda *a: pytest.fail("no restore")).handle(body, signed(body, NOW))  # fmt: skip
    assert reply.status == 200 and answer(reply)["tokenfuse_status"] == 400
    assert callbacks.calls == [] and store.items["Abc123_-xy"]["status"] == "pending"
    [audited] = store.refused
    assert (audited["reason"], audited["actor"], audited["action_id"]) == (
        "bad-value",
        "U0ALICE001",
        action_id,
    )
    assert len(audited.get("value", "")) <= 128


def test_an_unknown_action_id_is_refused_politely_and_audited(store):
    callbacks, responder = FakeCallbacks(), FakeResponder()
    body = click("Abc123_-xy:approve", action_id="tokenfuse_approval_explode")
    reply = slack(store, callbacks, responder).handle(body, signed(body, NOW))
    assert reply.status == 200
    assert answer(reply)["tokenfuse_status"] == 400 and "does not know this button" in answer(reply)["text"]
    assert responder.sent[0][1]["response_type"] == "ephemeral"
    assert callbacks.calls == []
    assert [(r["reason"], r["action_id"], r["value"]) for r in store.refused] == [
        ("unknown-action", "tokenfuse_approval_explode", "Abc123_-xy:approve")
    ]


# -- every refused signed click is audited ---------------------------------------------------------


def test_refused_approval_clicks_are_audited_with_who_what_and_why(store):
    callbacks = FakeCallbacks()
    handler = slack(store, callbacks)
    for user, value in [("U0MALLORY1", "Abc123_-xy:approve"), ("U0ALICE001", "Zzz999_-zz:decline")]:
        body = click(value, user=user)
        handler.handle(body, signed(body, NOW))
    mallory, unknown = store.refused
    assert mallory["reason"] == "not-an-approver" and mallory["actor"] == "U0MALLORY1"
    assert (mallory["approval_id"], mallory["team"], mallory["via"]) == ("Abc123_-xy", "search", "slack")
    assert "only on-call approvers of team search" in mallory["detail"]
    assert unknown["reason"] == "unknown-approval" and unknown["approval_id"] == "Zzz999_-zz"
    assert unknown["value"] == "Zzz999_-zz:decline"
    assert all(r["at"] == "2027-01-15T08:00:00.000000Z" for r in store.refused)
    assert callbacks.calls == []


def test_another_teams_on_call_is_told_apart_from_a_stranger(store):
    handler = slack(
        store, FakeCallbacks(), approver_of=lambda actor: ["payments"] if actor == "U0BOB00001" else []
    )
    for user in ("U0BOB00001", "U0MALLORY1"):
        body = click("Abc123_-xy:approve", user=user)
        assert answer(handler.handle(body, signed(body, NOW)))["tokenfuse_status"] == 403
    bob, mallory = store.refused
    assert (bob["reason"], bob["approver_of"]) == ("other-team-approver", "payments")
    assert mallory["reason"] == "not-an-approver" and "approver_of" not in mallory


def test_late_and_repeated_clicks_are_audited(store):
    callbacks = FakeCallbacks()
    body = click("Abc123_-xy:approve")
    slack(store, callbacks, now=NOW + 901).handle(body, signed(body, NOW + 901))
    slack(store, callbacks).handle(body, signed(body, NOW))
    slack(store, callbacks).handle(body, signed(body, NOW))
    assert [r["reason"] for r in store.refused] == ["expired", "already-decided"]
    assert len(callbacks.calls) == 1


def test_a_click_the_state_machine_no_longer_waits_for_is_audited(store):
    body = click("Abc123_-xy:snooze")
    slack(store, FakeCallbacks(TaskNoLongerWaiting("TaskTimedOut"))).handle(body, signed(body, NOW))
    assert [r["reason"] for r in store.refused] == ["task-not-waiting"]


class BrokenStore(FakeStore):
    def put_refused_click(self, at_iso, record, now_epoch):
        raise TransientAwsError("ProvisionedThroughputExceededException")


def test_a_failed_audit_write_still_answers_the_clicker():
    broken = BrokenStore()
    broken.put_approval("Abc123_-xy", {"status": "pending", "team": "search", "deadline": NOW + 900})
    body = click("Abc123_-xy:approve", user="U0MALLORY1")
    reply = slack(broken, FakeCallbacks()).handle(body, signed(body, NOW))
    assert reply.status == 200 and answer(reply)["tokenfuse_status"] == 403


def test_a_transient_failure_reading_the_approval_asks_for_another_click():
    class Down(FakeStore):
        def get_approval(self, approval_id):
            raise TransientAwsError("ThrottlingException")

    down = Down()
    body = click("Abc123_-xy:approve")
    reply = slack(down, FakeCallbacks()).handle(body, signed(body, NOW))
    assert reply.status == 200 and answer(reply)["tokenfuse_status"] == 503
    assert "please click again" in answer(reply)["text"] and down.refused == []


# -- requests that are not Slack's: counted, never stored ------------------------------------------


def test_slack_sdks_verifier_raises_on_what_the_endpoint_refuses_first(store):
    """Why the headers are checked before slack-sdk sees them: its verifier raises, not answers."""
    body = click("Abc123_-xy:approve")
    verifier = SignatureVerifier(SECRET)
    with pytest.raises(TypeError):
        verifier.is_valid(body, str(int(time.time())), "v0=\u00e9" + "a" * 63)
    with pytest.raises(OverflowError):
        verifier.is_valid(body, "9" * 400, "v0=" + "a" * 64)
    with pytest.raises(ValueError, match="invalid literal"):
        verifier.is_valid(body, "12a", "v0=" + "a" * 64)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": str(NOW), "X-Slack-Signature": "v0=\u00e9" + "a" * 63},
        {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=" + "a" * 64},
        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=" + "a" * 64},
        {"X-Slack-Request-Timestamp": "\u0661\u0667\u0660\u0660", "X-Slack-Signature": "v0=" + "a" * 64},
        {"X-Slack-Request-Timestamp": f"{NOW}\n", "X-Slack-Signature": "v0=" + "a" * 64},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=" + "a" * 64},
        {"X-Slack-Request-Timestamp": str(NOW)},
        {"X-Slack-Signature": "v0=" + "a" * 64},
    ],
    ids=[
        "non-ascii-signature",
        "overflowing",
        "too-many-digits",
        "arabic-digits",
        "newline",
        "negative",
        "no-signature",
        "no-timestamp",
    ],
)
def test_hostile_signature_headers_are_401_and_never_stored(store, headers):
    body = click("Abc123_-xy:approve")
    reply = slack(store, FakeCallbacks()).handle(body, headers)
    assert reply.status == 401 and store.refused == []
    assert store.items["Abc123_-xy"]["status"] == "pending"


def test_a_body_that_could_not_be_decoded_is_400():
    assert slack(FakeStore(), FakeCallbacks()).handle(None, {}).status == 400


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("not json", "not JSON"),
        (json.dumps(["block_actions"]), "list"),
        (json.dumps("block_actions"), "string"),
        (deeply_nested(NESTING_LIMIT + 1), "too deep"),
        ("[" * 100_000 + "]" * 100_000, "deeper than the recursion limit"),
        (json.dumps({"type": "view_submission", "user": {"id": "U0ALICE001"}}), "another type"),
        (json.dumps({"type": ["block_actions"], "user": {"id": "U0ALICE001"}}), "type as list"),
        (json.dumps({"type": "block_actions", "user": "U0ALICE001", "actions": []}), "user as string"),
        (json.dumps({"type": "block_actions", "user": {"id": OVERSIZED}}), "oversized user id"),
        (json.dumps({"type": "block_actions", "user": {"id": 12345}}), "numeric user id"),
    ],
)
def test_signed_payloads_that_are_no_click_are_400_and_never_stored(store, payload, why):
    body = urlencode({"payload": payload})
    reply = slack(store, FakeCallbacks()).handle(body, signed(body, NOW))
    assert reply.status == 400, why
    assert store.refused == [] and store.items["Abc123_-xy"]["status"] == "pending"


def test_nesting_up_to_the_limit_is_read_and_refused_for_what_it_is(store):
    """Exactly 100 levels is JSON the endpoint reads (then finds no click in it)."""
    payload = json.dumps({"type": "block_actions", "user": {"id": "U0ALICE001"}, "actions": [],
                          "state": json.loads(deeply_nested(NESTING_LIMIT - 1))})  # fmt: skip
    body = urlencode({"payload": payload})
    reply = slack(store, FakeCallbacks()).handle(body, signed(body, NOW))
    assert reply.status == 200 and [r["reason"] for r in store.refused] == ["malformed-click"]


@pytest.mark.parametrize(
    "actions",
    [
        [],
        [{"type": "button", "action_id": "tokenfuse_approval_approve", "value": "Abc123_-xy:approve"}] * 2,
        [{"type": "static_select", "action_id": "tokenfuse_approval_approve", "value": "Abc123_-xy:approve"}],
        [{"type": "button", "action_id": ["tokenfuse_approval_approve"], "value": "Abc123_-xy:approve"}],
        [{"type": "button", "action_id": "tokenfuse_approval_approve", "value": {"v": "Abc123_-xy:approve"}}],
        ["tokenfuse_approval_approve"],
        {"0": {"type": "button", "action_id": "tokenfuse_approval_approve"}},
    ],
    ids=["empty", "two", "select", "action-id-list", "value-object", "string-entry", "object"],
)
def test_a_signed_click_without_exactly_one_button_is_refused_and_audited(store, actions):
    callbacks = FakeCallbacks()
    payload = {"type": "block_actions", "user": {"id": "U0ALICE001"}, "actions": actions}
    body = urlencode({"payload": json.dumps(payload)})
    reply = slack(store, callbacks).handle(body, signed(body, NOW))
    assert reply.status == 200 and answer(reply)["tokenfuse_status"] == 400
    assert callbacks.calls == []
    assert [(r["reason"], r["actor"]) for r in store.refused] == [("malformed-click", "U0ALICE001")]


# -- values, bodies and audit text -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["", ":approve", "Abc123_-xy:", "Abc123_-xy", "Abc123_-x\u00e9:approve", "Abc123_-xy:approve:x",
     "Abc123 -xy:approve", OVERSIZED + ":approve", "Abc123_-xy:APPROVE"],
)  # fmt: skip
def test_button_values_of_another_shape_do_not_parse(value):
    assert parse_button_value(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "[]", '"inc-1"', "null", '{"incident_id": 1, "choice": "planned"}',
     '{"incident_id": "", "choice": "planned"}', '{"incident_id": "inc 1", "choice": "planned"}',
     '{"incident_id": "inc-1", "choice": ["planned"]}', '{"incident_id": "inc-1", "choice": "yes"}',
     json.dumps({"incident_id": OVERSIZED, "choice": "planned"}), "[" * 5000 + "]" * 5000],
)  # fmt: skip
def test_feedback_values_of_another_shape_raise_value_error(value):
    with pytest.raises(ValueError, match=r"not a tokenfuse feedback value|Expecting|Extra data"):
        parse_feedback_value(value)


def test_restore_values_name_an_application_profile_arn_only():
    assert parse_restore_value(f"restore:{ARN}") == ARN
    for bad in [ARN, "restore:", f"restore:{ARN}\n", f"restore:{ARN}/x", "restore:arn:aws:bedrock:us-east-1:"
                "111111111111:foundation-model/anthropic.claude", "restore:" + OVERSIZED]:  # fmt: skip
        assert parse_restore_value(bad) is None


def test_request_text_decodes_what_lambda_base64_encodes_and_refuses_the_rest():
    assert request_text(None, False) == "" and request_text("", True) == ""
    assert request_text(base64.b64encode("caf\u00e9".encode()).decode(), True) == "caf\u00e9"
    assert request_text("payload=x", False) == "payload=x"
    assert request_text("not base64!", True) is None
    assert request_text(base64.b64encode(b"\xff\xfe").decode(), True) is None
    assert request_text("\ud800", False) is None


def test_printable_clips_and_escapes_what_could_forge_a_log_line():
    assert printable("caf\u00e9") == "caf\u00e9"
    assert printable("a\nb\x00\u202eevil\ud800\U000e0001") == "a\\x0ab\\x00\\u202eevil\\ud800\\U000e0001"
    assert printable("x" * 300) == "x" * 125 + "..."
    assert printable("\n" * 100, limit=20) == "\\x0a" * 4 + "\\..."  # 20 characters, never more
    assert printable(["list"]) == "['list']"


# -- email links: hostile tokens, and refusals audited ---------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["\u00e9" + token()[1:], token() + "\u00e9", token()[:-1] + "\u00e9", "x" * 1025 + "." + "y", "..", ".",
     "a.b.c", token() + "\n", "\ud800.\ud800"],
)  # fmt: skip
def test_non_ascii_and_oversized_tokens_are_invalid_links(bad):
    with pytest.raises(links.InvalidLink):
        links.verify(KEY, bad, NOW)


def test_a_signed_token_with_claims_of_another_shape_is_invalid():
    def signed_claims(body):
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
        mac = base64.urlsafe_b64encode(hmac.new(KEY, payload.encode(), hashlib.sha256).digest())
        return f"{payload}.{mac.rstrip(b'=').decode()}"

    good = {"a": "Abc123_-xy", "c": "approve", "e": "alice@example.com", "x": NOW + 60}
    assert links.verify(KEY, signed_claims(good), NOW).approval_id == "Abc123_-xy"
    bad_claims = [
        {**good, "a": "x" * 11}, {**good, "a": 1234567890}, {**good, "x": 1e400}, {**good, "x": "1"},
        {**good, "x": 10.5}, {**good, "e": ["alice@example.com"]}, {**good, "c": "explode"}, [good],
    ]  # fmt: skip
    for bad in bad_claims:
        with pytest.raises(links.InvalidLink):
            links.verify(KEY, signed_claims(bad), NOW)


def test_refused_email_decisions_are_audited_but_invalid_links_are_not(store):
    callbacks = FakeCallbacks()
    handler = email_links(store, callbacks)
    handler.decide(urlencode({"token": token(email="bob@example.com")}))
    handler.decide(urlencode({"token": token(key=b"another key")}))
    handler.decide(urlencode({"token": token()}))
    handler.decide(urlencode({"token": token("decline")}))
    email_links(store, callbacks, now=NOW + 901).confirm_page(token())
    assert [(r["reason"], r["actor"], r["via"]) for r in store.refused] == [
        ("not-an-approver", "bob@example.com", "email-confirm"),
        ("already-decided", "alice@example.com", "email-confirm"),
        ("expired", "alice@example.com", "email-open"),
    ]
    assert all(r["approval_id"] == "Abc123_-xy" for r in store.refused)
    assert len(callbacks.calls) == 1


@pytest.mark.parametrize(
    "form",
    [None, "token=a&token=b", "token=%ff%fe", "", "token="],
    ids=["undecodable", "two", "not-utf8", "empty", "blank"],
)
def test_confirmation_forms_of_another_shape_change_nothing(store, form):
    callbacks = FakeCallbacks()
    reply = email_links(store, callbacks).decide(form)
    assert reply.status in {400, 401}
    assert callbacks.calls == [] and store.refused == [] and store.items["Abc123_-xy"]["status"] == "pending"
