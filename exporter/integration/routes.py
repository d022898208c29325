"""Which routes an ASGI app has registered, read from its router as a server would route.

`"GET /api/v1/users/{id}"` is registered when some route of the app (through mounts, hosts
and included routers) has that path shape and accepts that method. Parameter names and
convertors do not count: `/users/{id}`, `/users/{user_id}` and `/users/{user_id:int}` are one
shape, as the exporter's `openapi` probe reads the document.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.routing import Host, Mount, WebSocketRoute

_PARAMETER = re.compile(r"\{[^}/]*\}")
_ROUTE = re.compile(r"^([A-Za-z]+) +(/\S*)$")
METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
ANY_METHOD = "*"  # an ASGI endpoint registered without methods answers them all
_MAX_WRAPPERS = 32  # middleware around the app, followed through `.app`


class NotAnApp(TypeError):
    """The object has no router to read routes from."""


@dataclass(frozen=True, slots=True)
class RequiredRoute:
    """A route the app must register, and what its absence does at startup."""

    route: str  # "METHOD /path", as the config writes it
    policy: str  # fail_fast or degrade

    @property
    def key(self) -> tuple[str, str]:
        method, _, path = self.route.partition(" ")
        return method, shape(path.strip())


def parse_route(text: str) -> str:
    """`"get  /x"` as `"GET /x"`; ValueError for anything that is not "METHOD /path"."""
    match = _ROUTE.match(text.strip())
    if match is None or match.group(1).upper() not in METHODS:
        raise ValueError(
            f'a route must be "METHOD /path" with METHOD one of {", ".join(METHODS)}, not {text!r}'
        )
    return f"{match.group(1).upper()} {match.group(2)}"


def shape(path: str) -> str:
    """A path with its parameters unnamed: `/users/{id}` and `/users/{user_id:int}` are one."""
    return _PARAMETER.sub("{}", path)


def registered_routes(app: Any) -> set[tuple[str, str]]:
    """(METHOD, path shape) of every HTTP route of `app`; ANY_METHOD for method-less ones."""
    found: set[tuple[str, str]] = set()
    _collect(_routes_of(app), "", found)
    return found


def missing(required: Iterable[RequiredRoute], registered: set[tuple[str, str]]) -> list[str]:
    """The required routes `registered` lacks, in order."""
    return [r.route for r in required if not is_registered(r, registered)]


def is_registered(required: RequiredRoute, registered: set[tuple[str, str]]) -> bool:
    method, path = required.key
    return (method, path) in registered or (ANY_METHOD, path) in registered


def _routes_of(app: Any) -> list[Any]:
    """The app's route list, through middleware that wraps it (each keeps the next as `.app`)."""
    node = app
    for _ in range(_MAX_WRAPPERS):
        routes = getattr(node, "routes", None)
        if isinstance(routes, list):
            return routes
        node = getattr(node, "app", None)
        if node is None:
            break
    raise NotAnApp(f"{type(app).__name__} is not a Starlette or FastAPI application: no routes")


def _entries(routes: list[Any]) -> Iterator[Any]:
    """Each route, FastAPI's included routers resolved: recent FastAPI keeps an included router
    as one entry and resolves its routes at request time (fastapi.routing.iter_route_contexts).
    FastAPI is only asked when the app already imported it: Starlette apps need no FastAPI."""
    fastapi_routing = sys.modules.get("fastapi.routing")
    resolve = getattr(fastapi_routing, "iter_route_contexts", None)
    if resolve is None:
        yield from routes
    else:
        yield from resolve(routes)


def _collect(routes: list[Any], prefix: str, found: set[tuple[str, str]]) -> None:
    for entry in _entries(routes):
        route = getattr(entry, "original_route", entry)
        if isinstance(route, WebSocketRoute):
            continue
        if isinstance(route, Mount):
            _collect(route.routes, prefix + route.path, found)
        elif isinstance(route, Host):
            _collect(route.routes, prefix, found)
        else:
            path = getattr(entry, "path_format", None) or getattr(entry, "path", None)
            if isinstance(path, str):
                methods = getattr(entry, "methods", None) or {ANY_METHOD}
                found.update((method, shape(prefix + path)) for method in methods)
