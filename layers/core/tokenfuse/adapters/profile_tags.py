"""Writing the ``tokenfuse:state`` tag on an inference profile (reading is ``bedrock.profile_tags``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.bedrock import profile_tags

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient


class ProfileTags:
    def __init__(self, bedrock: BedrockClient) -> None:
        self.client = bedrock

    def get(self, arn: str) -> dict[str, str]:
        return profile_tags(self.client, arn)

    def set(self, arn: str, key: str, value: str) -> None:
        with aws_call("bedrock:TagResource", resource=arn):
            self.client.tag_resource(resourceARN=arn, tags=[{"key": key, "value": value}])

    def remove(self, arn: str, key: str) -> None:
        with aws_call("bedrock:UntagResource", resource=arn):
            self.client.untag_resource(resourceARN=arn, tagKeys=[key])
