"""The inventory function's environment (see :mod:`tokenfuse.settings`)."""

import re

from pydantic import Field, field_validator

from tokenfuse.inventory.owners import INPUT_TOKENS, OUTPUT_TOKENS
from tokenfuse.inventory.thresholds import AlarmPolicy
from tokenfuse.settings import FunctionSettings

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def default_regions() -> tuple[str, ...]:
    """The default sweep list (INVENTORY_REGIONS overrides): every commercial region where botocore
    knows an Amazon Bedrock endpoint, read from botocore's own endpoint data when first needed."""
    from tokenfuse.adapters.regions import bedrock_regions

    return bedrock_regions("aws")


def _csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class InventorySettings(FunctionSettings):
    """InventoryFunction's environment (template.yaml). A list setting is comma-separated (a tuple,
    so the settings stay hashable: they key the composition root); one that holds no name at all
    (``" , "``) is refused, never read as the default."""

    table_name: str = Field(alias="INVENTORY_TABLE_NAME", min_length=1)
    account_index: str | None = Field(default=None, alias="INVENTORY_ACCOUNT_INDEX")
    sweep_queue_url: str | None = Field(default=None, alias="INVENTORY_SWEEP_QUEUE_URL")
    team_directory_parameter: str | None = Field(default=None, alias="TEAM_DIRECTORY_PARAMETER")
    budgets_role_arn: str | None = Field(default=None, alias="BUDGETS_ROLE_ARN")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    member_role_name: str = Field(default="tokenfuse-member", alias="MEMBER_ROLE_NAME")
    team_tag_key: str = Field(default="team", alias="TEAM_TAG_KEY")
    environment_tag_key: str = Field(default="environment", alias="ENVIRONMENT_TAG_KEY")
    mandatory_tag_keys: tuple[str, ...] = Field(default=("team",), alias="MANDATORY_TAG_KEYS", min_length=1)
    regions: tuple[str, ...] = Field(default_factory=default_regions, alias="INVENTORY_REGIONS", min_length=1)
    baseline_days: int = Field(default=7, ge=1, le=14, alias="ALARM_BASELINE_DAYS")
    alarm_multiplier: float = Field(default=5.0, gt=0, alias="ALARM_BASELINE_MULTIPLIER")
    alarm_floor_output: float = Field(default=20_000.0, ge=0, alias="ALARM_FLOOR_OUTPUT_TOKENS_PER_MINUTE")
    alarm_floor_input: float = Field(default=100_000.0, ge=0, alias="ALARM_FLOOR_INPUT_TOKENS_PER_MINUTE")
    alarm_evaluation_periods: int = Field(default=3, ge=1, le=60, alias="ALARM_EVALUATION_PERIODS")

    _split = field_validator("mandatory_tag_keys", "regions", mode="before")(_csv)

    @field_validator("regions", mode="after")
    @classmethod
    def _region_names(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [region for region in regions if not _REGION.match(region)]
        if wrong:
            raise ValueError(f"not AWS region names: {', '.join(wrong)}")
        return regions

    def alarm_policy(self) -> AlarmPolicy:
        return AlarmPolicy(
            multiplier=self.alarm_multiplier,
            floors=((OUTPUT_TOKENS, self.alarm_floor_output), (INPUT_TOKENS, self.alarm_floor_input)),
            evaluation_periods=self.alarm_evaluation_periods,
            datapoints_to_alarm=self.alarm_evaluation_periods,
        )
