"""Small helpers shared by the signal parsers: bounded JSON, times, hashes, one-line errors."""

import hashlib
import json
import math
import re
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import ValidationError

from tokenfuse.errors import ImplausibleSignal, MalformedSignal
from tokenfuse.text import one_line

RawSource = Literal["sns", "sqs-sns", "eventbridge"]

NESTING_LIMIT = 100
"""JSON nested deeper than this (objects and arrays) is refused before any model reads it."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""Every timestamp a signal carries lies in [EARLIEST, LATEST): far from the calendar's ends, so
the parsers' date arithmetic (a period, a day, a quarter) can never overflow."""

_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_MAX_TEXT = 160


def load_json(text: str, what: str, *, lenient: bool = False) -> Any:
    """``json.loads`` that refuses, with one line, text that is not JSON or nests too deeply.
    ``lenient``: text that is not JSON is None instead (nesting too deeply is still refused)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(what) from None
    except ValueError as error:
        if lenient:
            return None
        raise MalformedSignal(f"{what} looks like JSON but does not parse: {shorten(error)}") from None
    require_shallow(value, what)
    return value


def require_shallow(value: Any, what: str) -> None:
    """Refuse a JSON value (decoded or given as a dict) nested deeper than NESTING_LIMIT."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth + 1 > NESTING_LIMIT:
            raise _too_deep(what)
        stack.extend((child, depth + 1) for child in children)


def _too_deep(what: str) -> MalformedSignal:
    return MalformedSignal(f"{what}: JSON nests deeper than {NESTING_LIMIT} levels")


def parse_time(value: Any, what: str) -> datetime:
    """An AWS timestamp as aware UTC: ISO-8601 with ``Z``, ``+00:00`` or CloudWatch's ``+0000``;
    a bare date (Cost Anomaly Detection's day granularity) is that day's midnight UTC. Anything
    outside [EARLIEST, LATEST) is refused."""
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
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00, year 9999 at -12:00: not an instant the calendar holds
        raise _out_of_range(what, value) from None
    if not EARLIEST <= utc < LATEST:
        raise _out_of_range(what, value)
    return utc


def require_day(day: date, what: str) -> date:
    """A calendar day from a payload, refused outside [EARLIEST, LATEST) like a timestamp."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise _out_of_range(what, day.isoformat())
    return day


def _out_of_range(what: str, value: object) -> ImplausibleSignal:
    return ImplausibleSignal(
        f"{what}: {shorten(value, 40)} is outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"
    )


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def dedup_hash(*parts: object) -> str:
    """A short, stable key: the first 32 hex digits of the sha256 of the parts."""
    canonical = json.dumps([str(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def shorten(value: object, limit: int = _MAX_TEXT) -> str:
    """One line, at most ``limit`` characters, for error messages: whitespace runs collapsed to
    one space, what is left unprintable escaped (:func:`tokenfuse.text.one_line`)."""
    return one_line(" ".join(str(value).split()), limit)


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
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.replace(",", "").strip())
        else:
            return None
    except (ValueError, OverflowError):  # not a number; an integer too large for a float
        return None
    return number if math.isfinite(number) else None
