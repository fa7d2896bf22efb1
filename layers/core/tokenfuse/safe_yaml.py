"""YAML read for configuration a person writes: PyYAML's safe loader, stricter.

- a key given twice in one mapping is an error naming both lines (PyYAML keeps the last silently);
- nesting deeper than :data:`MAX_DEPTH` is an error (PyYAML composes recursively: deep enough
  input would otherwise end in a RecursionError);
- aliases may share a block (``&policy`` / ``*policy``, ``<<: *policy``), but a document whose
  aliases expand past :data:`MAX_NODES` nodes ("billion laughs") or refer to themselves is an error;
- every error is one :class:`YamlProblem` with the line it is on.

:func:`load` also returns the line of every value by its path (``("teams", 2, "name") -> 7``), so
a validation error further on can name its line.
"""

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 20
MAX_NODES = 10_000
MERGE_TAG = "tag:yaml.org,2002:merge"

Path = tuple[str | int, ...]


class YamlProblem(Exception):
    """Why a document was refused, and where (1-based line; None: the whole document)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlProblem(mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
                continue  # merged keys may be overridden; unhashable keys are PyYAML's to refuse
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise YamlProblem(line, f"duplicate key '{key}' (first at line {first_line[key]})")
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _check_expansion(root: Node) -> None:
    """Refuse a node graph that refers to itself or expands past MAX_NODES (iterative: no recursion)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(child)] for child in _children(node))
            if size[id(node)] > MAX_NODES:
                raise YamlProblem(
                    node.start_mark.line + 1, f"aliases expand to more than {MAX_NODES:,} values"
                )
            continue
        if id(node) in size:
            continue
        on_path.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlProblem(child.start_mark.line + 1, "an alias refers to the value that contains it")
            if id(child) not in size:
                stack.append((child, False))


def _lines(root: Node) -> dict[Path, int]:
    """The line of every value by its path (merged keys already flattened by construction)."""
    lines: dict[Path, int] = {}
    stack: list[tuple[Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)  # a key's own line first
        if isinstance(node, SequenceNode):
            stack.extend((child, (*path, i)) for i, child in enumerate(node.value))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    lines[(*path, key.value)] = key.start_mark.line + 1
                    stack.append((value, (*path, key.value)))
    return lines


def _problem(error: yaml.YAMLError, text: str) -> YamlProblem:
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        character = error.character if isinstance(error.character, int) else ord(str(error.character)[:1])
        return YamlProblem(line, f"character U+{character:04X} is not allowed in YAML")
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = str(getattr(error, "problem", None) or error)
    if "'\\t'" in problem:
        problem = "a tab character: YAML indents with spaces"
    return YamlProblem(mark.line + 1 if mark is not None else None, f"not valid YAML ({problem})")


def load(text: str) -> tuple[Any, dict[Path, int]]:
    """The one document in ``text`` and the line of each value; :class:`YamlProblem` if refused."""
    try:
        loader = _StrictLoader(text)  # the reader refuses unprintable characters here
    except yaml.YAMLError as error:
        raise _problem(error, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_expansion(node)
        data = loader.construct_document(node)
        return data, _lines(node)
    except yaml.YAMLError as error:
        raise _problem(error, text) from None
    finally:
        loader.dispose()


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None
