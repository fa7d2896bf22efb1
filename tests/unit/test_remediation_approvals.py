"""Taking decisions: signed Slack clicks, approver checks, double clicks, time-outs, email links.
In-memory fakes only (the handler and DynamoDB are in tests/integration/test_approve_*.py)."""

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk.signature import SignatureVerifier

from tokenfuse.adapters.stepfunctions import TaskNoLongerWaiting
from tokenfuse.errors import TransientAwsError
from tokenfuse.remediation import links
from tokenfuse.remediation.approvals import ApprovalDesk, button_value, parse_button_value
from tokenfuse.remediation.interactions import EmailLinks, SlackInteractions

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
KEY = b"k" * 64
NOW = 1_800_000_000


class FakeStore:
    def __init__(self):
        self.items = {}

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
    from datetime import UTC, datetime

    return lambda: datetime.fromtimestamp(now, UTC)


def signed(body: str, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 scheme: v0=hex(HMAC-SHA256(secret, 'v0:<ts>:<body>'))."""
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def click(
    value: str, user: str = "U0ALICE001", response_url: str | None = "https://hooks.slack.test/r/1"
) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "actions": [{"action_id": "tokenfuse_approval_approve", "value": value}],
    }
    if response_url:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def slack(store, callbacks, responder=None, now=NOW):
    desk = ApprovalDesk(store, callbacks, now=clock(now))
    return SlackInteractions(lambda: SECRET, desk, responder, now_epoch=lambda: now)


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


def test_unknown_action_is_400(store):
    body = click("something-else")
    assert slack(store, FakeCallbacks()).handle(body, signed(body, NOW)).status == 400


def test_feedback_buttons_go_to_the_feedback_hook(store):
    seen = []
    desk = ApprovalDesk(store, FakeCallbacks(), now=clock())

    def hook(incident_id, choice, actor):
        seen.append((incident_id, choice, actor))
        return "thanks"

    handler = SlackInteractions(lambda: SECRET, desk, None, hook, now_epoch=lambda: NOW)
    body = click(json.dumps({"incident_id": "inc-1", "choice": "planned"}))
    reply = handler.handle(body, signed(body, NOW))
    assert reply.status == 200
    assert seen == [("inc-1", "planned", "U0ALICE001")]


# -- email links ---------------------------------------------------------------------------------


def token(choice="approve", email="alice@example.com", expires=NOW + 900, key=KEY):
    return links.sign(key, links.LinkClaims("Abc123_-xy", choice, email, expires))


def email_links(store, callbacks, now=NOW):
    return EmailLinks(lambda: KEY, ApprovalDesk(store, callbacks, now=clock(now)), lambda: now)


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
