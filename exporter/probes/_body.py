"""Assertions on a response body: regexes that must (not) match, JSON paths and values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from exporter.config import BodyCheck
from exporter.jsonpath import MISSING, lookup
from exporter.probes._mask import current_mask
from exporter.probes.result import Trace

_UNPARSED = object()


def check_body(
    checks: tuple[tuple[BodyCheck, tuple[str | int, ...]], ...], body: bytes, trace: Trace | None
) -> str | None:
    """The first failing check, described; the body is decoded and parsed at most once."""
    text: str | None = None
    document: Any = _UNPARSED
    for i, (check, path) in enumerate(checks):
        if check.json_path is None:
            text = body.decode("utf-8", errors="replace") if text is None else text
            problem = _check_text(check, text)
        else:
            document = _parse_json(body) if document is _UNPARSED else document
            problem = _check_json(check, path, document)
        if trace:
            trace.add(f"body_checks[{i}] {_describe(check)}: {problem or 'passed'}")
        if problem is not None:
            return f"body_checks[{i}] {_describe(check)}: {problem}"
    return None


def _check_text(check: BodyCheck, text: str) -> str | None:
    if check.matches is not None:
        return None if check.matches.search(text) else "no match in the body"
    assert check.not_matches is not None
    return "matched the body" if check.not_matches.search(text) else None


def _check_json(check: BodyCheck, path: tuple[str | int, ...], document: Any) -> str | None:
    if isinstance(document, _NotJSON):
        return f"the body is not JSON ({document.why})"
    value = lookup(document, path)
    if value is MISSING:
        return "not found in the body"
    if "equals" in check.model_fields_set and not _equal(value, check.equals):
        return f"is {_short(value)}"
    return None


@dataclass(slots=True)
class _NotJSON:
    why: str


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as err:  # JSONDecodeError, or bytes that are no Unicode at all
        return _NotJSON(str(err))


def _equal(value: Any, expected: Any) -> bool:
    """JSON equality: `true` is not `1`, although Python says True == 1."""
    return bool(value == expected) and isinstance(value, bool) == isinstance(expected, bool)


def _describe(check: BodyCheck) -> str:
    if check.matches is not None:
        return f"matches /{check.matches.pattern}/"
    if check.not_matches is not None:
        return f"not_matches /{check.not_matches.pattern}/"
    if "equals" in check.model_fields_set:
        return f"json_path {check.json_path} equals {_short(check.equals)}"
    return f"json_path {check.json_path}"


def _short(value: Any) -> str:
    text = current_mask()(json.dumps(value, default=str))  # before the cut, which may halve it
    return text if len(text) <= 60 else text[:57] + "..."
