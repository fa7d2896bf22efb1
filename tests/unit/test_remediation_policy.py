"""The policy task's decision: the team's policy per environment, then DryRun, protected, thresholds
and the org's trips-per-hour bound; FinOps decides for untagged and unknown owners."""

import pytest

from tokenfuse.remediation.models import RemediationIncident
from tokenfuse.remediation.policy import decide
from tokenfuse.teams import TeamDirectory

DIRECTORY = TeamDirectory.model_validate(
    {
        "teams": [
            {
                "name": "search",
                "slack_channel": "C0SEARCH01",
                "approvers": [{"slack_user_id": "U0ALICE001"}],
                "policies": {
                    "default": {"mode": "notify"},
                    "prod": {
                        "mode": "approve",
                        "action": "detach",
                        "approval_timeout_minutes": 20,
                        "snooze_minutes": 30,
                        "verify_delay_minutes": 4,
                        "cooldown_minutes": 90,
                        "on_timeout": "trip",
                    },
                    "dev": {"mode": "auto", "action": "throttle"},
                    "big": {"mode": "auto", "min_spike_usd_per_hour": 100},
                },
            }
        ],
        "finops": {
            "slack_channel": "C0FINOPS01",
            "approvers": [{"slack_user_id": "U0FINOPS01"}],
            "policy": {"mode": "approve", "action": "throttle"},
        },
    }
)


def incident(**overrides):
    base = {
        "incident_id": "inc-1",
        "profile_arn": "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456",
        "profile_id": "abc123def456",
        "account_id": "111111111111",
        "region": "us-east-1",
        "team": "search",
        "environment": "prod",
        "kind": "output-runaway",
        "severity": "high",
        "cost_per_hour_usd": 50.0,
        "baseline_cost_per_hour_usd": 5.0,
    }
    return RemediationIncident.model_validate(base | overrides)


def run(inc, dry_run=False, trips=0, bound=5):
    return decide(
        inc,
        DIRECTORY,
        dry_run=dry_run,
        max_trips_per_hour=bound,
        trips_last_hour=trips,
        mechanism="guard-scp",
    )


def test_team_policy_for_the_environment_in_seconds():
    p = run(incident())
    assert (p.mode, p.action, p.decision, p.team) == ("approve", "detach", None, "search")
    assert p.approval_timeout_seconds == 1200
    assert p.snooze_seconds == 1800
    assert p.verify_delay_seconds == 240
    assert p.cooldown_seconds == 5400
    assert p.on_timeout == "trip"


def test_unknown_environment_takes_the_team_default():
    p = run(incident(environment="staging"))
    assert (p.mode, p.decision) == ("notify", "notify")


@pytest.mark.parametrize("team", [None, "nobody-knows"])
def test_untagged_or_unknown_owner_finops_decides(team):
    p = run(incident(team=team))
    assert p.approver_team == "finops"
    assert p.mode == "approve"
    assert "FinOps decides" in p.reasons[0]


def test_dry_run_overrides_everything_and_plans_the_trip():
    p = run(incident(environment="dev", protected=True), dry_run=True)
    assert (p.mode, p.decision, p.dry_run) == ("dry-run", "dry-run", True)


def test_dry_run_of_a_notify_policy_stays_notify():
    p = run(incident(environment="staging"), dry_run=True)
    assert (p.mode, p.decision) == ("notify", "dry-run")


@pytest.mark.parametrize("environment", ["prod", "dev"])
def test_protected_profile_is_never_tripped(environment):
    p = run(incident(environment=environment, protected=True))
    assert (p.mode, p.decision) == ("notify", "protected")


def test_auto_policy_trips_automatically():
    p = run(incident(environment="dev"))
    assert (p.mode, p.decision, p.action) == ("auto", "auto", "throttle")


def test_trip_bound_reached_a_person_decides():
    p = run(incident(environment="dev"), trips=5, bound=5)
    assert (p.mode, p.decision) == ("approve", None)
    assert any("bound" in r for r in p.reasons)


def test_bound_of_zero_means_no_automatic_trips():
    assert run(incident(environment="dev"), trips=0, bound=0).mode == "approve"


def test_below_the_policy_threshold_notify_only():
    p = run(incident(environment="big", cost_per_hour_usd=20.0, baseline_cost_per_hour_usd=5.0))
    assert (p.mode, p.decision) == ("notify", "notify")
