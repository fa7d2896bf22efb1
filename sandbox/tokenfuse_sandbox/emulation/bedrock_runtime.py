"""Emulation: Amazon Bedrock's runtime (``bedrock-runtime``) inside moto.

``InvokeModel``, ``Converse``, ``InvokeModelWithResponseStream`` and ``ConverseStream`` work through
boto3's own ``bedrock-runtime`` client, unchanged, inside ``mock_aws()``.

**How it is routed.** moto 5.2.5 already routes ``bedrock-runtime.<region>.amazonaws.com`` (its
``backend_index`` names the service ``bedrockruntime``; ``moto/bedrockruntime/urls.py`` sends every
path to ``BedrockRuntimeResponse.dispatch``), but answers InvokeModel with an empty body and has no
other operation. :func:`install` points that one URL entry at :class:`EmulatedBedrockRuntime`
(``BaseBackend.urls`` reads the table afresh on each request) and :func:`uninstall` puts moto's
back. moto's own ``before-send`` hook (``BotocoreStubber``, registered for every botocore session)
already carries the request here, so no hook of our own is needed, ``bedrock-runtime`` only is
touched, and botocore parses real response bytes: JSON bodies, the ``X-Amzn-Bedrock-*`` headers,
error shapes, and the streams' event-stream framing (:mod:`.eventstream`).

**What a call does**, in AWS's order:

1. ``modelId`` is resolved (:func:`resolve`): a foundation model (id or ARN), a system-defined
   inference profile (``us.anthropic...``, id or ARN) or an application inference profile (ARN or
   id) of the caller's account and region, from the profile emulation (:mod:`.bedrock_profiles`).
   A value outside botocore's pattern is a ValidationException naming the pattern; an unknown one
   is AWS's ``The provided model identifier is invalid.`` (ValidationException). A profile routes
   to its model in the calling region when it lists one there, else in the first region it lists
   (``inferenceRegion``).
2. The caller (moto's STS identity of the request's access key) is authorized for
   ``bedrock:InvokeModel`` (Converse too) or ``bedrock:InvokeModelWithResponseStream``
   (ConverseStream too) on the profile and on the model behind it (with
   ``bedrock:InferenceProfileArn``), by the shared deny evaluator (:mod:`.bedrock_access`): an
   explicit deny is AccessDeniedException (403) with AWS's message, and one
   ``InvocationClientErrors`` datapoint.
3. The body is read per model family (:mod:`.bedrock_bodies`) and answered with deterministic
   token counts; a prompt-cache prefix is a cache write the first time and a read for
   :data:`PROMPT_CACHE_TTL_SECONDS` after each use.
4. ``AWS/Bedrock`` datapoints go to moto's CloudWatch in the caller's account and region, at the
   simulated now: ``Invocations``, ``InputTokenCount``, ``OutputTokenCount``,
   ``CacheReadInputTokenCount``, ``CacheWriteInputTokenCount``, ``InvocationLatency``, with
   dimension ``ModelId`` = the profile **id** for an application profile, the profile id for a
   system profile, the model id otherwise. With ``count_profile_calls_under_model_id`` (an option,
   default off: whether AWS does so is not known) a profile call is also counted under its model id.
5. Where model invocation logging is configured, one record in AWS's format goes to its log group
   (:mod:`.invocation_logs`).

Named latencies (simulated time does not move during a call; these are the figures reported):
``InvocationLatency`` = :data:`FIRST_BYTE_LATENCY_MS` + :data:`PER_OUTPUT_TOKEN_LATENCY_MS` per
output token. The SCP propagation delay is :data:`.bedrock_access.SCP_PROPAGATION_SECONDS`.

What it does NOT prove: the models' real tokenizers, answers, latencies and quotas
(ThrottlingException is never raised), model availability by region, model access grants,
guardrails, tool use, the ``bedrock:InvokeModel`` allow side of IAM (only explicit denies refuse),
the async (``StartAsyncInvoke``), ``CountTokens`` and ``ApplyGuardrail`` operations, or the real
streams' chunk sizes and timing (a stream is written at once).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

from moto.core.config import DefaultConfig
from moto.core.responses import BaseResponse

from tokenfuse import clock
from tokenfuse_sandbox.emulation import bedrock_access, bedrock_profiles, invocation_logs
from tokenfuse_sandbox.emulation.bedrock_bodies import (
    FOUNDATION_MODELS,
    Answer,
    BodyError,
    FoundationModel,
    Prompt,
    Usage,
    answer_text,
    converse_response,
    converse_stream_events,
    invoke_response,
    invoke_stream_chunks,
    parse_converse,
    parse_invoke,
)
from tokenfuse_sandbox.emulation.clock import SimulatedClock
from tokenfuse_sandbox.emulation.eventstream import event_message
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = [
    "ANSWER_TOKENS",
    "FIRST_BYTE_LATENCY_MS",
    "NAMESPACE",
    "PER_OUTPUT_TOKEN_LATENCY_MS",
    "PROMPT_CACHE_TTL_SECONDS",
    "Call",
    "EmulatedBedrockRuntime",
    "RuntimeOptions",
    "RuntimeRequest",
    "RuntimeServiceError",
    "Target",
    "calls",
    "clear_calls",
    "configure",
    "emulated",
    "install",
    "installed",
    "options",
    "resolve",
    "serve",
    "uninstall",
]

NAMESPACE = "AWS/Bedrock"
ANSWER_TOKENS = 64
"""Words (= output tokens) the emulated model answers with, before the request's maximum."""
FIRST_BYTE_LATENCY_MS = 250
PER_OUTPUT_TOKEN_LATENCY_MS = 10
PROMPT_CACHE_TTL_SECONDS = 300
MAX_RECORDED_CALLS = 10_000
_CORAL = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_INVALID_MODEL = "The provided model identifier is invalid."
_FOUNDATION_ARN = re.compile(r"arn:aws:bedrock:(?P<region>[a-z0-9-]{1,20})::foundation-model/(?P<id>.+)")
_ACTIONS = {
    "InvokeModel": "bedrock:InvokeModel",
    "Converse": "bedrock:InvokeModel",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
}
_CACHE_ATTR = "_tokenfuse_prompt_cache"


@dataclass(frozen=True)
class RuntimeOptions:
    """Process-wide options of the emulation (see :func:`configure`)."""

    answer_tokens: int = ANSWER_TOKENS
    scp_propagation_seconds: float = bedrock_access.SCP_PROPAGATION_SECONDS
    count_profile_calls_under_model_id: bool = False


_lock = threading.RLock()
_options = RuntimeOptions()
_calls: deque[Call] = deque(maxlen=MAX_RECORDED_CALLS)
_patches = MotoPatches()
_installed_with: list[Any] = []  # the dependencies install() installed (and uninstall() removes)


def configure(**changes: Any) -> RuntimeOptions:
    """Change options (``answer_tokens=...``, ...); returns the options that were in force."""
    global _options  # noqa: PLW0603
    with _lock:
        previous = _options
        updated = replace(previous, **changes)
        if updated.answer_tokens < 0 or updated.scp_propagation_seconds < 0:
            raise ValueError("answer_tokens and scp_propagation_seconds cannot be negative")
        _options = updated
        return previous


def options() -> RuntimeOptions:
    return _options


class RuntimeServiceError(Exception):
    """An error answer of the service: its code, HTTP status and message."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


def _validation(message: str) -> RuntimeServiceError:
    return RuntimeServiceError("ValidationException", 400, message)


# --------------------------------------------------------------------------------------------------
# What a modelId names
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a call's ``modelId`` names, resolved in the caller's account and region."""

    called_as: str
    kind: Literal["foundation-model", "system-profile", "application-profile"]
    model: FoundationModel
    inference_region: str
    profile: bedrock_profiles.InferenceProfile | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def model_arn(self) -> str:
        return f"arn:aws:bedrock:{self.inference_region}::foundation-model/{self.model.model_id}"

    @property
    def metric_model_id(self) -> str:
        """The ``ModelId`` dimension AWS/Bedrock metrics carry."""
        return self.profile.profile_id if self.profile else self.model.model_id

    @property
    def log_model_id(self) -> str:
        """The ``modelId`` of the invocation log record: the profile's ARN through a profile."""
        return self.profile.arn if self.profile else self.called_as

    def resource_checks(self) -> list[bedrock_access.ResourceCheck]:
        """The resources IAM authorizes: the profile (with its tags), then the model it calls."""
        if self.profile is None:
            return [bedrock_access.ResourceCheck(self.model_arn)]
        tag_keys = {f"aws:ResourceTag/{k}": v for k, v in self.tags.items()}
        return [
            bedrock_access.ResourceCheck(self.profile.arn, tag_keys),
            bedrock_access.ResourceCheck(self.model_arn, {"bedrock:InferenceProfileArn": self.profile.arn}),
        ]


@functools.cache
def _model_id_pattern() -> tuple[str, re.Pattern[str]]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    pattern = str(model.shape_for("InvokeModelIdentifier").metadata["pattern"])
    return pattern, re.compile(pattern)


def _profile_target(account_id: str, region: str, model_id: str) -> Target | None:
    from moto.bedrock.models import bedrock_backends

    backend = bedrock_backends[account_id][region]
    profile = bedrock_profiles.find_profile(backend, model_id)
    if profile is None:
        return None
    regions = [_FOUNDATION_ARN.fullmatch(arn) for arn in profile.models]
    routes = [(m["region"], m["id"]) for m in regions if m is not None]
    if not routes:
        return None
    inference_region, model = next(((r, i) for r, i in routes if r == region), routes[0])
    if model not in FOUNDATION_MODELS:
        return None
    if profile.type == "APPLICATION":
        tags = {t["Key"]: t["Value"] for t in backend.tagger.list_tags_for_resource(profile.arn)["Tags"]}
        return Target(
            model_id, "application-profile", FOUNDATION_MODELS[model], inference_region, profile, tags
        )
    return Target(model_id, "system-profile", FOUNDATION_MODELS[model], inference_region, profile)


def resolve(account_id: str, region: str, model_id: str) -> Target:
    """The target ``model_id`` names for a caller in ``account_id`` / ``region``; a
    :class:`RuntimeServiceError` (ValidationException) as AWS answers when it names nothing."""
    pattern, compiled = _model_id_pattern()
    if not 1 <= len(model_id) <= 2048 or compiled.fullmatch(model_id) is None:
        raise _validation(
            f"1 validation error detected: Value '{model_id}' at 'modelId' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}"
        )
    if model_id in FOUNDATION_MODELS:
        return Target(model_id, "foundation-model", FOUNDATION_MODELS[model_id], region)
    arn = _FOUNDATION_ARN.fullmatch(model_id)
    if arn is not None:
        if arn["region"] != region or arn["id"] not in FOUNDATION_MODELS:
            raise _validation(_INVALID_MODEL)
        return Target(model_id, "foundation-model", FOUNDATION_MODELS[arn["id"]], region)
    target = _profile_target(account_id, region, model_id)
    if target is None:
        raise _validation(_INVALID_MODEL)
    return target


# --------------------------------------------------------------------------------------------------
# What was called (for tests, the story and the drill)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call the emulation answered (or refused)."""

    at: datetime
    request_id: str
    operation: str
    account_id: str
    region: str
    principal_arn: str
    model_id: str
    target: Target | None
    usage: Usage | None = None
    error_code: str | None = None
    denial: bedrock_access.Denial | None = None


def calls() -> list[Call]:
    """The last :data:`MAX_RECORDED_CALLS` calls, oldest first."""
    with _lock:
        return list(_calls)


def clear_calls() -> None:
    with _lock:
        _calls.clear()


# --------------------------------------------------------------------------------------------------
# Answering
# --------------------------------------------------------------------------------------------------


def _prompt_cache(account_id: str, region: str) -> dict[tuple[str, str], datetime]:
    from moto.bedrockruntime.models import bedrockruntime_backends

    backend = bedrockruntime_backends[account_id][region]
    with _lock:
        cache: dict[tuple[str, str], datetime] = backend.__dict__.setdefault(_CACHE_ATTR, {})
        return cache


def _answer(account_id: str, target: Target, prompt: Prompt, at: datetime, request_id: str) -> Answer:
    total = prompt.tokens
    cache_read = cache_write = 0
    prefix = prompt.cached_prefix() if target.model.prompt_caching else None
    if prefix is not None and prefix[0] > 0:
        key = (target.model.model_id, prefix[1])
        with _lock:
            cache = _prompt_cache(account_id, target.inference_region)
            if cache.get(key, at) > at:
                cache_read = prefix[0]
            else:
                cache_write = prefix[0]
            cache[key] = at + timedelta(seconds=PROMPT_CACHE_TTL_SECONDS)
    wanted = _options.answer_tokens
    output = wanted if prompt.max_tokens is None else min(wanted, prompt.max_tokens)
    usage = Usage(
        input_tokens=total - cache_read - cache_write,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        latency_ms=FIRST_BYTE_LATENCY_MS + PER_OUTPUT_TOKEN_LATENCY_MS * output,
        first_byte_latency_ms=FIRST_BYTE_LATENCY_MS,
    )
    cut_short = prompt.max_tokens is not None and wanted > prompt.max_tokens
    return Answer(answer_text(output), usage, cut_short, "msg_bdrk_" + request_id.replace("-", "")[:24])


def emit_metrics(
    account_id: str, region: str, at: datetime, values: Mapping[str, float], model_ids: Sequence[str]
) -> None:
    """``AWS/Bedrock`` datapoints (metric name -> value, under each ``ModelId``) in the account's
    CloudWatch, written as Bedrock itself emits them: into moto's backend, not through
    ``PutMetricData`` (an ``AWS/`` namespace is AWS's own), as moto's parser would have given them
    (naive UTC timestamps)."""
    from moto.cloudwatch.models import cloudwatch_backends

    stamp = at.astimezone(UTC).replace(tzinfo=None)
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            "Timestamp": stamp,
            "Value": float(value),
            "Unit": "Milliseconds" if name == "InvocationLatency" else "Count",
        }
        for model_id in model_ids
        for name, value in values.items()
    ]
    cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)


def _publish(account_id: str, region: str, target: Target, at: datetime, values: Mapping[str, float]) -> None:
    model_ids = [target.metric_model_id]
    if target.profile is not None and _options.count_profile_calls_under_model_id:
        model_ids.append(target.model.model_id)
    emit_metrics(account_id, region, at, values, model_ids)


def _usage_metrics(usage: Usage) -> dict[str, float]:
    return {
        "Invocations": 1,
        "InputTokenCount": usage.input_tokens,
        "OutputTokenCount": usage.output_tokens,
        "CacheReadInputTokenCount": usage.cache_read_tokens,
        "CacheWriteInputTokenCount": usage.cache_write_tokens,
        "InvocationLatency": usage.latency_ms,
    }


@dataclass(frozen=True)
class RuntimeRequest:
    operation: str
    account_id: str
    region: str
    access_key: str
    model_id: str
    body: bytes
    headers: Mapping[str, str]
    """Lower-cased names."""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


Response = tuple[int, dict[str, str], bytes]


def _json_response(
    request: RuntimeRequest, document: Any, extra: Mapping[str, str] | None = None
) -> Response:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request.request_id, **(extra or {})}
    return 200, headers, json.dumps(document).encode()


def _error_response(request: RuntimeRequest, error: RuntimeServiceError) -> Response:
    headers = {
        "Content-Type": "application/json",
        "x-amzn-RequestId": request.request_id,
        "x-amzn-ErrorType": error.code + _CORAL,
    }
    return error.status, headers, json.dumps({"message": error.message}).encode()


def _request_metadata(request: RuntimeRequest) -> Mapping[str, str] | None:
    raw = request.headers.get("x-amzn-bedrock-request-metadata")
    if raw is None:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise _validation("requestMetadata must be a JSON object whose values are strings")
    return document


def _invoke_body(request: RuntimeRequest, model: FoundationModel) -> tuple[Prompt, Any]:
    for name in ("content-type", "accept", "x-amzn-bedrock-accept"):
        value = request.headers.get(name)
        if value is not None and value not in ("application/json", "*/*"):
            kind = "Content-Type" if name == "content-type" else "Accept Type"
            raise _validation(f"The provided {kind} is invalid or not supported for this model")
    prompt, logged = parse_invoke(model, request.body)
    metadata = _request_metadata(request)
    return (replace(prompt, request_metadata=metadata) if metadata else prompt), logged


def _respond(request: RuntimeRequest, target: Target, answer: Answer) -> tuple[Response, Any]:
    """The HTTP answer, and the output body as the invocation log shows it."""
    model = target.model
    if request.operation == "InvokeModel":
        body = invoke_response(model, answer)
        usage = answer.usage
        headers = {
            "X-Amzn-Bedrock-Input-Token-Count": str(usage.input_tokens),
            "X-Amzn-Bedrock-Output-Token-Count": str(usage.output_tokens),
            "X-Amzn-Bedrock-Invocation-Latency": str(usage.latency_ms),
        }
        if model.prompt_caching:
            headers["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(usage.cache_read_tokens)
            headers["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(usage.cache_write_tokens)
        return _json_response(request, body, headers), body
    if request.operation == "Converse":
        body = converse_response(model, answer)
        return _json_response(request, body), body
    headers = {"Content-Type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": request.request_id}
    if request.operation == "InvokeModelWithResponseStream":
        chunks = invoke_stream_chunks(model, answer)
        stream = b"".join(
            event_message(
                "chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode(), "p": _padding(i)}
            )
            for i, c in enumerate(chunks)
        )
        headers["X-Amzn-Bedrock-Content-Type"] = "application/json"
        return (200, headers, stream), chunks
    events = converse_stream_events(model, answer)
    stream = b"".join(
        event_message(kind, payload | {"p": _padding(i)}) for i, (kind, payload) in enumerate(events)
    )
    return (200, headers, stream), converse_response(model, answer)


def _padding(index: int) -> str:
    # AWS pads stream events with a "p" field of varying length (to hide the payload's size)
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"[: 1 + index % 32]


def serve(request: RuntimeRequest) -> Response:
    """Answer one bedrock-runtime request (the operations this module emulates)."""
    at = clock.now()
    principal = bedrock_access.principal_from_access_key(
        request.account_id, request.access_key, request.region
    )
    record = functools.partial(
        Call, at, request.request_id, request.operation, request.account_id, request.region, principal.arn,
        request.model_id,
    )  # fmt: skip
    target: Target | None = None
    try:
        target = resolve(request.account_id, request.region, request.model_id)
        evaluator = bedrock_access.AccessEvaluator(_options.scp_propagation_seconds)
        action = _ACTIONS[request.operation]
        denial = evaluator.denial(principal, action, target.resource_checks(), region=request.region)
        if denial is not None:
            _publish(request.account_id, request.region, target, at, {"InvocationClientErrors": 1})
            _remember(record(target, error_code="AccessDeniedException", denial=denial))
            return _error_response(request, RuntimeServiceError("AccessDeniedException", 403, denial.message))
        try:
            if request.operation.startswith("Converse"):
                prompt, logged_input = parse_converse(target.model, request.body)
            else:
                prompt, logged_input = _invoke_body(request, target.model)
        except BodyError as error:
            raise _validation(str(error)) from error
    except RuntimeServiceError as error:
        if target is not None:
            _publish(request.account_id, request.region, target, at, {"InvocationClientErrors": 1})
        _remember(record(target, error_code=error.code))
        return _error_response(request, error)
    answer = _answer(request.account_id, target, prompt, at, request.request_id)
    response, logged_output = _respond(request, target, answer)
    _publish(request.account_id, request.region, target, at, _usage_metrics(answer.usage))
    invocation_logs.log_invocation(
        invocation_logs.InvocationLogEntry(
            at=at,
            account_id=request.account_id,
            region=request.region,
            identity_arn=principal.arn,
            request_id=request.request_id,
            operation=request.operation,
            model_id=target.log_model_id,
            inference_region=target.inference_region,
            input_body=logged_input,
            output_body=logged_output,
            usage=answer.usage,
            request_metadata=prompt.request_metadata,
        )
    )
    _remember(record(target, usage=answer.usage))
    return response


def _remember(call: Call) -> None:
    with _lock:
        _calls.append(call)


class EmulatedBedrockRuntime(BaseResponse):
    """moto's handler for bedrock-runtime while the emulation is installed."""

    use_raw_body = True

    def __init__(self) -> None:
        super().__init__(service_name="bedrock-runtime")

    def call_action(self) -> Response:
        operation = self._get_action()
        if operation not in _ACTIONS:
            raise NotImplementedError(f"bedrock-runtime {operation} is not emulated")
        body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode()
        request = RuntimeRequest(
            operation=operation,
            account_id=self.current_account,
            region=self.region,
            access_key=self.access_key,
            model_id=unquote(str(self.uri_match.get("modelId", ""))),
            body=body,
            headers={str(k).lower(): str(v) for k, v in self.headers.items()},
        )
        return serve(request)


# --------------------------------------------------------------------------------------------------
# Installing
# --------------------------------------------------------------------------------------------------

_URL_KEY = "{0}/.*$"


def install(runtime_options: RuntimeOptions | None = None) -> None:
    """Serve bedrock-runtime from this emulation (process-wide; idempotent). Installs the SCP
    history of :mod:`.bedrock_access` and the log patches of :mod:`.invocation_logs` too, when they
    are not installed yet (and :func:`uninstall` removes only those)."""
    global _options  # noqa: PLW0603
    import moto.bedrockruntime.urls as runtime_urls

    with _patches.lock:
        if runtime_options is not None:
            _options = runtime_options
        if _patches.installed:
            return
        for dependency in (bedrock_access, invocation_logs):
            if not dependency.installed():
                dependency.install()
                _installed_with.append(dependency)
        _patches.replace(runtime_urls.url_paths, _URL_KEY, EmulatedBedrockRuntime.dispatch)


def uninstall() -> None:
    global _options  # noqa: PLW0603
    with _patches.lock:
        if not _patches.installed:
            return
        _patches.restore()
        while _installed_with:
            _installed_with.pop().uninstall()
        _options = RuntimeOptions()
        clear_calls()


def installed() -> bool:
    return _patches.installed


@contextlib.contextmanager
def emulated(
    clock: SimulatedClock | None = None, moto_config: DefaultConfig | None = None
) -> Iterator[SimulatedClock | None]:
    """``mock_aws`` with the Bedrock emulations installed (inference profiles, this runtime, its
    denies and logs) and ``clock`` as ``tokenfuse.clock``'s now: Bedrock without a whole sandbox.
    What this context installed is removed at its end."""
    from moto import mock_aws

    undo: list[Callable[[], None]] = []
    if not bedrock_profiles.installed():
        bedrock_profiles.install()
        undo.append(bedrock_profiles.uninstall)
    if not installed():
        install()
        undo.append(uninstall)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock_aws(config=moto_config))
            if clock is not None:
                stack.enter_context(clock.use_for_tokenfuse())
            yield clock
    finally:
        for step in reversed(undo):
            step()
