"""The remediate and approve functions' environments, as pydantic models validated on first use."""

import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

TripMechanism = Literal["guard-scp", "inline-deny"]


class _EnvModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read the fields (upper-case names) from the environment; empty values count as unset."""
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if env.get(name.upper(), "") != ""}
        return cls.model_validate(values)


class RemediateSettings(_EnvModel):
    """RemediateFunction's environment (template.yaml)."""

    approvals_table_name: str
    event_bus_name: str
    incidents_table_name: str | None = None
    team_directory_parameter: str | None = None
    slack_bot_token_secret_arn: str | None = None
    slack_api_base_url: str | None = None
    email_link_key_secret_arn: str | None = None
    approve_url: str | None = Field(default=None, description="the approve function's URL, for email links")
    sender_email: str | None = None
    finops_slack_channel: str | None = None
    finops_email: str | None = None
    dry_run: bool = True
    trip_mechanism: TripMechanism = "guard-scp"
    guard_policy_id: str | None = Field(default=None, description="the tokenfuse guard SCP (p-...)")
    guard_policy_name: str = "tokenfuse-guard"
    max_trips_per_hour: int = Field(default=5, ge=0)
    member_role_name: str = "tokenfuse-member"
    callers_tag_key: str = "tokenfuse:callers"
    protected_tag_key: str = "tokenfuse:protected"
    throttle_concurrency: int = Field(
        default=1, ge=0, description="reserved concurrency a throttle caps callers to"
    )

    @field_validator("dry_run", mode="before")
    @classmethod
    def _bool(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes"}
        return value


class ApproveSettings(_EnvModel):
    """ApproveFunction's environment (template.yaml)."""

    approvals_table_name: str
    slack_signing_secret_arn: str | None = None
    email_link_key_secret_arn: str | None = None
    incidents_table_name: str | None = Field(default=None, description="CAD feedback buttons need it")
    budgets_role_arn: str | None = Field(default=None, description="management account role for CAD feedback")
    slack_api_base_url: str | None = Field(default=None, description="the sandbox's Slack server")
    team_directory_parameter: str | None = Field(default=None, description="who may click Restore")
    remediate_function_name: str | None = Field(default=None, description="runs a Restore click's restore")
