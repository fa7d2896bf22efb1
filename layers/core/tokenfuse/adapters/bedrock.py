"""Amazon Bedrock's inference-profile API: list application profiles, read one, read its tags."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock.type_defs import (
        GetInferenceProfileResponseTypeDef,
        InferenceProfileSummaryTypeDef,
    )


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


def _profile(
    summary: InferenceProfileSummaryTypeDef | GetInferenceProfileResponseTypeDef,
) -> InferenceProfile:
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


def iter_application_profiles(client: BedrockClient, page_size: int = 1000) -> Iterator[InferenceProfile]:
    """Every APPLICATION inference profile (botocore's ``list_inference_profiles`` paginator)."""
    pages = client.get_paginator("list_inference_profiles").paginate(
        typeEquals="APPLICATION", PaginationConfig={"PageSize": page_size}
    )
    with aws_call("bedrock:ListInferenceProfiles"):
        for page in pages:
            for summary in page.get("inferenceProfileSummaries", []):
                yield _profile(summary)


def list_application_profiles(client: BedrockClient, page_size: int = 1000) -> list[InferenceProfile]:
    """All APPLICATION inference profiles of the client's account and region."""
    return list(iter_application_profiles(client, page_size))


def get_profile(client: BedrockClient, identifier: str) -> InferenceProfile:
    """One inference profile by id or ARN (raises tokenfuse.errors.NotFound when it does not exist)."""
    with aws_call("bedrock:GetInferenceProfile", resource=identifier):
        response = client.get_inference_profile(inferenceProfileIdentifier=identifier)
    return _profile(response)


def profile_tags(client: BedrockClient, arn: str) -> dict[str, str]:
    """The tags of a Bedrock resource as a plain dict."""
    with aws_call("bedrock:ListTagsForResource", resource=arn):
        response = client.list_tags_for_resource(resourceARN=arn)
    return {tag["key"]: tag["value"] for tag in response.get("tags", [])}
