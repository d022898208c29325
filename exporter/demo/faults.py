"""Fault switches of the demo API: drop a router, slow an endpoint down, make it answer 500."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

MAX_DELAY_SECONDS = 600.0


class UnknownNameError(LookupError):
    """A router or endpoint path the demo API does not have."""


class Faults:
    """The current fault switches; the `/_faults` endpoints call these same methods."""

    def __init__(self, routers: Mapping[str, Sequence[str]]) -> None:
        self.routers = {name: tuple(paths) for name, paths in routers.items()}
        self.dropped: set[str] = set()
        self.delays: dict[str, float] = {}
        self.errors: set[str] = set()

    def drop(self, router: str) -> None:
        """Take a router's routes away, as a failed import of its module would."""
        self.dropped.add(self._router(router))

    def restore(self, router: str) -> None:
        """Bring a dropped router's routes back."""
        self.dropped.discard(self._router(router))

    def slow(self, path: str, seconds: float) -> None:
        """Make an endpoint wait `seconds` before it answers."""
        if not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"seconds must be from 0 to {MAX_DELAY_SECONDS:g}, not {seconds:g}")
        self.delays[self._path(path)] = seconds

    def clear_slow(self, path: str) -> None:
        """Let an endpoint answer at full speed again."""
        self.delays.pop(self._path(path), None)

    def error(self, path: str) -> None:
        """Make an endpoint answer 500."""
        self.errors.add(self._path(path))

    def clear_error(self, path: str) -> None:
        """Let an endpoint answer normally again."""
        self.errors.discard(self._path(path))

    def reset(self) -> None:
        """Clear every fault."""
        self.dropped.clear()
        self.delays.clear()
        self.errors.clear()

    def state(self) -> dict[str, Any]:
        """The switches as JSON-ready data, as `GET /_faults` shows them."""
        return {
            "routers": {
                name: {"dropped": name in self.dropped, "paths": list(paths)}
                for name, paths in self.routers.items()
            },
            "slow": dict(sorted(self.delays.items())),
            "error": sorted(self.errors),
        }

    def _router(self, name: str) -> str:
        if name not in self.routers:
            known = ", ".join(self.routers)
            raise UnknownNameError(f"unknown router {name!r}; the routers are: {known}")
        return name

    def _path(self, path: str) -> str:
        if not path:
            raise ValueError("the path query parameter is required")
        known = [p for paths in self.routers.values() for p in paths]
        if path not in known:
            raise UnknownNameError(f"unknown path {path!r}; the paths are: {', '.join(known)}")
        return path


class RouterRoute(Route):
    """A route of a named router: it is gone while the router is dropped, and obeys path faults."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, method: str, router: str, faults: Faults
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.router = router
        self.faults = faults

    @property
    def active(self) -> bool:
        return self.router not in self.faults.dropped

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # No match at all, so the request falls through to Starlette's own 404: the same
        # answer a route that was never registered gets.
        if not self.active:
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        delay = self.faults.delays.get(self.path)
        if delay:
            await asyncio.sleep(delay)
        if self.path in self.faults.errors:
            response = JSONResponse({"detail": "Internal Server Error (injected)"}, status_code=500)
            await response(scope, receive, send)
        else:
            await super().handle(scope, receive, send)


def fault_routes(faults: Faults) -> list[Route]:
    """The `/_faults` control endpoints; each answers with the resulting state."""
    api = _FaultAPI(faults)
    return [
        Route("/_faults", api.show, methods=["GET"]),
        Route("/_faults/reset", api.reset, methods=["POST"]),
        Route("/_faults/routers/{name}/drop", api.drop, methods=["POST"]),
        Route("/_faults/routers/{name}/restore", api.restore, methods=["POST"]),
        Route("/_faults/slow", api.slow, methods=["POST", "DELETE"]),
        Route("/_faults/error", api.error, methods=["POST", "DELETE"]),
    ]


class _FaultAPI:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def show(self, request: Request) -> Response:
        return JSONResponse(self.faults.state())

    async def reset(self, request: Request) -> Response:
        return self._apply(self.faults.reset)

    async def drop(self, request: Request) -> Response:
        return self._apply(lambda: self.faults.drop(request.path_params["name"]))

    async def restore(self, request: Request) -> Response:
        return self._apply(lambda: self.faults.restore(request.path_params["name"]))

    async def slow(self, request: Request) -> Response:
        path = request.query_params.get("path", "")
        if request.method == "DELETE":
            return self._apply(lambda: self.faults.clear_slow(path))
        return self._apply(lambda: self.faults.slow(path, _seconds(request)))

    async def error(self, request: Request) -> Response:
        path = request.query_params.get("path", "")
        if request.method == "DELETE":
            return self._apply(lambda: self.faults.clear_error(path))
        return self._apply(lambda: self.faults.error(path))

    def _apply(self, action: Callable[[], None]) -> Response:
        try:
            action()
        except UnknownNameError as err:
            return JSONResponse({"detail": str(err)}, status_code=404)
        except ValueError as err:
            return JSONResponse({"detail": str(err)}, status_code=400)
        return JSONResponse(self.faults.state())


def _seconds(request: Request) -> float:
    text = request.query_params.get("seconds", "")
    try:
        return float(text)  # nan and inf are turned away by Faults.slow's range check
    except ValueError:
        raise ValueError(f"seconds must be a number, not {text!r}") from None
