"""The team directory: validation with paths, routing by tag, policy inheritance."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tokenfuse.teams import Policy, TeamDirectory, TeamDirectoryError, deployed_directory, load_directory

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "teams.example.yaml"


@pytest.fixture
def directory() -> TeamDirectory:
    return load_directory(EXAMPLE.read_text())


def issues_of(text: str) -> list[str]:
    with pytest.raises(TeamDirectoryError) as caught:
        load_directory(text)
    return caught.value.issues


def test_example_directory_validates(directory):
    assert [t.name for t in directory.teams] == ["support", "search", "legal-ai"]
    assert directory.summary().startswith("3 teams (2 on Slack, 1 email only)")


@pytest.mark.parametrize(
    ("tag", "owner", "reason"),
    [
        ("support", "support", "tag team=support"),
        ("CX", "support", "tag team=CX"),  # tag values match case-insensitively
        ("retrieval", "search", "tag team=retrieval"),
        (None, "finops", "untagged profile"),
        ("", "finops", "untagged profile"),
        ("growth", "finops", "unknown team 'growth'"),
    ],
)
def test_route_by_team_tag(directory, tag, owner, reason):
    route = directory.route(tag)
    assert (route.owner, route.reason) == (owner, reason)


def test_finops_route_comes_from_the_directory_file(directory):
    route = directory.route(None)
    assert (route.slack_channel, route.emails, route.is_finops) == (
        "C0FINOPS01",
        ("finops@example.com",),
        True,
    )
    assert [a.slack_user_id for a in route.approvers] == ["U0FINOPS01"]


def test_the_stack_parameters_fill_only_what_the_file_leaves_empty(directory):
    # Given the file names FinOps's channel and inbox: the stack's parameters change nothing
    resolved = directory.with_finops_fallback("C0STACKFIN", "stack@example.com")
    assert (resolved.finops.slack_channel, resolved.finops.emails) == ("C0FINOPS01", ["finops@example.com"])
    # Given a file with FinOps's channel only: the inbox comes from the stack
    channel_only = load_directory("finops:\n  slack_channel: C0FILEFIN1\n")
    resolved = channel_only.with_finops_fallback("C0STACKFIN", "stack@example.com")
    assert (resolved.finops.slack_channel, resolved.finops.emails) == ("C0FILEFIN1", ["stack@example.com"])
    assert resolved.route("growth").emails == ("stack@example.com",)


def test_without_a_directory_the_stack_parameters_are_finops(directory):
    resolved = deployed_directory(None, finops_slack_channel="C0STACKFIN", finops_email="f@example.com")
    route = resolved.route("x")
    assert (route.slack_channel, route.emails, route.is_finops) == ("C0STACKFIN", ("f@example.com",), True)
    assert route.reason == "unknown team 'x'" and route.approvers == ()


@pytest.mark.parametrize(("channel", "email"), [(None, None), ("", "")])
def test_unset_stack_parameters_leave_finops_unreachable(channel, email):
    # template.yaml's defaults are empty strings: no destination, never a "" channel
    route = deployed_directory(None, finops_slack_channel=channel, finops_email=email).route(None)
    assert (route.slack_channel, route.emails) == (None, ())


def test_email_only_team_routes_to_email(directory):
    route = directory.route("legal")
    assert route.slack_channel is None and route.emails == ("legal-ai@example.com",)


def test_policy_inherits_default_then_finops(directory):
    prod = directory.policy_for("support", "prod")
    assert (prod.mode, prod.cooldown_minutes, prod.on_timeout, prod.snooze_minutes) == (
        "approve",
        30,
        "trip",
        60,
    )
    assert directory.policy_for("support", "qa").mode == "notify"  # team default
    assert directory.policy_for("support", "PROD").mode == "approve"
    assert directory.policy_for("search", "dev") == directory.finops.policy  # no default: FinOps's
    assert directory.policy_for(None, "prod") == directory.finops.policy
    assert directory.policy_for("legal-ai", None).mode == "approve"


def test_policy_thresholds():
    policy = Policy(mode="approve", min_spike_usd_per_hour=20, min_severity="medium")
    assert policy.meets_thresholds(40, 10, "high")
    assert not policy.meets_thresholds(25, 10, "high")
    assert not policy.meets_thresholds(400, 10, "low")
    assert not policy.meets_thresholds(None, None, "critical")  # unpriced: no dollars to act on
    assert Policy().meets_thresholds(None, None, "low")


def test_planned_window(directory):
    support = directory.team("support")
    inside = support.planned_window(
        datetime(2026, 12, 1, 3, tzinfo=UTC), datetime(2026, 12, 1, 4, tzinfo=UTC)
    )
    assert inside is not None and inside.note.startswith("load test")
    assert (
        support.planned_window(datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 2, 1, tzinfo=UTC))
        is None
    )


BROKEN = """
finops:
  slack_channel: finops
  policy: {mode: approve}
teams:
  - name: support
    slack_channel: C0SUPPORT1
  - name: search
    emails: [not-an-email, ok@example.com]
    approvers: [{}]
  - name: billing
    slack_channel: C0BILLING1
    colour: blue
    policies:
      prod: {cooldown_minutes: 0, mode: maybe, action: throttle}
    planned_windows:
      - {start: "2026-12-01T06:00:00Z", end: "2026-12-01T02:00:00Z", note: backwards}
  - name: Nope Nope
"""


def test_every_error_with_its_path():
    assert issues_of(BROKEN) == [
        "line 9: teams[1].emails[0]: not an email address",
        "line 10: teams[1].approvers[0]: an approver needs slack_user_id or email",
        "line 15: teams[2].policies.prod.mode: must be one of 'notify', 'approve' or 'auto'",
        "line 15: teams[2].policies.prod.cooldown_minutes: must be > 0",
        "line 17: teams[2].planned_windows[0]: end must be after start",
        "line 13: teams[2].colour: unknown key",
        "line 18: teams[3].name: lowercase letters, digits, '.', '_' or '-' (at most 63)",
        "line 3: finops.slack_channel: not a Slack channel id (like C0123ABCD)",
    ]


def test_cross_checks_duplicates_and_approvers():
    text = """
teams:
  - {name: a, slack_channel: C0AAAAAAAA, tag_values: [shared]}
  - {name: b, slack_channel: C0BBBBBBBB, tag_values: [Shared], policies: {prod: {mode: approve}}}
  - {name: a, emails: [a@example.com]}
"""
    assert issues_of(text) == [
        "line 4: teams[1].tag_values[0]: 'Shared' already maps to team 'a'",
        "line 4: teams[1].approvers: required when policies.prod.mode is approve",
        "line 5: teams[2].name: 'a' is already teams[0]",
    ]


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("teams: [\n", "line 2: not valid YAML"),
        ("- a\n- b\n", "line 1: (top): is a list: must be a mapping"),
        ("teams: {}\n", "line 1: teams: Input should be a valid list"),
    ],
)
def test_not_a_directory(text, issue):
    assert issues_of(text)[0].startswith(issue)


def test_empty_file_is_an_empty_directory():
    assert load_directory("").teams == []
