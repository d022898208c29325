"""The `steps:` probe block: HTTP requests in order, sharing cookies and captured values.

A step is an `http:` block with a name and captures. `${name}` in a step's url, plain header
values, body and the strings of its json stands for a variable: one from `variables:` or one
an earlier step captured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator, model_validator

from exporter.config.http import HTTPSpec
from exporter.config.types import HeaderValue, JSONPath, Name, ProbeSpec, StrictModel

ConfigPath = tuple[str | int, ...]
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class Capture(StrictModel):
    """Where a step finds a value for later steps: a JSON path in its body, or a header."""

    json_path: JSONPath | None = None
    header: str | None = None
    secret: bool = True  # masked in /probe?debug=true output

    @model_validator(mode="after")
    def _one_source(self) -> Capture:
        if (self.json_path is None) == (self.header is None):
            raise ValueError("needs exactly one of json_path or header")
        return self

    @field_validator("header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid header name")
        return value


class Step(HTTPSpec):
    """One request of a flow, its expectations, and what it captures."""

    name: str = Field(min_length=1)
    capture: dict[Name, Capture] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _no_cookie(cls, headers: dict[str, Any]) -> dict[str, Any]:
        if any(name.lower() == "cookie" for name in headers):
            raise ValueError("Cookie is the flow's own: it sends back what earlier responses set")
        return headers

    def templates(self) -> Iterator[tuple[ConfigPath, str]]:
        """(path, text) for every string that may hold `${name}`."""
        yield ("url",), self.url
        for name, value in self.headers.items():
            if isinstance(value, str):
                yield ("headers", name), value
        if self.body is not None:
            yield ("body",), self.body
        yield from _strings(self.json_body, ("json",))


def _strings(value: Any, path: ConfigPath) -> Iterator[tuple[ConfigPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


class StepsSpec(ProbeSpec):
    """A flow: its steps in order and the variables they start with."""

    variables: dict[Name, HeaderValue] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)

    def step_names(self) -> list[str]:
        """The `step` label of each step, in order."""
        return [step.name for step in self.steps]

    def problems(self) -> Iterator[tuple[ConfigPath, str]]:
        """(path, message) for each step name used twice and each `${name}` used too early.

        Checked after the models validate, so that each problem gets its own path and line.
        """
        names: set[str] = set()
        known = set(self.variables)
        for i, step in enumerate(self.steps):
            if step.name in names:
                yield ("steps", i, "name"), f'step name "{step.name}" is used twice'
            names.add(step.name)
            for path, text in step.templates():
                for variable in dict.fromkeys(VARIABLE.findall(text)):
                    if variable not in known:
                        message = f"uses ${{{variable}}}, which no variable or earlier capture sets"
                        yield ("steps", i, *path), message
            known.update(step.capture)
