"""Text helpers: untrusted text made safe for one log line or one error message; a phrase as the
start of a sentence; a secret's value out of its plain or JSON text."""

import json
from collections.abc import Mapping

ONE_LINE_LIMIT = 300


def _escaped(char: str) -> str:
    if char.isprintable():
        return char
    # control, format (bidi overrides, zero-width), separators other than the space, unassigned
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def one_line(value: object, limit: int = ONE_LINE_LIMIT) -> str:
    """``value`` as one printable line of at most ``limit`` characters: every character Python
    does not call printable (newlines, escapes, bidi overrides, no-break spaces) escaped
    (``\\x0a``, ``\\u202e``), the rest cut with ``...``."""
    text = str(value)
    if len(text) > 4 * limit:  # never escape megabytes to keep a few hundred characters
        text = text[: 4 * limit]
    safe = "".join(_escaped(char) for char in text)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


def sentence(phrase: str) -> str:
    """``phrase`` with its first letter upper case and the rest as it was (``str.capitalize`` would
    lower-case the rest: a role name, ``ModelId``): ``blocked role/Worker`` -> ``Blocked role/Worker``."""
    return phrase[:1].upper() + phrase[1:]


def secret_value(value: str | bytes | Mapping[str, object], *keys: str) -> str:
    """A secret's value as Secrets Manager holds it: the plain string (trimmed), or, when it is a
    JSON object, the first of ``keys`` it holds (an object of one field: that field). Raises
    ValueError, saying which, for text that starts with ``{`` but is not JSON and for an object
    with none of ``keys``; never shows the value."""
    if isinstance(value, Mapping):
        document: object = value
    else:
        text = (value.decode() if isinstance(value, bytes) else value).strip()
        if not text.startswith("{"):
            return text
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("starts with '{' but is not JSON") from None
    if not isinstance(document, Mapping):  # pragma: no cover - a '{' that parses is an object
        raise ValueError("is JSON but not an object")
    for key in keys:
        if document.get(key):
            return str(document[key]).strip()
    if len(document) == 1:
        return str(next(iter(document.values()))).strip()
    raise ValueError(f"is JSON without a {' or '.join(keys)} key")
