"""A deployed tokenfuse stack, as the drill and the doctor need to know it.

Read from CloudFormation for a real stack (:func:`tokenfuse.drill.adapters.deployment.read_stack`:
its parameters and the physical ids of its resources), from the function's own settings in the
scheduled drill, or from the sandbox's provisioned template.
"""

from pydantic import BaseModel, ConfigDict, Field

TOPICS = ("CostAnomalyTopic", "BudgetsTopic", "TokenRateAlarmTopic")
"""The template's signal topics, each subscribed by the intake queue."""


class Deployment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stack_name: str
    region: str
    account_id: str
    state_machine_arn: str
    remediate_function: str
    approvals_table: str
    inventory_table: str
    intake_queue_arn: str
    topics: dict[str, str] = Field(description="template logical id -> topic ARN")
    team_directory_parameter: str
    slack_bot_token_secret: str | None = None
    finops_slack_channel: str | None = None
    finops_email: str | None = None
    sender_email: str | None = None
    trip_mechanism: str = "guard-scp"
    guard_policy_id: str | None = None
    guard_policy_name: str = "tokenfuse-guard"
    dry_run: bool = True
    member_role_name: str = "tokenfuse-member"
    member_stack_set_name: str = "tokenfuse-member"
    team_tag_key: str = "team"
    feature_tag_key: str = "feature"
    callers_tag_key: str = "tokenfuse:callers"
    budgets_role_arn: str | None = None
    drill_account_id: str | None = Field(default=None, description="the drill's account (None: the stack's)")

    @property
    def drill_account(self) -> str:
        return self.drill_account_id or self.account_id
