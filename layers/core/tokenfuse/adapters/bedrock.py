"""Amazon Bedrock's inference-profile API: list application profiles, read one, read its tags."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import translate


@dataclass(frozen=True, slots=True)
class InferenceProfile:
    """What tokenfuse needs of an inference profile."""

    arn: str
    profile_id: str
    name: str | None
    model_arns: tuple[str, ...]
    created_at: datetime | None = None
    status: str | None = None
    type: str | None = None

    @property
    def account_id(self) -> str | None:
        parts = self.arn.split(":")
        return parts[4] or None if len(parts) > 4 else None

    @property
    def region(self) -> str | None:
        parts = self.arn.split(":")
        return parts[3] or None if len(parts) > 3 else None


def profile_id_of(arn_or_id: str) -> str:
    """The profile id (last ARN segment) of an ARN, or the value itself when it is already an id."""
    return arn_or_id.rsplit("/", 1)[-1]


def _profile(summary: dict[str, Any]) -> InferenceProfile:
    arn = summary["inferenceProfileArn"]
    return InferenceProfile(
        arn=arn,
        profile_id=summary.get("inferenceProfileId") or profile_id_of(arn),
        name=summary.get("inferenceProfileName"),
        model_arns=tuple(m["modelArn"] for m in summary.get("models", []) if m.get("modelArn")),
        created_at=summary.get("createdAt"),
        status=summary.get("status"),
        type=summary.get("type"),
    )


def iter_application_profiles(client: Any, page_size: int = 1000) -> Iterator[InferenceProfile]:
    """Every APPLICATION inference profile, following ``nextToken``."""
    kwargs: dict[str, Any] = {"typeEquals": "APPLICATION", "maxResults": page_size}
    while True:
        try:
            page = client.list_inference_profiles(**kwargs)
        except ClientError as error:
            raise translate(error) from error
        for summary in page.get("inferenceProfileSummaries", []):
            yield _profile(summary)
        token = page.get("nextToken")
        if not token:
            return
        kwargs["nextToken"] = token


def list_application_profiles(client: Any, page_size: int = 1000) -> list[InferenceProfile]:
    """All APPLICATION inference profiles of the client's account and region."""
    return list(iter_application_profiles(client, page_size))


def get_profile(client: Any, identifier: str) -> InferenceProfile:
    """One inference profile by id or ARN (raises tokenfuse.errors.NotFound when it does not exist)."""
    try:
        response = client.get_inference_profile(inferenceProfileIdentifier=identifier)
    except ClientError as error:
        raise translate(error) from error
    return _profile(response)


def profile_tags(client: Any, arn: str) -> dict[str, str]:
    """The tags of a Bedrock resource as a plain dict."""
    try:
        response = client.list_tags_for_resource(resourceARN=arn)
    except ClientError as error:
        raise translate(error) from error
    return {tag["key"]: tag["value"] for tag in response.get("tags", [])}
