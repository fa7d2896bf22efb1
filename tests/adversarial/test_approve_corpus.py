"""Adversarial corpus for the approve Function URL (issue 10): whatever arrives, the real handler
(``functions/approve/app.py`` under moto, fed Lambda Function URL events) answers 4xx, or 200 with a
polite ephemeral text for a person's click, never raises and never decides.

Every case asserts: the status code; that nothing acted (no SendTaskSuccess / SendTaskFailure /
SendTaskHeartbeat, no Restore invoke, no CAD feedback: stopped at botocore and recorded); that the
approval is still pending; what was audited in the approvals table (a refused click of a person
tokenfuse can name) or not (anything unsigned or badly signed); and the one log line and metric
the refusal left. Cases come from scratch, from mutations of a real Slack ``block_actions``
payload and of a real email link, and from hypothesis over bodies and headers.
"""

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.adversarial import (
    HOSTILE_STRINGS,
    NESTING_LIMIT,
    OVERSIZED,
    deeply_nested,
    json_values,
    mutations,
    unicode_text,
)
from tests.support.approve_endpoint import (
    APPROVAL_ID,
    APPROVER,
    FORM,
    OTHER_TEAMS_APPROVER,
    PROFILE_ARN,
    STRANGER,
    ApproveEndpoint,
    approve_endpoint,
    button_click,
    email_token,
    form,
    slack_headers,
)

Send = Callable[[ApproveEndpoint], dict[str, Any]]


@pytest.fixture(scope="module")
def shared() -> Iterator[ApproveEndpoint]:
    with pytest.MonkeyPatch.context() as monkeypatch, approve_endpoint(monkeypatch) as endpoint:
        yield endpoint


@pytest.fixture
def approve(shared: ApproveEndpoint) -> ApproveEndpoint:
    shared.reset()
    return shared


@dataclass(frozen=True)
class Outcome:
    status: int
    audited: str | None = None
    """The ``reason`` of the one refused-click item the case leaves (None: the table holds none)."""
    counted: str | None = None
    """The ``reason`` of the ``RequestsRefused`` metric (for what is never stored)."""
    tokenfuse_status: int | None = None
    """The status inside a 200 Slack answer."""


def emitted_metrics(out: str) -> list[tuple[str, str | None]]:
    """(metric name, reason dimension) of every EMF blob printed."""
    found = []
    for line in out.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict) and "_aws" in blob:
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                found.append((metric["Name"], blob.get("reason")))
    return found


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith(("click refused", "request refused"))
    ]


def assert_refused(
    approve: ApproveEndpoint,
    response: dict[str, Any],
    expected: Outcome,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> list[dict[str, Any]]:
    """The checks every case makes; returns the refused-click items."""
    assert response["statusCode"] == expected.status, response.get("body")
    if expected.tokenfuse_status is not None:
        assert json.loads(response["body"])["tokenfuse_status"] == expected.tokenfuse_status
    assert approve.sent == []
    assert approve.status() == "pending"
    refused = approve.refused()
    assert [r["reason"] for r in refused] == ([expected.audited] if expected.audited else [])
    metrics = emitted_metrics(capsys.readouterr().out)
    if expected.audited:
        assert ("ClicksRefused", expected.audited) in metrics
        assert refusal_lines(caplog) == [f"click refused: {expected.audited}"]
    if expected.counted:
        assert ("RequestsRefused", expected.counted) in metrics
        assert refusal_lines(caplog) == [f"request refused: {expected.counted}"]
    return refused


# -- building requests -----------------------------------------------------------------------------


def slack_raw(raw: bytes, *, signed_over: bytes | None = None, b64: str | None = None) -> Send:
    """A Slack POST whose body Lambda passed base64-encoded (``b64`` overrides the encoding)."""

    def send(approve: ApproveEndpoint) -> dict[str, Any]:
        headers = {**FORM, **slack_headers(raw if signed_over is None else signed_over)}
        body = base64.b64encode(raw).decode() if b64 is None else b64
        return approve.request(
            "POST", "/slack/interactivity", b"", headers, event={"body": body, "isBase64Encoded": True}
        )

    return send


def signed(body: str, **kwargs: Any) -> Send:
    return lambda approve: approve.slack(body, **kwargs)


def click(payload: dict[str, Any], **kwargs: Any) -> Send:
    return lambda approve: approve.click(payload, **kwargs)


def with_actions(actions: object) -> dict[str, Any]:
    return {**button_click(), "actions": actions}


def with_button(**fields: object) -> dict[str, Any]:
    payload = button_click()
    return {**payload, "actions": [{**payload["actions"][0], **fields}]}


def without_value() -> dict[str, Any]:
    payload = button_click()
    button = {k: v for k, v in payload["actions"][0].items() if k != "value"}
    return {**payload, "actions": [button]}


def seeded(seed: Callable[[ApproveEndpoint], None], send: Send) -> Send:
    def run(approve: ApproveEndpoint) -> dict[str, Any]:
        seed(approve)
        approve.sent.clear()
        return send(approve)

    return run


def expired_approval(approve: ApproveEndpoint) -> None:
    approve.pending_approval("Exp1red_-x", deadline=int(time.time()) - 1)


def decided_approval(approve: ApproveEndpoint) -> None:
    approve.pending_approval("Dec1ded_-x", status="decided", decision="decline", actor=APPROVER)


def active_trip(approve: ApproveEndpoint) -> None:
    approve.table.put_trip(PROFILE_ARN, {"trip_id": "trip-1", "incident_id": "inc-1", "team": "search"})


def get_link(token: str) -> Send:
    return lambda approve: approve.request("GET", f"/email/approve?{urlencode({'token': token})}")


def post_link(body: str | bytes) -> Send:
    return lambda approve: approve.request("POST", "/email/approve", body, FORM)


def restore(value: str, user: str = APPROVER) -> dict[str, Any]:
    return button_click(value, user=user, action_id="tokenfuse_restore")


def feedback(value: str, choice: str = "planned") -> dict[str, Any]:
    return button_click(value, action_id=f"anomaly_feedback_{choice}")


NOW = int(time.time())
SIG = "v0=" + "a" * 64
CLICK_BODY = form(button_click())

CORPUS: list[tuple[str, Send, Outcome]] = [
    # unsigned, badly signed, replayed: counted, never stored
    (
        "no signature headers",
        lambda a: a.request("POST", "/slack/interactivity", CLICK_BODY, FORM),
        Outcome(401, counted="unsigned"),
    ),
    (
        "empty signature",
        signed(CLICK_BODY, headers={"X-Slack-Signature": ""}),
        Outcome(401, counted="malformed-signature"),
    ),
    (
        "non-ASCII signature",
        signed(CLICK_BODY, headers={"X-Slack-Signature": "v0=\u00e9" + "a" * 63}),
        Outcome(401, counted="malformed-signature"),
    ),
    (
        "non-ASCII timestamp",
        signed(CLICK_BODY, headers={"X-Slack-Request-Timestamp": "\u0661\u0667\u0660\u0660"}),
        Outcome(401, counted="malformed-signature"),
    ),
    (
        "timestamp not a number",
        signed(CLICK_BODY, timestamp="soon"),
        Outcome(401, counted="malformed-signature"),
    ),
    (
        "overflowing timestamp",
        signed(CLICK_BODY, timestamp="9" * 400),
        Outcome(401, counted="malformed-signature"),
    ),
    (
        "5000-digit timestamp",
        signed(CLICK_BODY, timestamp="9" * 5000),
        Outcome(401, counted="malformed-signature"),
    ),
    ("negative timestamp", signed(CLICK_BODY, timestamp=-NOW), Outcome(401, counted="malformed-signature")),
    (
        "replayed 6 minutes later",
        signed(CLICK_BODY, timestamp=NOW - 360),
        Outcome(401, counted="stale-timestamp"),
    ),
    (
        "signed in the future",
        signed(CLICK_BODY, timestamp=NOW + 3600),
        Outcome(401, counted="stale-timestamp"),
    ),
    (
        "another signing secret",
        signed(CLICK_BODY, secret="not-the-secret"),
        Outcome(401, counted="bad-signature"),
    ),
    (
        "signature in upper case",
        lambda a: a.slack(
            CLICK_BODY, headers={"X-Slack-Signature": slack_headers(CLICK_BODY)["X-Slack-Signature"].upper()}
        ),
        Outcome(401, counted="malformed-signature"),
    ),
    ("body not UTF-8", slack_raw(b"payload=\xff\xfe\xfa"), Outcome(400, counted="undecodable-body")),
    (
        "base64 that does not decode",
        slack_raw(b"", signed_over=b"payload=x", b64="%%%not-base64"),
        Outcome(400, counted="undecodable-body"),
    ),
    # signed, but no click
    ("body not form-encoded", signed(json.dumps(button_click())), Outcome(400, counted="malformed-payload")),
    ("no payload field", signed("token=abc&team=T1"), Outcome(400, counted="malformed-payload")),
    ("two payload fields", signed(f"{CLICK_BODY}&{CLICK_BODY}"), Outcome(400, counted="malformed-payload")),
    ("payload not JSON", signed(form("{not json")), Outcome(400, counted="malformed-payload")),
    ("payload nested 150 levels", signed(form(deeply_nested())), Outcome(400, counted="malformed-payload")),
    (
        "payload nested 101 levels",
        signed(form(deeply_nested(NESTING_LIMIT + 2))),
        Outcome(400, counted="malformed-payload"),
    ),
    (
        "payload nested past the recursion limit",
        signed(form("[" * 50_000 + "]" * 50_000)),
        Outcome(400, counted="malformed-payload"),
    ),
    ("payload a list", signed(form([button_click()])), Outcome(400, counted="malformed-payload")),
    (
        "payload a string",
        signed(form(json.dumps("block_actions"))),
        Outcome(400, counted="malformed-payload"),
    ),
    (
        "payload percent-encoded non-UTF-8",
        signed("payload=%FF%FE"),
        Outcome(400, counted="malformed-payload"),
    ),
    (
        "interaction type view_submission",
        click({**button_click(), "type": "view_submission"}),
        Outcome(400, counted="unsupported-type"),
    ),
    (
        "interaction type unknown",
        click({**button_click(), "type": "\u202eexplode"}),
        Outcome(400, counted="unsupported-type"),
    ),
    (
        "interaction type a list",
        click({**button_click(), "type": ["block_actions"]}),
        Outcome(400, counted="unsupported-type"),
    ),
    (
        "no user",
        click({k: v for k, v in button_click().items() if k != "user"}),
        Outcome(400, counted="malformed-payload"),
    ),
    ("user id oversized", click(button_click(user=OVERSIZED)), Outcome(400, counted="malformed-payload")),
    (
        "user id non-ASCII",
        click(button_click(user="U0AL\u00cfCE01")),
        Outcome(400, counted="malformed-payload"),
    ),
    # signed clicks of a named person: audited
    ("actions empty", click(with_actions([])), Outcome(200, audited="malformed-click", tokenfuse_status=400)),
    (
        "two actions",
        click(with_actions(button_click()["actions"] * 2)),
        Outcome(200, audited="malformed-click"),
    ),
    (
        "actions an object",
        click(with_actions({"0": button_click()["actions"][0]})),
        Outcome(200, audited="malformed-click"),
    ),
    (
        "action a string",
        click(with_actions(["tokenfuse_approval_approve"])),
        Outcome(200, audited="malformed-click"),
    ),
    (
        "action type static_select",
        click(with_button(type="static_select")),
        Outcome(200, audited="malformed-click"),
    ),
    ("action id oversized", click(with_button(action_id=OVERSIZED)), Outcome(200, audited="malformed-click")),
    (
        "value a list",
        click(with_button(value=[f"{APPROVAL_ID}:approve"])),
        Outcome(200, audited="malformed-click"),
    ),
    (
        "response_url an object",
        click({**button_click(), "response_url": {"url": "https://hooks.slack.com/x"}}),
        Outcome(200, audited="malformed-click"),
    ),
    (
        "unknown action id",
        click(button_click(action_id="tokenfuse_approval_explode")),
        Outcome(200, audited="unknown-action", tokenfuse_status=400),
    ),
    (
        "another app's action id",
        click(button_click(action_id="approve")),
        Outcome(200, audited="unknown-action"),
    ),
    (
        "approve button, decline value",
        click(button_click(f"{APPROVAL_ID}:decline", action_id="tokenfuse_approval_approve")),
        Outcome(200, audited="bad-value", tokenfuse_status=400),
    ),
    ("empty value", click(with_button(value="")), Outcome(200, audited="bad-value")),
    ("no value", click(without_value()), Outcome(200, audited="bad-value")),
    ("oversized value", click(with_button(value=OVERSIZED)), Outcome(200, audited="bad-value")),
    ("oversized approval id", click(button_click(f"{OVERSIZED}:approve")), Outcome(200, audited="bad-value")),
    (
        "non-ASCII approval id",
        click(button_click("Abc123_-x\u00e9:approve")),
        Outcome(200, audited="bad-value"),
    ),
    ("empty approval id", click(button_click(":approve")), Outcome(200, audited="bad-value")),
    (
        "unknown approval id",
        click(button_click("Zzz999_-zz:approve")),
        Outcome(200, audited="unknown-approval", tokenfuse_status=200),
    ),
    (
        "a stranger",
        click(button_click(user=STRANGER)),
        Outcome(200, audited="not-an-approver", tokenfuse_status=403),
    ),
    (
        "another team's on-call",
        click(button_click(user=OTHER_TEAMS_APPROVER)),
        Outcome(200, audited="other-team-approver", tokenfuse_status=403),
    ),
    (
        "expired approval",
        seeded(expired_approval, click(button_click("Exp1red_-x:approve"))),
        Outcome(200, audited="expired"),
    ),
    (
        "already decided",
        seeded(decided_approval, click(button_click("Dec1ded_-x:snooze"))),
        Outcome(200, audited="already-decided"),
    ),
    ("restore value not an ARN", click(restore(f"{APPROVAL_ID}:approve")), Outcome(200, audited="bad-value")),
    (
        "restore of a path-traversal ARN",
        click(restore(f"restore:{PROFILE_ARN}/../../foundation-model/x")),
        Outcome(200, audited="bad-value"),
    ),
    (
        "restore of a foundation model",
        click(restore("restore:arn:aws:bedrock:us-east-1::foundation-model/m")),
        Outcome(200, audited="bad-value"),
    ),
    (
        "restore without a trip",
        click(restore(f"restore:{PROFILE_ARN}")),
        Outcome(200, audited="no-active-trip"),
    ),
    (
        "restore by a stranger",
        seeded(active_trip, click(restore(f"restore:{PROFILE_ARN}", user=STRANGER))),
        Outcome(200, audited="not-an-approver", tokenfuse_status=403),
    ),
    ("feedback value a list", click(feedback('["inc-1", "planned"]')), Outcome(200, audited="bad-value")),
    ("feedback value nested", click(feedback(deeply_nested())), Outcome(200, audited="bad-value")),
    (
        "feedback of another choice",
        click(feedback('{"incident_id": "inc-1", "choice": "accurate"}')),
        Outcome(200, audited="bad-value"),
    ),
    (
        "feedback on an unknown incident",
        click(feedback('{"incident_id": "inc-404", "choice": "planned"}')),
        Outcome(200, audited="unknown-incident"),
    ),
    # email links
    (
        "GET without token",
        lambda a: a.request("GET", "/email/approve"),
        Outcome(400, counted="missing-token"),
    ),
    ("GET with an empty token", get_link(""), Outcome(400, counted="missing-token")),
    ("GET non-ASCII token", get_link("\u00e9" + email_token()[1:]), Outcome(401, counted="invalid-link")),
    ("GET oversized token", get_link(OVERSIZED + "." + OVERSIZED), Outcome(401, counted="invalid-link")),
    ("GET tampered token", get_link(email_token()[:-3] + "abc"), Outcome(401, counted="invalid-link")),
    (
        "GET token signed with another key",
        lambda a: a.request(
            "GET", "/email/approve?token=" + quote(email_token().split(".")[0] + "." + "A" * 43)
        ),
        Outcome(401, counted="invalid-link"),
    ),
    (
        "GET token repeated",
        lambda a: a.request("GET", f"/email/approve?token={email_token()}&token={email_token()}"),
        Outcome(401, counted="invalid-link"),
    ),
    ("GET expired link", get_link(email_token(expires=NOW - 1)), Outcome(401, audited="expired")),
    (
        "POST body not UTF-8",
        lambda a: a.request(
            "POST",
            "/email/approve",
            b"",
            FORM,
            event={"body": base64.b64encode(b"token=\xff").decode(), "isBase64Encoded": True},
        ),
        Outcome(400, counted="undecodable-body"),
    ),
    (
        "POST two tokens",
        post_link(urlencode([("token", email_token()), ("token", email_token("decline"))])),
        Outcome(400, counted="missing-token"),
    ),
    (
        "POST JSON body",
        post_link(json.dumps({"token": email_token()})),
        Outcome(400, counted="missing-token"),
    ),
    (
        "POST percent-encoded non-UTF-8 token",
        post_link("token=%FF%FE"),
        Outcome(400, counted="missing-token"),
    ),
    (
        "POST a non-approver's link",
        post_link(urlencode({"token": email_token(email="bob@example.com")})),
        Outcome(403, audited="not-an-approver"),
    ),
    (
        "POST an unknown approval's link",
        post_link(urlencode({"token": email_token(approval_id="Zzz999_-zz")})),
        Outcome(200, audited="unknown-approval"),
    ),
    (
        "POST an already decided approval's link",
        seeded(decided_approval, post_link(urlencode({"token": email_token(approval_id="Dec1ded_-x")}))),
        Outcome(200, audited="already-decided"),
    ),
    (
        "POST an expired link",
        post_link(urlencode({"token": email_token(expires=NOW - 1)})),
        Outcome(401, audited="expired"),
    ),
    # routes and methods
    (
        "GET the Slack route",
        lambda a: a.request("GET", "/slack/interactivity"),
        Outcome(400, counted="unknown-route"),
    ),
    (
        "PUT the email route",
        lambda a: a.request("PUT", "/email/approve", "token=x", FORM),
        Outcome(400, counted="unknown-route"),
    ),
    ("DELETE the root", lambda a: a.request("DELETE", "/"), Outcome(400, counted="unknown-route")),
    (
        "an unknown path",
        lambda a: a.request("POST", "/admin/../slack/interactivity", CLICK_BODY, FORM),
        Outcome(400, counted="unknown-route"),
    ),
    (
        "OPTIONS preflight",
        lambda a: a.request("OPTIONS", "/slack/interactivity"),
        Outcome(400, counted="unknown-route"),
    ),
]


@pytest.mark.parametrize(("label", "send", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(approve, capsys, caplog, label, send, expected):
    capsys.readouterr()
    caplog.clear()
    response = send(approve)
    refused = assert_refused(approve, response, expected, capsys, caplog)
    for item in refused:  # who, what, why, when; nothing unescaped or unbounded
        assert item["actor"] and item["via"] and item["detail"] and item["at"].endswith("Z")
        assert int(item["expires_at"]) > time.time() + 399 * 86400
        assert all(len(str(v)) <= 128 for k, v in item.items() if k not in {"pk", "sk", "expires_at"})


def test_the_corpus_is_at_least_thirty_cases_and_labels_are_unique():
    assert len(CORPUS) >= 30 and len({c[0] for c in CORPUS}) == len(CORPUS)


def test_an_audited_refusal_names_who_which_approval_and_why(approve):
    approve.click(button_click(user=OTHER_TEAMS_APPROVER))
    approve.click(button_click(f"{OVERSIZED}:approve"))
    other, oversized = approve.refused()
    assert (other["actor"], other["approval_id"], other["team"], other["approver_of"]) == (
        OTHER_TEAMS_APPROVER,
        APPROVAL_ID,
        "search",
        "payments",
    )
    assert other["pk"] == f"refused-click#{other['at'][:10]}" and other["sk"].startswith(other["at"])
    assert "approval_id" not in oversized
    assert oversized["value"] == "x" * 125 + "..."  # the value, truncated, where the id is unknown


def test_hostile_strings_in_an_audited_click_are_stored_escaped(approve):
    for hostile in HOSTILE_STRINGS:
        approve.click(button_click(hostile, action_id="tokenfuse_approval_approve"))
    values = [r.get("value") for r in approve.refused()]
    assert len(values) == len(HOSTILE_STRINGS)
    assert "line\\x0abreak" in values and "\\u202eevil" in values and "\\x00" in values
    assert approve.sent == [] and approve.status() == "pending"


# -- mutations of a real block_actions payload -----------------------------------------------------

SAMPLE = button_click()
MUTATIONS = list(mutations(SAMPLE))
_BUTTON = "actions/0/"
_READ_FIELDS = {"actions", "actions/0", f"{_BUTTON}type", f"{_BUTTON}action_id", f"{_BUTTON}value"}


def expected_for(where: str, mutated: dict[str, Any]) -> str:
    """What the endpoint must do with a mutated payload: ``decide`` where the mutation touched only
    what tokenfuse does not read (Slack adds fields), ``count`` where no click remains (type, user),
    ``audit`` where a named user's click no longer reads."""
    if where in {"type", "user", "user/id"}:
        return "count"
    if where in _READ_FIELDS:
        return "audit"
    if where == "response_url":
        url = mutated.get("response_url")
        return "decide" if url is None or isinstance(url, str) else "audit"
    return "decide"


@pytest.mark.parametrize(("label", "mutated"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutated_block_actions(approve, label, mutated):
    where = label.split(" ", 1)[0]
    response = approve.click(mutated)
    outcome = expected_for(where, mutated)
    if outcome == "decide":
        assert response["statusCode"] == 200 and approve.status() == "decided"
        assert [c.operation for c in approve.sent] == ["SendTaskSuccess"]
        assert approve.refused() == []
        return
    assert approve.sent == [] and approve.status() == "pending"
    if outcome == "count":
        assert response["statusCode"] == 400 and approve.refused() == []
    else:
        assert response["statusCode"] == 200 and json.loads(response["body"])["tokenfuse_status"] == 400
        assert [(r["reason"], r["actor"]) for r in approve.refused()] in (
            [("malformed-click", APPROVER)],
            [("bad-value", APPROVER)],
            [("unknown-action", APPROVER)],
        )


def test_the_mutations_cover_the_fields_tokenfuse_reads():
    wheres = {label.split(" ", 1)[0] for label, _ in MUTATIONS}
    assert _READ_FIELDS | {"type", "user/id", "response_url"} <= wheres
    assert len(MUTATIONS) >= 100


# -- mutations of a real email link ----------------------------------------------------------------


LINK_EXPIRY = 4_102_444_800  # 2100-01-01: the same real link on every run


def link_mutations() -> list[tuple[str, str]]:
    token = email_token(expires=LINK_EXPIRY)
    payload, signature = token.split(".")
    out = [
        ("signature dropped", payload + "."),
        ("payload dropped", "." + signature),
        ("no dot", payload + signature),
        ("two dots", f"{payload}..{signature}"),
        ("halves swapped", f"{signature}.{payload}"),
        ("padding added", f"{payload}==.{signature}"),
        ("signature truncated", f"{payload}.{signature[:-1]}"),
        ("signature doubled", f"{payload}.{signature}{signature}"),
        ("upper-cased", token.upper()),
        ("trailing newline", token + "\n"),
        ("trailing space", token + " "),
        ("standard base64 alphabet", token.replace("-", "+").replace("_", "/")),
        ("dot percent-encoded", token.replace(".", "%2E")),
        ("right-to-left override", "\u202e" + token),
    ]
    for index in (0, len(payload) // 2, len(payload) - 1, len(payload) + 1, len(token) - 1):
        char = token[index]
        other = "B" if char == "A" else "A"
        out.append((f"character {index} changed", token[:index] + other + token[index + 1 :]))
    assert all(mutated != token for _, mutated in out)
    return out


LINK_MUTATIONS = link_mutations()


@pytest.mark.parametrize(("label", "token"), LINK_MUTATIONS, ids=[m[0] for m in LINK_MUTATIONS])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_mutated_email_link(approve, label, token, method):
    if method == "GET":
        response = approve.request("GET", f"/email/approve?{urlencode({'token': token})}")
    else:
        response = approve.request("POST", "/email/approve", urlencode({"token": token}), FORM)
    assert response["statusCode"] == 401, label
    assert approve.sent == [] and approve.status() == "pending" and approve.refused() == []


# -- hypothesis: any body, any headers -------------------------------------------------------------

header_names = st.sampled_from(
    ["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "X-Forwarded-For", "Cookie"]
)
headers = st.dictionaries(
    header_names | unicode_text.filter(bool), unicode_text | st.sampled_from([SIG, str(NOW)])
)
bodies = st.one_of(
    unicode_text,
    json_values.map(json.dumps),
    json_values.map(lambda v: form(json.dumps(v))),
    st.sampled_from(HOSTILE_STRINGS),
)
relaxed = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)


@relaxed
@given(body=bodies, sent_headers=headers)
def test_any_unsigned_body_and_headers_are_refused_and_never_stored(approve, body, sent_headers):
    response = approve.request("POST", "/slack/interactivity", body, {**FORM, **sent_headers})
    assert response["statusCode"] in {400, 401}
    assert approve.sent == [] and approve.status() == "pending" and approve.refused_count() == 0


@relaxed
@given(payload=json_values)
def test_any_signed_payload_json_decides_nothing_and_stores_nothing(approve, payload):
    response = approve.slack(form(json.dumps(payload)))
    assert response["statusCode"] == 400
    assert approve.sent == [] and approve.status() == "pending" and approve.refused_count() == 0


@relaxed
@given(actions=json_values, response_url=json_values)
def test_any_signed_click_of_a_named_user_is_audited_once_and_decides_nothing(approve, actions, response_url):
    before = approve.refused_count()
    payload = {**button_click(), "actions": actions, "response_url": response_url}
    response = approve.click(payload)
    assert response["statusCode"] == 200
    assert approve.sent == [] and approve.status() == "pending"
    assert approve.refused_count() == before + 1


ROUTED_ACTION_IDS = ["tokenfuse_approval_approve", "anomaly_feedback_planned", "tokenfuse_restore"]


@relaxed
@given(value=unicode_text | st.sampled_from(HOSTILE_STRINGS), action_id=st.sampled_from(ROUTED_ACTION_IDS))
def test_any_button_value_decides_nothing(approve, value, action_id):
    before = approve.refused_count()
    response = approve.click(button_click(value, action_id=action_id))
    assert response["statusCode"] == 200
    assert approve.sent == [] and approve.status() == "pending"
    assert approve.refused_count() == before + 1


@relaxed
@given(token=unicode_text | st.sampled_from(HOSTILE_STRINGS))
def test_any_link_token_decides_nothing_and_stores_nothing(approve, token):
    get = approve.request("GET", f"/email/approve?{urlencode({'token': token})}")
    post = approve.request("POST", "/email/approve", urlencode({"token": token}), FORM)
    assert get["statusCode"] in {400, 401} and post["statusCode"] in {400, 401}
    assert approve.sent == [] and approve.status() == "pending" and approve.refused() == []


# -- a configuration error is no bad input ---------------------------------------------------------


@pytest.mark.parametrize("variable", ["SLACK_SIGNING_SECRET_ARN", "EMAIL_LINK_KEY_SECRET_ARN"])
def test_a_secret_that_cannot_be_loaded_is_a_500_with_one_line_and_no_decision(
    approve, monkeypatch, caplog, variable
):
    monkeypatch.setenv(variable, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf")
    caplog.clear()
    slack = approve.click(button_click())
    email = approve.request("POST", "/email/approve", urlencode({"token": email_token()}), FORM)
    failing = slack if variable.startswith("SLACK") else email
    assert failing["statusCode"] == 500 and "nothing was changed" in failing["body"]
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("approve endpoint")]
    assert len(lines) == 1 and lines[0].startswith("approve endpoint misconfigured: EndpointMisconfigured")
    assert variable in lines[0] and "\n" not in lines[0]
    assert [c.operation for c in approve.sent] == ["SendTaskSuccess"]  # the other channel still decides
    assert approve.refused() == []


@pytest.mark.parametrize("secret", [" ", "{}", '{"a": "", "b": ""}'])
def test_an_empty_signing_secret_is_a_500_and_decides_nothing(approve, monkeypatch, secret):
    arn = boto3.client("secretsmanager").create_secret(Name=f"empty-{len(secret)}", SecretString=secret)[
        "ARN"
    ]
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", arn)
    assert approve.click(button_click())["statusCode"] == 500
    assert approve.sent == [] and approve.status() == "pending" and approve.refused() == []
