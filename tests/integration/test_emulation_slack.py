"""The Slack-compatible server, driven by the real slack_sdk.WebClient, and signed interactivity."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from tokenfuse_sandbox.emulation.slack_server import (
    SlackServer,
    block_actions_payload,
    send_interaction,
    signed_interaction,
)

TOKEN = "xoxb-test-token"
CHANNELS = {"C0PAYMENTS": "payments-alerts", "C0FINOPS": "finops"}


@pytest.fixture
def slack():
    with SlackServer(TOKEN, CHANNELS) as server:
        yield server


def _client(slack, token=TOKEN, **kw):
    return WebClient(token=token, base_url=slack.base_url, timeout=5, **kw)


BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Spend spike* on `chat-search`"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "a1",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]


def test_post_thread_reply_update(slack):
    client = _client(slack)
    assert client.auth_test()["user_id"] == slack.bot_user_id

    top = client.chat_postMessage(channel="C0PAYMENTS", text="Spend spike", blocks=BLOCKS)
    assert top["ok"] is True
    assert top["channel"] == "C0PAYMENTS"
    assert top["message"]["text"] == "Spend spike"
    assert top["message"]["blocks"] == BLOCKS
    sec, frac = top["ts"].split(".")
    assert sec.isdigit()
    assert len(frac) == 6

    reply = client.chat_postMessage(channel="C0PAYMENTS", text="tripped", thread_ts=top["ts"])
    assert reply["message"]["thread_ts"] == top["ts"]
    assert float(reply["ts"]) > float(top["ts"])

    # by channel name too, as Slack allows
    by_name = client.chat_postMessage(channel="#finops", text="fyi")
    assert by_name["channel"] == "C0FINOPS"

    updated = client.chat_update(
        channel="C0PAYMENTS", ts=top["ts"], text="Spend spike (contained)", blocks=[]
    )
    assert updated["ts"] == top["ts"]
    assert updated["text"] == "Spend spike (contained)"
    msgs = slack.messages("C0PAYMENTS")
    assert [m["text"] for m in msgs] == ["Spend spike (contained)", "tripped"]
    assert msgs[1]["thread_ts"] == top["ts"]

    eph = client.chat_postEphemeral(channel="C0PAYMENTS", user="U0ONCALL", text="only you")
    assert eph["ok"] is True
    assert "message_ts" in eph

    info = client.conversations_info(channel="C0PAYMENTS")
    assert info["channel"]["name"] == "payments-alerts"

    posts = slack.calls_to("chat.postMessage")
    assert [(c.channel, c.text, c.thread_ts) for c in posts] == [
        ("C0PAYMENTS", "Spend spike", None),
        ("C0PAYMENTS", "tripped", top["ts"]),
        ("C0FINOPS", "fyi", None),
    ]
    assert posts[0].blocks == BLOCKS
    assert posts[0].ts == top["ts"]
    assert [c.method for c in slack.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "conversations.info",
    ]


def test_form_encoded_bodies(slack):
    client = _client(slack)
    resp = client.api_call(
        "chat.postMessage", data={"channel": "C0PAYMENTS", "text": "form", "blocks": json.dumps(BLOCKS)}
    )
    assert resp["ok"] is True
    assert slack.calls_to("chat.postMessage")[-1].blocks == BLOCKS


def test_ts_unique_and_increasing_under_concurrency(slack):
    client = _client(slack)
    out: list[str] = []
    lock = threading.Lock()

    def post():
        for _ in range(10):
            ts = client.chat_postMessage(channel="C0FINOPS", text="x")["ts"]
            with lock:
                out.append(ts)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 50
    recorded = [c.ts for c in slack.calls_to("chat.postMessage")]
    assert recorded == sorted(recorded, key=float)


def test_errors(slack):
    with pytest.raises(SlackApiError) as e:
        _client(slack, token="xoxb-wrong").chat_postMessage(channel="C0PAYMENTS", text="x")
    assert e.value.response["error"] == "invalid_auth"

    client = _client(slack)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert e.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C0PAYMENTS", ts="1.000001", text="x")
    assert e.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0PAYMENTS", text="x", thread_ts="1.000001")
    assert e.value.response["error"] == "thread_not_found"
    failed = slack.calls_to("chat.postMessage", ok=False)
    assert [c.error for c in failed] == ["invalid_auth", "channel_not_found", "thread_not_found"]
    assert slack.messages("C0PAYMENTS") == []


def test_rate_limit_honoured_by_slack_sdk_retry_handler(slack):
    slack.inject_fault("chat.postMessage", "rate_limited", times=1, retry_after=1)
    client = _client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    t0 = time.monotonic()
    resp = client.chat_postMessage(channel="C0PAYMENTS", text="after retry")
    waited = time.monotonic() - t0
    assert resp["ok"] is True
    assert waited >= 1.0  # slack-sdk slept Retry-After (plus jitter) before retrying
    calls = slack.calls_to("chat.postMessage", ok=None)
    assert [(c.status, c.error) for c in calls] == [(429, "ratelimited"), (200, None)]
    assert len(slack.messages("C0PAYMENTS")) == 1


def test_faults_without_retry(slack):
    client = _client(slack)
    slack.inject_fault("chat.postMessage", "rate_limited")
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0PAYMENTS", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "1"

    slack.inject_fault("chat.postMessage", "server_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel="C0PAYMENTS", text="x")
        assert e.value.response.status_code == 500

    slack.inject_fault("chat.update", "error", error="edit_window_closed")
    top = client.chat_postMessage(channel="C0PAYMENTS", text="x")
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C0PAYMENTS", ts=top["ts"], text="y")
    assert e.value.response["error"] == "edit_window_closed"
    assert client.chat_update(channel="C0PAYMENTS", ts=top["ts"], text="y")["ok"] is True


def test_signed_interaction_verifies_with_slack_sdk():
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    payload = block_actions_payload(
        action_id="approve",
        value="apr-123",
        user_id="U0ONCALL",
        channel_id="C0PAYMENTS",
        message_ts="1.000100",
    )
    body, headers = signed_interaction(payload, secret)
    verifier = SignatureVerifier(secret)
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    assert json.loads(parse_qs(body)["payload"][0]) == payload
    stale = signed_interaction(payload, secret, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(*stale)


def test_send_interaction_over_http():
    secret = "s3cr3t"
    received = {}

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received["valid"] = SignatureVerifier(secret).is_valid_request(body, dict(self.headers.items()))
            received["payload"] = json.loads(parse_qs(body)["payload"][0])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        payload = block_actions_payload(
            action_id="decline", value="apr-9", user_id="U1", channel_id="C0FINOPS", message_ts="2.000001"
        )
        status, _, _ = send_interaction(f"http://127.0.0.1:{server.server_address[1]}/slack", payload, secret)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 200
    assert received["valid"] is True
    assert received["payload"]["actions"][0]["value"] == "apr-9"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
        ({}, "no_text"),
    ],
)
def test_chat_update_refuses_what_slack_refuses(slack, kwargs, error):
    client = _client(slack)
    top = client.chat_postMessage(channel="C0PAYMENTS", text="Spend spike")
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C0PAYMENTS", ts=top["ts"], **kwargs)
    assert e.value.response["error"] == error
    assert slack.messages("C0PAYMENTS")[0]["text"] == "Spend spike"  # unchanged


def test_chat_update_of_a_message_the_bot_did_not_post_is_refused(slack):
    ts = slack.post_as_user("C0PAYMENTS", "U0HUMAN01", "I am looking at it")
    with pytest.raises(SlackApiError) as e:
        _client(slack).chat_update(channel="C0PAYMENTS", ts=ts, text="edited by the bot")
    assert e.value.response["error"] == "cant_update_message"
    assert slack.messages("C0PAYMENTS")[0]["text"] == "I am looking at it"


def test_chat_update_answers_as_slack_and_marks_the_message_edited(slack):
    client = _client(slack)
    top = client.chat_postMessage(channel="C0PAYMENTS", text="Detected", blocks=BLOCKS)
    answer = client.chat_update(channel="C0PAYMENTS", ts=top["ts"], text="Blocked", blocks=BLOCKS[:1])
    assert (answer["channel"], answer["ts"], answer["text"]) == ("C0PAYMENTS", top["ts"], "Blocked")
    assert answer["message"]["blocks"] == BLOCKS[:1]
    (stored,) = slack.messages("C0PAYMENTS")
    assert stored["text"] == "Blocked" and stored["edited"]["user"] == slack.bot_user_id
    assert stored["edited"]["ts"] > top["ts"]
