"""Emulation: AWS's event-stream binary framing (``application/vnd.amazon.eventstream``), written.

The streaming Bedrock operations (``InvokeModelWithResponseStream``, ``ConverseStream``) answer
with a sequence of these messages; botocore reads them with its own ``EventStream`` parser, so
what this module writes is exactly what that parser accepts. One message is::

    prelude   total length (uint32, big endian), headers length (uint32), prelude CRC32 (uint32)
    headers   per header: name length (uint8), name (UTF-8), value type (uint8), value
    payload   the event's body (for Bedrock: a JSON document)
    trailer   CRC32 of everything before it (uint32)

Header value types follow AWS's table: 0/1 boolean true/false, 2 byte, 3 short, 4 integer,
5 long, 6 byte array, 7 string, 8 timestamp (milliseconds since the epoch), 9 UUID. The limits
are botocore's: headers at most 128 KiB, a payload at most 24 MiB, a header name at most 255
bytes, a string or byte-array value at most 32,767 bytes; a message that would break one raises
:class:`ValueError` here instead of failing later in the reader.

What it does NOT prove: the service's own chunk sizes and timing (the emulation writes the whole
stream at once), or the ``:date`` / ``:chunk-signature`` headers of signed request streams.
"""

from __future__ import annotations

import binascii
import json
import struct
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

__all__ = [
    "HeaderValue",
    "encode_message",
    "event_message",
    "exception_message",
]

MAX_HEADERS_BYTES = 128 * 1024
MAX_PAYLOAD_BYTES = 24 * 1024 * 1024
MAX_HEADER_NAME_BYTES = 255
MAX_HEADER_VALUE_BYTES = 32_767
_PRELUDE = struct.Struct(">II")
_UINT32 = struct.Struct(">I")

HeaderValue = bool | int | bytes | str | datetime | uuid.UUID


def _header_value(value: HeaderValue) -> bytes:
    # bool before int: bool is an int subclass
    if isinstance(value, bool):
        return bytes([0 if value else 1])
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return bytes([4]) + struct.pack(">i", value)
        if -(2**63) <= value < 2**63:
            return bytes([5]) + struct.pack(">q", value)
        raise ValueError(f"event-stream header integer {value} does not fit 64 bits")
    if isinstance(value, (bytes, str)):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if len(raw) > MAX_HEADER_VALUE_BYTES:
            raise ValueError(
                f"event-stream header value of {len(raw)} bytes (limit {MAX_HEADER_VALUE_BYTES})"
            )
        return bytes([7 if isinstance(value, str) else 6]) + struct.pack(">H", len(raw)) + raw
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("event-stream timestamp headers need a timezone-aware datetime")
        return bytes([8]) + struct.pack(">q", round(value.timestamp() * 1000))
    if isinstance(value, uuid.UUID):
        return bytes([9]) + value.bytes
    raise TypeError(f"no event-stream header type for {type(value).__name__}")


def _headers(headers: Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]) -> bytes:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = bytearray()
    seen: set[str] = set()
    for name, value in items:
        raw_name = name.encode("utf-8")
        if not 1 <= len(raw_name) <= MAX_HEADER_NAME_BYTES:
            raise ValueError(f"event-stream header name {name!r} must be 1 to {MAX_HEADER_NAME_BYTES} bytes")
        if name in seen:
            raise ValueError(f"event-stream header {name!r} given twice")
        seen.add(name)
        out += bytes([len(raw_name)]) + raw_name + _header_value(value)
    if len(out) > MAX_HEADERS_BYTES:
        raise ValueError(f"event-stream headers of {len(out)} bytes (limit {MAX_HEADERS_BYTES})")
    return bytes(out)


def encode_message(
    headers: Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]], payload: bytes = b""
) -> bytes:
    """One event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"event-stream payload of {len(payload)} bytes (limit {MAX_PAYLOAD_BYTES})")
    encoded_headers = _headers(headers)
    total = _PRELUDE.size + _UINT32.size + len(encoded_headers) + len(payload) + _UINT32.size
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    prelude += _UINT32.pack(binascii.crc32(prelude))
    body = prelude + encoded_headers + payload
    return body + _UINT32.pack(binascii.crc32(body))


def _json(document: Mapping[str, object]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def event_message(event_type: str, payload: Mapping[str, object]) -> bytes:
    """An ``event`` message of type ``event_type`` (the member name in the operation's stream
    shape, e.g. ``chunk`` or ``contentBlockDelta``) carrying ``payload`` as JSON."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, _json(payload))


def exception_message(exception_type: str, message: str) -> bytes:
    """An ``exception`` message (a modeled stream error such as ``throttlingException``)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))
