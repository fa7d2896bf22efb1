"""The remediate and approve functions' environments (see :mod:`tokenfuse.settings`)."""

from typing import Literal

from pydantic import Field

from tokenfuse.settings import FunctionSettings

TripMechanism = Literal["guard-scp", "inline-deny"]


class RemediateSettings(FunctionSettings):
    """RemediateFunction's environment (template.yaml). ``DRY_RUN`` unset means dry run; a value
    that is not a boolean fails the function instead of reading as "real trips"."""

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


class ApproveSettings(FunctionSettings):
    """ApproveFunction's environment (template.yaml)."""

    approvals_table_name: str
    slack_signing_secret_arn: str | None = None
    email_link_key_secret_arn: str | None = None
    incidents_table_name: str | None = Field(default=None, description="CAD feedback buttons need it")
    budgets_role_arn: str | None = Field(default=None, description="management account role for CAD feedback")
    slack_api_base_url: str | None = Field(default=None, description="the sandbox's Slack server")
    team_directory_parameter: str | None = Field(default=None, description="who may click Restore")
    remediate_function_name: str | None = Field(default=None, description="runs a Restore click's restore")
