"""The Bedrock inference-profile emulation, driven through boto3's own bedrock client."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tokenfuse_sandbox.emulation import bedrock_profiles

REGION = "us-east-1"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
SONNET_SYSTEM_ID = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"


@pytest.fixture
def bedrock(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    bedrock_profiles.install()
    bedrock_profiles.install()  # idempotent
    with mock_aws():
        yield boto3.client("bedrock", region_name=REGION)


def _create(client, name, tags=None, source=HAIKU, **kw):
    return client.create_inference_profile(
        inferenceProfileName=name, modelSource={"copyFrom": source}, tags=tags or [], **kw
    )["inferenceProfileArn"]


def _code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def test_create_get_shape(bedrock):
    resp = bedrock.create_inference_profile(
        inferenceProfileName="chat-search",
        description="search feature",
        modelSource={"copyFrom": HAIKU},
        tags=[{"key": "team", "value": "search"}],
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["status"] == "ACTIVE"
    arn = resp["inferenceProfileArn"]
    prefix = f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/"
    assert arn.startswith(prefix)
    pid = arn.removeprefix(prefix)
    assert len(pid) == 12
    assert pid.isalnum()
    assert pid == pid.lower()

    for ident in (arn, pid):
        got = bedrock.get_inference_profile(inferenceProfileIdentifier=ident)
        assert got["inferenceProfileArn"] == arn
        assert got["inferenceProfileId"] == pid
        assert got["inferenceProfileName"] == "chat-search"
        assert got["description"] == "search feature"
        assert got["models"] == [{"modelArn": HAIKU}]
        assert got["type"] == "APPLICATION"
        assert got["status"] == "ACTIVE"
        assert got["createdAt"] == got["updatedAt"]


def test_copy_from_system_profile_expands_to_its_regions(bedrock):
    source = f"arn:aws:bedrock:{REGION}:123456789012:inference-profile/{SONNET_SYSTEM_ID}"
    arn = _create(bedrock, "cross-region", source=source)
    models = [m["modelArn"] for m in bedrock.get_inference_profile(inferenceProfileIdentifier=arn)["models"]]
    model_id = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    assert models == [
        f"arn:aws:bedrock:{r}::foundation-model/{model_id}" for r in ("us-east-1", "us-east-2", "us-west-2")
    ]
    system = bedrock.get_inference_profile(inferenceProfileIdentifier=SONNET_SYSTEM_ID)
    assert system["type"] == "SYSTEM_DEFINED"
    assert system["inferenceProfileArn"] == source
    assert [m["modelArn"] for m in system["models"]] == models


def test_list_pagination_three_pages_and_type_filter(bedrock):
    arns = [_create(bedrock, f"profile-{i}") for i in range(5)]
    pages = []
    kwargs = {"typeEquals": "APPLICATION", "maxResults": 2}
    while True:
        page = bedrock.list_inference_profiles(**kwargs)
        pages.append([p["inferenceProfileArn"] for p in page["inferenceProfileSummaries"]])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [a for p in pages for a in p] == arns

    paginated = bedrock.get_paginator("list_inference_profiles").paginate(
        typeEquals="APPLICATION", PaginationConfig={"PageSize": 2}
    )
    assert [len(p["inferenceProfileSummaries"]) for p in paginated] == [2, 2, 1]

    system = bedrock.list_inference_profiles(typeEquals="SYSTEM_DEFINED")["inferenceProfileSummaries"]
    assert system
    assert {p["type"] for p in system} == {"SYSTEM_DEFINED"}
    assert all(p["inferenceProfileId"].startswith("us.") for p in system)
    everything = bedrock.list_inference_profiles()["inferenceProfileSummaries"]
    assert len(everything) == len(system) + 5


def test_list_validation(bedrock):
    with pytest.raises(ClientError) as e:
        bedrock.list_inference_profiles(maxResults=1001)
    assert _code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        bedrock.list_inference_profiles(nextToken="not-a-token")
    assert _code(e) == "ValidationException"


def test_tags_round_trip(bedrock):
    arn = _create(
        bedrock, "tagged", tags=[{"key": "team", "value": "search"}, {"key": "feature", "value": "qa"}]
    )
    tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    assert sorted(tags, key=lambda t: t["key"]) == [
        {"key": "feature", "value": "qa"},
        {"key": "team", "value": "search"},
    ]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "tokenfuse:state", "value": "tripped"}])
    bedrock.untag_resource(resourceARN=arn, tagKeys=["feature"])
    tags = {t["key"]: t["value"] for t in bedrock.list_tags_for_resource(resourceARN=arn)["tags"]}
    assert tags == {"team": "search", "tokenfuse:state": "tripped"}

    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    with pytest.raises(ClientError) as e:
        bedrock.list_tags_for_resource(resourceARN=arn)
    assert _code(e) == "ResourceNotFoundException"
    # The tags went with it: a new profile never sees them, even under the same name.
    arn2 = _create(bedrock, "tagged")
    assert bedrock.list_tags_for_resource(resourceARN=arn2)["tags"] == []


def test_unknown_and_deleted_are_not_found(bedrock):
    unknown = f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/abcdefabcdef"
    for call in (bedrock.get_inference_profile, bedrock.delete_inference_profile):
        with pytest.raises(ClientError) as e:
            call(inferenceProfileIdentifier=unknown)
        assert _code(e) == "ResourceNotFoundException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        bedrock.tag_resource(resourceARN=unknown, tags=[{"key": "a", "value": "b"}])
    assert _code(e) == "ResourceNotFoundException"

    arn = _create(bedrock, "short-lived")
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    with pytest.raises(ClientError) as e:
        bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert _code(e) == "ResourceNotFoundException"
    assert arn not in [
        p["inferenceProfileArn"] for p in bedrock.list_inference_profiles()["inferenceProfileSummaries"]
    ]


def test_conflict_validation_and_idempotency(bedrock):
    _create(bedrock, "dup")
    with pytest.raises(ClientError) as e:
        _create(bedrock, "dup")
    assert _code(e) == "ConflictException"

    for bad in (
        {"inferenceProfileName": "bad name!", "modelSource": {"copyFrom": HAIKU}},
        {"inferenceProfileName": "x" * 65, "modelSource": {"copyFrom": HAIKU}},
        {"inferenceProfileName": "ok", "modelSource": {"copyFrom": "arn:aws:s3:::bucket"}},
        {
            "inferenceProfileName": "ok",
            "modelSource": {"copyFrom": HAIKU.replace(REGION, "eu-west-1")},
        },
        {
            "inferenceProfileName": "ok",
            "modelSource": {"copyFrom": HAIKU},
            "tags": [{"key": "k", "value": "é"}],
        },
    ):
        with pytest.raises(ClientError) as e:
            bedrock.create_inference_profile(**bad)
        assert _code(e) == "ValidationException", bad

    with pytest.raises(ClientError) as e:
        bedrock.delete_inference_profile(inferenceProfileIdentifier=SONNET_SYSTEM_ID)
    assert _code(e) == "ValidationException"

    first = _create(bedrock, "idem", clientRequestToken="token-1")
    again = _create(bedrock, "idem", clientRequestToken="token-1")
    assert first == again


def test_per_account_and_region_isolation(bedrock, monkeypatch):
    arn_default = _create(bedrock, "shared-name")

    # 1. moto's MOTO_ACCOUNT_ID environment variable (checked first on every request).
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
    other = boto3.client("bedrock", region_name=REGION)
    assert other.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    arn_other = _create(other, "shared-name")  # same name, other account: no conflict
    assert ":111111111111:application-inference-profile/" in arn_other
    with pytest.raises(ClientError) as e:
        other.get_inference_profile(inferenceProfileIdentifier=arn_default)
    assert _code(e) == "ResourceNotFoundException"
    monkeypatch.delenv("MOTO_ACCOUNT_ID")

    # 2. Credentials from STS AssumeRole: moto maps the temporary access key to the role's account.
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn="arn:aws:iam::222222222222:role/tokenfuse-member", RoleSessionName="tokenfuse-test"
    )["Credentials"]
    member = boto3.client(
        "bedrock",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert member.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    arn_member = _create(member, "shared-name")
    assert ":222222222222:" in arn_member

    # The default account sees only its own; another region of it sees none, and eu system profiles.
    mine = bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileArn"] for p in mine] == [arn_default]
    eu = boto3.client("bedrock", region_name="eu-west-1")
    assert eu.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    eu_system = eu.list_inference_profiles(typeEquals="SYSTEM_DEFINED")["inferenceProfileSummaries"]
    assert eu_system
    assert all(p["inferenceProfileId"].startswith("eu.") for p in eu_system)


def test_seeding_helper_without_http(bedrock):
    from moto.bedrock.models import bedrock_backends

    profile = bedrock_profiles.create_profile(
        bedrock_backends["123456789012"][REGION], "seeded", HAIKU, tags=[{"key": "team", "value": "x"}]
    )
    got = bedrock.get_inference_profile(inferenceProfileIdentifier=profile.arn)
    assert got["inferenceProfileName"] == "seeded"
    assert bedrock.list_tags_for_resource(resourceARN=profile.arn)["tags"] == [{"key": "team", "value": "x"}]
