"""The proving ground: a whole deployment in the sandbox for ``tokenfuse drill`` and ``tokenfuse
doctor`` to prove, with the faults of :mod:`tokenfuse_sandbox.faults` injected on request.

What it seeds, each the way the README deploys it (and nothing the drill or the doctor does
itself):

- the demo's organization (``story.org``): the tokenfuse account as management account (moto has
  no delegated administrators), two member accounts, tagged profiles of four teams, one untagged,
  one of an unknown team, in two regions, each created through Bedrock's own API with its
  CloudTrail event forwarded to tokenfuse's bus, so the real inventory function records them and
  arms their token-rate alarms;
- ``org/member.yaml`` as a service-managed StackSet on the root (moto deploys its member role and
  forwarding rules in every account and region), ``org/guard-scp.json`` as the guard SCP attached
  to the root (``guard-detached``: attached, then detached);
- model invocation logging to CloudWatch Logs in every member account and region
  (``logging-off``: none), and one call through each profile (their ``AWS/Bedrock`` series and
  log records; ``metrics-missing``: CloudWatch drops every ``AWS/Bedrock`` datapoint);
- in the management account: a Cost Anomaly Detection monitor with an IMMEDIATE subscription to
  the CostAnomalyTopic, a Bedrock budget notifying the BudgetsTopic, ``team`` and ``feature``
  activated as cost-allocation tags; SES: the sender verified, out of the SES sandbox;
- the stack: ``DryRun`` left at its default (``true``: the drill must trip its canary anyway),
  ``DrillAccountId`` = the first member account, the demo's team directory, Slack channels
  (``slack-token-invalid``: the bot token secret holds a revoked token).

The clock starts at :data:`PROVING_START` (prices fresh, reports reproducible) and moves only when
the drill waits (:class:`SandboxClock`): ``seconds_to_deny`` is the emulation's named SCP delay.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from tokenfuse.drill.deployment import Deployment
from tokenfuse.drill.doctor import DoctorSources
from tokenfuse.drill.drill import DrillConfig, DrillPorts
from tokenfuse.drill.report import DrillReport
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.drill.wiring import DrillTarget
from tokenfuse_sandbox import faults as fault_mod
from tokenfuse_sandbox.story import org as org_mod

PROVING_START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
STACK_NAME = "tokenfuse-sandbox"
SENDER = "tokenfuse@example.com"
FINOPS_EMAIL = "finops@example.com"
LOG_GROUP = "/aws/bedrock/modelinvocations"
ORG = Path(__file__).resolve().parents[2] / "org"


class SandboxClock:
    """The drill's clock in the sandbox: a wait moves the simulated clock, then delivers what the
    move made due (alarm evaluation, log subscriptions)."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb

    def now(self) -> datetime:
        now: datetime = self.sb.now()
        return now

    def sleep(self, seconds: float) -> None:
        self.sb.clock.advance(timedelta(seconds=seconds))
        self.sb.delivery.step()


class ProvingGround:
    """Use as a context manager: ``with ProvingGround(faults=["guard-detached"]) as ground: ...``."""

    def __init__(self, faults: Iterable[str] = (), template: str | Path | None = None) -> None:
        self.faults = fault_mod.checked(faults)
        self.template = template
        self.sb: Any = None
        self._stack = contextlib.ExitStack()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> ProvingGround:
        from tokenfuse_sandbox.core import Sandbox
        from tokenfuse_sandbox.emulation import billing_setup

        try:
            settings = org_mod.sandbox_settings("approve")
            accounts = org_mod.ACCOUNTS
            parameters = {
                **settings["parameters"],
                "DryRun": "true",
                "DrillAccountId": accounts[0].account_id,
                "SenderEmail": SENDER,
                "FinOpsEmail": FINOPS_EMAIL,
            }
            secrets = dict(settings["secrets"])
            if "slack-token-invalid" in self.faults:
                secrets["SlackBotTokenSecret"] = fault_mod.REVOKED_TOKEN
            self.sb = self._stack.enter_context(
                Sandbox(
                    self.template,
                    parameters=parameters,
                    secrets=secrets,
                    slack_channels=settings["slack_channels"],
                    clock_start=PROVING_START,
                    clock_mode="advance",
                    fire_schedules=False,
                    function_urls=False,
                )
            )
            if not billing_setup.installed():
                billing_setup.install()
                self._stack.callback(billing_setup.uninstall)
            if "metrics-missing" in self.faults:
                self._stack.callback(fault_mod.drop_bedrock_metrics())
            self._seed()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stack.close()

    # -- what the drill and the doctor get -----------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        from tokenfuse.drill.aws.stack import deployment_from

        return deployment_from(
            self.sb.resources,
            self.sb.template.parameters,
            stack_name=STACK_NAME,
            region=self.sb.region,
            account_id=self.sb.account_id,
        )

    def drill(self) -> tuple[DrillPorts, DrillConfig]:
        """The drill's ports and config, as ``tokenfuse drill`` builds them for a real stack."""
        from tokenfuse.drill.wiring import DrillTarget

        return self.build(DrillTarget.of_deployment(self.deployment))

    def build(self, target: DrillTarget, deadline: datetime | None = None) -> tuple[DrillPorts, DrillConfig]:
        """:func:`tokenfuse.drill.wiring.build_drill` on the sandbox's clock (its ``build`` argument)."""
        from tokenfuse.drill.wiring import build_drill

        return build_drill(
            target, drill_clock=SandboxClock(self.sb), on_wait=self.sb.delivery.step, deadline=deadline
        )

    def drill_settings(self) -> DrillSettings:
        """DrillFunction's settings, from its environment as the template sets it."""
        from tokenfuse.drill.settings import DrillSettings

        spec = self.sb.runtime.functions["DrillFunction"]
        return DrillSettings.from_env(self.sb.runtime.env_for(spec))

    def scheduled_drill(self) -> DrillReport:
        """DrillFunction's scheduled drill: its composition root, built from its template
        environment, on the sandbox's clock.

        It runs in this process, not inside the function: the in-process Lambda emulation runs one
        invocation at a time, and a drill inside DrillFunction would wait on a state machine whose
        tasks are invocations too."""
        from tokenfuse.drill import scheduled

        deps = dataclasses.replace(scheduled.dependencies(self.drill_settings()), build=self.build)
        return deps.scheduled_drill(None, self.sb.now)

    def doctor(self) -> DoctorSources:
        """The doctor's sources, as ``tokenfuse doctor`` builds them (no policy simulator: moto has none)."""
        from tokenfuse.drill.wiring import build_doctor

        token = self.sb.clients["secretsmanager"].get_secret_value(
            SecretId=self.sb.resources["SlackBotTokenSecret"]
        )["SecretString"]
        return build_doctor(
            self.deployment, slack_token=token, slack_base_url=self.sb.slack.base_url, now=self.sb.now
        )

    # -- seeding -------------------------------------------------------------------------------

    def _seed(self) -> None:
        sb = self.sb
        sb.enable_cross_account()
        sessions = org_mod.Sessions(sb.account_id)
        org_mod._organization(sessions)
        self._guard(sessions)
        self._member_stack_set(sessions)
        seeded = org_mod._profiles(sessions, sb.now(), org_mod.PROFILES)
        if "logging-off" not in self.faults:
            self._invocation_logging(sessions)
        self._traffic(sessions, seeded.values())
        self._billing(sessions)
        self._mail(sessions)
        sb.drain()

    def _guard(self, sessions: org_mod.Sessions) -> None:
        organizations = sessions.client("organizations", org_mod.TOKENFUSE_ACCOUNT)
        policy = organizations.create_policy(
            Name=org_mod.GUARD_POLICY_NAME,
            Description="tokenfuse guard: denies Bedrock invocation of tripped inference profiles",
            Type="SERVICE_CONTROL_POLICY",
            Content=(ORG / "guard-scp.json").read_text(),
            Tags=[{"Key": "tokenfuse:guard", "Value": "true"}],
        )["Policy"]["PolicySummary"]["Id"]
        root = organizations.list_roots()["Roots"][0]["Id"]
        organizations.attach_policy(PolicyId=policy, TargetId=root)
        if "guard-detached" in self.faults:
            organizations.detach_policy(PolicyId=policy, TargetId=root)

    def _member_stack_set(self, sessions: org_mod.Sessions) -> None:
        from tokenfuse_sandbox.member_stacks import deploy_member_stack_set

        deploy_member_stack_set(self.sb, sessions, org_mod.TOKENFUSE_ACCOUNT, org_mod.REGIONS)

    def _invocation_logging(self, sessions: org_mod.Sessions) -> None:
        for account in org_mod.ACCOUNTS:
            for region in org_mod.REGIONS:
                sessions.client("logs", account.account_id, region).create_log_group(logGroupName=LOG_GROUP)
                sessions.client(
                    "bedrock", account.account_id, region
                ).put_model_invocation_logging_configuration(
                    loggingConfig={
                        "cloudWatchConfig": {
                            "logGroupName": LOG_GROUP,
                            "roleArn": f"arn:aws:iam::{account.account_id}:role/bedrock-invocation-logging",
                        },
                        "textDataDeliveryEnabled": False,
                    }
                )

    def _traffic(self, sessions: org_mod.Sessions, seeded: Iterable[org_mod.SeededProfile]) -> None:
        """One short call through each profile: its AWS/Bedrock series and its log record."""
        for profile in seeded:
            runtime = sessions.client("bedrock-runtime", profile.spec.account_id, profile.spec.region)
            runtime.converse(
                modelId=profile.arn,
                messages=[{"role": "user", "content": [{"text": "a seeded call"}]}],
                inferenceConfig={"maxTokens": 8},
            )

    def _billing(self, sessions: org_mod.Sessions) -> None:
        management = org_mod.TOKENFUSE_ACCOUNT
        ce = sessions.client("ce", management, "us-east-1")
        monitor = ce.create_anomaly_monitor(
            AnomalyMonitor={
                "MonitorName": "tokenfuse-services",
                "MonitorType": "DIMENSIONAL",
                "MonitorDimension": "SERVICE",
            }
        )["MonitorArn"]
        threshold = {
            "Dimensions": {
                "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                "Values": ["100"],
            }
        }
        ce.create_anomaly_subscription(
            AnomalySubscription={
                "SubscriptionName": "tokenfuse-immediate",
                "Frequency": "IMMEDIATE",
                "MonitorArnList": [monitor],
                "Subscribers": [{"Type": "SNS", "Address": self.sb.resources["CostAnomalyTopic"]}],
                "ThresholdExpression": threshold,
            }
        )
        ce.update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[
                {"TagKey": "team", "Status": "Active"},
                {"TagKey": "feature", "Status": "Active"},
            ]
        )
        org_mod.create_budget(sessions, 1_000.0)
        sessions.client("budgets", management, "us-east-1").create_notification(
            AccountId=management,
            BudgetName=org_mod.BUDGET_NAME,
            Notification={
                "NotificationType": "ACTUAL",
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": 80.0,
                "ThresholdType": "PERCENTAGE",
            },
            Subscribers=[{"SubscriptionType": "SNS", "Address": self.sb.resources["BudgetsTopic"]}],
        )

    def _mail(self, sessions: org_mod.Sessions) -> None:
        own = self.sb.account_id
        sessions.client("ses", own, self.sb.region).verify_email_identity(EmailAddress=SENDER)
        sessions.client("sesv2", own, self.sb.region).put_account_details(
            MailType="TRANSACTIONAL",
            WebsiteURL="https://example.com",
            UseCaseDescription="tokenfuse alerts and approval requests to the teams that own Bedrock spend",
            ProductionAccessEnabled=True,
        )
