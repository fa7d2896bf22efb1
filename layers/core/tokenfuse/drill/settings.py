"""DrillFunction's environment (template.yaml), read through one model (:mod:`tokenfuse.settings`)."""

from pydantic import Field

from tokenfuse.remediation.settings import TripMechanism
from tokenfuse.settings import FunctionSettings


class DrillSettings(FunctionSettings):
    remediation_state_machine_arn: str
    remediate_function_name: str
    drill_region: str = Field(description="the stack's region, where the canaries are made")
    drill_account_id: str | None = Field(
        default=None, pattern=r"^[0-9]{12}$", description="empty: this account"
    )
    trip_mechanism: TripMechanism = "guard-scp"
    member_role_name: str = "tokenfuse-member"
    team_tag_key: str = "team"
    callers_tag_key: str = "tokenfuse:callers"
    slack_bot_token_secret_arn: str | None = None
    slack_api_base_url: str | None = Field(default=None, description="the sandbox's Slack server")
    finops_slack_channel: str | None = None
    finops_email: str | None = None
    sender_email: str | None = None
