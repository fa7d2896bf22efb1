"""The team directory: who owns which team tag, where their alerts go, who approves, and the
policy per environment. Validated here (``tokenfuse config validate``) and deployed as YAML in an
SSM parameter.

An environment's policy inherits every field it does not set from the team's ``default`` policy,
which inherits from FinOps's policy, which inherits from :class:`Policy`'s defaults.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from tokenfuse.errors import TokenfuseError
from tokenfuse.events import Severity, UtcDateTime
from tokenfuse.text import one_line

if TYPE_CHECKING:  # PyYAML is imported by the first directory parsed, not by every import
    from tokenfuse import safe_yaml

SLACK_CHANNEL_PATTERN = r"^[CG][A-Z0-9]{8,}$"
SLACK_USER_PATTERN = r"^[UW][A-Z0-9]{8,}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TEAM_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
DEFAULT_POLICY_KEY = "default"
# The README deploys the directory with `aws ssm put-parameter --tier Advanced` (template.yaml too):
# an Advanced parameter's value holds 8 KB, a Standard one's 4 KB (Parameter Store, "Managing
# parameter tiers"; PutParameter's Value), and none may hold values wrapped in {{ }}.
SSM_PARAMETER_TIER = "Advanced"
SSM_VALUE_LIMIT_BYTES = 8192
_SSM_REFUSED = re.compile(r"\{\{.*\}\}")
FINOPS = "finops"

Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN)]
Mode = Literal["notify", "approve", "auto"]
TripAction = Literal["throttle", "detach"]
OnTimeout = Literal["none", "trip"]
_SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class DirectoryModel(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")


class Approver(DirectoryModel):
    slack_user_id: str | None = Field(default=None, pattern=SLACK_USER_PATTERN)
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> "Approver":
        if not self.slack_user_id and not self.email:
            raise ValueError("an approver needs slack_user_id or email")
        return self


class Policy(DirectoryModel):
    """What tokenfuse does about a spike on a profile of one team in one environment."""

    mode: Mode = "notify"
    action: TripAction = "throttle"
    scope: Literal["profile", "caller"] = Field(
        default="profile", description="caller: block only the callers behind the spend, on that profile"
    )
    caller_min_share: float = Field(
        default=0.2, gt=0, le=1, description="caller scope: block callers with at least this share"
    )
    profile_when_no_caller: bool = Field(
        default=False,
        description="caller scope: when no caller is named (the alarm path), block the whole profile",
    )
    cooldown_minutes: int = Field(default=60, gt=0, le=7 * 24 * 60)
    approval_timeout_minutes: int = Field(default=15, gt=0, le=24 * 60)
    snooze_minutes: int = Field(default=60, gt=0, le=24 * 60)
    verify_delay_minutes: int = Field(default=5, gt=0, le=120)
    on_timeout: OnTimeout = "none"
    min_spike_usd_per_hour: float = Field(
        default=0.0, ge=0, description="act only above this $/h over baseline"
    )
    min_severity: Severity = "low"
    # Token-rate alarm thresholds the inventory arms per profile (None: its built-in default).
    alarm_output_tokens_per_minute: float | None = Field(default=None, gt=0)
    alarm_input_tokens_per_minute: float | None = Field(default=None, gt=0)
    # The invocation-log meter's burn threshold: this $/h when set, else baseline x burn_factor;
    # it must hold for burn_seconds (10-second buckets) before the meter sends a spend-rate event.
    burn_usd_per_hour: float | None = Field(default=None, gt=0, le=1e9)
    burn_factor: float = Field(default=5.0, gt=1, le=1000)
    burn_seconds: int = Field(default=20, ge=10, le=3600)

    def meets_thresholds(
        self, cost_per_hour_usd: float | None, baseline_per_hour_usd: float | None, severity: str
    ) -> bool:
        """Whether a spike is big enough for this policy to act on (below it: notify only)."""
        if _SEVERITY_ORDER.get(severity, 0) < _SEVERITY_ORDER[self.min_severity]:
            return False
        if cost_per_hour_usd is None:  # unpriced model: never act on dollars we do not know
            return self.min_spike_usd_per_hour == 0
        return cost_per_hour_usd - (baseline_per_hour_usd or 0.0) >= self.min_spike_usd_per_hour


def iana_zone(value: str) -> str:
    """``value`` when it names an IANA time zone (``Europe/Paris``, ``UTC``), else ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"not an IANA time zone (like Europe/Paris or UTC): {one_line(value, 60)}") from None
    return value


class PlannedWindow(DirectoryModel):
    start: UtcDateTime
    end: UtcDateTime
    note: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> "PlannedWindow":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start <= end and start <= self.end


class Team(DirectoryModel):
    name: str = Field(pattern=TEAM_NAME_PATTERN)
    display_name: str | None = None
    tag_values: list[str] = Field(
        default_factory=list, description="team tag values that map here (besides name)"
    )
    slack_channel: str | None = Field(default=None, pattern=SLACK_CHANNEL_PATTERN)
    emails: list[Email] = Field(default_factory=list)
    approvers: list[Approver] = Field(default_factory=list)
    policies: dict[str, Policy] = Field(default_factory=dict)
    planned_windows: list[PlannedWindow] = Field(default_factory=list)
    timezone: str = Field(
        default="UTC", description="IANA time zone of the weekly digest (Monday 08:00 there)"
    )

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        return iana_zone(value)

    @model_validator(mode="after")
    def _reachable(self) -> "Team":
        if not self.slack_channel and not self.emails:
            raise ValueError("a team needs slack_channel or emails")
        return self

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def all_tag_values(self) -> list[str]:
        return [self.name, *(v for v in self.tag_values if v.lower() != self.name.lower())]

    def planned_window(self, start: datetime, end: datetime) -> PlannedWindow | None:
        return next((w for w in self.planned_windows if w.overlaps(start, end)), None)


class FinOps(DirectoryModel):
    """The fallback owner: untagged profiles, unknown teams, escalations. Once the directory is
    loaded for a function (:func:`deployed_directory`), its channel and inbox already hold the
    stack's FinOps parameters wherever the file leaves them empty: read them here, nowhere else."""

    slack_channel: str | None = Field(default=None, pattern=SLACK_CHANNEL_PATTERN)
    emails: list[Email] = Field(default_factory=list)
    approvers: list[Approver] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)


@dataclass(frozen=True)
class Route:
    """Where one culprit's alert goes, and why."""

    team: Team | None
    """None: FinOps owns it."""
    slack_channel: str | None
    emails: tuple[str, ...]
    approvers: tuple[Approver, ...]
    reason: str

    @property
    def owner(self) -> str:
        """The owning team's name, or ``finops``."""
        return self.team.name if self.team else FINOPS

    @property
    def is_finops(self) -> bool:
        return self.team is None


class TeamDirectory(DirectoryModel):
    teams: list[Team] = Field(default_factory=list)
    finops: FinOps = Field(default_factory=FinOps)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def owning_team(self, name: str | None) -> Team | None:
        """The directory's team of that name as an incident's owner: None for an untagged or
        unknown owner and for FinOps itself (FinOps stands in for all three)."""
        return self.team(name) if name and name != FINOPS else None

    def route(self, team_tag_value: str | None) -> Route:
        """The team a profile's ``team`` tag value maps to, else FinOps (with the reason)."""
        value = (team_tag_value or "").strip()
        if value:
            for team in self.teams:
                if value.lower() in (v.lower() for v in team.all_tag_values()):
                    return Route(
                        team,
                        team.slack_channel,
                        tuple(team.emails),
                        tuple(team.approvers),
                        f"tag team={value}",
                    )
        reason = f"unknown team '{value}'" if value else "untagged profile"
        finops = self.finops
        return Route(None, finops.slack_channel, tuple(finops.emails), tuple(finops.approvers), reason)

    def with_finops_fallback(self, slack_channel: str | None, email: str | None) -> "TeamDirectory":
        """This directory with FinOps's channel and inbox filled in from the stack's parameters
        (``FINOPS_SLACK_CHANNEL`` / ``FINOPS_EMAIL``) where the file leaves them empty; the
        file's own values win. The parameters are trusted: CloudFormation checked their pattern."""
        update: dict[str, object] = {}
        if not self.finops.slack_channel and slack_channel:
            update["slack_channel"] = slack_channel
        if not self.finops.emails and email:
            update["emails"] = [email]
        if not update:
            return self
        return self.model_copy(update={"finops": self.finops.model_copy(update=update)})

    def policy_for(self, team: Team | str | None, environment: str | None) -> Policy:
        """The team's policy for an environment (inheriting unset fields from its default and FinOps's)."""
        if isinstance(team, str):
            team = self.team(team)
        policy = self.finops.policy
        if team is None:
            return policy
        for key in (DEFAULT_POLICY_KEY, (environment or "").lower()):
            override = team.policies.get(key)
            if key and override is not None:
                policy = policy.model_copy(update=override.model_dump(exclude_unset=True))
        return policy

    def summary(self) -> str:
        channels = sum(1 for t in self.teams if t.slack_channel)
        email_only = sum(1 for t in self.teams if not t.slack_channel)
        approvers = sum(len(t.approvers) for t in self.teams) + len(self.finops.approvers)
        windows = sum(len(t.planned_windows) for t in self.teams)
        finops = self.finops.slack_channel or ", ".join(self.finops.emails) or "(stack parameters)"
        return (
            f"{len(self.teams)} teams ({channels} on Slack, {email_only} email only), {approvers} approvers, "
            f"{windows} planned windows, FinOps fallback: {finops}"
        )


class TeamDirectoryError(TokenfuseError):
    """The directory does not validate; ``issues`` holds one ``line N: path: message`` line per error."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = [one_line(issue) for issue in issues]
        shown = "; ".join(self.issues[:3]) + (
            f"; +{len(self.issues) - 3} more" if len(self.issues) > 3 else ""
        )
        super().__init__(f"team directory is invalid ({len(self.issues)} error(s)): {shown}")


def _at(line: int | None, path: str, message: str) -> str:
    return f"line {line}: {path}: {message}" if line is not None else f"{path}: {message}"


def load_directory(text: str) -> TeamDirectory:
    """Parse and validate the YAML (or JSON) team directory; raise :class:`TeamDirectoryError`
    with one line per problem, each naming its line and its path in the file. Duplicate keys,
    nesting past :data:`tokenfuse.safe_yaml.MAX_DEPTH` and alias bombs are refused
    (:mod:`tokenfuse.safe_yaml`). An empty document is the empty directory (FinOps owns everything)."""
    from tokenfuse import safe_yaml

    try:
        data, lines = safe_yaml.load(text)
    except safe_yaml.YamlProblem as problem:
        raise TeamDirectoryError([str(problem)]) from None
    if data is not None and not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise TeamDirectoryError([_at(1, "(top)", f"is {kind}: must be a mapping with `teams` and `finops`")])
    try:
        directory = TeamDirectory.model_validate(data)
    except ValidationError as error:
        raise TeamDirectoryError([_describe(e, lines) for e in error.errors()]) from None
    issues = list(_cross_checks(directory, lines))
    if issues:
        raise TeamDirectoryError(issues)
    return directory


def uploadable_text(raw: bytes) -> str:
    """A directory file's bytes as the text the SSM parameter the README deploys it to can hold:
    at most :data:`SSM_VALUE_LIMIT_BYTES` (:data:`SSM_PARAMETER_TIER` tier), UTF-8 (a leading
    byte-order mark allowed), no ``{{...}}`` (SSM refuses those in a value)."""
    if len(raw) > SSM_VALUE_LIMIT_BYTES:
        raise TeamDirectoryError(
            [
                f"(file): larger than the {SSM_VALUE_LIMIT_BYTES:,} bytes (8 KB) an SSM parameter of the "
                f"{SSM_PARAMETER_TIER} tier holds (the README deploys it with --tier {SSM_PARAMETER_TIER})"
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte, offset = raw[error.start], error.start
        raise TeamDirectoryError(
            [f"line {line}: (file): not UTF-8 (byte 0x{byte:02x} at offset {offset})"]
        ) from None
    for number, text_line in enumerate(text.splitlines(), start=1):
        if _SSM_REFUSED.search(text_line):
            raise TeamDirectoryError(
                [f"line {number}: (file): SSM refuses '{{{{...}}}}' in a parameter value"]
            )
    return text


def uploadable_directory(raw: bytes) -> TeamDirectory:
    """The directory ``tokenfuse config validate`` accepts for upload: :func:`uploadable_text`,
    valid, and naming at least one team."""
    directory = load_directory(uploadable_text(raw))
    if not directory.teams:
        raise TeamDirectoryError(
            [
                "teams: no team: nothing to upload (without a directory, tokenfuse already routes "
                "every alert to FinOps)"
            ]
        )
    return directory


def _cross_checks(directory: TeamDirectory, lines: "dict[safe_yaml.Path, int]") -> Iterable[str]:
    from tokenfuse import safe_yaml

    seen_names: dict[str, int] = {}
    seen_tags: dict[str, str] = {}
    for i, team in enumerate(directory.teams):
        if team.name in seen_names:
            line = safe_yaml.line_of(lines, ("teams", i, "name"))
            yield _at(line, f"teams[{i}].name", f"'{team.name}' is already teams[{seen_names[team.name]}]")
        seen_names.setdefault(team.name, i)
        for j, value in enumerate(team.all_tag_values()):
            owner = seen_tags.get(value.lower())
            if owner is not None and owner != team.name:
                where: safe_yaml.Path = ("teams", i, "tag_values", j - 1) if j else ("teams", i, "name")
                yield _at(
                    safe_yaml.line_of(lines, where),
                    _dotted(where),
                    f"'{value}' already maps to team '{owner}'",
                )
            seen_tags.setdefault(value.lower(), team.name)
        for env, _ in team.policies.items():
            if directory.policy_for(team, env).mode == "approve" and not (
                team.approvers or directory.finops.approvers
            ):
                line = safe_yaml.line_of(lines, ("teams", i, "policies", env, "mode"))
                yield _at(line, f"teams[{i}].approvers", f"required when policies.{env}.mode is approve")


def _dotted(loc: Iterable[object]) -> str:
    """``teams[2].policies.prod`` from a location (pydantic's or a safe_yaml path)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top)"


def _describe(error: Any, lines: "dict[safe_yaml.Path, int]") -> str:
    """One pydantic error as ``line 9: teams[2].policies.prod.cooldown_minutes: must be > 0``."""
    from tokenfuse import safe_yaml

    loc = tuple(part for part in error["loc"] if isinstance(part, str | int))
    path = _dotted(loc)
    ctx = error.get("ctx") or {}
    kind = error["type"]
    messages: dict[str, Callable[[], str]] = {
        "greater_than": lambda: f"must be > {ctx.get('gt')}",
        "greater_than_equal": lambda: f"must be >= {ctx.get('ge')}",
        "less_than_equal": lambda: f"must be <= {ctx.get('le')}",
        "less_than": lambda: f"must be < {ctx.get('lt')}",
        "missing": lambda: "required",
        "extra_forbidden": lambda: "unknown key",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "string_pattern_mismatch": lambda: _pattern_message(path),
        "value_error": lambda: str(ctx.get("error", error["msg"])),
    }
    message = messages.get(kind, lambda: str(error["msg"]))()
    return _at(safe_yaml.line_of(lines, loc), path, message)


def _pattern_message(path: str) -> str:
    if path.endswith("slack_channel"):
        return "not a Slack channel id (like C0123ABCD)"
    if path.endswith("slack_user_id"):
        return "not a Slack user id (like U0123ABCD)"
    if "email" in path.rsplit(".", 1)[-1]:
        return "not an email address"
    if path.endswith("name"):
        return "lowercase letters, digits, '.', '_' or '-' (at most 63)"
    return "has an invalid format"


def deployed_directory(
    parameter_name: str | None,
    max_age: int = 300,
    *,
    finops_slack_channel: str | None = None,
    finops_email: str | None = None,
) -> TeamDirectory:
    """The directory in the SSM parameter (Powertools parameters: cached ``max_age`` seconds), with
    FinOps's destination resolved once: the stack's ``finops_*`` settings fill what the file leaves
    empty (:meth:`TeamDirectory.with_finops_fallback`). No parameter configured: the empty
    directory (FinOps owns everything), resolved the same way.

    A parameter that does not validate is refused with one logged line and never read in part
    (a half-read directory could send a team's alert to another team): this function keeps the
    last version it validated, and without one raises :class:`TeamDirectoryError`, so the event
    fails as any failed call does (retried, then dead-lettered) and is routed once it is fixed.
    """
    directory = TeamDirectory()
    if parameter_name:
        from tokenfuse.adapters.aws import get_parameter

        text = get_parameter(parameter_name, max_age=max_age)
        directory = _directory_from_parameter(parameter_name, str(text or ""))
    return directory.with_finops_fallback(finops_slack_channel, finops_email)


_last_valid: dict[str, tuple[str, TeamDirectory]] = {}
"""Parameter name -> the last value this container validated, and its directory."""


def _directory_from_parameter(parameter_name: str, text: str) -> TeamDirectory:
    """Parse once per distinct parameter value (the parameter is read on every invoke, from cache)."""
    last = _last_valid.get(parameter_name)
    if last is not None and last[0] == text:
        return last[1]
    try:
        directory = load_directory(text)
    except TeamDirectoryError as error:
        from aws_lambda_powertools.metrics import MetricUnit

        from tokenfuse.observability import logger, metrics

        metrics.add_metric(name="TeamDirectoryRefused", unit=MetricUnit.Count, value=1)
        fallback = "keeping the version validated before" if last else "no valid version to fall back on"
        logger.error(
            one_line(f"team directory parameter {parameter_name} refused ({fallback}): {error}", 1000),
            parameter=parameter_name,
        )
        if last is None:
            raise
        return last[1]
    _last_valid[parameter_name] = (text, directory)
    return directory
