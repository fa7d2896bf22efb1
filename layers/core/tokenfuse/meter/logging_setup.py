"""The custom resource that connects the meter to Bedrock's model invocation logs, in the stack's
own account and region (main stack, or each member stack).

Create / Update:

1. Read the logging configuration. Logging already on to CloudWatch Logs: its log group is used,
   the configuration is left exactly as it is. On with S3 only: left untouched (Bedrock's
   ``PutModelInvocationLoggingConfiguration`` replaces the whole configuration, so adding
   CloudWatch delivery would be an overwrite): reported, and the meter is not subscribed. Off:
   turned on (CloudWatch Logs only, no text, image or embedding data) when the stack's opt-in
   parameter says so, to the stack's log group and logging role; else reported.
2. Subscribe the meter to the log group, unless the group's two subscription-filter slots are
   both taken by other filters: then nothing is replaced, and the reason names what was found.

The outcome is the response's ``Reason`` and ``Data`` (``LogGroupName``, ``Logging`` =
``found`` | ``turned-on`` | ``s3-only`` | ``off``, ``Subscribed``): the stack deploys in every case
(a member account without logging is not an error), and says what it found.

Delete: the meter's filter is removed; logging is turned off only when this resource turned it
on and the configuration is still the one it wrote.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models.cloudformation_custom_resource import (
    CloudFormationCustomResourceDeleteModel,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenfuse.adapters import cfn_response
from tokenfuse.adapters.invocation_logging import InvocationLogging
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import custom_resource
from tokenfuse.settings import FunctionSettings
from tokenfuse.signals._common import condense
from tokenfuse.text import one_line

FILTER_PATTERN = '{ $.schemaType = "ModelInvocationLog" }'
MAX_FILTERS = 2
TURNED_ON = "turned-on"
Outcome = Literal["found", "turned-on", "s3-only", "off"]
PHYSICAL_ID = "tokenfuse-invocation-logging"
REASON_LIMIT = 1000


class InvocationLoggingSettings(FunctionSettings):
    """InvocationLoggingFunction's environment: nothing of its own (what it sets up comes in the
    custom resource's properties); read like every function's, so a variable added later is
    validated before the first request."""


class LoggingSetupProperties(BaseModel):
    """The custom resource's properties (template.yaml / org/member.yaml)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    log_group_name: str = Field(alias="LogGroupName", min_length=1, max_length=512)
    enable_logging: bool = Field(alias="EnableLogging")
    logging_role_arn: str = Field(alias="LoggingRoleArn", min_length=1)
    meter_function_arn: str = Field(alias="MeterFunctionArn", min_length=1)
    filter_name: str = Field(alias="FilterName", min_length=1, max_length=512)
    retention_days: int = Field(default=30, alias="RetentionDays")


@dataclass(frozen=True)
class SetupResult:
    outcome: Outcome
    log_group: str | None
    subscribed: bool
    reason: str


def set_up(props: LoggingSetupProperties, logging: InvocationLogging) -> SetupResult:
    config = logging.configuration()
    group: str | None
    if config is not None:
        group = (config.get("cloudWatchConfig") or {}).get("logGroupName") or None
        if group is None:
            return SetupResult(
                "s3-only",
                None,
                False,
                "model invocation logging is on without CloudWatch Logs (S3 only): left untouched "
                "(a change would replace the whole configuration); the meter is not subscribed. Add "
                "CloudWatch Logs delivery to it yourself to meter this account and region.",
            )
        outcome: Outcome = "found"
        said = f"model invocation logging already on to {group}: configuration left as it is"
    elif props.enable_logging:
        group = props.log_group_name
        logging.create_group(group, props.retention_days)
        logging.turn_on(group, props.logging_role_arn)
        outcome, said = "turned-on", f"model invocation logging was off: turned on to {group} (no text data)"
    else:
        return SetupResult(
            "off",
            None,
            False,
            "model invocation logging is off: the meter is not subscribed (EnableInvocationLogging=true "
            "turns it on, CloudWatch Logs only, without text)",
        )
    others = [f["filterName"] for f in logging.filters(group) if f.get("filterName") != props.filter_name]
    if len(others) >= MAX_FILTERS:
        return SetupResult(
            outcome,
            group,
            False,
            f"{said}; its two subscription filters are taken ({', '.join(others)}): none replaced, the "
            "meter is not subscribed (free a slot, or use an account-level subscription filter policy)",
        )
    logging.subscribe(group, props.filter_name, FILTER_PATTERN, props.meter_function_arn)
    return SetupResult(outcome, group, True, f"{said}; meter subscribed as {props.filter_name}")


def tear_down(props: LoggingSetupProperties, physical_id: str, logging: InvocationLogging) -> str:
    config = logging.configuration()
    group = ((config or {}).get("cloudWatchConfig") or {}).get("logGroupName")
    said = []
    if group:
        logging.unsubscribe(group, props.filter_name)
        said.append(f"meter unsubscribed from {group}")
    if physical_id.endswith(f"|{TURNED_ON}") and group == props.log_group_name:
        logging.turn_off()
        said.append("logging turned off (this stack had turned it on)")
    return "; ".join(said) or "nothing to undo"


def handle(
    event: object,
    logging: InvocationLogging,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    """Answer CloudFormation's request and return what was sent. A request that does not parse
    (nowhere to answer) raises :class:`~tokenfuse.remediation.errors.InvalidTaskInput`; properties
    that do not parse, or a set-up that fails, answer FAILED with the one line saying why."""
    request = custom_resource.parse_request(event)
    status: Literal["SUCCESS", "FAILED"] = "SUCCESS"
    data: dict[str, Any] = {}
    previous = getattr(request, "physical_resource_id", None)
    physical_id = str(previous or PHYSICAL_ID)
    try:
        props = LoggingSetupProperties.model_validate(request.resource_properties or {})
    except ValidationError as error:
        line = str(condense(error, "custom resource properties"))
        return custom_resource.respond(request, "FAILED", line, data={}, physical_id=physical_id, send=send)
    try:
        if isinstance(request, CloudFormationCustomResourceDeleteModel):
            reason = tear_down(props, physical_id, logging)
        else:
            result = set_up(props, logging)
            reason = result.reason
            # stable across updates (a new id would make CloudFormation delete the old one: unsubscribe)
            if not previous and result.outcome == TURNED_ON:
                physical_id = f"{PHYSICAL_ID}|{TURNED_ON}"
            data = {
                "LogGroupName": result.log_group or "",
                "Logging": result.outcome,
                "Subscribed": str(result.subscribed).lower(),
            }
    except TokenfuseError as error:
        status, reason = "FAILED", f"invocation logging set-up failed: {error}"
    return custom_resource.respond(
        request, status, one_line(reason, REASON_LIMIT), data=data, physical_id=physical_id, send=send
    )


__all__ = [
    "FILTER_PATTERN",
    "InvocationLoggingSettings",
    "LoggingSetupProperties",
    "SetupResult",
    "handle",
    "set_up",
    "tear_down",
]
