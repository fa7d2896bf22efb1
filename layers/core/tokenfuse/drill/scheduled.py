"""DrillFunction's work: the scheduled drill (weekly by default), and the stack's delete.

- The schedule's own input (EventBridge Scheduler fills in its ARN and time) runs a drill within
  the function's time (every wait stops in time for the cleanup), tells FinOps how it went
  (Slack, else email: a check of its own, ``finops-told``), and publishes ``DrillPassed`` (1 or 0)
  for the dashboard and the alarm on a failed drill.
- A CloudFormation Delete (the stack going away) restores and deletes every canary left, whatever
  its age: nothing of a drill outlives tokenfuse.
- Anything else is refused with one line and runs nothing.

:func:`dependencies` is DrillFunction's composition root (:mod:`tokenfuse.composition`): it keeps
where the drill runs and FinOps's email; the bot token (a secret a person may rotate) and the
drill's sessions (assumed roles, whose credentials expire) are made anew per invocation.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, ValidationError

from tokenfuse.adapters import cfn_response
from tokenfuse.adapters.email import EmailSender
from tokenfuse.adapters.slack import SlackSender, bot_token_from_secret
from tokenfuse.canaries import DRILL_TAG_KEY
from tokenfuse.composition import composition_root
from tokenfuse.drill.drill import ACTOR, DrillConfig, DrillPorts, lift_and_delete, run_drill
from tokenfuse.drill.report import Check, DrillReport, said
from tokenfuse.drill.settings import DrillSettings
from tokenfuse.drill.wiring import DrillTarget, build_drill
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import correlate, logger, metrics
from tokenfuse.remediation import custom_resource
from tokenfuse.remediation.channels import ChatPort, EmailPort, SesEmail, SlackChat

PHYSICAL_ID = "tokenfuse-drill-canaries"
CORRELATION_ID_PATH = "RequestId || scheduled_time"
"""A stack event's RequestId; a scheduled drill's time, until the drill's own run id replaces it."""
DRILL_PASSED = "DrillPassed"
FINOPS_TOLD = "finops-told"


class ScheduledDrill(BaseModel):
    """The schedule's input (template.yaml, DrillFunction's ``WeeklyDrill`` event)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["scheduled-drill"]
    schedule_arn: str
    scheduled_time: str


@dataclass(frozen=True)
class Told:
    """Where FinOps was told, and what failed on the way (Slack refused, then email worked)."""

    where: str
    failures: tuple[str, ...] = ()


class FinOpsReport:
    """FinOps's Slack channel, else (no channel, or Slack refused the post) FinOps's email."""

    def __init__(
        self, chat: ChatPort | None, channel: str | None, email: EmailPort | None, recipients: Sequence[str]
    ) -> None:
        self.chat, self.channel = chat, channel
        self.email, self.recipients = email, [r for r in recipients if r]

    def post(self, text: str) -> Told:
        """Raises TokenfuseError when FinOps could be told nowhere."""
        failures: list[str] = []
        if self.chat is not None and self.channel:
            try:
                self.chat.post(self.channel, text)
                return Told(f"Slack {self.channel}")
            except TokenfuseError as error:
                failures.append(f"Slack {self.channel}: {said(error)}")
        elif self.channel:
            failures.append(f"Slack {self.channel}: no bot token in the secret")
        if self.email is not None and self.recipients:
            try:
                self.email.send(self.recipients, text.splitlines()[0][:120], text)
                return Told(f"email to {', '.join(self.recipients)}", tuple(failures))
            except TokenfuseError as error:
                failures.append(f"email: {said(error)}")
        raise TokenfuseError("; ".join(failures) or "no FinOps Slack channel or email is configured")


class BuildDrill(Protocol):
    """:func:`tokenfuse.drill.wiring.build_drill`'s shape (the sandbox and tests pass their own)."""

    def __call__(
        self, target: DrillTarget, *, deadline: datetime | None = None
    ) -> tuple[DrillPorts, DrillConfig]: ...


def summary_text(report: DrillReport, config: DrillConfig) -> str:
    """The FinOps message: the verdict, the figures, each failed check."""
    verdict = "passed" if report.passed else "FAILED"
    head = f"tokenfuse fire drill {verdict} in {config.account_id} {config.region} (run {config.run_id})"
    seconds = "unknown" if report.seconds_to_deny is None else f"{report.seconds_to_deny:g} s"
    cost = "unknown" if report.cost_usd is None else f"${report.cost_usd:.8f}"
    lines = [
        head,
        f"deny took effect in {seconds}; ModelId form: {report.model_id_form or 'unknown'}; "
        f"calls cost {cost}",
    ]
    lines += [f"FAIL {c.name}: {c.detail}" for c in report.checks if not c.passed]
    return "\n".join(lines)


def run_scheduled(
    settings: DrillSettings,
    remaining_ms: int | None,
    *,
    report: FinOpsReport,
    build: BuildDrill = build_drill,
    now: Callable[[], datetime] | None = None,
) -> DrillReport:
    """One drill within the function's time; FinOps told; ``DrillPassed`` published."""
    deadline = None
    if remaining_ms is not None and now is not None:
        deadline = now() + timedelta(milliseconds=remaining_ms - 30_000)
    ports, config = build(DrillTarget.of_settings(settings), deadline=deadline)
    correlate(config.run_id, run_id=config.run_id)
    result = run_drill(ports, config)
    fix = "check the Slack bot token secret and FinOpsSlackChannel / FinOpsEmail (tokenfuse doctor: slack)"
    try:
        told = report.post(summary_text(result, config))
        if told.failures:  # FinOps heard it, but not where it should have: that is worth an alarm too
            heard = f"told FinOps by {told.where}, but {'; '.join(told.failures)}"
            result = result.with_check(Check.failed(FINOPS_TOLD, heard, fix))
        else:
            result = result.with_check(Check.ok(FINOPS_TOLD, f"told FinOps by {told.where}"))
    except TokenfuseError as error:
        result = result.with_check(Check.failed(FINOPS_TOLD, f"FinOps could not be told: {said(error)}", fix))
    metrics.add_metric(name=DRILL_PASSED, unit=MetricUnit.Count, value=1 if result.passed else 0)
    logger.info(
        "drill finished",
        extra={"passed": result.passed, "failed": [c.name for c in result.checks if not c.passed]},
    )
    return result


def on_stack_event(
    event: object,
    settings: DrillSettings,
    *,
    build: BuildDrill = build_drill,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    """Delete: every canary (any age) restored and deleted; FAILED (the stack stops deleting) when
    one cannot be, so nothing of a drill outlives the stack unseen. Create/Update: nothing.
    A request that is none of these is :class:`~tokenfuse.remediation.errors.InvalidTaskInput`."""
    request = custom_resource.parse_request(event)
    if request.request_type != "Delete":
        return custom_resource.respond(
            request, "SUCCESS", "nothing to do", data={}, physical_id=PHYSICAL_ID, send=send
        )
    ports, _ = build(DrillTarget.of_settings(settings))
    problems: list[str] = []
    removed = 0
    for canary in ports.canaries.canaries():
        left = lift_and_delete(ports, canary)
        problems += left
        removed += not left
    if problems:
        reason = f"drill canaries left ({DRILL_TAG_KEY}=true): {'; '.join(problems)}"
        return custom_resource.respond(request, "FAILED", reason, data={}, physical_id=PHYSICAL_ID, send=send)
    deleted = f"deleted {removed} drill canary(ies)"
    return custom_resource.respond(
        request, "SUCCESS", deleted, data={"Deleted": removed}, physical_id=PHYSICAL_ID, send=send
    )


def read_trigger(event: Any) -> ScheduledDrill | str:
    """The schedule's input, or the one line saying why the event is refused."""
    if not isinstance(event, dict):
        return f"not a drill trigger: a {type(event).__name__}"
    try:
        return ScheduledDrill.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        where = "/".join(str(part) for part in first["loc"]) or "event"
        return f"not a drill trigger: {where}: {first['msg']}"


@dataclass(frozen=True)
class DrillDependencies:
    """What DrillFunction keeps per container: its settings and FinOps's email (SES)."""

    settings: DrillSettings
    email: EmailPort | None
    build: BuildDrill = build_drill

    def finops_report(self) -> FinOpsReport:
        """FinOps's channels for one invocation: the bot token is re-read (Powertools' max-age
        cache), so a rotated token reaches a warm container."""
        settings = self.settings
        token = bot_token_from_secret(settings.slack_bot_token_secret_arn)
        chat = SlackChat(SlackSender(token, settings.slack_api_base_url)) if token else None
        return FinOpsReport(chat, settings.finops_slack_channel, self.email, [settings.finops_email or ""])

    def scheduled_drill(self, remaining_ms: int | None, now: Callable[[], datetime]) -> DrillReport:
        """One drill within the invocation's ``remaining_ms`` (:func:`run_scheduled`)."""
        return run_scheduled(
            self.settings, remaining_ms, report=self.finops_report(), build=self.build, now=now
        )

    def stack_event(self, event: object) -> dict[str, Any]:
        """The stack's custom resource (:func:`on_stack_event`)."""
        return on_stack_event(event, self.settings, build=self.build)


@composition_root
def dependencies(settings: DrillSettings) -> DrillDependencies:
    """DrillFunction's composition root (:mod:`tokenfuse.composition`)."""
    email = SesEmail(EmailSender(settings.sender_email)) if settings.sender_email else None
    return DrillDependencies(settings, email)


__all__ = [
    "ACTOR",
    "CORRELATION_ID_PATH",
    "DrillDependencies",
    "ScheduledDrill",
    "dependencies",
    "on_stack_event",
    "read_trigger",
    "run_scheduled",
    "summary_text",
]
