"""Emulation: Amazon Bedrock inference profiles inside moto (moto 5.2.5 has none).

:func:`install` adds ``CreateInferenceProfile``, ``GetInferenceProfile``, ``ListInferenceProfiles``
and ``DeleteInferenceProfile`` to moto's bedrock service, so boto3's own ``bedrock`` client works
unchanged inside ``mock_aws()``. moto's bedrock URL table sends every path to ``BedrockResponse``,
whose ``call_action`` dispatches by the botocore operation name, so the operations are methods on
that class; their state lives on the bedrock backend of each account and region. The new
application-profile ARNs are added to ``BedrockBackend._list_arns`` (the list moto's
``TagResource`` / ``UntagResource`` / ``ListTagsForResource`` check), so tags work on them too.

What it does:

- Application profiles: ARN ``arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>``
  (id: 12 lowercase alphanumerics), ``models`` copied from ``modelSource.copyFrom`` (a
  foundation-model ARN of the same region, or a system-defined profile ARN, which expands to the
  foundation-model ARNs of the regions it spans), ``status`` ACTIVE, ``type`` APPLICATION, tags at
  create, ``clientRequestToken`` idempotency, ConflictException on a duplicate name,
  ValidationException on input the real service refuses, ResourceNotFoundException on an unknown
  id or ARN; delete removes the profile and its tags.
- A few system-defined (cross-region) profiles of the request region's geography (``us.``,
  ``eu.``, ``apac.``), listed when ``typeEquals`` is SYSTEM_DEFINED or absent, readable by id/ARN.
- Timestamps come from ``tokenfuse.clock.now()`` (the simulated clock in the sandbox).

What it does NOT prove: the real catalogue of models and system profiles (the table below is
small and hand-written), IAM or SCP evaluation on profiles, ``InvokeModel`` through a profile,
CloudTrail events for these calls, service quotas (1,000 profiles), or the real service's exact
error messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto.bedrock.exceptions import BedrockClientError
from moto.bedrock.models import BedrockBackend, bedrock_backends
from moto.bedrock.responses import BedrockResponse

from tokenfuse import clock
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = [
    "SYSTEM_PROFILES",
    "InferenceProfile",
    "create_profile",
    "find_profile",
    "install",
    "installed",
    "uninstall",
]

_STATE_ATTR = "_tokenfuse_inference_profiles"
_lock = threading.RLock()
_patches = MotoPatches()

_ID_ALPHABET = string.ascii_lowercase + string.digits
_NAME_RE = re.compile(r"([0-9a-zA-Z][ _-]?)+")
_DESCRIPTION_RE = re.compile(r"([0-9a-zA-Z:.][ _-]?)+")
_TOKEN_RE = re.compile(r"[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?")
_TAG_RE = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
_SOURCE_RE = re.compile(
    r"arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(?P<region>|[0-9a-z-]{0,20}):(?P<account>|[0-9]{12}):"
    r"(?P<kind>inference-profile|foundation-model)/(?P<id>[a-zA-Z0-9-:.]+)"
)
_IDENTIFIER_RE = re.compile(
    r"(arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(?P<region>|[0-9a-z-]{0,20}):(?P<account>|[0-9]{12}):"
    r"(?P<kind>inference-profile|application-inference-profile)/)?(?P<id>[a-zA-Z0-9-:.]+)"
)

# System-defined (cross-region) inference profiles: id -> (name, regions it routes to).
# A small hand-written table; the real catalogue is larger and changes.
SYSTEM_PROFILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "us.anthropic.claude-3-5-sonnet-20241022-v2:0": (
        "US Anthropic Claude 3.5 Sonnet v2",
        ("us-east-1", "us-east-2", "us-west-2"),
    ),
    "us.anthropic.claude-3-5-haiku-20241022-v1:0": (
        "US Anthropic Claude 3.5 Haiku",
        ("us-east-1", "us-east-2", "us-west-2"),
    ),
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0": (
        "US Anthropic Claude 3.7 Sonnet",
        ("us-east-1", "us-east-2", "us-west-2"),
    ),
    "us.anthropic.claude-sonnet-4-20250514-v1:0": (
        "US Claude Sonnet 4",
        ("us-east-1", "us-east-2", "us-west-2"),
    ),
    "us.amazon.nova-pro-v1:0": ("US Nova Pro", ("us-east-1", "us-east-2", "us-west-2")),
    "us.meta.llama3-1-70b-instruct-v1:0": ("US Meta Llama 3.1 70B Instruct", ("us-east-1", "us-west-2")),
    "eu.anthropic.claude-3-5-sonnet-20240620-v1:0": (
        "EU Anthropic Claude 3.5 Sonnet",
        ("eu-central-1", "eu-west-1", "eu-west-3"),
    ),
    "eu.amazon.nova-pro-v1:0": ("EU Nova Pro", ("eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3")),
    "apac.anthropic.claude-3-5-sonnet-20240620-v1:0": (
        "APAC Anthropic Claude 3.5 Sonnet",
        ("ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
    ),
}
_SYSTEM_CREATED_AT = datetime(2024, 8, 27, tzinfo=UTC)


class ConflictException(BedrockClientError):
    code = 409

    def __init__(self, msg: str):
        super().__init__("ConflictException", msg)


class ProfileNotFoundException(BedrockClientError):
    """ResourceNotFoundException with the real service's HTTP status (moto's bedrock one answers 400)."""

    code = 404

    def __init__(self, msg: str):
        super().__init__("ResourceNotFoundException", msg)


class ProfileValidationException(BedrockClientError):
    """Like moto's bedrock ValidationException, but with the message in the message field."""

    def __init__(self, msg: str):
        super().__init__("ValidationException", msg)


def _geography(region: str) -> str:
    if region.startswith("us-"):
        return "us"
    if region.startswith("eu-"):
        return "eu"
    if region.startswith("ap-"):
        return "apac"
    return ""


def _foundation_model_arn(region: str, model_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class InferenceProfile:
    """One inference profile as the API returns it."""

    profile_id: str
    name: str
    arn: str
    models: list[str]
    type: str
    description: str | None = None
    created_at: datetime = field(default_factory=clock.now)
    updated_at: datetime = field(default_factory=clock.now)
    status: str = "ACTIVE"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "inferenceProfileName": self.name,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "inferenceProfileArn": self.arn,
            "models": [{"modelArn": m} for m in self.models],
            "inferenceProfileId": self.profile_id,
            "status": self.status,
            "type": self.type,
        }
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass
class _State:
    profiles: dict[str, InferenceProfile] = field(default_factory=dict)  # id -> profile, insertion order
    tokens: dict[str, str] = field(default_factory=dict)  # clientRequestToken -> profile id


def _state(backend: BedrockBackend) -> _State:
    # Created lazily, so backends that existed before install() and backends moto re-created on
    # reset() (which clears __dict__) both get fresh state.
    with _lock:
        st = backend.__dict__.get(_STATE_ATTR)
        if st is None:
            st = _State()
            backend.__dict__[_STATE_ATTR] = st
        return st


def _system_profiles(backend: BedrockBackend) -> list[InferenceProfile]:
    geo = _geography(backend.region_name)
    out = []
    for pid, (name, regions) in SYSTEM_PROFILES.items():
        if not geo or not pid.startswith(geo + "."):
            continue
        model_id = pid.split(".", 1)[1]
        out.append(
            InferenceProfile(
                profile_id=pid,
                name=name,
                arn=f"arn:{backend.partition}:bedrock:{backend.region_name}:{backend.account_id}"
                f":inference-profile/{pid}",
                models=[_foundation_model_arn(r, model_id, backend.partition) for r in regions],
                type="SYSTEM_DEFINED",
                description=f"Routes requests to {name.split(' ', 1)[1]} in {', '.join(regions)}.",
                created_at=_SYSTEM_CREATED_AT,
                updated_at=_SYSTEM_CREATED_AT,
            )
        )
    return out


def _validate_tags(tags: Any) -> list[dict[str, str]]:
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > 200:
        raise ProfileValidationException("tags: member must have length less than or equal to 200")
    for tag in tags:
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not _TAG_RE.fullmatch(key):
            raise ProfileValidationException(f"Tag key '{key}' is not valid")
        if not isinstance(value, str) or len(value) > 256 or not _TAG_RE.fullmatch(value):
            raise ProfileValidationException(f"Tag value '{value}' is not valid")
    return tags


def _models_from_source(backend: BedrockBackend, source: Any) -> list[str]:
    if not isinstance(source, str) or not 1 <= len(source) <= 2048:
        raise ProfileValidationException("modelSource.copyFrom is required")
    m = _SOURCE_RE.fullmatch(source)
    if m is None:
        raise ProfileValidationException(
            f"Value '{source}' at 'modelSource.copyFrom' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern"
        )
    if m["kind"] == "foundation-model":
        if m["region"] != backend.region_name:
            raise ProfileValidationException(
                f"The foundation model {source} is not in the region {backend.region_name}"
            )
        return [source]
    pid = m["id"]
    if pid not in SYSTEM_PROFILES or not pid.startswith(_geography(backend.region_name) + "."):
        raise ProfileNotFoundException(f"The inference profile {source} was not found")
    if m["region"] != backend.region_name or m["account"] not in ("", backend.account_id):
        raise ProfileValidationException(f"The inference profile {source} is not in this account and region")
    model_id = pid.split(".", 1)[1]
    return [_foundation_model_arn(r, model_id, backend.partition) for r in SYSTEM_PROFILES[pid][1]]


def _new_id(existing: dict[str, InferenceProfile]) -> str:
    while True:
        pid = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
        if pid not in existing:
            return pid


def create_profile(
    backend: BedrockBackend,
    name: Any,
    copy_from: Any,
    *,
    tags: list[dict[str, str]] | None = None,
    description: str | None = None,
    client_request_token: str | None = None,
) -> InferenceProfile:
    """Create an application inference profile on ``backend`` (what CreateInferenceProfile does).

    Usable directly for seeding: ``create_profile(bedrock_backends[account][region], ...)``.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not _NAME_RE.fullmatch(name):
        raise ProfileValidationException(
            f"Value '{name}' at 'inferenceProfileName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ([0-9a-zA-Z][ _-]?)+"
        )
    if description is not None and (
        not 1 <= len(description) <= 200 or not _DESCRIPTION_RE.fullmatch(description)
    ):
        raise ProfileValidationException(
            "Value at 'description' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ([0-9a-zA-Z:.][ _-]?)+"
        )
    if client_request_token is not None and not _TOKEN_RE.fullmatch(client_request_token):
        raise ProfileValidationException("clientRequestToken is not valid")
    tags = _validate_tags(tags)
    with _lock:
        st = _state(backend)
        if client_request_token and client_request_token in st.tokens:
            existing = st.profiles.get(st.tokens[client_request_token])
            if existing is not None:
                return existing
        models = _models_from_source(backend, copy_from)
        if any(p.name == name for p in st.profiles.values()):
            raise ConflictException(f"An inference profile with the name {name} already exists.")
        pid = _new_id(st.profiles)
        now = clock.now()
        profile = InferenceProfile(
            profile_id=pid,
            name=name,
            arn=f"arn:{backend.partition}:bedrock:{backend.region_name}:{backend.account_id}"
            f":application-inference-profile/{pid}",
            models=models,
            type="APPLICATION",
            description=description,
            created_at=now,
            updated_at=now,
        )
        st.profiles[pid] = profile
        if client_request_token:
            st.tokens[client_request_token] = pid
        if tags:
            backend.tagger.tag_resource(profile.arn, [{"Key": t["key"], "Value": t["value"]} for t in tags])
        return profile


def _find(backend: BedrockBackend, identifier: str) -> tuple[InferenceProfile, bool]:
    """(profile, is_application) for an id or ARN; ResourceNotFoundException when unknown."""
    m = _IDENTIFIER_RE.fullmatch(identifier or "")
    if m is None or len(identifier) > 2048:
        raise ProfileValidationException(
            f"Value '{identifier}' at 'inferenceProfileIdentifier' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern"
        )
    not_found = ProfileNotFoundException(f"The inference profile {identifier} was not found")
    if m["kind"] and (m["region"] != backend.region_name or m["account"] != backend.account_id):
        raise not_found
    pid = m["id"]
    with _lock:
        st = _state(backend)
        if m["kind"] != "inference-profile" and pid in st.profiles:
            return st.profiles[pid], True
    if m["kind"] != "application-inference-profile":
        for p in _system_profiles(backend):
            if p.profile_id == pid:
                return p, False
    raise not_found


def find_profile(backend: BedrockBackend, identifier: str) -> InferenceProfile | None:
    """The profile (application or system-defined) an id or ARN names in the backend's account and
    region, or None (the emulated ``bedrock-runtime`` resolves ``modelId`` with it)."""
    try:
        return _find(backend, identifier)[0]
    except BedrockClientError:
        return None


def _list(backend: BedrockBackend, type_equals: str | None) -> list[InferenceProfile]:
    out: list[InferenceProfile] = []
    if type_equals in (None, "SYSTEM_DEFINED"):
        out.extend(_system_profiles(backend))
    if type_equals in (None, "APPLICATION"):
        with _lock:
            out.extend(_state(backend).profiles.values())
    return out


def _delete(backend: BedrockBackend, identifier: str) -> None:
    profile, is_application = _find(backend, identifier)
    if not is_application:
        raise ProfileValidationException("A system-defined inference profile cannot be deleted")
    with _lock:
        st = _state(backend)
        st.profiles.pop(profile.profile_id, None)
        for token in [t for t, pid in st.tokens.items() if pid == profile.profile_id]:
            del st.tokens[token]
        backend.tagger.delete_all_tags_for_resource(profile.arn)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise ProfileValidationException("The provided nextToken is not valid") from e
    if not isinstance(offset, int) or offset < 0:
        raise ProfileValidationException("The provided nextToken is not valid")
    return offset


# --- methods added to moto's BedrockResponse (dispatched by operation name) ---------------------


def _resp_backend(self: BedrockResponse) -> BedrockBackend:
    return bedrock_backends[self.current_account][self.region]


def _identifier(self: BedrockResponse) -> str:
    raw = self.uri_match.get("inferenceProfileIdentifier") or self.path.rstrip("/").split("/")[-1]
    return unquote(raw)


def _create_inference_profile(self: BedrockResponse) -> tuple[str, dict[str, Any]]:
    try:
        params = json.loads(self.body or "{}")
    except ValueError as e:
        raise ProfileValidationException("The request body is not valid JSON") from e
    source = (params.get("modelSource") or {}).get("copyFrom")
    profile = create_profile(
        _resp_backend(self),
        name=params.get("inferenceProfileName"),
        copy_from=source,
        tags=params.get("tags"),
        description=params.get("description"),
        client_request_token=params.get("clientRequestToken"),
    )
    body = {"inferenceProfileArn": profile.arn, "status": profile.status}
    return json.dumps(body), {"status": 201, "Content-Type": "application/json"}


def _get_inference_profile(self: BedrockResponse) -> str:
    profile, _ = _find(_resp_backend(self), _identifier(self))
    return json.dumps(profile.to_dict())


def _list_inference_profiles(self: BedrockResponse) -> str:
    qs = self.querystring
    type_equals = qs.get("type", [None])[0]
    if type_equals not in (None, "SYSTEM_DEFINED", "APPLICATION"):
        raise ProfileValidationException(
            f"Value '{type_equals}' at 'typeEquals' failed to satisfy constraint: "
            "Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]"
        )
    raw_max = qs.get("maxResults", [None])[0]
    try:
        max_results = int(raw_max) if raw_max is not None else 1000
    except ValueError as e:
        raise ProfileValidationException("maxResults must be an integer") from e
    if not 1 <= max_results <= 1000:
        raise ProfileValidationException(
            f"Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value between 1 and 1000"
        )
    token = qs.get("nextToken", [None])[0]
    offset = _decode_token(token) if token else 0
    profiles = _list(_resp_backend(self), type_equals)
    page = profiles[offset : offset + max_results]
    body: dict[str, Any] = {"inferenceProfileSummaries": [p.to_dict() for p in page]}
    if offset + max_results < len(profiles):
        body["nextToken"] = _encode_token(offset + max_results)
    return json.dumps(body)


def _delete_inference_profile(self: BedrockResponse) -> str:
    _delete(_resp_backend(self), _identifier(self))
    return json.dumps({})


def _list_arns(self: BedrockBackend) -> list[str]:
    with _lock:
        ours = [p.arn for p in _state(self).profiles.values()]
    theirs: list[str] = _patches.original(BedrockBackend, "_list_arns")(self)
    return theirs + ours


_RESPONSE_METHODS = {
    "create_inference_profile": _create_inference_profile,
    "get_inference_profile": _get_inference_profile,
    "list_inference_profiles": _list_inference_profiles,
    "delete_inference_profile": _delete_inference_profile,
}


def install() -> None:
    """Add the inference-profile operations to moto's bedrock. Idempotent; process-wide."""
    with _patches.lock:
        if _patches.installed:
            return
        for name, fn in _RESPONSE_METHODS.items():
            _patches.replace(BedrockResponse, name, fn)
        _patches.replace(BedrockBackend, "_list_arns", _list_arns)


def uninstall() -> None:
    """Remove what :func:`install` added (profiles already created stay on their backends, unseen)."""
    _patches.restore()


def installed() -> bool:
    return _patches.installed
