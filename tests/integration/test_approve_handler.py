"""The approve function in-process under moto, fed Function URL events: signed Slack clicks and
signed email links resume the waiting execution once; everything else is refused unchanged."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.approve_endpoint import (
    APPROVAL_ID,
    APPROVER,
    INCIDENTS_TABLE,
    OTHER_TEAMS_APPROVER,
    SIGNING_SECRET,
    STRANGER,
    TASK_TOKEN,
    TEAM_DIRECTORY,
    approve_endpoint,
    button_click,
    email_token,
    form,
    slack_headers,
)
from tokenfuse import incidents
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.alerts.feedback_buttons import feedback_action_id, feedback_value
from tokenfuse.events import SpikeAttributed
from tokenfuse.teams import TeamDirectory

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "alerts"

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


# -- CAD feedback: "planned" silences the incident, so only an approver may click it ---------------

ANOMALY_ID = "2f8c6e1a-7b3d-4c9e-a1f0-5d6e7f8a9b0c"


def _search_incident(team: str = "search") -> str:
    """An open incident of team ``team`` that a CAD anomaly joined, in the incidents table."""
    spike = SpikeAttributed.from_bus(json.loads((GOLDEN / "spike-cad.json").read_text()))
    culprit = spike.culprits[0].model_copy(update={"team": team})
    route = TeamDirectory.model_validate(TEAM_DIRECTORY).route(team)
    recorded = incidents.record_signal(
        IncidentsTable(INCIDENTS_TABLE), spike, culprit, route, planned=None, now=datetime.now(UTC)
    )
    assert recorded is not None and recorded.incident.anomaly_ids == [ANOMALY_ID]
    return recorded.incident.incident_id


def _feedback_click(incident_id: str, choice: str, user: str):
    payload = button_click(
        feedback_value(incident_id, choice), user=user, action_id=feedback_action_id(choice)
    )
    body = form(payload)
    return body, {"Content-Type": "application/x-www-form-urlencoded", **slack_headers(body)}


def _incident_status(incident_id: str) -> str:
    found = IncidentsTable(INCIDENTS_TABLE).get(incident_id)
    assert found is not None
    return found[0].status


def _anomaly_feedback(endpoint) -> list[dict]:
    return [c.params for c in endpoint.sent if c.operation == "ProvideAnomalyFeedback"]


@pytest.mark.parametrize("user", [STRANGER, OTHER_TEAMS_APPROVER])
def test_planned_from_anyone_but_an_approver_is_refused_audited_and_changes_nothing(monkeypatch, user):
    with approve_endpoint(monkeypatch) as endpoint:
        incident_id = _search_incident()
        answer = endpoint.request(
            "POST", "/slack/interactivity", *_feedback_click(incident_id, "planned", user)
        )
        body = json.loads(answer["body"])
        assert body["tokenfuse_status"] == 403
        assert (
            body["text"]
            == "Sorry, only on-call approvers of team search can decide this one. Nothing was changed."
        )
        assert _anomaly_feedback(endpoint) == [] and _incident_status(incident_id) == "open"
        (refused,) = endpoint.refused()
        assert (refused["reason"], refused["actor"], refused["incident_id"], refused["team"]) == (
            "not-an-approver",
            user,
            incident_id,
            "search",
        )


def test_planned_from_the_owning_teams_approver_tells_cad_and_quiets_the_incident(monkeypatch):
    with approve_endpoint(monkeypatch) as endpoint:
        incident_id = _search_incident()
        answer = endpoint.request(
            "POST", "/slack/interactivity", *_feedback_click(incident_id, "planned", APPROVER)
        )
        assert json.loads(answer["body"])["tokenfuse_status"] == 200
        assert _anomaly_feedback(endpoint) == [{"AnomalyId": ANOMALY_ID, "Feedback": "PLANNED_ACTIVITY"}]
        assert _incident_status(incident_id) == "planned" and endpoint.refused() == []


def test_planned_on_an_unowned_incident_is_finops_approvers_to_click(monkeypatch):
    with approve_endpoint(monkeypatch) as endpoint:
        incident_id = _search_incident(team="nobody-knows")  # an unknown team: FinOps decides
        click = _feedback_click(incident_id, "planned", APPROVER)  # search's approver is not FinOps's
        body = json.loads(endpoint.request("POST", "/slack/interactivity", *click)["body"])
        assert body["tokenfuse_status"] == 403 and "team finops" in body["text"]
        assert _incident_status(incident_id) == "open"


def test_accurate_and_false_positive_only_tell_cad_and_anyone_may_say_so(monkeypatch):
    with approve_endpoint(monkeypatch) as endpoint:
        incident_id = _search_incident()
        for choice in ("accurate", "false-positive"):
            click = _feedback_click(incident_id, choice, STRANGER)
            assert (
                json.loads(endpoint.request("POST", "/slack/interactivity", *click)["body"])[
                    "tokenfuse_status"
                ]
                == 200
            )
        assert _anomaly_feedback(endpoint) == [
            {"AnomalyId": ANOMALY_ID, "Feedback": "YES"},
            {"AnomalyId": ANOMALY_ID, "Feedback": "NO"},
        ]
        assert _incident_status(incident_id) == "open"
