"""DigestFunction's environment (template.yaml), and the schedules' input it accepts."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from tokenfuse.attribution.rank import TagKeys
from tokenfuse.events import UtcDateTime
from tokenfuse.inventory.triggers import SCHEDULE_ARN_PATTERN
from tokenfuse.settings import FunctionSettings


class DigestSettings(FunctionSettings):
    inventory_table_name: str
    team_directory_parameter: str
    member_role_name: str = "tokenfuse-member"
    slack_bot_token_secret_arn: str | None = None
    slack_api_base_url: str | None = None
    """The sandbox's Slack server (emulation only: not in the template)."""
    sender_email: str | None = None
    finops_slack_channel: str | None = None
    finops_email: str | None = None
    budgets_role_arn: str | None = None
    """The management account's role for Cost Explorer (the reconciliation); unset: this account's."""
    team_tag_key: str = "team"
    feature_tag_key: str = "feature"
    environment_tag_key: str = "environment"

    @property
    def tag_keys(self) -> TagKeys:
        return TagKeys(self.team_tag_key, self.feature_tag_key, self.environment_tag_key)


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a timestamp string, as Scheduler writes <aws.scheduler.scheduled-time>")
    return value


def _plausible(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2999:
        raise ValueError("must fall in the years 2000-2999")
    return value


ScheduledTime = Annotated[UtcDateTime, BeforeValidator(_text), AfterValidator(_plausible)]


class DigestRun(BaseModel):
    """What the digest's schedules deliver (their ``Input``, Scheduler's context attributes filled in):
    ``weekly-digest`` hourly on Mondays, ``daily-reconciliation`` once a day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["weekly-digest", "daily-reconciliation"]
    schedule_arn: str = Field(pattern=SCHEDULE_ARN_PATTERN)
    scheduled_time: ScheduledTime
