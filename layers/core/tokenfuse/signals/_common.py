"""Small helpers shared by the signal parsers: times, hashes, one-line errors."""

import hashlib
import json
import math
import re
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import ValidationError

from tokenfuse.errors import MalformedSignal

RawSource = Literal["sns", "sqs-sns", "eventbridge"]

_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_MAX_TEXT = 160


def parse_time(value: Any, what: str) -> datetime:
    """An AWS timestamp as aware UTC: ISO-8601 with ``Z``, ``+00:00`` or CloudWatch's ``+0000``;
    a bare date (Cost Anomaly Detection's day granularity) is that day's midnight UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", value.strip())
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise MalformedSignal(f"{what}: not a timestamp: {shorten(value)}") from None
    else:
        raise MalformedSignal(f"{what}: missing timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def dedup_hash(*parts: object) -> str:
    """A short, stable key: the first 32 hex digits of the sha256 of the parts."""
    canonical = json.dumps([str(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def shorten(value: object, limit: int = _MAX_TEXT) -> str:
    """One line, at most ``limit`` characters, for error messages."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def condense(error: ValidationError, what: str) -> MalformedSignal:
    """A pydantic ValidationError as one MalformedSignal line (first problem + how many more)."""
    problems = error.errors(include_url=False, include_input=False)
    if not problems:
        return MalformedSignal(f"{what}: does not validate")
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "(root)"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return MalformedSignal(shorten(f"{what}: {where}: {first.get('msg', 'invalid')}{more}", 300))


def as_float(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string (``1,234.5`` too), else None."""
    number: float
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
