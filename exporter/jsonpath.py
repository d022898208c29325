"""The JSONPath subset body checks use: `$`, `.key`, `["key"]` and `[index]`."""

from __future__ import annotations

import re
from typing import Any

_SEGMENT = re.compile(r'\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\["([^"]*)"\]')

MISSING = object()


def compile_path(path: str) -> tuple[str | int, ...]:
    """Split `$.data.items[0]["id"]` into keys and indexes; ValueError if it is not that."""
    if not path.startswith("$"):
        raise ValueError(f'must start with "$", as in "$.status", not {path!r}')
    parts: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if match is None:
            raise ValueError(
                f'cannot read {path!r} from position {pos}: expected .key, [n] or ["key"]'
            )
        key, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (key if key is not None else quoted))
        pos = match.end()
    return tuple(parts)


def lookup(document: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at `parts`, or MISSING."""
    node = document
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node
