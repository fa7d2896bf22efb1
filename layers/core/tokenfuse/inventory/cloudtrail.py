"""The profile change a CloudTrail event names: the one place its fields are checked.

The event is the one EventBridge delivers for a Bedrock management call (``detail-type`` "AWS API
Call via CloudTrail", ``detail`` = the CloudTrail record). Only the profile's identity and the
creator are taken from it: tags and models are read again from Bedrock, because CloudTrail may
redact request parameters and events can arrive out of order.

Every value that goes on to name an ARN, a DynamoDB key, an alarm or an AWS session is checked
here, once, and :class:`ProfileChange` re-checks its own fields: an identifier must be an
application inference profile ARN (``arn:<partition>:bedrock:<region>:<account>:
application-inference-profile/<12 lowercase letters or digits>``) or such an id, in the event's own
account and region, from a successful, non-read-only call of one of :data:`PROFILE_EVENTS`.
Anything else raises :class:`UnsupportedSignal` (a call that changes no application profile) or
:class:`MalformedSignal` (a record that does not hold what it claims), with one line saying why.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from botocore.exceptions import UnknownRegionError
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from tokenfuse.adapters.aws import default_session
from tokenfuse.arns import ACCOUNT_PATTERN, APPLICATION_PROFILE, PARTITION_PATTERN, PROFILE_ARN
from tokenfuse.arns import PROFILE_ID_PATTERN as _PROFILE_ID
from tokenfuse.arns import REGION_PATTERN as _REGION
from tokenfuse.errors import MalformedSignal, UnsupportedSignal
from tokenfuse.text import one_line

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
PROFILE_EVENTS = ("CreateInferenceProfile", "DeleteInferenceProfile", "TagResource", "UntagResource")
ACCOUNT_ID_PATTERN = rf"^{ACCOUNT_PATTERN}$"
REGION_PATTERN = rf"^{_REGION}$"
PROFILE_ID_PATTERN = rf"^{_PROFILE_ID}$"
_PARTITION = PARTITION_PATTERN
PRINCIPAL_ARN = re.compile(rf"arn:{_PARTITION}:(?:iam|sts)::[0-9]{{12}}:[A-Za-z0-9+=,.@_/-]{{1,1900}}")
MAX_IDENTIFIER = 2048  # Bedrock's own limit on inferenceProfileIdentifier

AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID_PATTERN)]
Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN)]
ProfileId = Annotated[str, StringConstraints(pattern=PROFILE_ID_PATTERN)]


class ProfileChange(BaseModel):
    """One application profile changed by one call: every field checked, whoever builds it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    kind: Literal["upsert", "delete"]
    event_name: Literal["CreateInferenceProfile", "DeleteInferenceProfile", "TagResource", "UntagResource"]
    profile_arn: str
    profile_id: ProfileId
    account_id: AccountId
    region: Region
    creator: str | None = None
    event_time: datetime | None = None

    @model_validator(mode="after")
    def _arn_is_this_profile(self) -> "ProfileChange":
        match = PROFILE_ARN.fullmatch(self.profile_arn)
        if match is None or (match["account"], match["region"], match["profile_id"]) != (
            self.account_id,
            self.region,
            self.profile_id,
        ):
            raise ValueError("profile_arn is not this account's and region's application profile ARN")
        if self.creator is not None and not PRINCIPAL_ARN.fullmatch(self.creator):
            raise ValueError("creator is not an IAM or STS ARN")
        return self


class UserIdentity(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    arn: str | None = Field(default=None, max_length=MAX_IDENTIFIER)


class CloudTrailRecord(BaseModel):
    """``detail``: the CloudTrail record (the fields tokenfuse reads; any other field is accepted)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    event_name: str = Field(alias="eventName", max_length=128)
    event_source: Literal["bedrock.amazonaws.com"] = Field(alias="eventSource")
    aws_region: Region = Field(alias="awsRegion")
    recipient_account_id: AccountId | None = Field(default=None, alias="recipientAccountId")
    event_time: AwareDatetime | None = Field(default=None, alias="eventTime")
    event_type: str | None = Field(default=None, alias="eventType", max_length=64)
    read_only: bool | None = Field(default=None, alias="readOnly")
    error_code: str | None = Field(default=None, alias="errorCode", max_length=256)
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    user_identity: UserIdentity | None = Field(default=None, alias="userIdentity")


class CloudTrailEvent(EventBridgeModel):
    """The EventBridge envelope of a Bedrock management call (Powertools' EventBridge model)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    source: Literal["aws.bedrock"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    account: AccountId
    region: Region
    detail: CloudTrailRecord


def is_cloudtrail_event(event: object) -> bool:
    return isinstance(event, dict) and event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE


def validation_reason(error: ValidationError, what: str) -> str:
    """A pydantic error as one line: the first problem's place and message, and how many more."""
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0] if problems else {"loc": (), "msg": "does not validate"}
    where = ".".join(str(part) for part in first["loc"]) or "(top)"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return one_line(f"{what}: {where}: {first['msg']}{more}")


def partition_of(region: str) -> str | None:
    """The AWS partition of a region botocore knows (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    try:
        return str(default_session().get_partition_for_region(region))
    except UnknownRegionError:
        return None


def profile_arn(identifier: str, account_id: str, region: str, partition: str = "aws") -> str:
    """The application profile ARN of an id or ARN (not checked: :func:`profile_change` checks)."""
    if identifier.startswith("arn:"):
        return identifier
    return f"arn:{partition}:bedrock:{region}:{account_id}:{APPLICATION_PROFILE}/{identifier}"


def _identifier(name: str, record: CloudTrailRecord) -> object:
    if name == "CreateInferenceProfile":
        return (record.response_elements or {}).get("inferenceProfileArn")
    if name == "DeleteInferenceProfile":
        return (record.request_parameters or {}).get("inferenceProfileIdentifier")
    return (record.request_parameters or {}).get("resourceARN")


def _profile_arn(name: str, identifier: object, account: str, region: str) -> tuple[str, str]:
    """(ARN, profile id) of the record's identifier, or the reason it names no profile of this
    account and region."""
    if identifier is None or identifier == "":
        raise MalformedSignal(f"{name}: the record names no inference profile")
    if not isinstance(identifier, str):
        kind = type(identifier).__name__
        raise MalformedSignal(f"{name}: the profile identifier is a {kind}, not a string")
    shown = one_line(identifier, 160)
    if len(identifier) > MAX_IDENTIFIER:
        raise MalformedSignal(f"{name}: the profile identifier is {len(identifier)} characters long: {shown}")
    partition = partition_of(region)
    if partition is None:
        raise MalformedSignal(f"{name}: unknown region {region}")
    if re.fullmatch(PROFILE_ID_PATTERN, identifier):
        return profile_arn(identifier, account, region, partition), identifier
    match = PROFILE_ARN.fullmatch(identifier)
    if match is None:
        raise UnsupportedSignal(f"{name} on {shown}: not an application inference profile ARN or id")
    if (match["partition"], match["account"], match["region"]) != (partition, account, region):
        raise UnsupportedSignal(
            f"{name} on {shown}: not a profile of the event's account {account} in {region}"
        )
    return identifier, match["profile_id"]


def profile_change(event: object) -> ProfileChange:
    """The change, or UnsupportedSignal for a call that changes no application profile of the
    event's account and region (a failed or read-only call, another kind of resource), or
    MalformedSignal when the record lacks what it needs or does not parse."""
    if not isinstance(event, dict):
        raise MalformedSignal(f"CloudTrail event is a {type(event).__name__}, not an object")
    try:
        envelope = CloudTrailEvent.model_validate(event)
    except ValidationError as error:
        raise MalformedSignal(validation_reason(error, "CloudTrail event")) from None
    record = envelope.detail
    name = record.event_name
    if name not in PROFILE_EVENTS:
        raise UnsupportedSignal(f"not an inference-profile change: {one_line(name, 128)}")
    if record.error_code is not None:
        raise UnsupportedSignal(f"{name} failed ({one_line(record.error_code, 80)}): nothing changed")
    if record.read_only:
        raise UnsupportedSignal(f"{name} is recorded as read-only: nothing changed")
    if record.event_type not in (None, "AwsApiCall"):
        raise UnsupportedSignal(f"{name} is a {one_line(record.event_type, 64)}, not an API call")
    account, region = envelope.account, envelope.region
    if record.recipient_account_id not in (None, account):
        raise MalformedSignal(
            f"{name}: recorded for account {record.recipient_account_id}, delivered as {account}"
        )
    if record.aws_region != region:
        raise MalformedSignal(f"{name}: recorded in {record.aws_region}, delivered from {region}")
    arn, profile_id = _profile_arn(name, _identifier(name, record), account, region)
    creator = record.user_identity.arn if record.user_identity and name == "CreateInferenceProfile" else None
    if creator is not None and not PRINCIPAL_ARN.fullmatch(creator):
        raise MalformedSignal(f"{name}: userIdentity.arn is not an IAM or STS ARN: {one_line(creator, 160)}")
    return ProfileChange(
        kind="delete" if name == "DeleteInferenceProfile" else "upsert",
        event_name=name,  # one of PROFILE_EVENTS, checked above
        profile_arn=arn,
        profile_id=profile_id,
        account_id=account,
        region=region,
        creator=creator,
        event_time=record.event_time,
    )
