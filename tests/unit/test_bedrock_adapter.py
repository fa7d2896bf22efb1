"""The Bedrock adapter: pagination of application profiles, profile fields, tags and errors."""

import pytest

from tests.support.attribution_fakes import ACCOUNT, HAIKU3, REGION, FakeBedrock, model_arn
from tokenfuse.adapters.bedrock import get_profile, list_application_profiles, profile_tags
from tokenfuse.errors import AccessDenied, NotFound


@pytest.mark.parametrize(
    ("count", "page", "expected_calls"), [(0, 10, 1), (5, 10, 1), (25, 10, 3), (30, 10, 3)]
)
def test_list_application_profiles_follows_next_token(count, page, expected_calls):
    # Given profiles spread over pages, and a system-defined profile that must not be listed
    bedrock = FakeBedrock(max_page=page)
    for i in range(count):
        bedrock.add(f"p{i:04d}")
    bedrock.add("system", type_="SYSTEM_DEFINED")
    # When they are listed
    profiles = list_application_profiles(bedrock)
    # Then every application profile comes back once, through every page of botocore's paginator
    assert [p.profile_id for p in profiles] == [f"p{i:04d}" for i in range(count)]
    assert bedrock.calls["list_inference_profiles"] == expected_calls


def test_profile_fields_tags_and_errors():
    # Given one tagged profile
    bedrock = FakeBedrock()
    arn = bedrock.add("abc123def456", HAIKU3, tags={"team": "search", "feature": "chat"}, name="chat")
    # When it is read by id and by ARN
    by_id, by_arn = get_profile(bedrock, "abc123def456"), get_profile(bedrock, arn)
    # Then both are the same profile, with its model ARN, account and region
    assert by_id == by_arn
    assert by_id.model_arns == (model_arn(HAIKU3),)
    assert (by_id.account_id, by_id.region, by_id.name) == (ACCOUNT, REGION, "chat")
    assert profile_tags(bedrock, arn) == {"team": "search", "feature": "chat"}
    # And AWS errors become tokenfuse errors that keep AWS's code and the operation
    with pytest.raises(NotFound) as missing:
        get_profile(bedrock, "missing")
    assert (missing.value.code, missing.value.operation) == (
        "ResourceNotFoundException",
        "bedrock:GetInferenceProfile",
    )
    assert missing.value.resource == "missing"
    with pytest.raises(NotFound) as untagged:
        profile_tags(bedrock, arn + "x")
    assert untagged.value.operation == "bedrock:ListTagsForResource"
    bedrock.denied.add("list")
    with pytest.raises(AccessDenied) as denied:
        list_application_profiles(bedrock)
    assert (denied.value.code, denied.value.operation) == (
        "AccessDeniedException",
        "bedrock:ListInferenceProfiles",
    )
