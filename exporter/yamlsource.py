"""YAML loading that remembers where each value came from, for error messages.

Aliases are bounded before anything is built from the document: an alias is a reference to
an anchored node, cheap to parse, but everything after the parse (line index, per-tenant
copies, validation) works on the expanded tree, which nine levels of nine aliases make 387
million nodes long. The expanded size is counted on the parsed node graph, each node once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]

# libyaml's parser keeps line marks too, and reads a 10,000-target config about 10x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Nodes that aliases may add to a document once expanded: a config that reuses a 20-node
# block in each of 50,000 targets stays under it; nine levels of nine aliases pass it in
# their seventh level, having counted 1.3 million of their 387 million nodes.
MAX_ALIAS_NODES = 1_000_000
# Nesting beyond any config's shape; deeper, the recursive steps after the parse would fail.
MAX_DEPTH = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config: where (path and line) and what."""

    path: str
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f" ({source}:{self.line})" if self.line else f" ({source})"
        return f"{self.path}: {self.message}{where}" if self.path else f"{self.message}{where}"


@dataclass(slots=True)
class Document:
    """Parsed YAML plus the line of every mapping key and value."""

    data: Any
    lines: dict[Path, int]
    problems: list[Problem]

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its closest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def load(text: str, max_alias_nodes: int = MAX_ALIAS_NODES) -> Document:
    """Parse YAML text. Syntax errors and alias bombs become a Problem, never an exception."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        bomb = _expansion_problem(node, text, max_alias_nodes) if node is not None else None
        if bomb is not None:
            return Document(None, {}, [bomb])
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        context = f"{err.context}: " if err.context else ""
        return Document(None, {}, [Problem("", f"invalid YAML: {context}{err.problem}", line)])
    except yaml.YAMLError as err:
        return Document(None, {}, [Problem("", f"invalid YAML: {err}")])
    finally:
        loader.dispose()
    doc = Document(data, {}, [])
    if node is not None:
        _index(node, (), doc, set())
    return doc


def format_path(path: Path) -> str:
    """('targets', 2, 'http', 'url') -> 'targets[2].http.url'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _index(node: yaml.Node, path: Path, doc: Document, indexed: set[int]) -> None:
    doc.lines[path] = node.start_mark.line + 1
    if id(node) in indexed:  # an alias: what lies under it is indexed where it was anchored
        return
    indexed.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                doc.problems.append(
                    Problem(
                        format_path((*path, key)),
                        f"duplicate key (first defined on line {seen[key]})",
                        line,
                    )
                )
            seen[key] = line
            _index(value_node, (*path, key), doc, indexed)
            doc.lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), doc, indexed)


class _Walk:
    """A collection being walked: its key in its parent, its children, its size so far."""

    __slots__ = ("children", "key", "node", "size")

    def __init__(self, node: yaml.Node, key: str | int | None) -> None:
        self.node, self.key, self.size = node, key, 1
        self.children = _children(node)


def _children(node: yaml.Node) -> Iterator[tuple[str | int | None, yaml.Node]]:
    """Each child with its key, in document order; a mapping's keys are children too."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield None, key_node
            yield str(key_node.value), value_node
    elif isinstance(node, yaml.SequenceNode):
        yield from enumerate(node.value)


def _expansion_problem(root: yaml.Node, text: str, limit: int) -> Problem | None:
    """Walk the node graph in document order, counting what each alias would expand to.

    Each node is walked once: an alias (a node met again) adds the size its anchor came to.
    """
    sizes: dict[int, int] = {}  # id -> expanded size, of each node walked to its end
    walks = [_Walk(root, None)]
    open_ids = {id(root)}  # collections still being walked: an alias to one is a cycle
    added = aliases = 0
    while walks:
        walk = walks[-1]
        key, node = next(walk.children, (None, None))
        if node is None:
            walks.pop()
            open_ids.discard(id(walk.node))
            sizes[id(walk.node)] = walk.size
            if walks:
                walks[-1].size += walk.size
            continue
        if id(node) in open_ids:
            name, line = _alias_at(text, aliases)
            message = f"alias *{name} refers to a collection that holds it: a recursive alias"
            return Problem(_path_of(walks, key), message, line)
        if id(node) in sizes:
            aliases += 1
            added += sizes[id(node)]
            walk.size += sizes[id(node)]
            if added > limit:
                counts = (added, sizes[id(node)], limit)
                return _bomb(text, aliases - 1, _path_of(walks, key), counts)
        elif len(walks) >= MAX_DEPTH:
            where = _path_of(walks[:4], None) + "..."
            return Problem(
                where, f"nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1
            )
        else:
            open_ids.add(id(node))
            walks.append(_Walk(node, key))
    return None


def _path_of(walks: list[_Walk], key: str | int | None) -> str:
    keys = [w.key for w in walks[1:]] + [key]
    return format_path(tuple(k for k in keys if k is not None))


def _bomb(text: str, alias: int, path: str, counts: tuple[int, int, int]) -> Problem:
    added, size, limit = counts
    name, line = _alias_at(text, alias)
    message = (
        f"by here aliases have added {added:,} nodes to the document, more than the "
        f"{limit:,} allowed (*{name} alone expands to {size:,}): refused as an alias bomb"
    )
    return Problem(path, message, line)


def _alias_at(text: str, ordinal: int) -> tuple[str, int | None]:
    """The anchor and line of the text's ordinal-th alias (0 first), from a second parse.

    The node graph keeps no trace of where an alias was written; only an error pays for this.
    """
    seen = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            if seen == ordinal:
                line = event.start_mark.line + 1 if event.start_mark else None
                return str(event.anchor), line
            seen += 1
    return "?", None
