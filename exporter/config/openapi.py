"""The `openapi:` probe block: routes that must be registered in the app's OpenAPI document."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from exporter.config.http import RequestSpec

# The operations an OpenAPI path item can hold (OpenAPI 3.x "Path Item Object").
METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_ROUTE = re.compile(r"^([A-Za-z]+) +(/\S*)$")


def split_route(route: str) -> tuple[str, str]:
    """`"GET /api/v1/users"` as ("GET", "/api/v1/users"); the route must be valid already."""
    method, _, path = route.partition(" ")
    return method, path.strip()


def _route(value: object) -> str:
    match = _ROUTE.match(value.strip()) if isinstance(value, str) else None
    if match is None or match.group(1).upper() not in METHODS:
        raise ValueError(
            f'must be "METHOD /path" with METHOD one of {", ".join(METHODS)}, not {value!r}'
        )
    return f"{match.group(1).upper()} {match.group(2)}"


Route = Annotated[str, BeforeValidator(_route)]


class OpenAPISpec(RequestSpec):
    """Where the app's OpenAPI document is, and the routes it must list."""

    routes: list[Route] = Field(min_length=1)
    # Documents of large APIs run to megabytes.
    max_response_bytes: int = Field(default=16 << 20, gt=0)

    def step_names(self) -> list[str]:
        """The `step` label of each route, in order."""
        return list(self.routes)

    @field_validator("routes")
    @classmethod
    def _unique(cls, routes: list[str]) -> list[str]:
        seen: set[str] = set()
        for route in routes:
            if route in seen:
                raise ValueError(f"lists {route} twice")
            seen.add(route)
        return routes
