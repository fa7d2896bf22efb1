"""The inventory's three jobs, wired to the adapters.

- :meth:`Inventory.apply_change`: one CloudTrail change (create, tag, untag, delete) -> that profile.
- :meth:`Inventory.fan_out`: the daily schedule -> one sweep message per ACTIVE account.
- :meth:`Inventory.sweep_account`: one account, every region -> records, alarms, deletions.
- :meth:`Inventory.attributable`: yesterday's attributable share of Bedrock spend.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenfuse import clock
from tokenfuse.adapters import alarms as alarm_api
from tokenfuse.adapters import bedrock as bedrock_api
from tokenfuse.adapters.aws import MemberSessions, assume_role_session, aws_call, client
from tokenfuse.adapters.cloudwatch import MetricReader, MetricRequest
from tokenfuse.adapters.cost_explorer import cost_by_tag
from tokenfuse.adapters.inventory_table import InventoryTable
from tokenfuse.adapters.organizations import Account, enabled_regions, list_active_accounts
from tokenfuse.canaries import DRILL_COST_TAGS, is_drill_profile
from tokenfuse.errors import AccessDenied, AwsError, NotFound, TokenfuseError
from tokenfuse.events import ProfileNonCompliant
from tokenfuse.inventory.attributable import AttributableShare, attributable_share
from tokenfuse.inventory.cloudtrail import ProfileChange
from tokenfuse.inventory.compliance import assess
from tokenfuse.inventory.config import InventorySettings
from tokenfuse.inventory.models import ProfileRecord, model_id_of, seen_at
from tokenfuse.inventory.owners import TeamResolver
from tokenfuse.inventory.thresholds import (
    ALARM_PREFIX,
    METRICS,
    alarm_definition,
    alarm_name,
    owned_alarm_profile,
    threshold,
)
from tokenfuse.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH = 10
"""Left out of the attributable % (once tokenfuse:drill is a cost-allocation tag: until then the
drill's micro-dollars count as untagged spend, below Cost Explorer's cent)."""
# A region the account has not enabled answers with an invalid-token error; an SCP-denied one with
# AccessDenied. Either is swept as "skipped" (its records kept), never as the account's failure.
_REGION_UNAVAILABLE = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "OptInRequired"})


def _region_unavailable(error: TokenfuseError) -> bool:
    """True for AWS's answer from a region the account cannot use (its code, never its text)."""
    return isinstance(error, AccessDenied) or (
        isinstance(error, AwsError) and error.code in _REGION_UNAVAILABLE
    )


@dataclass
class SweepResult:
    account_id: str
    regions_swept: list[str] = field(default_factory=list)
    regions_skipped: dict[str, str] = field(default_factory=dict)
    profiles: int = 0
    upserted: int = 0
    deleted: int = 0
    alarms_put: int = 0
    alarms_deleted: int = 0
    non_compliant_reported: int = 0


@dataclass
class ChangeResult:
    profile_arn: str
    action: str  # upserted | deleted
    compliant: bool | None = None
    alarms_put: int = 0
    alarms_deleted: int = 0
    reported: bool = False


@dataclass(frozen=True)
class _Live:
    profile: bedrock_api.InferenceProfile
    tags: dict[str, str]


def new_sweep_id() -> str:
    """A sweep's id (its start time and 8 random hex digits): every line of one sweep logs it."""
    return clock.now().strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


class Inventory:
    def __init__(
        self,
        settings: InventorySettings,
        table: InventoryTable,
        teams: TeamResolver,
        bus: Any,
        sessions: MemberSessions,
        *,
        sqs_client: SQSClient | None = None,
        cost_explorer_client: Callable[[], CostExplorerClient] | None = None,
    ) -> None:
        self.settings = settings
        self.table = table
        self.teams = teams
        self.bus = bus
        self.sessions = sessions
        self._sqs = sqs_client
        self._ce = cost_explorer_client
        self.alarm_policy = settings.alarm_policy()

    # ------------------------------------------------------------------------------------------
    # CloudTrail: one profile
    # ------------------------------------------------------------------------------------------
    def apply_change(self, change: ProfileChange) -> ChangeResult:
        """One checked CloudTrail change (see :mod:`.cloudtrail`: its ARN, id, account and region
        are the event's own, so it can only touch that profile's record and alarms)."""
        bedrock = self.sessions.client("bedrock", change.account_id, change.region)
        cloudwatch = self.sessions.client("cloudwatch", change.account_id, change.region)
        profile_id = change.profile_id
        if change.kind == "upsert":
            try:
                profile = bedrock_api.get_profile(bedrock, change.profile_arn)
                tags = bedrock_api.profile_tags(bedrock, profile.arn)
            except NotFound:
                profile = None  # deleted since: the delete event (or the sweep) will agree
            if profile is not None and is_drill_profile(profile.name, tags):
                return self._forget(change, cloudwatch, "skipped: drill canary")  # in no figure
            if profile is not None:
                live = _Live(profile, tags)
                existing = self.table.get(profile.arn)
                alarms = alarm_api.describe_alarms(cloudwatch, f"{ALARM_PREFIX}{profile_id}-")
                # A brand-new profile has no traffic yet: skip reading its baseline.
                baseline = (
                    {}
                    if change.event_name == "CreateInferenceProfile"
                    else self._baselines(cloudwatch, [live])
                )
                record, put, reported = self._reconcile(
                    live, existing, change.account_id, change.region,
                    cloudwatch=cloudwatch, alarms=alarms, baseline=baseline, creator=change.creator,
                )  # fmt: skip
                return ChangeResult(profile.arn, "upserted", record.compliance.compliant, put, 0, reported)
        return self._forget(change, cloudwatch, "deleted")

    def _forget(self, change: ProfileChange, cloudwatch: Any, action: str) -> ChangeResult:
        """No record and no alarm for this profile (it is gone, or a drill canary)."""
        self.table.delete(change.profile_arn)
        names = [alarm_name(change.profile_id, m) for m in METRICS]
        alarm_api.delete_alarms(cloudwatch, names)
        return ChangeResult(change.profile_arn, action, alarms_deleted=len(names))

    # ------------------------------------------------------------------------------------------
    # Daily: fan out one message per account
    # ------------------------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        """ACTIVE accounts of the organization; the own account alone without Organizations."""
        own = self.sessions.own_account
        try:
            accounts = list_active_accounts(client("organizations", session=self.sessions.base))
        except AccessDenied as error:
            logger.warning("organizations:ListAccounts refused: sweeping this account only", error=str(error))
            accounts = None
        if not accounts:
            return [Account(own)]
        return accounts

    def fan_out(self, sweep_id: str | None = None) -> int:
        """One SQS message per account (send_message_batch of 10); the number of messages sent."""
        if not self.settings.sweep_queue_url:
            raise TokenfuseError("INVENTORY_SWEEP_QUEUE_URL is not set: cannot fan out the sweep")
        sweep_id = sweep_id or new_sweep_id()
        accounts = self.accounts()
        sqs = self._sqs or client("sqs")
        for start in range(0, len(accounts), SQS_BATCH):
            batch = accounts[start : start + SQS_BATCH]
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(
                        {
                            "account_id": a.account_id,
                            "account_name": a.name,
                            "regions": self.settings.regions,
                            "sweep_id": sweep_id,
                        }
                    ),
                }
                for i, a in enumerate(batch)
            ]
            with aws_call("sqs:SendMessage", resource=self.settings.sweep_queue_url):
                response = sqs.send_message_batch(QueueUrl=self.settings.sweep_queue_url, Entries=entries)
            if response.get("Failed"):
                failed = response["Failed"]
                raise TokenfuseError(f"{len(failed)} sweep message(s) refused: {failed[0].get('Message')}")
        logger.info("inventory sweep fanned out", sweep_id=sweep_id, accounts=len(accounts))
        return len(accounts)

    # ------------------------------------------------------------------------------------------
    # One account, every region
    # ------------------------------------------------------------------------------------------
    def sweep_account(self, account_id: str, regions: Sequence[str] | None = None) -> SweepResult:
        """Make the inventory and the alarms of one account exact. Raises (so the message is
        retried, then dead-lettered) when the account cannot be entered or a call keeps failing."""
        result = SweepResult(account_id)
        self.sessions.session(account_id)  # AssumeRole first: a missing role fails the account
        candidates = list(regions or self.settings.regions)
        try:
            # The Account Management API has one endpoint, in us-east-1.
            candidates = enabled_regions(self.sessions.client("account", account_id, "us-east-1"), candidates)
        except TokenfuseError as error:
            logger.info("account:ListRegions unavailable; sweeping the configured regions", error=str(error))
        known = {r.profile_arn: r for r in self.table.for_account(account_id)}
        for region in candidates:
            try:
                self._sweep_region(account_id, region, known, result)
            except TokenfuseError as error:
                if not _region_unavailable(error):
                    raise
                result.regions_skipped[region] = str(error)
                logger.warning("region skipped", account_id=account_id, region=region, error=str(error))
                continue
            result.regions_swept.append(region)
        return result

    def _sweep_region(
        self, account_id: str, region: str, known: dict[str, ProfileRecord], result: SweepResult
    ) -> None:
        bedrock = self.sessions.client("bedrock", account_id, region)
        cloudwatch = self.sessions.client("cloudwatch", account_id, region)
        every = [
            _Live(p, bedrock_api.profile_tags(bedrock, p.arn))
            for p in bedrock_api.iter_application_profiles(bedrock)
        ]
        live = [item for item in every if not is_drill_profile(item.profile.name, item.tags)]  # in no figure
        alarms = {
            name: a for name, a in alarm_api.describe_alarms(cloudwatch, ALARM_PREFIX).items()
            if owned_alarm_profile(name) is not None
        }  # fmt: skip
        baseline = self._baselines(cloudwatch, live)
        for item in live:
            _, put, reported = self._reconcile(
                item, known.get(item.profile.arn), account_id, region,
                cloudwatch=cloudwatch, alarms=alarms, baseline=baseline,
            )  # fmt: skip
            result.upserted += 1
            result.alarms_put += put
            result.non_compliant_reported += int(reported)
        result.profiles += len(live)
        live_arns = {item.profile.arn for item in live}
        live_ids = {item.profile.profile_id for item in live}
        for arn, record in known.items():
            if record.region == region and arn not in live_arns:
                self.table.delete(arn)
                result.deleted += 1
        orphans = [name for name in alarms if owned_alarm_profile(name) not in live_ids]
        result.alarms_deleted += alarm_api.delete_alarms(cloudwatch, orphans)

    # ------------------------------------------------------------------------------------------
    # One profile: record, compliance, alarms, FinOps event
    # ------------------------------------------------------------------------------------------
    def _baselines(self, cloudwatch: CloudWatchClient, live: Iterable[_Live]) -> dict[str, list[float]]:
        """Per-minute Sums over the baseline days, keyed ``<profile_id>/<metric>``, for the profiles
        whose thresholds will not come from their team's policy."""
        requests = []
        for item in live:
            _, team = self._assess(item.tags)
            env = item.tags.get(self.settings.environment_tag_key)
            for metric in METRICS:
                if self.teams.alarm_threshold(team, env, metric) is None:
                    key = f"{item.profile.profile_id}/{metric}"
                    requests.append(MetricRequest(key, metric, item.profile.profile_id))
        if not requests:
            return {}
        end = clock.now().replace(second=0, microsecond=0)
        start = end - timedelta(days=self.settings.baseline_days)
        series = MetricReader(cloudwatch).read(requests, start, end, period=self.alarm_policy.period_seconds)
        return {key: list(values) for key, (_, values) in series.items()}

    def _assess(self, tags: dict[str, str]) -> tuple[Any, str | None]:
        return assess(tags, self.settings.mandatory_tag_keys, self.settings.team_tag_key, self.teams.team_for)

    def _reconcile(
        self,
        live: _Live,
        existing: ProfileRecord | None,
        account_id: str,
        region: str,
        *,
        cloudwatch: CloudWatchClient,
        alarms: dict[str, alarm_api.AlarmDefinition],
        baseline: dict[str, list[float]],
        creator: str | None = None,
    ) -> tuple[ProfileRecord, int, bool]:
        """Upsert the record and its alarms; (record, alarms put, FinOps event sent)."""
        profile, tags = live.profile, live.tags
        compliance, team = self._assess(tags)
        env = tags.get(self.settings.environment_tag_key)
        thresholds: dict[str, float] = {}
        sources: dict[str, str] = {}
        put = 0
        for metric in METRICS:
            value, source = threshold(
                metric,
                self.teams.alarm_threshold(team, env, metric),
                baseline.get(f"{profile.profile_id}/{metric}", []),
                self.alarm_policy,
            )
            thresholds[metric] = value
            sources[metric] = source
            desired = alarm_definition(
                profile.profile_id, profile.arn, metric, value,
                team=team, source=source, settings=self.alarm_policy,
            )  # fmt: skip
            current = alarms.get(desired.name)
            if current is None or not current.same_as(desired):
                alarm_api.put_alarm(cloudwatch, desired)
                put += 1
        now = clock.now()
        record = self._record(live, existing, account_id, region, now, creator=creator)
        record = record.model_copy(update={"alarm_thresholds": thresholds, "threshold_sources": sources})
        self.table.put(record)
        newly_non_compliant = not compliance.compliant and (existing is None or existing.compliance.compliant)
        if newly_non_compliant:
            self.bus.put(self._non_compliant_event(record, now))
        return record, put, newly_non_compliant

    def _record(
        self,
        live: _Live,
        existing: ProfileRecord | None,
        account_id: str,
        region: str,
        now: datetime,
        *,
        creator: str | None = None,
    ) -> ProfileRecord:
        profile, tags = live.profile, live.tags
        compliance, team = self._assess(tags)
        first_seen, last_seen = seen_at(existing, now)
        return ProfileRecord(
            profile_arn=profile.arn,
            profile_id=profile.profile_id,
            profile_name=profile.name,
            # The ARN is the truth; the account and region swept are the fallback.
            account_id=profile.account_id or account_id,
            region=profile.region or region,
            model_arns=list(profile.model_arns),
            model_ids=list(dict.fromkeys(model_id_of(m) for m in profile.model_arns)),
            tags=dict(sorted(tags.items())),
            team_tag=(tags.get(self.settings.team_tag_key) or "").strip() or None,
            team=team,
            compliance=compliance,
            first_seen=first_seen,
            last_seen=last_seen,
            creator=creator or (existing.creator if existing else None),
        )

    def observe_account(
        self, account_id: str, regions: Sequence[str] | None = None
    ) -> tuple[list[ProfileRecord], dict[str, str]]:
        """Read-only: the records one account's profiles would have (no table, no alarms, no
        events), and the regions skipped with why. For ``tokenfuse audit`` against a real account."""
        now = clock.now()
        records: list[ProfileRecord] = []
        skipped: dict[str, str] = {}
        for region in regions or self.settings.regions:
            try:
                bedrock = self.sessions.client("bedrock", account_id, region)
                for profile in bedrock_api.iter_application_profiles(bedrock):
                    live = _Live(profile, bedrock_api.profile_tags(bedrock, profile.arn))
                    if not is_drill_profile(profile.name, live.tags):
                        records.append(self._record(live, None, account_id, region, now))
            except TokenfuseError as error:
                if not _region_unavailable(error):
                    raise
                skipped[region] = str(error)
        return records, skipped

    def _non_compliant_event(self, record: ProfileRecord, now: datetime) -> ProfileNonCompliant:
        reasons = []
        if record.compliance.missing_tags:
            reasons.append("missing tags: " + ", ".join(record.compliance.missing_tags))
        if record.compliance.unknown_team:
            reasons.append(f"team '{record.team_tag}' is not in the team directory")
        if not reasons:
            reasons.append("no team tag")
        return ProfileNonCompliant(
            profile_arn=record.profile_arn,
            profile_id=record.profile_id,
            profile_name=record.profile_name,
            account_id=record.account_id,
            region=record.region,
            tags=record.tags,
            team_tag=record.team_tag,
            missing_tags=record.compliance.missing_tags,
            unknown_team=record.compliance.unknown_team,
            creator=record.creator,
            detected_at=now,
            reason="; ".join(reasons),
        )

    # ------------------------------------------------------------------------------------------
    # Attributable %
    # ------------------------------------------------------------------------------------------
    def attributable(self, day: date | None = None) -> AttributableShare:
        """The attributable share of the organization's Bedrock spend over one full day (yesterday)."""
        day = day or (clock.now().date() - timedelta(days=1))
        ce = self._ce() if self._ce else self._cost_explorer()
        groups = cost_by_tag(
            ce, day, day + timedelta(days=1), self.settings.team_tag_key, exclude_tags=DRILL_COST_TAGS
        )
        return attributable_share(groups, self.teams.team_for)

    def _cost_explorer(self) -> CostExplorerClient:
        session = self.sessions.base
        if self.settings.budgets_role_arn:
            session = assume_role_session(
                self.settings.budgets_role_arn, session_name="tokenfuse-inventory", base=session
            )
        return client("ce", region="us-east-1", session=session)
