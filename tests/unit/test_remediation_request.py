"""Asking for a decision: buttons in the incident's thread (only id + choice in each value), signed
per-recipient email links for teams without Slack, and the time-out escalation to FinOps."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import links
from tokenfuse.remediation.approvals import RequestDeps, approval_timed_out, request_approval
from tokenfuse.remediation.audit import Auditor
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
        self.posts.append((channel, text, thread_ts, blocks))
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
        finops_channel=None,
        finops_email=None,
        now=lambda: NOW,
    )


def incident(team="search", channel="C0SEARCH01"):
    return RemediationIncident(
        incident_id="inc-1",
        profile_arn="arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123",
        profile_id="abc123",
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
    stored = r.approvals[out["approval_id"]]
    assert stored["task_token"] == "THE-TASK-TOKEN" and stored["status"] == "pending"
    assert stored["deadline"] == int(NOW.timestamp()) + 900
    assert len(out["approval_id"]) == 10
    channel, _, thread_ts, blocks = r.posts[0]
    assert (channel, thread_ts) == ("C0SEARCH01", "100.1")
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [f"{out['approval_id']}:{c}" for c in ("approve", "decline", "snooze")]
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
        (out["approval_id"], choice, "bob@example.com") for choice in ("approve", "decline", "snooze")
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
