"""Emulation: the AWS Price List API (``pricing:GetProducts``) inside moto, answering for Bedrock.

moto 5.2.5 has no ``pricing`` service: a call to ``api.pricing.us-east-1.amazonaws.com`` gets its
"Not yet implemented" 404. :func:`install` adds that endpoint to moto's URL index, served by
:class:`EmulatedPriceList`, so boto3's own ``pricing`` client and its ``get_products`` paginator
work unchanged inside ``mock_aws()`` and botocore parses real response bytes; :func:`uninstall`
puts moto's index back.

**What it answers.** ``GetProducts`` for ``AmazonBedrock`` and ``AmazonBedrockFoundationModels``
from :data:`CATALOGUE`: rows written by hand in the Price List's own naming (``usagetype``,
``inferenceType``, ``feature``, ``service_tier``, ``model``, ``servicename``, ``regionCode``...),
each served as AWS documents a ``PriceList`` entry: a JSON *string* holding ``product`` (family,
attributes, SKU), ``serviceCode``, ``terms.OnDemand`` (one offer term with its SKU, effective date,
offer term code and one price dimension: unit, description, ranges, rate code, ``pricePerUnit``),
``version`` and ``publicationDate`` (botocore's ``pricing`` example answer has this shape).
``AmazonBedrock`` prices per ``1K tokens``; ``AmazonBedrockFoundationModels`` per million tokens in
``Units`` whose description says "Million ... Tokens", as the Marketplace listings do.
Filters: ``TERM_MATCH`` and ``EQUALS`` (the value exactly), ``CONTAINS``, ``ANY_OF`` and ``NONE_OF``
(comma-separated values), on ``ServiceCode`` or any attribute; pages of ``MaxResults`` (1-100,
default 100) with an opaque ``NextToken`` bound to its query. Refused as AWS would:
``InvalidParameterException`` for a ``FormatVersion`` other than ``aws_v1``, ``MaxResults`` over 100
or an unknown filter type; ``InvalidNextTokenException`` for a token of another query.

**The figures.** A model's regional on-demand default-tier rates are those of tokenfuse's embedded
table (written here by hand, never read from it); the other rates apply AWS's published ratios to
them: global cross-region 10% less, batch and flex half, priority 75% more, a 1-hour cache write
twice the input rate (Anthropic). They are the emulation's figures, not AWS's. Rows the refresh must
skip are there too, one of each kind: a model tokenfuse does not know, reserved-tier capacity,
Provisioned Throughput, a latency-optimized model, a long-context rate, a bedrock-mantle rate, an
image model, a $0 row.

What it does NOT prove: AWS's real catalogue (its size, names and figures change every week),
``DescribeServices``, ``GetAttributeValues`` and the bulk price list files, the answer to an
unknown service code (an empty list here), AWS's page sizes and request-rate limits (never
throttled).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse

from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

__all__ = ["CATALOGUE", "EmulatedPriceList", "PriceRow", "emulated", "install", "installed", "uninstall"]

SERVICE_NAME = "pricing"
URL_PATTERN = re.compile(r"https?://api\.pricing\.(.+)\.amazonaws\.com")
MAX_RESULTS = 100
EFFECTIVE_DATE = "2026-11-01T00:00:00Z"
PUBLICATION_DATE = "2026-11-20T18:36:49Z"
VERSION = "20261120183649"
OFFER_TERM = "JRTCKXETXF"  # the on-demand offer term code every AWS on-demand price carries
RATE_CODE = "6YS6EN2CT7"

FOUNDATION_MODELS = "AmazonBedrockFoundationModels"
BEDROCK = "AmazonBedrock"
LOCATIONS = {"us-east-1": "US East (N. Virginia)", "us-west-2": "US West (Oregon)"}
USAGE_PREFIX = {"us-east-1": "USE1", "us-west-2": "USW2"}


@dataclass(frozen=True)
class PriceRow:
    """One product of the emulated catalogue."""

    service_code: str
    region: str
    usagetype: str
    price: str
    unit: str
    description: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def sku(self) -> str:
        digest = hashlib.sha256(
            f"{self.service_code}|{self.region}|{self.usagetype}|{self.attributes}".encode()
        )
        return base64.b32encode(digest.digest()).decode()[:16]

    def all_attributes(self) -> dict[str, str]:
        return {
            "servicecode": self.service_code,
            "regionCode": self.region,
            "location": LOCATIONS[self.region],
            "locationType": "AWS Region",
            "usagetype": self.usagetype,
            "operation": "Usage",
            **self.attributes,
        }

    def entry(self) -> dict[str, Any]:
        """The row as a ``PriceList`` entry, before it is serialized to its JSON string."""
        sku, term = self.sku, f"{self.sku}.{OFFER_TERM}"
        rate = f"{term}.{RATE_CODE}"
        return {
            "product": {
                "productFamily": "Amazon Bedrock" if self.service_code == BEDROCK else "Machine Learning",
                "attributes": self.all_attributes(),
                "sku": sku,
            },
            "serviceCode": self.service_code,
            "terms": {
                "OnDemand": {
                    term: {
                        "priceDimensions": {
                            rate: {
                                "unit": self.unit,
                                "endRange": "Inf",
                                "description": self.description,
                                "appliesTo": [],
                                "rateCode": rate,
                                "beginRange": "0",
                                "pricePerUnit": {"USD": self.price},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": EFFECTIVE_DATE,
                        "offerTermCode": OFFER_TERM,
                        "termAttributes": {},
                    }
                }
            },
            "version": VERSION,
            "publicationDate": PUBLICATION_DATE,
        }


def _usd(value: float) -> str:
    return f"{value:.10f}"


# -- the catalogue ----------------------------------------------------------------------------------
_MARKETPLACE_DIMENSIONS = {
    "InputTokenCount": "Million Input Tokens",
    "OutputTokenCount": "Million Response Tokens",
    "CacheReadInputTokenCount": "Million Cache Read Input Tokens",
    "CacheWriteInputTokenCount": "Million Cache Write Input Tokens",
    "CacheWrite1hInputTokenCount": "Million Cache Write 1h Input Tokens",
}


def _marketplace(region: str, servicename: str, dimension: str, usd: float, suffix: str = "") -> PriceRow:
    """An AmazonBedrockFoundationModels row: ``USE1-MP:USE1_InputTokenCount[_Global][_Batch]-Units``."""
    prefix = USAGE_PREFIX[region]
    base = next(d for d in _MARKETPLACE_DIMENSIONS if dimension.startswith(d))
    scope = "Global" if "Global" in suffix else "Regional"
    label = f"{_MARKETPLACE_DIMENSIONS[base]} {scope}{' Batch' if 'Batch' in suffix else ''}"
    return PriceRow(
        FOUNDATION_MODELS,
        region,
        f"{prefix}-MP:{prefix}_{dimension}{suffix}-Units",
        _usd(usd),
        "Units",
        f"AWS Marketplace software usage|{region}|{label}",
        {"servicename": servicename},
    )


def _claude(
    region: str, name: str, input_usd: float, output_usd: float, *, cache: bool, glob: bool
) -> list[PriceRow]:
    servicename = f"{name} (Amazon Bedrock Edition)"
    figures = {"InputTokenCount": input_usd, "OutputTokenCount": output_usd}
    if cache:
        figures |= {
            "CacheReadInputTokenCount": input_usd * 0.1,
            "CacheWriteInputTokenCount": input_usd * 1.25,
            "CacheWrite1hInputTokenCount": input_usd * 2,
        }
    rows = [_marketplace(region, servicename, d, usd) for d, usd in figures.items()]
    rows += [
        _marketplace(region, servicename, d, usd * 0.5, "_Batch")
        for d, usd in figures.items()
        if d in {"InputTokenCount", "OutputTokenCount"}
    ]
    if glob:
        rows += [_marketplace(region, servicename, d, usd * 0.9, "_Global") for d, usd in figures.items()]
    return rows


@dataclass(frozen=True)
class _Native:
    """A model of the AmazonBedrock service code in one region: its rows are
    ``USE1-NovaPro-input-tokens[-priority|-flex|-batch]``, priced per 1K tokens."""

    region: str
    model: str
    slug: str

    def row(
        self, meter: str, inference_type: str, usd_per_1k: float, feature: str = "On-demand Inference"
    ) -> PriceRow:
        prefix = USAGE_PREFIX[self.region]
        return PriceRow(
            BEDROCK,
            self.region,
            f"{prefix}-{self.slug}-{meter}",
            _usd(usd_per_1k),
            "1K tokens",
            f"${usd_per_1k:g} per 1K {inference_type.lower()} for {self.model} in {LOCATIONS[self.region]}",
            {
                "model": self.model,
                "provider": "Amazon" if self.model.startswith("Nova") else "Meta",
                "inferenceType": inference_type,
                "feature": feature,
            },
        )

    def text(self, input_usd: float, output_usd: float) -> list[PriceRow]:
        """Input and output rows, from USD per million tokens."""
        return [
            self.row("input-tokens", "Input tokens", input_usd / 1000),
            self.row("output-tokens", "Output tokens", output_usd / 1000),
        ]


def _nova(native: _Native, input_usd: float, output_usd: float, *, tiers: bool) -> list[PriceRow]:
    """Nova's rows, from USD per million tokens: cache reads 75% off input, writes at input."""
    k = 1000
    rows = [
        *native.text(input_usd, output_usd),
        native.row("cache-read-input-token-count", "Cache read input tokens", input_usd / 4 / k),
        native.row("cache-write-input-token-count", "Cache write input tokens", input_usd / k),
    ]
    if tiers:
        for tier, ratio in (("priority", 1.75), ("flex", 0.5)):
            rows += [
                native.row(f"input-tokens-{tier}", f"Input tokens {tier}", input_usd * ratio / k),
                native.row(f"output-tokens-{tier}", f"Output tokens {tier}", output_usd * ratio / k),
            ]
        # batch is said by `feature` alone on these rows: inferenceType is the standard one's
        rows += [
            native.row("input-tokens-batch", "Input tokens", input_usd / 2 / k, "Batch Inference"),
            native.row("output-tokens-batch", "Output tokens", output_usd / 2 / k, "Batch Inference"),
        ]
    return rows


def _skipped_kinds(region: str) -> list[PriceRow]:
    """One row of each kind tokenfuse's refresh must leave out, with the reason it gives."""
    prefix = USAGE_PREFIX[region]
    sonnet = "Claude Sonnet 4 (Amazon Bedrock Edition)"
    return [
        # a model tokenfuse's table does not name
        *_claude(region, "Claude Opus 4.1", 15.0, 75.0, cache=False, glob=False)[:2],
        # reserved tier: capacity per tokens-per-minute, not per token
        PriceRow(
            FOUNDATION_MODELS,
            region,
            f"{prefix}-MP:{prefix}_Reserved_1Month_InputTPM_Geo-Units",
            _usd(0.198),
            "Units",
            f"AWS Marketplace software usage|{region}|Reserved 1 Month Input TPM Geo",
            {"servicename": sonnet},
        ),
        # long-context rate
        _marketplace(region, sonnet, "InputTokenCount", 6.0, "_LCtx"),
        # Provisioned Throughput
        PriceRow(
            BEDROCK,
            region,
            f"{prefix}-NovaPro-ProvisionedThroughput-NoCommit-ModelUnits",
            _usd(44.0),
            "hours",
            "Provisioned Throughput, no commitment, per model unit and hour",
            {"model": "Nova Pro", "feature": "Provisioned Throughput Inference - no commit"},
        ),
        # a latency-optimized model
        _Native(region, "Llama 3.1 70B Latency Optimized", "Llama3-1-70B-LatencyOptimized").text(0.9, 0.9)[0],
        # bedrock-mantle (the OpenAI-compatible endpoint)
        PriceRow(
            BEDROCK,
            region,
            f"{prefix}-openai.gpt-oss-120b-mantle-input-tokens-standard",
            _usd(0.00015),
            "1K tokens",
            "gpt-oss-120b input tokens, bedrock-mantle",
            {"model": "gpt-oss-120b", "service_tier": "standard"},
        ),
        # an image model
        PriceRow(
            BEDROCK,
            region,
            f"{prefix}-NovaCanvas-T2I-1024-Standard",
            _usd(0.04),
            "image",
            "Nova Canvas, text to image, 1024x1024 standard",
            {"model": "Nova Canvas", "inferenceType": "T2I 1024 Standard", "feature": "On-demand Inference"},
        ),
        # a $0 row
        _Native(region, "Nova Micro", "NovaMicro").row("input-tokens-promotional", "Input tokens", 0.0),
    ]


def _catalogue() -> tuple[PriceRow, ...]:
    rows: list[PriceRow] = []
    for region in ("us-east-1", "us-west-2"):
        rows += _claude(region, "Claude Sonnet 4", 3.0, 15.0, cache=True, glob=True)
        rows += _claude(region, "Claude 3.5 Haiku", 0.8, 4.0, cache=True, glob=False)
        rows += _claude(region, "Claude 3 Haiku", 0.25, 1.25, cache=False, glob=False)
        rows += _nova(_Native(region, "Nova Pro", "NovaPro"), 0.8, 3.2, tiers=True)
        rows += _nova(_Native(region, "Nova Lite", "NovaLite"), 0.06, 0.24, tiers=False)
        rows += _Native(region, "Llama 3.3 70B", "Llama3-3-70B").text(0.72, 0.72)
        rows += _skipped_kinds(region)
    return tuple(rows)


CATALOGUE: tuple[PriceRow, ...] = _catalogue()


# -- the API ----------------------------------------------------------------------------------------
def _matches(row: PriceRow, filters: Sequence[Mapping[str, Any]]) -> bool:
    values = row.all_attributes() | {"ServiceCode": row.service_code}
    for f in filters:
        kind, name, wanted = str(f.get("Type", "")), str(f.get("Field", "")), str(f.get("Value", ""))
        have = values.get(name)
        options = [v.strip() for v in wanted.split(",")]
        if kind in {"TERM_MATCH", "EQUALS"}:
            ok = have == wanted
        elif kind == "CONTAINS":
            ok = have is not None and wanted in have
        elif kind == "ANY_OF":
            ok = have in options
        elif kind == "NONE_OF":
            ok = have not in options
        else:
            raise JsonRESTError("InvalidParameterException", f"Invalid filter type: {kind}")
        if not ok:
            return False
    return True


def _query_key(service_code: str, filters: Sequence[Mapping[str, Any]]) -> str:
    canonical = json.dumps([service_code, sorted(json.dumps(f, sort_keys=True) for f in filters)])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _token(query: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{query}:{offset}".encode()).decode()


def _offset(token: str, query: str) -> int:
    try:
        key, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if key != query:
            raise ValueError(key)
        return int(offset)
    except ValueError as error:
        raise JsonRESTError(
            "InvalidNextTokenException", "The next token is invalid for this query."
        ) from error


def get_products(body: Mapping[str, Any], catalogue: Sequence[PriceRow] = CATALOGUE) -> dict[str, Any]:
    """GetProducts' answer to one request body."""
    service_code = str(body.get("ServiceCode") or "")
    if not service_code:
        raise JsonRESTError("InvalidParameterException", "ServiceCode is required.")
    if body.get("FormatVersion", "aws_v1") != "aws_v1":
        raise JsonRESTError("InvalidParameterException", "Invalid FormatVersion: only aws_v1 is supported.")
    size = int(body.get("MaxResults") or MAX_RESULTS)
    if not 1 <= size <= MAX_RESULTS:
        raise JsonRESTError("InvalidParameterException", f"MaxResults must be between 1 and {MAX_RESULTS}.")
    filters = list(body.get("Filters") or [])
    query = _query_key(service_code, filters)
    start = _offset(str(body["NextToken"]), query) if body.get("NextToken") else 0
    rows = [r for r in catalogue if r.service_code == service_code and _matches(r, filters)]
    page = rows[start : start + size]
    answer: dict[str, Any] = {
        "FormatVersion": "aws_v1",
        "PriceList": [json.dumps(row.entry(), separators=(",", ":")) for row in page],
    }
    if start + size < len(rows):
        answer["NextToken"] = _token(query, start + size)
    return answer


class EmulatedPriceList(BaseResponse):
    """moto's handler for ``api.pricing.<region>.amazonaws.com`` while the emulation is installed."""

    def __init__(self) -> None:
        super().__init__(service_name=SERVICE_NAME)

    def call_action(self) -> tuple[int, dict[str, str], str]:
        operation = self._get_action()
        if operation != "GetProducts":
            raise JsonRESTError("UnknownOperationException", f"pricing {operation} is not emulated")
        raw = self.body if isinstance(self.body, str) else bytes(self.body or b"").decode()
        body = json.loads(raw or "{}")
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
        return 200, headers, json.dumps(get_products(body))


class _Backend:
    """What moto's request router needs of a backend: its URL table."""

    urls = {
        URL_PATTERN.pattern + "/.*$": EmulatedPriceList.dispatch,
        URL_PATTERN.pattern + "$": EmulatedPriceList.dispatch,
    }


_patches = MotoPatches()


def install() -> None:
    """Serve the Price List from this emulation (process-wide; idempotent)."""
    from moto import backend_index, backends

    with _patches.lock:
        if _patches.installed:
            return
        # moto types get_backend per service name; a name it does not know is ours alone
        original = cast("Callable[[str], Any]", backends.get_backend)

        def get_backend(name: str) -> Any:
            return {"global": _Backend()} if name == SERVICE_NAME else original(name)

        _patches.replace(
            backend_index,
            "backend_url_patterns",
            [(SERVICE_NAME, URL_PATTERN), *backend_index.backend_url_patterns],
        )
        _patches.replace(backends, "get_backend", get_backend)


def uninstall() -> None:
    _patches.restore()


def installed() -> bool:
    return _patches.installed


@contextlib.contextmanager
def emulated() -> Iterator[None]:
    """``mock_aws`` with this emulation installed: the Price List without a whole sandbox. What
    this context installed is removed at its end."""
    from moto import mock_aws

    added = not installed()
    if added:
        install()
    try:
        with mock_aws():
            yield
    finally:
        if added:
            uninstall()
