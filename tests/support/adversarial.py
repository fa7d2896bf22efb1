"""Hostile input for the adversarial corpus (``tests/adversarial``): hypothesis strategies for JSON
and unicode, and deterministic mutations of the real samples in ``events/``.

Every input tokenfuse reads (the intake queue, the approve Function URL, CloudTrail events to the
inventory, ``tokenfuse signals parse``, the team directory) is attacked with the same material, so
"whatever arrives" means the same thing everywhere.
"""

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

NESTING_LIMIT = 100
"""JSON nested deeper than this is refused by tokenfuse's readers before any model sees it."""

OVERSIZED = "x" * 1025
"""Just over 1 KB: longer than any identifier tokenfuse accepts in a button value or link."""

NOT_UTF8 = b'{"Type": "Notification", "Message": "\xff\xfe\xfa"}'
"""Bytes that are not UTF-8 (a JSON object's shape around them)."""

CALENDAR_EDGES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "9999-12-31",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
]
"""Timestamps at the calendar's ends, where adding or subtracting a duration overflows."""

OVERFLOWING_NUMBERS = [10**20, -(10**20), 2**63, 1e308, -1e308, 10**400]
"""Durations and amounts that overflow a timedelta, a float or a signed 64-bit integer."""

HOSTILE_STRINGS = [
    "",
    " ",
    OVERSIZED,
    "\x00",
    "line\nbreak",
    "\u202eevil",  # right-to-left override
    "caf\u00e9",
    "\U0001f4a5",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE incidents; --",
    "${jndi:ldap://x}",
    "%s%s%s%n",
]
"""Strings that have broken parsers elsewhere: empty, oversized, control and bidi characters,
non-ASCII, path traversal, markup, injection."""

# -- hypothesis strategies -------------------------------------------------------------------------

unicode_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]),  # lone surrogates cannot be UTF-8 encoded
    max_size=40,
)
"""Any text a UTF-8 body can carry: control characters, combining marks, emoji, RTL."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    unicode_text,
    st.sampled_from([*CALENDAR_EDGES, *HOSTILE_STRINGS]),
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(unicode_text, children, max_size=4)
    ),
    max_leaves=16,
)
"""Any JSON value (what ``json.loads`` can return), nested a few levels."""

json_objects = st.dictionaries(unicode_text, json_values, max_size=6)


def deeply_nested(depth: int = NESTING_LIMIT + 50, *, key: str = "a") -> str:
    """JSON text nesting objects and arrays ``depth`` levels deep (over the limit by default)."""
    opening = "".join(f'{{"{key}": [' for _ in range(depth // 2))
    return opening + "1" + "]}" * (depth // 2)


# -- mutations of a real sample --------------------------------------------------------------------

_SENTINEL_DELETE = object()


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``data`` with the node at ``path`` replaced (or deleted for ``DELETE``)."""
    if not path:
        return None if value is _SENTINEL_DELETE else value
    result = copy.deepcopy(data)
    parent = result
    for part in path[:-1]:
        parent = parent[part]
    if value is _SENTINEL_DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


DELETE = _SENTINEL_DELETE


def swapped(value: Any) -> list[Any]:
    """What a hostile sender puts where ``value`` belongs: the other JSON shapes (a string or list
    where an object is expected, and the reverse), nothing, and an oversized string."""
    options: list[Any] = [None, OVERSIZED]
    if isinstance(value, dict):
        options += ["an object was expected", [value], []]
    elif isinstance(value, list):
        options += [{"0": value[0]} if value else {}, "a list was expected"]
    elif isinstance(value, str):
        options += [[value], {"value": value}, 12345, ""]
    elif isinstance(value, bool) or value is None:
        options += ["true", {}]
    elif isinstance(value, int | float):
        options += [str(value), [value], -abs(value) - 1, 10**20]
    return options


def shape(value: Any) -> str:
    """What a swapped-in value is, in words (labels never quote the sample's own values, which may
    be random: pytest-xdist needs every worker to collect the same ids)."""
    if value is None:
        return "null"
    if value is OVERSIZED:
        return "an oversized string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if value == "" else "a string"
    if isinstance(value, int | float):
        return "a negative number" if value < 0 else "a huge number" if value >= 10**20 else "a number"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return "an object" if value else "an empty object"


def mutations(sample: Any, *, limit: int | None = None) -> Iterator[tuple[str, Any]]:
    """``(label, mutated)`` pairs: every node of ``sample`` deleted or swapped for another shape.
    Deterministic labels (``"detail/anomalyId as a list"``), so a corpus case is reproducible by
    label even where the sample carries a random or time-based value."""
    count = 0
    for path in _paths(sample):
        if not path:
            continue
        node = sample
        for part in path:
            node = node[part]
        where = "/".join(str(p) for p in path)
        variants: list[tuple[str, Any]] = [("deleted", DELETE)]
        variants += [(f"as {shape(v)}", v) for v in swapped(node)]
        for how, value in variants:
            yield f"{where} {how}", replaced(sample, path, value)
            count += 1
            if limit is not None and count >= limit:
                return
