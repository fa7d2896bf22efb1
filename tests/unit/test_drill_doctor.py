"""The doctor's checks over in-memory sources: each passes on a whole deployment and fails, naming
what is wrong and what to do, when one piece is missing; a check that raises never stops the rest."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.support.drill_fakes import PRICES
from tokenfuse.drill import doctor
from tokenfuse.drill.canary import tag_guard_statement
from tokenfuse.drill.deployment import Deployment
from tokenfuse.drill.doctor import DOCTOR_CHECKS, PROFILE_WATCHERS, DoctorSources, run_doctor
from tokenfuse.drill.ports import (
    AnomalySubscription,
    ChannelMembership,
    LiveProfile,
    OrgAccount,
    Simulation,
    SlackAuth,
    StackInstance,
    Subscription,
)
from tokenfuse.inventory.models import Compliance, ProfileRecord

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
TOOLING, MANAGEMENT = "222233334444", "111122223333"
PROD, DEV = "444455556666", "777788889999"
REGION = "us-east-1"
QUEUE = f"arn:aws:sqs:{REGION}:{TOOLING}:tokenfuse-intake-dev"
TOPICS = {
    "CostAnomalyTopic": f"arn:aws:sns:{REGION}:{TOOLING}:tokenfuse-cost-anomaly-dev",
    "BudgetsTopic": f"arn:aws:sns:{REGION}:{TOOLING}:tokenfuse-budgets-dev",
    "TokenRateAlarmTopic": f"arn:aws:sns:{REGION}:{TOOLING}:tokenfuse-token-rate-alarms-dev",
}
DIRECTORY = b"""
teams:
  - name: search
    slack_channel: C0SEARCH01
finops:
  slack_channel: C0FINOPS01
"""
GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        tag_guard_statement(),
        {
            "Sid": "TokenfuseTrippedProfiles",
            "Effect": "Deny",
            "Action": ["bedrock:InvokeModel"],
            "Resource": ["arn:aws:bedrock:*:*:application-inference-profile/tokenfuse-none-tripped"],
        },
    ],
}


def arn(account: str, profile_id: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{account}:application-inference-profile/{profile_id}"


def record(account: str, profile_id: str, **extra: Any) -> ProfileRecord:
    return ProfileRecord(
        profile_arn=arn(account, profile_id),
        profile_id=profile_id,
        profile_name=f"name-{profile_id}",
        account_id=account,
        region=REGION,
        tags=extra.pop("tags", {"team": "search"}),
        compliance=Compliance(compliant=True),
        first_seen=NOW,
        last_seen=NOW,
        **extra,
    )


@dataclass
class Org:
    """Everything the doctor reads, whole by default; each test breaks one piece."""

    records: list[ProfileRecord] = field(
        default_factory=lambda: [record(PROD, "aaaaaaaaaaaa"), record(DEV, "bbbbbbbbbbbb")]
    )
    extra_live: dict[tuple[str, str], list[tuple[LiveProfile, dict[str, str]]]] = field(default_factory=dict)
    alarms_missing: set[str] = field(default_factory=set)
    series: set[str] | None = None
    logging_off: set[str] = field(default_factory=set)
    guard_targets: list[str] = field(default_factory=lambda: ["r-root"])
    guard_document: dict[str, Any] = field(default_factory=lambda: GUARD)
    instances_missing: set[tuple[str, str]] = field(default_factory=set)
    unassumable: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    anomaly: list[AnomalySubscription] = field(
        default_factory=lambda: [
            AnomalySubscription("tokenfuse-immediate", "IMMEDIATE", (TOPICS["CostAnomalyTopic"],))
        ]
    )
    budget_topics: dict[str, list[str]] = field(default_factory=lambda: {"bedrock": [TOPICS["BudgetsTopic"]]})
    tags_active: dict[str, str] = field(default_factory=lambda: {"team": "Active", "feature": "Active"})
    slack_error: str | None = None
    not_member: set[str] = field(default_factory=set)
    sender: str | None = "tokenfuse@example.com"
    verified: bool = True
    production: bool | None = True
    directory: bytes = DIRECTORY
    trips: list[dict[str, Any]] = field(default_factory=list)
    prices_as_of: str = "2026-11-27"
    raising: str | None = None

    # -- ports ------------------------------------------------------------------------------------
    def management_account(self) -> str:
        return MANAGEMENT

    def active_accounts(self) -> list[OrgAccount]:
        return [OrgAccount(a) for a in (MANAGEMENT, TOOLING, PROD, DEV)]

    def parents(self, account_id: str) -> list[str]:
        return {PROD: ["ou-prod", "r-root"], DEV: ["ou-dev", "r-root"]}.get(account_id, ["r-root"])

    def find_policy(self, policy_id: str | None, name: str) -> str | None:
        return "p-guard0001"

    def policy_document(self, policy_id: str) -> dict[str, Any]:
        return self.guard_document

    def policy_targets(self, policy_id: str) -> list[str]:
        return self.guard_targets

    def instances(self, stack_set_name: str) -> list[StackInstance]:
        return [
            StackInstance(a, REGION, "CURRENT", "SUCCEEDED")
            for a in (TOOLING, PROD, DEV)
            if (a, REGION) not in self.instances_missing
        ]

    def assume_error(self, account_id: str) -> str | None:
        return (
            "AccessDenied: not authorized to perform sts:AssumeRole"
            if account_id in self.unassumable
            else None
        )

    def account(self, account_id: str, region: str) -> "Account":
        return Account(self, account_id, region)

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        if topic_arn in self.unsubscribed:
            return [Subscription("sqs", QUEUE, confirmed=False)]
        return [Subscription("sqs", QUEUE, confirmed=True)]

    def anomaly_subscriptions(self) -> list[AnomalySubscription]:
        return self.anomaly

    def cost_allocation_tags(self, keys: list[str]) -> dict[str, str]:
        return {k: v for k, v in self.tags_active.items() if k in keys}

    def auth(self) -> SlackAuth:
        if self.slack_error:
            return SlackAuth(ok=False, error=self.slack_error)
        return SlackAuth(ok=True, team="acme", bot_user="U0BOT")

    def membership(self, channel: str) -> ChannelMembership:
        return ChannelMembership(channel, member=channel not in self.not_member, name=channel.lower())

    def identity_status(self, identity: str) -> str:
        return "Success" if self.verified and identity == self.sender else "absent"

    def production_access(self) -> bool | None:
        return self.production

    def raw(self) -> bytes:
        return self.directory

    def active_trips(self) -> list[dict[str, Any]]:
        return self.trips

    def sources(self, **extra: Any) -> DoctorSources:
        deployment = Deployment(
            stack_name="tokenfuse-dev",
            region=REGION,
            account_id=TOOLING,
            state_machine_arn="arn:aws:states:us-east-1:222233334444:stateMachine:tokenfuse-remediation-dev",
            remediate_function="tokenfuse-remediate-dev",
            approvals_table="tokenfuse-approvals-dev",
            inventory_table="tokenfuse-inventory-dev",
            intake_queue_arn=QUEUE,
            topics=TOPICS,
            team_directory_parameter="/tokenfuse/dev/teams",
            finops_slack_channel="C0FINOPS01",
            sender_email=self.sender,
        )
        table = PRICES.model_copy(
            update={
                "models": {
                    k: v.model_copy(update={"as_of": date.fromisoformat(self.prices_as_of)})
                    for k, v in PRICES.models.items()
                }
            }
        )
        inventory = type("Inventory", (), {"records": lambda _: self.records})()
        return DoctorSources(
            deployment=deployment,
            now=lambda: NOW,
            organization=self,
            stack_sets=self,
            accounts=self,
            inventory=inventory,
            trips=self,
            topics=self,
            costs=type("Costs", (), {
                "anomaly_subscriptions": lambda _: self.anomaly_subscriptions(),
                "budget_topics": lambda _: self.budget_topics,
                "cost_allocation_tags": lambda _, keys: self.cost_allocation_tags(keys),
            })(),
            slack=self,
            mail=self,
            directory=self,
            prices=table,
            **extra,
        )  # fmt: skip


@dataclass
class Account:
    org: Org
    account_id: str
    region: str

    def _key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def profiles(self) -> list[LiveProfile]:
        if self.org.raising == self._key():
            raise RuntimeError("ListInferenceProfiles: connection reset")
        mine = [
            LiveProfile(r.profile_arn, r.profile_id, r.profile_name, NOW)
            for r in self.org.records
            if r.account_id == self.account_id
        ]
        return mine + [p for p, _ in self.org.extra_live.get((self.account_id, self.region), [])]

    def tags(self, profile_arn: str) -> dict[str, str]:
        for extra in self.org.extra_live.values():
            for profile, tags in extra:
                if profile.arn == profile_arn:
                    return tags
        return next((r.tags for r in self.org.records if r.profile_arn == profile_arn), {})

    def alarm_names(self, prefix: str) -> set[str]:
        return {
            f"tokenfuse-{r.profile_id}-{kind}-tokens"
            for r in self.org.records
            if r.account_id == self.account_id and r.profile_id not in self.org.alarms_missing
            for kind in ("output", "input")
        }

    def model_id_series(self) -> set[str]:
        if self.org.series is not None:
            return self.org.series
        return {r.profile_id for r in self.org.records}

    def invocation_log_group(self) -> str | None:
        return None if self._key() in self.org.logging_off else "/aws/bedrock/modelinvocations"


def checks(org: Org, **extra: Any) -> dict[str, Any]:
    report = run_doctor(org.sources(**extra))
    return {c.name: c for c in report.checks} | {"_report": report}


def only_failed(org: Org) -> list[str]:
    return [c.name for c in run_doctor(org.sources()).checks if not c.passed]


def test_a_whole_deployment_passes_every_check():
    report = run_doctor(Org().sources())
    assert report.passed, [c for c in report.checks if not c.passed]
    assert [c.name for c in report.checks] == [c.name for c in DOCTOR_CHECKS]


@pytest.mark.parametrize(
    ("breakage", "check", "said"),
    [
        (
            {"instances_missing": {(DEV, REGION)}},
            "member-accounts",
            f"{DEV}: no current tokenfuse-member instance",
        ),
        ({"unassumable": {PROD}}, "member-accounts", f"{PROD}: role tokenfuse-member cannot be assumed"),
        (
            {"alarms_missing": {"aaaaaaaaaaaa"}},
            "profiles-watched",
            "without token-rate alarms: name-aaaaaaaaaaaa",
        ),
        (
            {"series": set()},
            "bedrock-metrics",
            "none of the 2 inventoried profile(s) has an AWS/Bedrock series",
        ),
        ({"logging_off": {f"{DEV}/{REGION}"}}, "invocation-logging", f"off in {DEV}/{REGION}"),
        (
            {"unsubscribed": {TOPICS["BudgetsTopic"]}},
            "signal-topics",
            "not a confirmed subscriber of BudgetsTopic",
        ),
        ({"anomaly": []}, "cost-anomaly-detection", "no Cost Anomaly Detection subscription publishes"),
        (
            {"anomaly": [AnomalySubscription("daily", "DAILY", (TOPICS["CostAnomalyTopic"],))]},
            "cost-anomaly-detection",
            "not IMMEDIATE",
        ),
        ({"budget_topics": {"bedrock": []}}, "budgets", "no budget notification publishes"),
        ({"guard_targets": ["ou-prod"]}, "guard-scp", f"nothing above {DEV}"),
        ({"guard_targets": []}, "guard-scp", "attached nowhere"),
        (
            {"guard_document": {"Statement": [GUARD["Statement"][1]]}},
            "guard-scp",
            "no TokenfuseDrillTagGuard",
        ),
        ({"tags_active": {"team": "Active"}}, "cost-allocation-tags", "feature (never seen by Billing)"),
        (
            {"tags_active": {"team": "Inactive", "feature": "Active"}},
            "cost-allocation-tags",
            "team (Inactive)",
        ),
        ({"slack_error": "invalid_auth"}, "slack", "auth.test answered invalid_auth"),
        ({"not_member": {"C0SEARCH01"}}, "slack", "C0SEARCH01 (c0search01): the bot is not in it"),
        ({"verified": False}, "ses", "is not verified"),
        ({"production": False}, "ses", "in the SES sandbox"),
        ({"directory": b"teams: []\n"}, "team-directory", "no team"),
        ({"directory": b"teams: [{name: x}]\n"}, "team-directory", "slack_channel or emails"),
        ({"prices_as_of": "2026-08-01"}, "prices", "121 days old), past 90 days"),
    ],
)
def test_one_broken_piece_fails_exactly_its_check_and_says_what_to_do(breakage, check, said):
    org = Org(**breakage)
    failed = only_failed(org)
    assert failed == [check]
    detail = checks(org)[check].detail
    assert said in detail, detail
    assert "to fix:" in detail


def test_management_account_profiles_are_named_as_needing_the_inline_deny():
    org = Org(records=[record(PROD, "aaaaaaaaaaaa"), record(MANAGEMENT, "cccccccccccc")])
    detail = checks(org)["guard-scp"].detail
    assert "SCPs never apply to the management account 111122223333" in detail
    assert "name-cccccccccccc" in detail and "inline deny" in detail


def test_a_profile_the_inventory_never_saw_is_named():
    unseen = LiveProfile(arn(PROD, "dddddddddddd"), "dddddddddddd", "shadow-agent", NOW)
    org = Org(extra_live={(PROD, REGION): [(unseen, {"team": "search"})]})
    detail = checks(org)["profiles-watched"].detail
    assert "1 profile(s) the inventory has not seen: shadow-agent" in detail


def test_canaries_are_not_unseen_profiles_but_left_behind_ones_and_impostors_are_named():
    old = NOW - timedelta(hours=2)
    canary = LiveProfile(
        arn(PROD, "eeeeeeeeeeee"), "eeeeeeeeeeee", "tokenfuse-drill-20261130t080000-aaaaaa", old
    )
    impostor = LiveProfile(arn(PROD, "ffffffffffff"), "ffffffffffff", "support-agent", old)
    org = Org(
        extra_live={
            (PROD, REGION): [(canary, {"tokenfuse:drill": "true"}), (impostor, {"tokenfuse:drill": "true"})]
        }
    )
    found = checks(org)
    assert "tokenfuse-drill-" not in found["profiles-watched"].detail  # a canary is never inventoried
    assert "support-agent" in found["profiles-watched"].detail  # a team's profile tagged as one still is
    detail = found["drill-canaries"].detail
    assert "canaries an interrupted drill left: tokenfuse-drill-20261130t080000-aaaaaa" in detail
    assert "not a drill canary" in detail and "support-agent" in detail


def test_a_drill_trip_still_in_force_is_named():
    trip = {
        "trip_id": "t1",
        "incident_id": "drill-20261130t080000-aaaaaa",
        "profile_arn": arn(PROD, "eeeeeeeeeeee"),
        "profile_id": "eeeeeeeeeeee",
        "account_id": PROD,
        "region": REGION,
        "action": "detach",
        "mechanism": "guard-scp",
        "dry_run": False,
        "actor": "tokenfuse",
        "tripped_at": "2026-11-30T08:00:00Z",
        "restore_after": None,
        "complete": True,
    }
    detail = checks(Org(trips=[trip]))["drill-canaries"].detail
    assert "drill trips still in force" in detail and "tokenfuse restore --all" in detail


def test_a_check_that_raises_is_failed_alone_and_the_others_run():
    org = Org(raising=f"{PROD}/{REGION}")
    report = run_doctor(org.sources())
    by_name = {c.name: c for c in report.checks}
    assert [c.name for c in report.checks] == [c.name for c in DOCTOR_CHECKS]
    assert "could not read" in by_name["profiles-watched"].detail
    assert by_name["prices"].passed and by_name["slack"].passed


def test_email_only_teams_need_a_sender():
    org = Org(sender=None, directory=b"teams:\n  - name: ops\n    emails: [ops@example.com]\n")
    detail = checks(org)["ses"].detail
    assert "teams ops are reached only by email, but SenderEmail is empty" in detail


def test_no_sender_and_no_email_team_is_fine():
    assert checks(Org(sender=None))["ses"].passed


def test_a_later_watcher_joins_the_list_and_watches_what_the_alarms_do_not():
    class Meter:
        name = "invocation-log meter"

        def watches(self, record, scope, context):
            return record.profile_id == "aaaaaaaaaaaa"

    org = Org(alarms_missing={"aaaaaaaaaaaa"})
    assert "profiles-watched" in only_failed(org)
    PROFILE_WATCHERS.append(Meter)
    try:
        assert only_failed(org) == []
    finally:
        PROFILE_WATCHERS.remove(Meter)


def test_a_later_check_joins_the_doctor():
    class Extra:
        name = "extra"

        def run(self, context):
            return doctor.Check.failed(self.name, "joined", "nothing")

    report = run_doctor(Org().sources(), [*DOCTOR_CHECKS, Extra()])
    assert report.checks[-1].name == "extra" and not report.passed


def test_the_policy_simulator_checks_the_guard_where_there_is_one():
    class Simulator:
        def __init__(self, denies: bool) -> None:
            self.denies = denies
            self.asked: list[tuple[str, str, dict[str, str]]] = []

        def simulate(self, principal, action, resource, context):
            self.asked.append((action, resource, dict(context)))
            return Simulation(action, resource, denied_by_organization=self.denies, decision="explicitDeny")

    role = f"arn:aws:iam::{TOOLING}:role/tokenfuse-dev-DrillFunctionRole-X"
    simulator = Simulator(denies=True)
    found = checks(Org(), simulator=simulator, simulate_as=role)
    assert found["guard-simulation"].passed
    listed_arn, tagged = simulator.asked
    assert (
        listed_arn[1]
        == f"arn:aws:bedrock:{REGION}:{TOOLING}:application-inference-profile/tokenfuse-none-tripped"
    )
    assert tagged[2] == {
        "aws:ResourceTag/tokenfuse:drill": "true",
        "aws:ResourceTag/tokenfuse:drill-deny": "true",
    }
    assert not checks(Org(), simulator=Simulator(denies=False), simulate_as=role)["guard-simulation"].passed
    assert "guard-simulation" not in checks(Org())  # no simulator (the sandbox): not run
