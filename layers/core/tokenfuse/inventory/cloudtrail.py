"""The profile change a CloudTrail event names (pure).

The event is the one EventBridge delivers for a Bedrock management call (``detail-type`` "AWS API
Call via CloudTrail", ``detail`` = the CloudTrail record). Only the profile's identity and the
creator are taken from it: tags and models are read again from Bedrock, because CloudTrail may
redact request parameters and events can arrive out of order.
"""

from dataclasses import dataclass
from typing import Any, Literal

from tokenfuse.errors import MalformedSignal, UnsupportedSignal

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
PROFILE_EVENTS = ("CreateInferenceProfile", "DeleteInferenceProfile", "TagResource", "UntagResource")
APPLICATION_PROFILE = "application-inference-profile"


@dataclass(frozen=True, slots=True)
class ProfileChange:
    kind: Literal["upsert", "delete"]
    event_name: str
    profile_arn: str
    account_id: str
    region: str
    creator: str | None
    event_time: str | None


def is_cloudtrail_event(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE


def profile_arn(identifier: str, account_id: str, region: str, partition: str = "aws") -> str:
    """The application profile ARN of an id or ARN."""
    if identifier.startswith("arn:"):
        return identifier
    return f"arn:{partition}:bedrock:{region}:{account_id}:{APPLICATION_PROFILE}/{identifier}"


def profile_change(event: dict[str, Any]) -> ProfileChange:
    """The change, or UnsupportedSignal for a call that changes no application profile (a failed
    call, a tag on another kind of resource), or MalformedSignal when the record lacks what it needs."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedSignal("CloudTrail event without a detail object")
    name = detail.get("eventName")
    if name not in PROFILE_EVENTS:
        raise UnsupportedSignal(f"not an inference-profile change: {name}")
    if detail.get("errorCode"):
        raise UnsupportedSignal(f"{name} failed ({detail.get('errorCode')}): nothing changed")
    account = str(event.get("account") or detail.get("recipientAccountId") or "")
    region = str(event.get("region") or detail.get("awsRegion") or "")
    if not account or not region:
        raise MalformedSignal(f"{name}: no account or region in the event")
    request = detail.get("requestParameters") or {}
    response = detail.get("responseElements") or {}
    identifier: str | None
    if name == "CreateInferenceProfile":
        identifier = response.get("inferenceProfileArn")
    elif name == "DeleteInferenceProfile":
        identifier = request.get("inferenceProfileIdentifier")
    else:
        identifier = request.get("resourceARN")
    if not identifier:
        raise MalformedSignal(f"{name}: the record names no inference profile")
    arn = profile_arn(str(identifier), account, region)
    if f":{APPLICATION_PROFILE}/" not in arn:
        raise UnsupportedSignal(f"{name} on {arn}: not an application inference profile")
    identity = detail.get("userIdentity") or {}
    creator = identity.get("arn") if name == "CreateInferenceProfile" else None
    return ProfileChange(
        kind="delete" if name == "DeleteInferenceProfile" else "upsert",
        event_name=name,
        profile_arn=arn,
        account_id=account,
        region=region,
        creator=creator,
        event_time=detail.get("eventTime"),
    )
