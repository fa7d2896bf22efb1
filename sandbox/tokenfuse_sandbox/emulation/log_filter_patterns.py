"""Emulation: CloudWatch Logs filter patterns, for the subscription filters the sandbox delivers.

moto stores a subscription filter's ``filterPattern`` but delivers every event whatever it says;
the delivery emulation (:mod:`.invocation_logs`) matches each event with :func:`compile_pattern`
instead. Supported (CloudWatch Logs' own syntax):

- the empty pattern: every event;
- terms: ``ERROR``, ``"quoted phrase"``, several of them (all must appear; case-sensitive);
- JSON patterns on events whose message is a JSON object: ``{ $.modelId = "arn:aws:bedrock:*" }``,
  selectors with ``.name`` and ``[index]`` steps, ``=`` / ``!=`` on strings (``*`` wildcard, quoted
  or bare) and numbers, ``<``, ``<=``, ``>``, ``>=`` on numbers, ``IS NULL``, ``IS TRUE``,
  ``IS FALSE``, ``NOT EXISTS``, combined with ``&&``, ``||`` and parentheses (``&&`` binds tighter).
  A selector that finds nothing makes its comparison false (``NOT EXISTS`` true).

Anything else (``?term`` / ``-term``, space-delimited ``[a, b]`` patterns, ``%regex%``, metric
filter value extraction) raises :class:`UnsupportedFilterPattern`, which ``PutSubscriptionFilter``
answers with an InvalidParameterException naming it, instead of delivering events the real
service would have filtered out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Matcher", "UnsupportedFilterPattern", "compile_pattern"]

Matcher = Callable[[str], bool]
_Predicate = Callable[[Any], bool]


class UnsupportedFilterPattern(ValueError):
    """A filter pattern outside what the emulation matches (or not a valid pattern at all)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<paren>[()])
      | (?P<logic>&&|\|\|)
      | (?P<selector>\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])+)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![^\s()&|=!<>]))
      | (?P<word>[^\s()&|=!<>"]+)
    )""",
    re.VERBOSE,
)
_MISSING = object()


@dataclass
class _Token:
    kind: str
    text: str


def _tokens(body: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        m = _TOKEN.match(body, position)
        if m is None or m.lastgroup is None:
            raise UnsupportedFilterPattern(
                f"unexpected {body[position:].strip()[:20]!r} in the JSON filter pattern"
            )
        out.append(_Token(m.lastgroup, m.group(m.lastgroup)))
        position = m.end()
    return out


def _select(document: Any, selector: str) -> Any:
    value = document
    for step in re.findall(r"\.([A-Za-z0-9_@-]+)|\[(\d+)\]", selector):
        name, index = step
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _wildcard(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


def _unquote(quoted: str) -> str:
    try:
        text = json.loads(quoted)
    except ValueError as error:
        raise UnsupportedFilterPattern(f"{quoted} is not a valid quoted string") from error
    return str(text)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (kind and token.kind != kind) or (text and token.text.upper() != text):
            wanted = text or kind or "more"
            found = token.text if token else "the end of the pattern"
            raise UnsupportedFilterPattern(f"expected {wanted} in the JSON filter pattern, found {found}")
        self.i += 1
        return token

    def _chain(
        self, operator: str, operand: Callable[[], _Predicate], combine: Callable[..., bool]
    ) -> _Predicate:
        terms = [operand()]
        while (token := self.peek()) is not None and token.text == operator:
            self.take()
            terms.append(operand())
        return terms[0] if len(terms) == 1 else lambda doc: combine(t(doc) for t in terms)

    def expression(self) -> _Predicate:
        return self._chain("||", self.conjunction, any)

    def conjunction(self) -> _Predicate:
        return self._chain("&&", self.unary, all)

    def unary(self) -> _Predicate:
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.expression()
            self.take("paren", ")")
            return inner
        return self.comparison()

    def comparison(self) -> _Predicate:
        selector = self.take("selector").text
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() in ("IS", "NOT"):
            return self.keyword(selector)
        op = self.take("op").text
        value = self.peek()
        if value is None or value.kind not in ("string", "number", "word"):
            raise UnsupportedFilterPattern(f"a value must follow {selector} {op}")
        self.take()
        if value.kind == "number":
            number = float(value.text)
            compare = _NUMERIC[op]
            return lambda doc: _is_number(v := _select(doc, selector)) and compare(float(v), number)
        if op not in ("=", "!="):
            raise UnsupportedFilterPattern(f"{op} compares numbers only, not {value.text}")
        text = _unquote(value.text) if value.kind == "string" else value.text
        pattern = _wildcard(text)
        equal = op == "="
        return lambda doc: (
            isinstance(v := _select(doc, selector), str) and bool(pattern.fullmatch(v)) == equal
        )

    def keyword(self, selector: str) -> _Predicate:
        first = self.take("word").text.upper()
        second = self.take("word").text.upper()
        if first == "NOT" and second == "EXISTS":
            return lambda doc: _select(doc, selector) is _MISSING
        expected = {"NULL": None, "TRUE": True, "FALSE": False}
        if first != "IS" or second not in expected:
            raise UnsupportedFilterPattern(f"{selector} {first} {second} is not a filter pattern test")
        wanted = expected[second]
        return lambda doc: (v := _select(doc, selector)) is not _MISSING and v is wanted


def _json_matcher(pattern: str) -> Matcher:
    parser = _Parser(_tokens(pattern[1:-1]))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise UnsupportedFilterPattern(f"unexpected {parser.peek().text!r} in the JSON filter pattern")  # type: ignore[union-attr]

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return isinstance(document, dict) and predicate(document)

    return matches


def _term_matcher(pattern: str) -> Matcher:
    terms: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', pattern):
        quoted, bare = m.groups()
        if quoted is not None:
            terms.append(_unquote(f'"{quoted}"'))
        elif bare[0] in "?-[%" or '"' in bare:
            raise UnsupportedFilterPattern(
                f"the term {bare!r}: only plain and quoted terms, and JSON patterns, are emulated"
            )
        else:
            terms.append(bare)
    return lambda message: all(term in message for term in terms)


def compile_pattern(pattern: str) -> Matcher:
    """A function telling whether an event's message matches ``pattern``."""
    text = pattern.strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise UnsupportedFilterPattern("a JSON filter pattern must end with }")
        return _json_matcher(text)
    return _term_matcher(text)
