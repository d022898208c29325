"""Reading a config file as text: at most the size limit, UTF-8, characters YAML allows."""

from __future__ import annotations

import re
from pathlib import Path

from exporter.config.limits import ConfigLimits
from exporter.yamlsource import Problem

# What YAML 1.1 accepts in a stream (its "printable" set); the parser refuses anything else,
# but names only a character position, which no editor shows.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def read_text(path: Path, limits: ConfigLimits) -> tuple[str, list[Problem]]:
    """The file's text, and what is wrong with it as a config file; OSError if unreadable.

    Reads one byte past the size limit and no more, so that /dev/zero or a runaway file
    cannot fill the memory.
    """
    with path.open("rb") as file:
        raw = file.read(limits.max_size + 1)
    problems = []
    truncated = len(raw) > limits.max_size
    if truncated:
        problems.append(limits.size_problem())
        raw = raw[: limits.max_size]
    text, problem = _decode(raw, truncated)
    if problem is not None:
        problems.insert(0, problem)
    return text, problems


def _decode(raw: bytes, truncated: bool) -> tuple[str, Problem | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if truncated and err.reason == "unexpected end of data":  # a character cut in two
            return _decode(raw[: err.start], truncated)
        line = raw.count(b"\n", 0, err.start) + 1
        message = (
            f"byte {err.start} (0x{raw[err.start]:02x}) is not UTF-8: a config must be UTF-8 text"
        )
        return "", Problem("", message, line)
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return text, None
    offset = len(text[: found.start()].encode("utf-8"))
    line = text.count("\n", 0, found.start()) + 1
    message = (
        f"byte {offset}: character U+{ord(found.group()):04X} is not allowed in YAML (is this "
        "a text file?)"
    )
    return "", Problem("", message, line)
