"""The container's botocore sessions read service models through one lean loader: plain dicts, no
documentation prose in service models, everything a call uses kept; an assumed-role session reuses
what the container loaded; Powertools' parameter providers are built at the first read."""

import gzip
import json
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import constants
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader
from botocore.model import ServiceModel
from moto import mock_aws

from tokenfuse.adapters import aws
from tokenfuse.adapters.service_models import (
    LeanJSONFileLoader,
    OneServiceLoader,
    botocore_session,
    builtin_handlers,
    shared_loader,
)

MODEL = {
    "version": "2.0",
    "documentation": "<p>The service's prose.</p>",
    "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": "<p>Accelerate.</p>"}},
    "operations": {
        "Ping": {
            "name": "Ping",
            "input": {"shape": "PingInput", "documentation": "<p>In.</p>"},
            "documentation": "<p>Pings.</p>",
        }
    },
    "shapes": {
        "PingInput": {
            "type": "structure",
            "documentation": "<p>A shape.</p>",
            # a member that happens to be named "documentation" is a member, not prose
            "members": {"documentation": {"shape": "Texts", "documentation": "<p>A field.</p>"}},
        },
        "Texts": {"type": "list", "member": {"shape": "Text", "documentation": "<p>One.</p>"}},
        "Text": {"type": "string", "documentation": "<p>Text.</p>"},
    },
}
LEAN_MODEL = {
    "version": "2.0",
    # botocore requires a client context parameter's documentation: it is kept, empty
    "clientContextParams": {"Accelerate": {"type": "boolean", "documentation": ""}},
    "operations": {"Ping": {"name": "Ping", "input": {"shape": "PingInput"}}},
    "shapes": {
        "PingInput": {"type": "structure", "members": {"documentation": {"shape": "Texts"}}},
        "Texts": {"type": "list", "member": {"shape": "Text"}},
        "Text": {"type": "string"},
    },
}


@pytest.fixture
def fresh_providers():
    saved = dict(constants.DEFAULT_PROVIDERS)
    constants.DEFAULT_PROVIDERS.clear()
    aws.default_session.cache_clear()
    yield
    constants.DEFAULT_PROVIDERS.clear()
    constants.DEFAULT_PROVIDERS.update(saved)
    aws.default_session.cache_clear()


def test_a_service_model_loses_its_prose_and_keeps_every_member(tmp_path: Path):
    # Given a service model file with prose at every level and a member named "documentation"
    (tmp_path / "service-2.json").write_text(json.dumps(MODEL))
    # When the lean loader reads it
    loaded = LeanJSONFileLoader().load_file(str(tmp_path / "service-2"))
    # Then the prose is gone, the member stays, and every object is a plain dict
    assert loaded == LEAN_MODEL
    assert type(loaded) is dict and type(loaded["shapes"]["PingInput"]["members"]) is dict


def test_other_data_files_are_read_whole_compressed_or_not(tmp_path: Path):
    # Given an endpoint rule set (its "documentation" is part of the rules' data) and a gzip file
    rules = {"version": "1.0", "parameters": {"Region": {"type": "String", "documentation": "The region"}}}
    (tmp_path / "endpoint-rule-set-1.json").write_text(json.dumps(rules))
    (tmp_path / "paginators-1.json.gz").write_bytes(gzip.compress(json.dumps({"pagination": {}}).encode()))
    loader = LeanJSONFileLoader()
    # Then both come back as they are on disk, and a missing file is None (botocore tries the next path)
    assert loader.load_file(str(tmp_path / "endpoint-rule-set-1")) == rules
    assert loader.load_file(str(tmp_path / "paginators-1")) == {"pagination": {}}
    assert loader.load_file(str(tmp_path / "absent")) is None


@pytest.mark.parametrize("service", ["dynamodb", "s3", "ssm", "bedrock"])
def test_botocores_own_models_keep_every_operation_member_and_context_parameter(service: str):
    # Given a model read by botocore's own loader and by the shared lean one
    full = ServiceModel(botocore.loaders.Loader().load_service_model(service, "service-2"))
    lean = ServiceModel(shared_loader().load_service_model(service, "service-2"))
    # Then the prose is gone and botocore reads the same operations, members and context parameters
    assert full.documentation and not lean.documentation
    assert lean.operation_names == full.operation_names
    for name in full.operation_names:
        full_op, lean_op = full.operation_model(name), lean.operation_model(name)
        assert not lean_op.documentation
        for ours, theirs in (
            (lean_op.input_shape, full_op.input_shape),
            (lean_op.output_shape, full_op.output_shape),
        ):
            assert (ours and list(getattr(ours, "members", {}))) == (
                theirs and list(getattr(theirs, "members", {}))
            )
    assert [(p.name, p.type) for p in lean.client_context_parameters] == [
        (p.name, p.type) for p in full.client_context_parameters
    ]


@pytest.mark.parametrize(
    ("service", "type_name"),
    [("events", "service-2"), ("events", "paginators-1"), ("dynamodb", "waiters-2"),
     ("bedrock", "endpoint-rule-set-1"), ("accessanalyzer", "paginators-1")],  # its sdk-extras merged
)  # fmt: skip
def test_one_service_loader_reads_what_botocores_loader_reads(service: str, type_name: str):
    # Given botocore's loader and the one-service loader over the same files
    ours = OneServiceLoader(file_loader=LeanJSONFileLoader())
    theirs = Loader(file_loader=LeanJSONFileLoader())
    # Then both load the same data, the latest version or the one asked for
    assert ours.load_service_model(service, type_name) == theirs.load_service_model(service, type_name)
    oldest = theirs.list_api_versions(service, type_name)[0]
    assert ours.load_service_model(service, type_name, oldest) == theirs.load_service_model(
        service, type_name, oldest
    )


def test_one_service_loader_lists_no_other_service_to_load_one(monkeypatch: pytest.MonkeyPatch):
    # Given botocore's listing of every service, counted
    listed: list[str] = []
    every_service = Loader.list_available_services

    def counted(self: Loader, type_name: str) -> list[str]:
        listed.append(type_name)
        return every_service(self, type_name)

    monkeypatch.setattr(Loader, "list_available_services", counted)
    ours = OneServiceLoader(file_loader=LeanJSONFileLoader())
    # When a client's models load
    for type_name in ("service-2", "endpoint-rule-set-1", "paginators-1"):
        ours.load_service_model("events", type_name)
    # Then no service was listed beyond the one loaded; anyone asking for the list still gets it whole
    assert listed == []
    assert {"events", "dynamodb", "bedrock"} <= set(ours.list_available_services("service-2"))
    assert listed == ["service-2"]


def test_one_service_loader_refuses_what_botocore_refuses():
    ours = OneServiceLoader(file_loader=LeanJSONFileLoader())
    # an unknown service, and a type the service has no file of: botocore's own error, naming the known
    with pytest.raises(UnknownServiceError, match=r"Unknown service: 'no-such-service'.*dynamodb"):
        ours.load_service_model("no-such-service", "service-2")
    with pytest.raises(UnknownServiceError, match=r"Unknown service: 'sts'"):
        ours.load_service_model("sts", "waiters-2")
    # and the shared loader is this one
    assert isinstance(shared_loader(), OneServiceLoader)


def test_every_session_shares_the_one_loader_and_what_it_loaded():
    # Given the container's session and one built for other credentials (an assumed member role)
    own, member = botocore_session(), botocore_session()
    # Then both read through the same loader, so a model is parsed once per container
    assert own.get_component("data_loader") is member.get_component("data_loader")
    first = own.get_component("data_loader").load_service_model("sts", "service-2")
    assert member.get_component("data_loader").load_service_model("sts", "service-2") is first


def test_sessions_built_on_the_shared_loader_do_not_grow_its_search_paths():
    # Given the shared loader's search paths once one boto3 session was built on it
    first = botocore_session()
    boto3.Session(botocore_session=first, aws_access_key_id="a", aws_secret_access_key="b")
    loader = first.get_component("data_loader")
    before = list(loader.search_paths)
    # When a warm container builds a session per assumed member role, many times
    for _ in range(50):
        boto3.Session(botocore_session=botocore_session(), aws_access_key_id="a", aws_secret_access_key="b")
    # Then boto3's data folder is there once, and nothing else was added
    assert loader.search_paths == before
    assert sum(path.endswith(("boto3/data", "boto3\\data")) for path in before) == 1


def _handlers(session: botocore.session.Session, event: str) -> list[object]:
    return list(session.get_component("event_emitter")._emitter._handlers.prefix_search(event))


def _named(handlers: list[object]) -> list[str]:
    """Handlers by name: an initializer (Powertools' user-agent feature) builds a new closure for
    each session."""
    return [f"{getattr(h, '__module__', '')}.{getattr(h, '__qualname__', repr(h))}" for h in handlers]


OPERATION_EVENTS = (
    "before-parameter-build.s3.PutObject",
    "before-call.dynamodb.Query",
    "needs-retry.sts.AssumeRole",
    "before-send.iam.GetRole",
    "after-call.bedrock.GetInferenceProfile",
)


def test_every_session_starts_with_botocores_own_handlers():
    # Given a session as botocore builds it (every built-in handler registered one by one)
    botocores = botocore.session.Session()
    ours = botocore_session()
    # Then tokenfuse's session, a copy of the handlers registered once, has the same ones in order
    events = sorted({spec[0] for spec in botocore.handlers.BUILTIN_HANDLERS}) + list(OPERATION_EVENTS)
    assert len(events) > 100
    for event in events:
        assert _named(_handlers(ours, event)) == _named(_handlers(botocores, event)), event


def test_each_session_registers_its_own_handlers_and_sees_botocores_new_ones(monkeypatch: pytest.MonkeyPatch):
    # Given two sessions, one of which registers a handler of its own
    def own(**kwargs: object) -> None: ...

    first, second = botocore_session(), botocore_session()
    first.register("before-send.sts", own)
    # Then only that session calls it: not the other, not the next one
    assert own in _handlers(first, "before-send.sts.AssumeRole")
    assert own not in _handlers(second, "before-send.sts.AssumeRole")
    assert own not in _handlers(botocore_session(), "before-send.sts.AssumeRole")

    # When a library appends a handler to botocore's built-in list after the first session (moto's stubber)
    def stubber(**kwargs: object) -> None: ...

    registered = builtin_handlers()
    monkeypatch.setattr(
        botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, ("before-send", stubber)]
    )
    # Then the next session has it, registered afresh
    assert stubber in _handlers(botocore_session(), "before-send.sts.AssumeRole")
    assert builtin_handlers() is not registered


@mock_aws
def test_clients_of_the_lean_session_call_aws_as_before(monkeypatch: pytest.MonkeyPatch, fresh_providers):
    # Given moto and the container's session
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    table = {"AttributeName": "pk", "AttributeType": "S"}
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[table],
        BillingMode="PAY_PER_REQUEST",
    )
    # When a call serializes and parses through the lean model (and a paginator, loaded on use)
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "3"}})
    items = [i for page in ddb.get_paginator("scan").paginate(TableName="t") for i in page["Items"]]
    # Then the answer is what DynamoDB holds, and the session is the lean one
    assert items == [{"pk": {"S": "a"}, "n": {"N": "3"}}]
    loader = aws.default_session()._session.get_component("data_loader")
    assert loader is botocore_session().get_component("data_loader")
    assert isinstance(loader.file_loader, LeanJSONFileLoader)


@mock_aws
def test_a_parameter_provider_is_built_at_its_first_read_on_the_shared_session(
    monkeypatch: pytest.MonkeyPatch, fresh_providers
):
    # Given a parameter and a secret, and no provider built yet
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    boto3.client("ssm").put_parameter(Name="/tf/teams", Value="teams: []", Type="String")
    arn = boto3.client("secretsmanager").create_secret(Name="tf-token", SecretString="xoxb-1")["ARN"]
    assert not constants.DEFAULT_PROVIDERS
    # When the secret is read, only the secrets provider exists, on the container's session
    assert aws.get_secret(arn) == "xoxb-1"
    assert set(constants.DEFAULT_PROVIDERS) == {"secrets"}
    # And when the parameter is read, the SSM provider joins it; after clear_caches a read builds it again
    assert aws.get_parameter("/tf/teams") == "teams: []"
    assert set(constants.DEFAULT_PROVIDERS) == {"secrets", "ssm"}
    parameters.clear_caches()
    constants.DEFAULT_PROVIDERS.clear()
    assert aws.get_parameter("/tf/teams", max_age=0) == "teams: []"
    assert set(constants.DEFAULT_PROVIDERS) == {"ssm"}
