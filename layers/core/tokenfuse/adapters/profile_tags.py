"""Writing the ``tokenfuse:state`` tag on an inference profile (reading is ``bedrock.profile_tags``)."""

from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate
from tokenfuse.adapters.bedrock import profile_tags


class ProfileTags:
    def __init__(self, bedrock: Any) -> None:
        self.client = bedrock

    def get(self, arn: str) -> dict[str, str]:
        return profile_tags(self.client, arn)

    def set(self, arn: str, key: str, value: str) -> None:
        try:
            self.client.tag_resource(resourceARN=arn, tags=[{"key": key, "value": value}])
        except ClientError as error:
            raise translate(error) from error

    def remove(self, arn: str, key: str) -> None:
        try:
            self.client.untag_resource(resourceARN=arn, tagKeys=[key])
        except ClientError as error:
            raise translate(error) from error
