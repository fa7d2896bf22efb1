"""The approve function in-process under moto, fed Function URL events: signed Slack clicks and
signed email links resume the waiting execution once; everything else is refused unchanged."""

import json
import time
from urllib.parse import urlencode

import pytest

from tests.support.approve_endpoint import (
    APPROVAL_ID,
    SIGNING_SECRET,
    TASK_TOKEN,
    approve_endpoint,
    button_click,
    email_token,
    form,
    slack_headers,
)
from tokenfuse.adapters.approvals_table import ApprovalsTable

TABLE = "tokenfuse-approvals-test"


@pytest.fixture
def approve(monkeypatch):
    """(call, calls): call(method, path, body, headers) -> the handler's answer; calls() -> the
    (task token, output) of every SendTaskSuccess so far."""
    with approve_endpoint(monkeypatch) as endpoint:

        def call(method, path, body="", headers=None):
            return endpoint.request(method, path, body, headers)

        def calls():
            return [(c.params["taskToken"], json.loads(c.params["output"])) for c in endpoint.decided()]

        yield call, calls


def _click(user="U0ALICE001", value=f"{APPROVAL_ID}:approve", timestamp=None, secret=SIGNING_SECRET):
    body = form(button_click(value, user=user))
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        **slack_headers(body, timestamp, secret),
    }


def _status(approval_id=APPROVAL_ID):
    return ApprovalsTable(TABLE).get_approval(approval_id)["status"]


def test_valid_signed_click_sends_task_success_once(approve):
    call, calls = approve
    body, headers = _click()
    response = call("POST", "/slack/interactivity", body, headers)
    assert response["statusCode"] == 200
    assert calls() == [
        (
            f"{TASK_TOKEN}-{APPROVAL_ID}",
            {"decision": "approve", "actor": "U0ALICE001", "approval_id": APPROVAL_ID},
        )
    ]
    assert _status() == "decided"


def test_double_click_is_polite_and_sends_nothing_more(approve):
    call, calls = approve
    body, headers = _click()
    call("POST", "/slack/interactivity", body, headers)
    again = call("POST", "/slack/interactivity", *_click(value=f"{APPROVAL_ID}:decline"))
    assert again["statusCode"] == 200
    assert "Already decided" in json.loads(again["body"])["text"]
    assert len(calls()) == 1


def test_forged_signature_is_401_and_nothing_changes(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(secret="forged-secret"))
    assert response["statusCode"] == 401
    assert calls() == [] and _status() == "pending"


def test_replayed_request_is_401(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(timestamp=int(time.time()) - 6 * 60))
    assert response["statusCode"] == 401
    assert calls() == [] and _status() == "pending"


def test_unauthorised_user_gets_a_polite_refusal_and_nothing_changes(approve):
    call, calls = approve
    response = call("POST", "/slack/interactivity", *_click(user="U0MALLORY1"))
    body = json.loads(response["body"])
    assert body["tokenfuse_status"] == 403 and "only on-call approvers" in body["text"]
    assert calls() == [] and _status() == "pending"


def test_unsigned_garbage_and_unknown_routes(approve):
    call, calls = approve
    assert call("POST", "/slack/interactivity", "payload=%7B%7D")["statusCode"] == 401
    assert call("GET", "/admin")["statusCode"] == 400
    assert call("POST", "/email/approve", "token=nope")["statusCode"] == 401
    assert calls() == []


def _link(choice="approve", email="alice@example.com", expires=None):
    return email_token(choice, email, expires)


def test_email_link_get_confirms_post_decides_once(approve):
    call, calls = approve
    token = _link()
    page = call("GET", f"/email/approve?{urlencode({'token': token})}")
    assert page["statusCode"] == 200 and "Confirm: approve" in page["body"]
    assert calls() == []
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    decided = call("POST", "/email/approve", urlencode({"token": token}), headers)
    assert decided["statusCode"] == 200
    assert calls()[0][1] == {"decision": "approve", "actor": "alice@example.com", "approval_id": APPROVAL_ID}
    reused = call("POST", "/email/approve", urlencode({"token": token}), headers)
    assert reused["statusCode"] == 200 and "Already decided" in reused["body"]
    assert len(calls()) == 1


def test_expired_and_tampered_links_are_401(approve):
    call, calls = approve
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    expired = call(
        "POST", "/email/approve", urlencode({"token": _link(expires=int(time.time()) - 1)}), headers
    )
    tampered = call("POST", "/email/approve", urlencode({"token": _link()[:-3] + "abc"}), headers)
    assert expired["statusCode"] == 401 and tampered["statusCode"] == 401
    assert calls() == [] and _status() == "pending"
