"""Asking for a decision: buttons in the incident's thread (only id + choice in each value), signed
per-recipient email links for teams without Slack, and the time-out escalation to FinOps."""

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tokenfuse.adapters.slack import SlackDeliveryError
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import links
from tokenfuse.remediation.approvals import Delivery, RequestDeps, approval_timed_out, request_approval
from tokenfuse.remediation.audit import Auditor
from tokenfuse.remediation.blocks import rendered
from tokenfuse.remediation.models import PolicyDecision, RemediationIncident
from tokenfuse.teams import TeamDirectory

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
KEY = b"link-key" * 8
DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {"name": "search", "slack_channel": "C0SEARCH01", "approvers": [{"slack_user_id": "U0ALICE001"}]},
            {
                "name": "mail-only",
                "emails": ["team@example.com"],
                "approvers": [{"email": "Bob@Example.com"}, {"email": "carol@example.com"}],
            },
            {"name": "nobody", "emails": ["team@example.com"]},
        ],
        "finops": {"slack_channel": "C0FINOPS01", "emails": ["finops@example.com"]},
    }
)


class Recorder:
    def __init__(self):
        self.approvals, self.audit, self.events, self.posts, self.mails = {}, [], [], [], []

    def put_approval(self, approval_id, item):
        self.approvals[approval_id] = item

    def put_audit(self, *args):
        self.audit.append(args)

    def put(self, *events):
        self.events.extend(events)

    def post(self, channel, text, *, thread_ts=None, blocks=None):
        self.posts.append((channel, text, thread_ts, rendered(blocks) if blocks else None))
        return "1.1"

    def send(self, to, subject, text, html=None):
        self.mails.append((to, subject, text, html))


def deps(r):
    return RequestDeps(
        store=r,
        directory=DIRECTORY,
        auditor=Auditor(r, r, r, now=lambda: NOW),
        chat=r,
        email=r,
        link_key=lambda: KEY,
        approve_url="https://abc.lambda-url.us-east-1.on.aws/",
        now=lambda: NOW,
    )


def incident(team="search", channel="C0SEARCH01"):
    return RemediationIncident(
        incident_id="inc-1",
        profile_arn="arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456",
        profile_id="abc123def456",
        account_id="111111111111",
        region="us-east-1",
        team=team,
        slack_channel=channel,
        slack_ts="100.1" if channel else None,
    )


def policy(team="search", on_timeout="none"):
    return PolicyDecision(
        mode="approve", team_mode="approve", action="detach", decision=None, reasons=[], team=team,
        approver_team=team, environment="prod", approval_timeout_seconds=900, snooze_seconds=3600,
        verify_delay_seconds=300, cooldown_seconds=3600, on_timeout=on_timeout, dry_run=False,
        mechanism="guard-scp", trips_last_hour=0,
    )  # fmt: skip


def test_slack_buttons_in_the_thread_never_carry_the_token():
    r = Recorder()
    out = request_approval(incident(), policy(), "THE-TASK-TOKEN", deps(r))
    stored = r.approvals[out.approval_id]
    assert stored["task_token"] == "THE-TASK-TOKEN" and stored["status"] == "pending"
    assert stored["deadline"] == int(NOW.timestamp()) + 900
    assert len(out.approval_id) == 10
    channel, _, thread_ts, blocks = r.posts[0]
    assert (channel, thread_ts) == ("C0SEARCH01", "100.1")
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [f"{out.approval_id}:{c}" for c in ("approve", "decline", "snooze")]
    assert "THE-TASK-TOKEN" not in str(r.posts)
    assert r.events[0].step == "approval-requested"


def test_teams_without_slack_get_their_own_signed_links():
    r = Recorder()
    out = request_approval(incident("mail-only", channel=None), policy("mail-only"), "TOKEN", deps(r))
    assert [m[0] for m in r.mails] == [["bob@example.com"], ["carol@example.com"]]
    text = r.mails[0][2]
    urls = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  ")]
    claims = [links.verify(KEY, parse_qs(urlsplit(u).query)["token"][0], int(NOW.timestamp())) for u in urls]
    assert {(c.approval_id, c.choice, c.email) for c in claims} == {
        (out.approval_id, choice, "bob@example.com") for choice in ("approve", "decline", "snooze")
    }
    assert "TOKEN" not in text.replace("token=", "")


def test_nobody_reachable_to_approve_is_an_error():
    with pytest.raises(TokenfuseError, match="nobody can approve"):
        request_approval(incident("nobody", channel=None), policy("nobody"), "TOKEN", deps(Recorder()))


@pytest.mark.parametrize(("on_timeout", "decision"), [("none", "timeout"), ("trip", "trip")])
def test_timeout_tells_finops_and_applies_the_default(on_timeout, decision):
    r = Recorder()
    outcome = approval_timed_out(incident(), policy(on_timeout=on_timeout), deps(r))
    assert (outcome.decision, outcome.actor) == (decision, "tokenfuse")
    assert r.posts[0][0] == "C0FINOPS01"
    assert r.mails[0][0] == ["finops@example.com"]
    assert r.events[-1].step == "approval-decided" and r.events[-1].decision == "timeout"


class SlackDown(Recorder):
    """Slack refuses every post (as SlackChat does when Slack is unreachable); email works."""

    def post(self, channel, text, *, thread_ts=None, blocks=None):
        raise SlackDeliveryError("connection", "Slack chat_postMessage failed: ConnectionError")


def _links_of(mail):
    text = mail[2]
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  ")]


def test_when_slack_is_down_the_request_reaches_the_approvers_by_email():
    directory = TeamDirectory.model_validate(
        {
            "teams": [
                {
                    "name": "search",
                    "slack_channel": "C0SEARCH01",
                    "approvers": [{"slack_user_id": "U0ALICE001", "email": "alice@example.com"}],
                }
            ],
            "finops": {"slack_channel": "C0FINOPS01", "emails": ["finops@example.com"]},
        }
    )
    r = SlackDown()
    out = request_approval(incident(), policy(), "TOKEN", replace(deps(r), directory=directory))

    assert out.via == "email"
    (mail,) = r.mails
    assert mail[0] == ["alice@example.com"]
    assert "Slack could not take this request" in mail[2] and "ConnectionError" in mail[2]
    claims = links.verify(KEY, parse_qs(urlsplit(_links_of(mail)[0]).query)["token"][0], int(NOW.timestamp()))
    assert (claims.approval_id, claims.email) == (out.approval_id, "alice@example.com")
    assert r.approvals[out.approval_id]["approver_emails"] == ["alice@example.com"]
    requested = r.events[-1]
    assert requested.details["via"] == "email" and "Slack post failed" in requested.details["slack_problem"]


def test_approvers_without_an_address_are_stood_in_for_by_finops_email_approvers():
    directory = TeamDirectory.model_validate(
        {
            "teams": [
                {
                    "name": "search",
                    "slack_channel": "C0SEARCH01",
                    "approvers": [{"slack_user_id": "U0ALICE001"}],
                }
            ],
            "finops": {"emails": ["finops@example.com"], "approvers": [{"email": "Dana@Example.com"}]},
        }
    )
    r = SlackDown()
    out = request_approval(incident(), policy(), "TOKEN", replace(deps(r), directory=directory))

    (mail,) = r.mails
    assert mail[0] == ["dana@example.com"]
    assert "FinOps's approvers decide" in mail[2]
    assert r.approvals[out.approval_id]["approver_emails"] == ["dana@example.com"]
    assert r.events[-1].details["finops_stand_in"] is True


def test_slack_down_and_no_email_address_anywhere_is_an_error_naming_both():
    r = SlackDown()
    with pytest.raises(TokenfuseError, match="nobody can approve") as raised:
        request_approval(incident(), policy(), "TOKEN", deps(r))  # search's approver has Slack only
    assert "Slack post failed" in str(raised.value) and "no approver has an email address" in str(
        raised.value
    )


def test_every_value_in_the_approval_email_html_is_escaped():
    hostile = '<script>alert("x")</script>'
    mean = incident(team="mail-only", channel=None).model_copy(
        update={"profile_name": hostile, "kind": "<b>bold</b>", "incident_id": "inc-<img src=x>"}
    )
    r = Recorder()
    request_approval(mean, policy("mail-only"), "TOKEN", deps(r))
    html = r.mails[0][3]
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "inc-&lt;img src=x&gt;" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the subject heading
    # the links stay links, their query escaped as an attribute value
    assert html.count('<a href="https://abc.lambda-url.us-east-1.on.aws/email/approve?token=') == 3


class FinOpsSlackDown(Recorder):
    def post(self, channel, text, *, thread_ts=None, blocks=None):
        if channel == "C0FINOPS01":
            raise SlackDeliveryError("channel_not_found", "Slack chat_postMessage failed: channel_not_found")
        return super().post(channel, text, thread_ts=thread_ts, blocks=blocks)


def test_the_thread_says_only_where_finops_was_really_told():
    r = FinOpsSlackDown()
    approval_timed_out(incident(), policy(), deps(r))
    (thread,) = [text for channel, text, _, _ in r.posts if channel == "C0SEARCH01"]
    assert "FinOps was told (email to finops@example.com); failed: Slack C0FINOPS01" in thread
    assert r.mails[0][0] == ["finops@example.com"]


def test_delivery_sentences_say_what_happened():
    assert Delivery().sentence() == "FinOps has no Slack channel or email configured: nobody else was told."
    assert Delivery(failed=("Slack C1: down",)).sentence() == "FinOps could not be told: Slack C1: down."
    assert Delivery(told=("Slack C1",)).sentence() == "FinOps was told (Slack C1)."
