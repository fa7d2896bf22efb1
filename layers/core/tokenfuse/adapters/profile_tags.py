"""Writing the ``tokenfuse:state`` tag on an inference profile (reading is ``bedrock.profile_tags``)."""

from typing import Any

from tokenfuse.adapters.aws import AWS_ERRORS, translate
from tokenfuse.adapters.bedrock import profile_tags


class ProfileTags:
    def __init__(self, bedrock: Any) -> None:
        self.client = bedrock

    def get(self, arn: str) -> dict[str, str]:
        try:
            return profile_tags(self.client, arn)
        except AWS_ERRORS as error:  # a time-out (ClientErrors are translated in profile_tags)
            raise translate(error) from error

    def set(self, arn: str, key: str, value: str) -> None:
        try:
            self.client.tag_resource(resourceARN=arn, tags=[{"key": key, "value": value}])
        except AWS_ERRORS as error:
            raise translate(error) from error

    def remove(self, arn: str, key: str) -> None:
        try:
            self.client.untag_resource(resourceARN=arn, tagKeys=[key])
        except AWS_ERRORS as error:
            raise translate(error) from error
