"""The notify function's environment (see :mod:`tokenfuse.settings`)."""

from pydantic import Field

from tokenfuse.settings import FunctionSettings


class NotifySettings(FunctionSettings):
    """NotifyFunction's environment (template.yaml)."""

    incidents_table_name: str
    idempotency_table_name: str | None = None
    team_directory_parameter: str | None = None
    slack_bot_token_secret_arn: str | None = None
    slack_api_base_url: str | None = Field(
        default=None, description="the sandbox points it at its Slack server"
    )
    finops_slack_channel: str | None = None
    finops_email: str | None = None
    sender_email: str | None = None
    remediation_state_machine_arn: str | None = None
    event_bus_name: str | None = None
    incident_quiet_hours: float = Field(default=6, gt=0)
    slack_posts_per_team_per_10_minutes: int = Field(default=5, gt=0)
    idempotency_ttl_seconds: int = Field(default=6 * 3600, gt=0)
    parameter_max_age_seconds: int = Field(default=300, ge=0)
