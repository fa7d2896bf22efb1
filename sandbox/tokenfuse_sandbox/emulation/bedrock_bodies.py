"""Emulation: the request and response bodies of Bedrock's models, per model family.

The emulated ``bedrock-runtime`` (:mod:`.bedrock_runtime`) reads the caller's body here and writes
the answer in the shape each family really uses:

- **Anthropic Claude** (messages API): ``anthropic_version``, ``max_tokens``, ``messages``,
  ``system``; the answer ``{"id", "type": "message", "role", "model", "content", "stop_reason",
  "stop_sequence", "usage": {"input_tokens", "cache_creation_input_tokens",
  "cache_read_input_tokens", "output_tokens"}}``; streamed as ``message_start``,
  ``content_block_start``, ``content_block_delta``..., ``content_block_stop``, ``message_delta``,
  ``message_stop`` (which carries ``amazon-bedrock-invocationMetrics``).
- **Amazon Nova** (``messages-v1``): ``messages``, ``system``, ``inferenceConfig.max_new_tokens``
  (or ``maxTokens``); the answer ``{"output": {"message"}, "stopReason", "usage": {"inputTokens",
  "outputTokens", "totalTokens", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"}}``.
- **Amazon Titan Text**: ``inputText``, ``textGenerationConfig.maxTokenCount``; the answer
  ``{"inputTextTokenCount", "results": [{"tokenCount", "outputText", "completionReason"}]}``.
- **Meta Llama**: ``prompt``, ``max_gen_len``; the answer ``{"generation", "prompt_token_count",
  "generation_token_count", "stop_reason"}``.
- **Converse** for every model in :data:`FOUNDATION_MODELS` (Mistral only through Converse).

Token counts are deterministic so a test can work dollars out by hand: **one token per
whitespace-separated word** of the text the request carries (system prompt and messages; images,
documents and tool specs count nothing), and the model answers with ``answer_tokens`` words
(an option of the runtime), cut at the request's maximum. A prompt-cache point (Anthropic
``cache_control`` on a block, Nova / Converse ``cachePoint``) makes everything before it the
cached prefix, on the models that cache (:attr:`FoundationModel.prompt_caching`).

What it does NOT prove: the real tokenizers, the models' real answers or their lengths, tool use,
images and documents, guardrails, the minimum cacheable prefix (1,024 tokens for Claude), and the
exact wording of every validation message (the common ones are copied from the service).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "FOUNDATION_MODELS",
    "Answer",
    "BodyError",
    "FoundationModel",
    "Prompt",
    "Segment",
    "Usage",
    "converse_response",
    "converse_stream_events",
    "count_tokens",
    "invoke_response",
    "invoke_stream_chunks",
    "parse_converse",
    "parse_invoke",
]

Family = Literal["anthropic", "nova", "titan-text", "llama", "mistral"]


@dataclass(frozen=True)
class FoundationModel:
    model_id: str
    family: Family
    max_output_tokens: int
    prompt_caching: bool = False


def _models(*models: FoundationModel) -> dict[str, FoundationModel]:
    return {m.model_id: m for m in models}


# A small hand-written catalogue (every model of tokenfuse's price table and of the emulated system
# profiles, plus Titan Text); the real one is larger, and varies by region.
FOUNDATION_MODELS = _models(
    FoundationModel("anthropic.claude-3-haiku-20240307-v1:0", "anthropic", 4096),
    FoundationModel("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic", 8192, prompt_caching=True),
    FoundationModel("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic", 8192),
    FoundationModel("anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic", 8192, prompt_caching=True),
    FoundationModel("anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic", 64000, prompt_caching=True),
    FoundationModel("anthropic.claude-sonnet-4-20250514-v1:0", "anthropic", 64000, prompt_caching=True),
    FoundationModel("amazon.nova-micro-v1:0", "nova", 10000, prompt_caching=True),
    FoundationModel("amazon.nova-lite-v1:0", "nova", 10000, prompt_caching=True),
    FoundationModel("amazon.nova-pro-v1:0", "nova", 10000, prompt_caching=True),
    FoundationModel("amazon.titan-text-lite-v1", "titan-text", 4096),
    FoundationModel("amazon.titan-text-express-v1", "titan-text", 8192),
    FoundationModel("amazon.titan-text-premier-v1:0", "titan-text", 3072),
    FoundationModel("meta.llama3-8b-instruct-v1:0", "llama", 2048),
    FoundationModel("meta.llama3-70b-instruct-v1:0", "llama", 2048),
    FoundationModel("meta.llama3-1-8b-instruct-v1:0", "llama", 2048),
    FoundationModel("meta.llama3-1-70b-instruct-v1:0", "llama", 2048),
    FoundationModel("meta.llama3-3-70b-instruct-v1:0", "llama", 2048),
    FoundationModel("mistral.mistral-large-2402-v1:0", "mistral", 8192),
    FoundationModel("mistral.mistral-large-2407-v1:0", "mistral", 8192),
)


class BodyError(Exception):
    """The request body is refused (a ValidationException), in the service's words."""


def count_tokens(text: str) -> int:
    """The emulation's tokenizer: one token per whitespace-separated word."""
    return len(text.split())


# --------------------------------------------------------------------------------------------------
# What the caller sent: text segments, cache points, a maximum
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    cache_point_after: bool = False


@dataclass(frozen=True)
class Prompt:
    segments: tuple[Segment, ...]
    max_tokens: int | None
    request_metadata: Mapping[str, str] | None = None

    @property
    def tokens(self) -> int:
        return sum(count_tokens(s.text) for s in self.segments)

    def cached_prefix(self) -> tuple[int, str] | None:
        """(tokens, key) of everything up to the last cache point, or None without one."""
        last = max((i for i, s in enumerate(self.segments) if s.cache_point_after), default=None)
        if last is None:
            return None
        prefix = self.segments[: last + 1]
        key = hashlib.sha256(json.dumps([s.text for s in prefix]).encode()).hexdigest()
        return sum(count_tokens(s.text) for s in prefix), key


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    """Input tokens outside the cache (AWS's ``inputTokens``: cache tokens excluded)."""
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    latency_ms: int
    first_byte_latency_ms: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class Answer:
    text: str
    usage: Usage
    cut_short: bool
    """The request's maximum stopped the answer (stop reason ``max_tokens``)."""
    message_id: str

    def deltas(self, words_per_delta: int = 8) -> list[str]:
        """The text in pieces that concatenate back to it (how a stream delivers it)."""
        words = self.text.split(" ") if self.text else []
        pieces = [" ".join(words[i : i + words_per_delta]) for i in range(0, len(words), words_per_delta)]
        return [p if i == 0 else " " + p for i, p in enumerate(pieces)]


_ANSWER_WORDS = [
    "this",
    "is",
    "the",
    "emulated",
    "model's",
    "answer",
    "and",
    "each",
    "word",
    "of",
    "it",
    "is",
    "one",
    "output",
    "token",
    "it",
    "is",
    "charged",
    "for",
]


def answer_text(tokens: int) -> str:
    return " ".join(itertools.islice(itertools.cycle(_ANSWER_WORDS), tokens))


# --------------------------------------------------------------------------------------------------
# Request bodies (pydantic), and the service's wording of what is wrong with one
# --------------------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _AnthropicBlock(_Body):
    type: str
    text: str | None = None
    cache_control: dict[str, Any] | None = None


class _AnthropicMessage(_Body):
    role: Literal["user", "assistant"]
    content: str | list[_AnthropicBlock]


class _AnthropicBody(_Body):
    anthropic_version: str
    max_tokens: int = Field(ge=1)
    messages: list[_AnthropicMessage]
    system: str | list[_AnthropicBlock] | None = None


class _NovaBlock(_Body):
    text: str | None = None
    cachePoint: dict[str, Any] | None = None


class _NovaMessage(_Body):
    role: Literal["user", "assistant"]
    content: list[_NovaBlock]


class _NovaInference(_Body):
    max_new_tokens: int | None = Field(default=None, ge=1)
    maxTokens: int | None = Field(default=None, ge=1)


class _NovaBody(_Body):
    schemaVersion: str | None = None
    messages: list[_NovaMessage] = Field(min_length=1)
    system: list[_NovaBlock] | None = None
    inferenceConfig: _NovaInference | None = None


class _TitanConfig(_Body):
    maxTokenCount: int | None = Field(default=None, ge=0)


class _TitanBody(_Body):
    inputText: str
    textGenerationConfig: _TitanConfig | None = None


class _LlamaBody(_Body):
    prompt: str
    max_gen_len: int | None = Field(default=None, ge=1)


class _ConverseInference(_Body):
    maxTokens: int | None = Field(default=None, ge=1)


class _ConverseBody(_Body):
    messages: list[_NovaMessage]
    system: list[_NovaBlock] | None = None
    inferenceConfig: _ConverseInference | None = None
    requestMetadata: dict[str, str] | None = None


_BODIES: tuple[type[_Body], ...] = (
    _AnthropicBlock, _AnthropicMessage, _AnthropicBody, _NovaBlock, _NovaMessage, _NovaInference,
    _NovaBody, _TitanConfig, _TitanBody, _LlamaBody, _ConverseInference, _ConverseBody,
)  # fmt: skip
_FIELD_NAMES = frozenset(name for body in _BODIES for name in body.model_fields)
_JSON_TYPES = {
    str: "String",
    int: "Integer",
    float: "Number",
    bool: "Boolean",
    list: "JSONArray",
    dict: "JSONObject",
}
_EXPECTED = {
    "string_type": "String",
    "int_type": "Integer",
    "list_type": "JSONArray",
    "dict_type": "JSONObject",
    "model_type": "JSONObject",
    "model_attributes_type": "JSONObject",
}


def _path(loc: Sequence[int | str]) -> list[str]:
    # pydantic names a union's branch in the location ('str', 'list[...]'): not a JSON path step
    return [str(p) for p in loc if isinstance(p, int) or p in _FIELD_NAMES]


def _malformed(error: ValidationError) -> BodyError:
    """The first problem, as Bedrock's JSON-schema check words it."""
    first = error.errors(include_url=False)[0]
    path = _path(first["loc"])
    if first["type"] == "missing":
        detail = f"#{''.join('/' + p for p in path[:-1])}: required key [{path[-1]}] not found"
    elif first["type"] in _EXPECTED:
        found = _JSON_TYPES.get(type(first["input"]), "Null")
        detail = f"#/{'/'.join(path)}: expected type: {_EXPECTED[first['type']]}, found: {found}"
    else:
        detail = f"#/{'/'.join(path)}: {first['msg']}"
    return BodyError(f"Malformed input request: {detail}, please reformat your input and try again.")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BodyError(
            "Malformed input request: the body is not valid JSON, please reformat your input and try again."
        ) from error
    if not isinstance(document, dict):
        found = _JSON_TYPES.get(type(document), "Null")
        raise BodyError(
            f"Malformed input request: expected type: JSONObject, found: {found}, "
            "please reformat your input and try again."
        )
    return document


def _check_max(model: FoundationModel, requested: int | None, converse: bool) -> None:
    if requested is None or requested <= model.max_output_tokens:
        return
    limit = model.max_output_tokens
    if converse or model.family != "anthropic":
        raise BodyError(
            f"The maximum tokens you requested exceeds the model limit of {limit}. "
            f"Try again with a maximum tokens value that is lower than {limit}."
        )
    raise BodyError(
        f"max_tokens: {requested} > {limit}, which is the maximum allowed number of output tokens "
        f"for {_short_name(model)}"
    )


def _anthropic_segments(content: str | list[_AnthropicBlock] | None, caching: bool) -> list[Segment]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Segment(content)]
    return [Segment(b.text or "", caching and b.cache_control is not None) for b in content]


def _block_segments(blocks: Sequence[_NovaBlock] | None, caching: bool) -> list[Segment]:
    """Text blocks as segments; a cachePoint block marks the end of the segment before it."""
    out: list[Segment] = []
    for block in blocks or []:
        if block.cachePoint is not None:
            if caching and out:
                out[-1] = Segment(out[-1].text, cache_point_after=True)
            elif caching:
                out.append(Segment("", cache_point_after=True))
            continue
        out.append(Segment(block.text or ""))
    return out


def parse_invoke(model: FoundationModel, raw: bytes) -> tuple[Prompt, dict[str, Any]]:
    """An InvokeModel body for ``model``: its prompt, and the body as JSON (for the log)."""
    document = _json_object(raw)
    try:
        if model.family == "anthropic":
            a = _AnthropicBody.model_validate(document)
            segments = _anthropic_segments(a.system, model.prompt_caching)
            for m in a.messages:
                segments += _anthropic_segments(m.content, model.prompt_caching)
            prompt = Prompt(tuple(segments), a.max_tokens)
        elif model.family == "nova":
            n = _NovaBody.model_validate(document)
            segments = _block_segments(n.system, model.prompt_caching)
            for msg in n.messages:
                segments += _block_segments(msg.content, model.prompt_caching)
            config = n.inferenceConfig or _NovaInference()
            prompt = Prompt(tuple(segments), config.max_new_tokens or config.maxTokens)
        elif model.family == "titan-text":
            t = _TitanBody.model_validate(document)
            limit = t.textGenerationConfig.maxTokenCount if t.textGenerationConfig else None
            prompt = Prompt((Segment(t.inputText),), limit)
        elif model.family == "llama":
            lm = _LlamaBody.model_validate(document)
            prompt = Prompt((Segment(lm.prompt),), lm.max_gen_len)
        else:
            raise BodyError(f"The emulation has no InvokeModel body for {model.model_id}: use Converse.")
    except ValidationError as error:
        raise _malformed(error) from error
    _check_max(model, prompt.max_tokens, converse=False)
    return prompt, document


def parse_converse(model: FoundationModel, raw: bytes) -> tuple[Prompt, dict[str, Any]]:
    """A Converse / ConverseStream request: its prompt, and the request as the log shows it."""
    document = _json_object(raw)
    try:
        c = _ConverseBody.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(_path(first["loc"]))
        raise BodyError(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: {first['msg']}"
        ) from error
    if not c.messages or c.messages[0].role != "user":
        raise BodyError(
            "A conversation must start with a user message. "
            "Try again with a conversation that starts with a user message."
        )
    if any(a.role == b.role for a, b in itertools.pairwise(c.messages)):
        raise BodyError(
            "A conversation must alternate between user and assistant roles. "
            "Make sure the conversation alternates between user and assistant roles and try again."
        )
    limit = c.inferenceConfig.maxTokens if c.inferenceConfig else None
    _check_max(model, limit, converse=True)
    segments = _block_segments(c.system, model.prompt_caching)
    for message in c.messages:
        segments += _block_segments(message.content, model.prompt_caching)
    logged: dict[str, Any] = {
        k: document[k] for k in ("messages", "system", "inferenceConfig") if k in document
    }
    logged["additionalModelRequestFields"] = document.get("additionalModelRequestFields", {})
    return Prompt(tuple(segments), limit, c.requestMetadata), logged


# --------------------------------------------------------------------------------------------------
# Response bodies
# --------------------------------------------------------------------------------------------------


def _short_name(model: FoundationModel) -> str:
    """``anthropic.claude-3-5-haiku-20241022-v1:0`` -> ``claude-3-5-haiku-20241022``."""
    name = model.model_id.split(".", 1)[1]
    return name.rsplit("-v", 1)[0] if "-v" in name else name


def invocation_metrics(answer: Answer, cache: bool) -> dict[str, int]:
    """``amazon-bedrock-invocationMetrics``: what the last chunk of a stream carries."""
    usage = answer.usage
    metrics = {
        "inputTokenCount": usage.input_tokens,
        "outputTokenCount": usage.output_tokens,
        "invocationLatency": usage.latency_ms,
        "firstByteLatency": usage.first_byte_latency_ms,
    }
    if cache:
        metrics["cacheReadInputTokenCount"] = usage.cache_read_tokens
        metrics["cacheWriteInputTokenCount"] = usage.cache_write_tokens
    return metrics


def _anthropic_usage(usage: Usage, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": output_tokens,
    }


def _nova_usage(usage: Usage) -> dict[str, int]:
    return {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.total_tokens,
        "cacheReadInputTokenCount": usage.cache_read_tokens,
        "cacheWriteInputTokenCount": usage.cache_write_tokens,
    }


def invoke_response(model: FoundationModel, answer: Answer) -> dict[str, Any]:
    """InvokeModel's body for ``model``."""
    u = answer.usage
    if model.family == "anthropic":
        return {
            "id": answer.message_id,
            "type": "message",
            "role": "assistant",
            "model": _short_name(model),
            "content": [{"type": "text", "text": answer.text}],
            "stop_reason": "max_tokens" if answer.cut_short else "end_turn",
            "stop_sequence": None,
            "usage": _anthropic_usage(u, u.output_tokens),
        }
    if model.family == "nova":
        return {
            "output": {"message": {"content": [{"text": answer.text}], "role": "assistant"}},
            "stopReason": "max_tokens" if answer.cut_short else "end_turn",
            "usage": _nova_usage(u),
        }
    if model.family == "titan-text":
        return {
            "inputTextTokenCount": u.input_tokens,
            "results": [
                {
                    "tokenCount": u.output_tokens,
                    "outputText": answer.text,
                    "completionReason": "LENGTH" if answer.cut_short else "FINISH",
                }
            ],
        }
    return {
        "generation": answer.text,
        "prompt_token_count": u.input_tokens,
        "generation_token_count": u.output_tokens,
        "stop_reason": "length" if answer.cut_short else "stop",
    }


def invoke_stream_chunks(model: FoundationModel, answer: Answer) -> list[dict[str, Any]]:
    """The decoded ``chunk`` payloads of InvokeModelWithResponseStream for ``model``."""
    u = answer.usage
    deltas = answer.deltas()
    metrics = {"amazon-bedrock-invocationMetrics": invocation_metrics(answer, model.prompt_caching)}
    if model.family == "anthropic":
        start = invoke_response(model, answer) | {"content": [], "stop_reason": None}
        start["usage"] = _anthropic_usage(u, 1)
        stop = "max_tokens" if answer.cut_short else "end_turn"
        text_block = {"type": "text", "text": ""}
        return [
            {"type": "message_start", "message": start},
            {"type": "content_block_start", "index": 0, "content_block": text_block},
            *(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}}
                for d in deltas
            ),
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": u.output_tokens},
            },
            {"type": "message_stop", **metrics},
        ]
    if model.family == "nova":
        return [
            {"messageStart": {"role": "assistant"}},
            *({"contentBlockDelta": {"delta": {"text": d}, "contentBlockIndex": 0}} for d in deltas),
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "max_tokens" if answer.cut_short else "end_turn"}},
            {
                "metadata": {"usage": {"inputTokens": u.input_tokens, "outputTokens": u.output_tokens}},
                **metrics,
            },
        ]
    pieces = deltas or [""]
    chunks: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if model.family == "titan-text":
            chunk: dict[str, Any] = {
                "outputText": piece,
                "index": 0,
                "totalOutputTextTokenCount": u.output_tokens if last else None,
                "completionReason": ("LENGTH" if answer.cut_short else "FINISH") if last else None,
                "inputTextTokenCount": u.input_tokens if i == 0 else None,
            }
        else:
            chunk = {
                "generation": piece,
                "prompt_token_count": u.input_tokens if i == 0 else None,
                "generation_token_count": count_tokens("".join(pieces[: i + 1])),
                "stop_reason": ("length" if answer.cut_short else "stop") if last else None,
            }
        chunks.append(chunk | metrics if last else chunk)
    return chunks


def _converse_usage(model: FoundationModel, usage: Usage) -> dict[str, int]:
    out = {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.total_tokens,
    }
    if model.prompt_caching:
        out["cacheReadInputTokens"] = usage.cache_read_tokens
        out["cacheWriteInputTokens"] = usage.cache_write_tokens
    return out


def converse_response(model: FoundationModel, answer: Answer) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": answer.text}]}},
        "stopReason": "max_tokens" if answer.cut_short else "end_turn",
        "usage": _converse_usage(model, answer.usage),
        "metrics": {"latencyMs": answer.usage.latency_ms},
    }


def converse_stream_events(model: FoundationModel, answer: Answer) -> list[tuple[str, dict[str, Any]]]:
    """(event type, payload) of ConverseStream, in order."""
    return [
        ("messageStart", {"role": "assistant"}),
        *(("contentBlockDelta", {"delta": {"text": d}, "contentBlockIndex": 0}) for d in answer.deltas()),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": "max_tokens" if answer.cut_short else "end_turn"}),
        (
            "metadata",
            {
                "usage": _converse_usage(model, answer.usage),
                "metrics": {"latencyMs": answer.usage.latency_ms},
            },
        ),
    ]
