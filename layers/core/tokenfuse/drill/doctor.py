"""The doctor: is the deployment whole? Read-only, never touching traffic.

Each check is an object with a ``name`` and a ``run(context) -> Check``; :data:`DOCTOR_CHECKS` is
the list the doctor runs, in order, and a later check joins by appending to it (or by passing its
own list to :func:`run_doctor`). A check that raises is reported failed with the error on one line,
and the others still run. What every check needs of AWS is read once, through
:class:`DoctorContext`, from the ports (:mod:`tokenfuse.drill.ports`).

Profiles count as watched when one of :data:`PROFILE_WATCHERS` watches them: today the per-profile
token-rate alarms the inventory arms; the invocation-log meter joins that list when it exists.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from tokenfuse.adapters.guard_scp import STATEMENT_SID, listed_arns
from tokenfuse.attribution.pricing import PriceTable, load_prices
from tokenfuse.canaries import DRILL_TAG_KEY, DRILL_TAG_VALUE, is_drill_profile
from tokenfuse.drill.canary import CANARY_MAX_AGE, TAG_GUARD_SID, TAG_GUARD_TAG_KEY, is_left_behind
from tokenfuse.drill.deployment import Deployment
from tokenfuse.drill.ports import (
    AccountPort,
    AccountsPort,
    CostsPort,
    LiveProfile,
    MailPort,
    OrganizationPort,
    SimulatorPort,
    SlackPort,
    StackSetPort,
    TopicsPort,
)
from tokenfuse.drill.report import Check, DoctorReport, error_said
from tokenfuse.inventory.models import ProfileRecord
from tokenfuse.inventory.thresholds import ALARM_PREFIX, METRICS, alarm_name
from tokenfuse.remediation.models import TripRecord
from tokenfuse.teams import TeamDirectory, TeamDirectoryError, uploadable_directory

PRICES_STALE_AFTER_DAYS = 90
SHOWN = 5
"""At most this many names are listed in a detail line (then "+N more")."""


def listed(items: Sequence[str], limit: int = SHOWN) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


class InventoryPort(Protocol):
    def records(self) -> list[ProfileRecord]: ...


class TripsPort(Protocol):
    def active_trips(self) -> list[dict[str, Any]]: ...


class DirectoryPort(Protocol):
    def raw(self) -> bytes:
        """The deployed team directory's value (the SSM parameter), as bytes."""


@dataclass
class DoctorSources:
    """Every port the doctor reads through (``simulator`` only in a real account)."""

    deployment: Deployment
    now: Callable[[], datetime]
    organization: OrganizationPort
    stack_sets: StackSetPort
    accounts: AccountsPort
    inventory: InventoryPort
    trips: TripsPort
    topics: TopicsPort
    costs: CostsPort
    slack: SlackPort
    mail: MailPort
    directory: DirectoryPort
    prices: PriceTable | None = None
    simulator: SimulatorPort | None = None
    simulate_as: str | None = None
    """The principal whose organization policies the simulator evaluates (a role in a member account)."""


@dataclass(frozen=True)
class Scope:
    account_id: str
    region: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}"


@dataclass
class _Read:
    """What one account and region answered (None when it could not be read, with why)."""

    profiles: list[LiveProfile] | None = None
    error: str | None = None
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


class DoctorContext:
    """The facts the checks share, each read once (and only when a check asks)."""

    def __init__(self, sources: DoctorSources) -> None:
        self.sources = sources
        self.deployment = sources.deployment
        self._reads: dict[Scope, _Read] = {}
        self._ports: dict[Scope, AccountPort] = {}

    @cached_property
    def now(self) -> datetime:
        return self.sources.now()

    @cached_property
    def records(self) -> list[ProfileRecord]:
        return self.sources.inventory.records()

    @cached_property
    def management_account(self) -> str | None:
        return self.sources.organization.management_account()

    @cached_property
    def member_accounts(self) -> list[str]:
        """ACTIVE accounts other than the management account (where SCPs never reach)."""
        accounts = [a.account_id for a in self.sources.organization.active_accounts()]
        return sorted(a for a in accounts if a != self.management_account)

    @cached_property
    def regions(self) -> list[str]:
        """Where profiles are: the inventory's regions, and the stack's own."""
        return sorted({r.region for r in self.records} | {self.deployment.region})

    @cached_property
    def scopes(self) -> list[Scope]:
        """Every account (the management account too: its profiles need the inline deny) and region."""
        accounts = set(self.member_accounts) | {r.account_id for r in self.records}
        if self.management_account:
            accounts.add(self.management_account)
        return [Scope(a, r) for a in sorted(accounts) for r in self.regions]

    @cached_property
    def directory(self) -> TeamDirectory | None:
        try:
            return uploadable_directory(self.sources.directory.raw())
        except TeamDirectoryError:
            return None

    def account(self, scope: Scope) -> AccountPort:
        if scope not in self._ports:
            self._ports[scope] = self.sources.accounts.account(scope.account_id, scope.region)
        return self._ports[scope]

    def live(self, scope: Scope) -> _Read:
        """The scope's application profiles (read once), or why they could not be read."""
        if scope not in self._reads:
            try:
                self._reads[scope] = _Read(profiles=self.account(scope).profiles())
            except Exception as error:
                self._reads[scope] = _Read(error=error_said(error))
        return self._reads[scope]

    def tags(self, scope: Scope, profile: LiveProfile) -> dict[str, str]:
        read = self.live(scope)
        if profile.arn not in read.tags:
            read.tags[profile.arn] = self.account(scope).tags(profile.arn)
        return read.tags[profile.arn]

    def records_in(self, scope: Scope) -> list[ProfileRecord]:
        return [r for r in self.records if (r.account_id, r.region) == (scope.account_id, scope.region)]

    @cached_property
    def scopes_with_profiles(self) -> list[Scope]:
        return [s for s in self.scopes if self.records_in(s) or (self.live(s).profiles or [])]


class DoctorCheck(Protocol):
    name: str

    def run(self, context: DoctorContext) -> Check: ...


# --------------------------------------------------------------------------------------------------
# Configuration: the directory, prices
# --------------------------------------------------------------------------------------------------


class TeamDirectoryCheck:
    name = "team-directory"

    def run(self, context: DoctorContext) -> Check:
        parameter = context.deployment.team_directory_parameter
        try:
            directory = uploadable_directory(context.sources.directory.raw())
        except TeamDirectoryError as error:
            return Check.failed(
                self.name,
                f"{parameter}: {listed(error.issues, 3)}",
                "fill in config/teams.example.yaml, check it with tokenfuse config validate, and upload "
                "it (README: Team directory)",
            )
        return Check.ok(self.name, f"{parameter}: {directory.summary()}")


class PricesCheck:
    name = "prices"

    def run(self, context: DoctorContext) -> Check:
        table = context.sources.prices or load_prices()
        oldest = table.oldest_as_of()
        if oldest is None:
            return Check.failed(
                self.name, "the price table is empty", "restore layers/core/tokenfuse/data/prices.json"
            )
        age = (context.now.date() - oldest).days
        said = f"{len(table.models)} models, the oldest price from {oldest.isoformat()} ({age} days old)"
        if age > PRICES_STALE_AFTER_DAYS:
            return Check.failed(
                self.name,
                f"{said}, past {PRICES_STALE_AFTER_DAYS} days",
                "check them against https://aws.amazon.com/bedrock/pricing/ and update prices.json",
            )
        return Check.ok(self.name, said)


# --------------------------------------------------------------------------------------------------
# Where people are told: Slack, SES
# --------------------------------------------------------------------------------------------------


class SlackCheck:
    name = "slack"

    def run(self, context: DoctorContext) -> Check:
        directory = context.directory
        channels = [t.slack_channel for t in directory.teams if t.slack_channel] if directory else []
        finops = (
            directory.finops.slack_channel if directory else None
        ) or context.deployment.finops_slack_channel
        if finops:
            channels.append(finops)
        channels = list(dict.fromkeys(channels))
        auth = context.sources.slack.auth()
        if not channels and not auth.ok:
            return Check.ok(self.name, "Slack is not used: no channel in the directory or FinOpsSlackChannel")
        secret = context.deployment.slack_bot_token_secret or "the bot token secret"
        if not auth.ok:
            return Check.failed(
                self.name,
                f"auth.test answered {auth.error}",
                f"put the Slack app's bot token (xoxb-...) in {secret} (README: Slack app)",
            )
        problems = []
        scope_missing = False
        for channel in channels:
            membership = context.sources.slack.membership(channel)
            if membership.error:
                scope_missing = scope_missing or membership.error == "missing_scope"
                problems.append(f"{channel}: {membership.error}")
            elif not membership.member:
                problems.append(f"{channel} ({membership.name or 'unnamed'}): the bot is not in it")
        said = f"token valid (team {auth.team}, bot {auth.bot_user})"
        if problems:
            fix = (
                "reinstall the Slack app from slack/manifest.yaml (it asks for channels:read and groups:read)"
                if scope_missing
                else "invite the bot to each channel (/invite @tokenfuse) or fix the directory's channel ids"
            )
            return Check.failed(self.name, f"{said}; {listed(problems)}", fix)
        return Check.ok(self.name, f"{said}; the bot is in all {len(channels)} channel(s)")


class MailCheck:
    name = "ses"

    def run(self, context: DoctorContext) -> Check:
        sender = context.deployment.sender_email
        directory = context.directory
        email_only = [t.name for t in directory.teams if not t.slack_channel] if directory else []
        if not sender:
            if email_only:
                return Check.failed(
                    self.name,
                    f"teams {listed(email_only)} are reached only by email, but SenderEmail is empty",
                    "set the stack parameter SenderEmail to an SES-verified address",
                )
            return Check.ok(self.name, "email is not used (no SenderEmail, and every team is on Slack)")
        domain = sender.rsplit("@", 1)[-1]
        statuses = {i: context.sources.mail.identity_status(i) for i in (sender, domain)}
        if "Success" not in statuses.values():
            shown = ", ".join(f"{i}: {s}" for i, s in statuses.items())
            return Check.failed(
                self.name,
                f"the sender {sender} is not verified ({shown})",
                f"verify {sender} (or {domain}) in SES in {context.deployment.region}",
            )
        production = context.sources.mail.production_access()
        if production is False:
            return Check.failed(
                self.name,
                f"{sender} is verified, but the account is in the SES sandbox: mail reaches verified "
                "addresses only",
                "request SES production access (SES console > Account dashboard)",
            )
        out = "out of the SES sandbox" if production else "SES did not say whether it is out of its sandbox"
        return Check.ok(self.name, f"{sender} verified; {out}")


# --------------------------------------------------------------------------------------------------
# Signals in: topics, CAD, Budgets, cost-allocation tags
# --------------------------------------------------------------------------------------------------


class TopicsCheck:
    name = "signal-topics"

    def run(self, context: DoctorContext) -> Check:
        queue = context.deployment.intake_queue_arn
        missing = []
        for name, arn in context.deployment.topics.items():
            subscriptions = context.sources.topics.subscriptions(arn)
            if not any(s.protocol == "sqs" and s.endpoint == queue and s.confirmed for s in subscriptions):
                missing.append(name)
        if missing:
            return Check.failed(
                self.name,
                f"the intake queue is not a confirmed subscriber of {listed(missing)}",
                "redeploy the stack (its AWS::SNS::Subscription resources subscribe the queue)",
            )
        return Check.ok(
            self.name, f"the intake queue is subscribed to all {len(context.deployment.topics)} topics"
        )


class AnomalyDetectionCheck:
    name = "cost-anomaly-detection"

    def run(self, context: DoctorContext) -> Check:
        topic = context.deployment.topics.get("CostAnomalyTopic", "")
        subscriptions = [s for s in context.sources.costs.anomaly_subscriptions() if topic in s.sns_topics]
        immediate = [s.name for s in subscriptions if s.frequency == "IMMEDIATE"]
        if immediate:
            return Check.ok(self.name, f"{listed(immediate)} publish(es) to {topic} (IMMEDIATE)")
        if subscriptions:
            return Check.failed(
                self.name,
                f"{listed([s.name for s in subscriptions])} publish to the topic, but not IMMEDIATE",
                "Cost Anomaly Detection publishes to SNS only with IMMEDIATE frequency: change it",
            )
        return Check.failed(
            self.name,
            f"no Cost Anomaly Detection subscription publishes to {topic}",
            "deploy org/management.yaml in the management account, or subscribe your monitor (IMMEDIATE)",
        )


class BudgetsCheck:
    name = "budgets"

    def run(self, context: DoctorContext) -> Check:
        topic = context.deployment.topics.get("BudgetsTopic", "")
        budgets = [name for name, topics in context.sources.costs.budget_topics().items() if topic in topics]
        if not budgets:
            return Check.failed(
                self.name,
                f"no budget notification publishes to {topic}",
                "add the BudgetsTopicArn output as an SNS subscriber of your Bedrock budget's alerts",
            )
        return Check.ok(self.name, f"{listed(budgets)} notify {topic}")


class CostAllocationTagsCheck:
    name = "cost-allocation-tags"

    def run(self, context: DoctorContext) -> Check:
        keys = [context.deployment.team_tag_key, context.deployment.feature_tag_key]
        statuses = context.sources.costs.cost_allocation_tags(keys)
        inactive = [
            f"{k} ({statuses.get(k, 'never seen by Billing')})" for k in keys if statuses.get(k) != "Active"
        ]
        if inactive:
            return Check.failed(
                self.name,
                f"not active as cost-allocation tags: {listed(inactive)}: Cost Explorer cannot group by them",
                "activate them in the management account (Billing > Cost allocation tags, or aws ce "
                "update-cost-allocation-tags-status)",
            )
        return Check.ok(self.name, f"{', '.join(keys)} are active cost-allocation tags")


# --------------------------------------------------------------------------------------------------
# The organization: the guard, member accounts
# --------------------------------------------------------------------------------------------------


class GuardCheck:
    name = "guard-scp"

    def run(self, context: DoctorContext) -> Check:
        if context.deployment.trip_mechanism != "guard-scp":
            return self._inline(context)
        organization = context.sources.organization
        deployment = context.deployment
        policy = organization.find_policy(deployment.guard_policy_id, deployment.guard_policy_name)
        if policy is None:
            return Check.failed(
                self.name,
                f"no guard SCP (id {deployment.guard_policy_id or 'unset'}, "
                f"name {deployment.guard_policy_name})",
                "create it from org/guard-scp.json and attach it to the root (org/README.md step 5)",
            )
        document = organization.policy_document(policy)
        sids = {s.get("Sid") for s in _statements(document)}
        problems: list[str] = []
        fixes: list[str] = []
        if STATEMENT_SID not in sids:
            problems.append(f"{policy} has no {STATEMENT_SID} statement: a trip cannot list an ARN")
        if TAG_GUARD_SID not in sids:
            problems.append(
                f"{policy} has no {TAG_GUARD_SID} statement: the drill's tag-guard check cannot pass"
            )
        if problems:
            fixes.append(
                "add the missing statement(s) from org/guard-scp.json (aws organizations update-policy)"
            )
        targets = set(organization.policy_targets(policy))
        holding = sorted({s.account_id for s in context.scopes_with_profiles})
        management = context.management_account
        uncovered = [a for a in holding if a != management and not targets & {a, *organization.parents(a)}]
        if uncovered:
            where = f"attached to {', '.join(sorted(targets))}" if targets else "attached nowhere"
            problems.append(f"{where}: nothing above {listed(uncovered)}, which hold profiles")
            fixes.append(
                f"attach {policy} to the root or to the OUs above them (aws organizations attach-policy)"
            )
        in_management = sorted(
            r.profile_name or r.profile_id
            for r in context.records
            if management and r.account_id == management
        )
        if in_management:
            problems.append(
                f"SCPs never apply to the management account {management}: its profiles "
                f"{listed(in_management)} need the inline deny"
            )
            fixes.append("move those workloads to a member account, or use TripMechanism=inline-deny")
        if problems:
            return Check.failed(self.name, "; ".join(problems), "; ".join(fixes))
        return Check.ok(
            self.name,
            f"{policy} ({len(listed_arns(document))} ARN(s) listed) is attached to {listed(sorted(targets))} "
            f"and covers all {len(holding)} account(s) holding profiles",
        )

    def _inline(self, context: DoctorContext) -> Check:
        key = context.deployment.callers_tag_key
        missing = sorted(r.profile_name or r.profile_id for r in context.records if not r.tags.get(key))
        if missing:
            return Check.failed(
                self.name,
                f"TripMechanism=inline-deny, but {listed(missing)} name no caller ({key})",
                f"tag each profile with its caller roles or functions ({key}, space-separated)",
            )
        return Check.ok(self.name, f"TripMechanism=inline-deny: every profile names its callers ({key})")


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else [s for s in statements if isinstance(s, dict)]


class MemberAccountsCheck:
    name = "member-accounts"

    def run(self, context: DoctorContext) -> Check:
        deployment = context.deployment
        own = deployment.account_id
        members = [a for a in context.member_accounts if a != own]
        if not members:
            return Check.ok(self.name, "no member account besides this one")
        instances = {
            (i.account_id, i.region): i
            for i in context.sources.stack_sets.instances(deployment.member_stack_set_name)
        }
        problems = []
        for account in members:
            absent = [
                r
                for r in context.regions
                if (i := instances.get((account, r))) is None
                or i.status != "CURRENT"
                or i.detailed_status not in (None, "SUCCEEDED")
            ]
            if absent:
                problems.append(
                    f"{account}: no current {deployment.member_stack_set_name} instance in {listed(absent)}"
                )
            why = context.sources.accounts.assume_error(account)
            if why:
                problems.append(f"{account}: role {deployment.member_role_name} cannot be assumed ({why})")
        if problems:
            return Check.failed(
                self.name,
                "; ".join(problems[:SHOWN])
                + (f" (+{len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""),
                f"add the missing stack instances to {deployment.member_stack_set_name} "
                "(org/README.md step 4)",
            )
        return Check.ok(
            self.name,
            f"{len(members)} member account(s) have the role and the forwarding rules in "
            f"{', '.join(context.regions)}",
        )


# --------------------------------------------------------------------------------------------------
# Profiles: watched, reporting metrics, logged; canaries
# --------------------------------------------------------------------------------------------------


class ProfileWatcher(Protocol):
    """One way tokenfuse watches a profile's token rate (the alarms now; the meter later)."""

    name: str

    def watches(self, record: ProfileRecord, scope: Scope, context: DoctorContext) -> bool: ...


class TokenRateAlarms:
    """Both per-profile token-rate alarms the inventory arms exist."""

    name = "token-rate alarms"

    def __init__(self) -> None:
        self._names: dict[Scope, set[str]] = {}

    def watches(self, record: ProfileRecord, scope: Scope, context: DoctorContext) -> bool:
        if scope not in self._names:
            self._names[scope] = context.account(scope).alarm_names(ALARM_PREFIX)
        return all(alarm_name(record.profile_id, metric) in self._names[scope] for metric in METRICS)


PROFILE_WATCHERS: list[Callable[[], ProfileWatcher]] = [TokenRateAlarms]
"""Factories of the watchers a profile may be watched by (fresh per doctor run)."""


class ProfilesWatchedCheck:
    name = "profiles-watched"

    def run(self, context: DoctorContext) -> Check:
        watchers = [make() for make in PROFILE_WATCHERS]
        unwatched: list[str] = []
        unknown: list[str] = []
        unreadable: list[str] = []
        total = 0
        for scope in context.scopes:
            read = context.live(scope)
            if read.profiles is None:
                unreadable.append(f"{scope} ({read.error})")
                continue
            records = {r.profile_arn: r for r in context.records_in(scope)}
            for profile in read.profiles:
                record = records.get(profile.arn)
                if record is None:
                    if not is_drill_profile(profile.name, context.tags(scope, profile)):
                        unknown.append(f"{profile.name or profile.profile_id} ({scope})")
                    continue
                total += 1
                if not any(w.watches(record, scope, context) for w in watchers):
                    unwatched.append(f"{record.profile_name or record.profile_id} ({scope})")
        problems = []
        if unwatched:
            names = " or ".join(w.name for w in watchers)
            problems.append(f"{len(unwatched)} inventoried profile(s) without {names}: {listed(unwatched)}")
        if unknown:
            problems.append(f"{len(unknown)} profile(s) the inventory has not seen: {listed(unknown)}")
        if unreadable:
            problems.append(f"could not read {listed(unreadable)}")
        if problems:
            return Check.failed(
                self.name,
                "; ".join(problems),
                "check the account's forwarding rules (member-accounts) and the inventory's dead-letter "
                "queue; the daily sweep re-arms what is missing",
            )
        return Check.ok(self.name, f"all {total} inventoried profile(s) watched, none unseen")


class BedrockMetricsCheck:
    name = "bedrock-metrics"

    def run(self, context: DoctorContext) -> Check:
        with_series: list[str] = []
        without: list[str] = []
        by_arn = 0
        for scope in context.scopes_with_profiles:
            records = context.records_in(scope)
            if not records:
                continue
            series = context.account(scope).model_id_series()
            for record in records:
                label = f"{record.profile_name or record.profile_id} ({scope})"
                if record.profile_id in series or record.profile_arn in series:
                    with_series.append(label)
                    by_arn += record.profile_arn in series
                else:
                    without.append(label)
        if not with_series and without:
            return Check.failed(
                self.name,
                f"none of the {len(without)} inventoried profile(s) has an AWS/Bedrock series under its "
                "id or "
                "ARN in the last two weeks: the token-rate alarms would watch nothing",
                "call a profile (or run tokenfuse drill, which says which ModelId form AWS uses) and check "
                "that AWS/Bedrock metrics reach CloudWatch in those accounts",
            )
        idle = f"; idle (no series in two weeks): {listed(without)}" if without else ""
        return Check.ok(
            self.name,
            f"{len(with_series)} profile(s) report AWS/Bedrock metrics ({by_arn} under the ARN){idle}",
        )


class InvocationLoggingCheck:
    name = "invocation-logging"

    def run(self, context: DoctorContext) -> Check:
        off: list[str] = []
        on: list[str] = []
        for scope in context.scopes_with_profiles:
            group = context.account(scope).invocation_log_group()
            (on if group else off).append(f"{scope}" + (f" -> {group}" if group else ""))
        if off:
            return Check.failed(
                self.name,
                f"model invocation logging to CloudWatch Logs is off in {listed(off)}: direct-model callers "
                "cannot be named there, and the invocation-log meter has nothing to read",
                "turn it on (Bedrock console > Settings, or PutModelInvocationLoggingConfiguration with a "
                "CloudWatch Logs group)",
            )
        return Check.ok(self.name, f"on wherever profiles are: {listed(on)}")


class DrillCanariesCheck:
    name = "drill-canaries"

    def run(self, context: DoctorContext) -> Check:
        team_key = context.deployment.team_tag_key
        left: list[str] = []
        impostors: list[str] = []
        canaries: set[str] = set()
        for scope in context.scopes_with_profiles:
            for profile in context.live(scope).profiles or []:
                tags = context.tags(scope, profile)
                name = profile.name or profile.profile_id
                if tags.get(DRILL_TAG_KEY) == DRILL_TAG_VALUE and not is_drill_profile(profile.name, tags):
                    impostors.append(f"{name} ({scope})")  # tagged, but a team's own name: still counted
                if not is_drill_profile(profile.name, tags):
                    continue
                canaries.add(profile.arn)
                if tags.get(team_key):
                    impostors.append(f"{name} ({scope})")
                elif is_left_behind(profile.name, tags, profile.created_at, context.now, team_key):
                    left.append(f"{name} ({scope})")
        trips = [TripRecord.model_validate(t) for t in context.sources.trips.active_trips()]
        stuck = [
            t.profile_arn
            for t in trips
            if (t.profile_arn in canaries or t.incident_id.startswith("drill-"))
            and context.now - t.tripped_at > CANARY_MAX_AGE
        ]
        problems = []
        if left:
            problems.append(f"canaries an interrupted drill left: {listed(left)}")
        if stuck:
            problems.append(f"drill trips still in force: {listed(stuck)}")
        if impostors:
            problems.append(
                f"tagged {DRILL_TAG_KEY}={DRILL_TAG_VALUE} but not a drill canary (a team's name, or a "
                f"team tag): {listed(impostors)}"
            )
        if problems:
            return Check.failed(
                self.name,
                "; ".join(problems),
                "run tokenfuse drill (it cleans what a drill left) or tokenfuse restore --all; take the "
                f"{DRILL_TAG_KEY} tag off any profile that is not a canary",
            )
        return Check.ok(self.name, "no canary or drill trip left behind, no profile posing as a canary")


class GuardSimulationCheck:
    """IAM's policy simulator on the guard (a real account only: moto has no simulator)."""

    name = "guard-simulation"

    def run(self, context: DoctorContext) -> Check:
        simulator, principal = context.sources.simulator, context.sources.simulate_as
        if simulator is None or principal is None:
            return Check.failed(self.name, "no simulator or principal to simulate as")
        deployment = context.deployment
        organization = context.sources.organization
        policy = organization.find_policy(deployment.guard_policy_id, deployment.guard_policy_name)
        if policy is None:
            return Check.failed(self.name, "no guard SCP to simulate", "see guard-scp")
        account, region = deployment.drill_account, deployment.region
        arns = listed_arns(organization.policy_document(policy))
        listed_arn = (
            arns[0] if arns else "arn:aws:bedrock:*:*:application-inference-profile/tokenfuse-none-tripped"
        )
        resource = _concrete(listed_arn, region, account)
        by_arn = simulator.simulate(principal, "bedrock:InvokeModel", resource, {})
        tag_resource = f"arn:aws:bedrock:{region}:{account}:application-inference-profile/tokenfusesim1"
        by_tag = simulator.simulate(
            principal,
            "bedrock:InvokeModel",
            tag_resource,
            {
                f"aws:ResourceTag/{DRILL_TAG_KEY}": DRILL_TAG_VALUE,
                f"aws:ResourceTag/{TAG_GUARD_TAG_KEY}": "true",
            },
        )
        failed = [s for s in (by_arn, by_tag) if not s.denied_by_organization]
        said = (
            f"as {principal}: InvokeModel on a listed ARN -> {by_arn.decision} (organization "
            f"{'denies' if by_arn.denied_by_organization else 'allows'}); on a tagged canary -> "
            f"{by_tag.decision} "
            f"(organization {'denies' if by_tag.denied_by_organization else 'allows'})"
        )
        if failed:
            return Check.failed(self.name, said, "attach the guard above this account (guard-scp)")
        return Check.ok(self.name, said)


def _concrete(arn: str, region: str, account: str) -> str:
    """A listed ARN with its wildcard region and account filled in (the simulator wants a resource)."""
    parts = arn.split(":", 5)
    if len(parts) == 6:
        parts[3] = region if parts[3] in ("", "*") else parts[3]
        parts[4] = account if parts[4] in ("", "*") else parts[4]
    return ":".join(parts)


DOCTOR_CHECKS: list[DoctorCheck] = [
    MemberAccountsCheck(),
    ProfilesWatchedCheck(),
    BedrockMetricsCheck(),
    InvocationLoggingCheck(),
    TopicsCheck(),
    AnomalyDetectionCheck(),
    BudgetsCheck(),
    GuardCheck(),
    CostAllocationTagsCheck(),
    SlackCheck(),
    MailCheck(),
    TeamDirectoryCheck(),
    PricesCheck(),
    DrillCanariesCheck(),
]
"""The doctor's checks, in order; a later check joins by appending (see module docstring)."""


def run_doctor(sources: DoctorSources, checks: Iterable[DoctorCheck] | None = None) -> DoctorReport:
    """Every check, each on its own: one that raises is failed with its error, the rest still run.
    The policy simulator's check runs where there is a simulator (a real account)."""
    chosen = list(DOCTOR_CHECKS if checks is None else checks)
    if sources.simulator is not None and checks is None:
        chosen.append(GuardSimulationCheck())
    context = DoctorContext(sources)
    results = []
    for check in chosen:
        try:
            results.append(check.run(context))
        except Exception as error:
            results.append(Check.failed(check.name, f"could not check: {error_said(error)}"))
    return DoctorReport.of(results)
