"""The health endpoints: liveness, readiness, the detailed report, and the app's /metrics.

The detailed report's JSON (documented in README.md, "In the application"):

    {"status": "ready" | "not_ready",
     "reasons": ["route GET /api/v1/users is not registered", ...],
     "startup": {"outcome": "passed" | "degraded" | "not_run", "at": 1733.5 | null,
                 "failed": ["GET /api/v1/users", ...]},
     "components": [{"name", "kind", "policy", "critical", "target", "status": "ok" | "failing"
                     | "unknown", "reason", "detail", "latency_seconds", "checked_at",
                     "startup": "passed" | "failed" | null}, ...]}
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import make_asgi_app
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from exporter.conventions import REASON_ROUTE_MISSING, RESULT_SUCCESS
from exporter.integration.checks import CheckResult, describe
from exporter.integration.routes import is_registered

if TYPE_CHECKING:
    from exporter.integration.health import AppHealth

NO_STORE = {"Cache-Control": "no-store"}


def add_endpoints(
    health: AppHealth,
    app: Any,
    *,
    live: str | None,
    ready: str | None,
    detailed: str | None,
    metrics: str | None,
) -> None:
    """Put the endpoints first in the app's routes: a catch-all route must not shadow them."""
    routes: list[BaseRoute] = []
    if live is not None:
        routes.append(Route(live, _live, methods=["GET"], include_in_schema=False))
    if ready is not None:
        routes.append(Route(ready, _ready(health), methods=["GET"], include_in_schema=False))
    if detailed is not None:
        endpoint = _detailed(health)
        routes.append(Route(detailed, endpoint, methods=["GET"], include_in_schema=False))
    if metrics is not None:
        exposition = _ASGIApp(make_asgi_app(health.registry))
        routes.append(Route(metrics, exposition, methods=["GET"], include_in_schema=False))
    app.router.routes[:0] = routes


class _ASGIApp:
    """An ASGI callable as an object: Starlette routes a plain function as `f(request)`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _live(request: Request) -> Response:
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


def _ready(health: AppHealth) -> Any:
    async def ready(request: Request) -> Response:
        state = health.readiness()
        body = {"status": "ready" if state.ready else "not_ready", "reasons": list(state.reasons)}
        return JSONResponse(body, status_code=200 if state.ready else 503, headers=NO_STORE)

    return ready


def _detailed(health: AppHealth) -> Any:
    async def detailed(request: Request) -> Response:
        report = detailed_report(health)
        status = 200 if report["status"] == "ready" else 503
        return JSONResponse(report, status_code=status, headers=NO_STORE)

    return detailed


def detailed_report(health: AppHealth) -> dict[str, Any]:
    """Every component with its status now, latency, failure reason and startup outcome."""
    registered = health.registered()
    state = health.readiness(registered)
    return {
        "status": "ready" if state.ready else "not_ready",
        "reasons": list(state.reasons),
        "startup": _startup(health),
        "components": _routes(health, registered) + _dependencies(health),
    }


def _startup(health: AppHealth) -> dict[str, Any]:
    if health.startup is None:
        return {"outcome": "not_run", "at": None, "failed": []}
    failed = [name for name, result in health.startup.items() if not result.ok]
    at = max((r.at for r in health.startup.values()), default=time.time())
    return {"outcome": "degraded" if failed else "passed", "at": at, "failed": failed}


def _startup_outcome(health: AppHealth, name: str) -> str | None:
    result = health.startup.get(name) if health.startup is not None else None
    if result is None:
        return None
    return "passed" if result.ok else "failed"


def _routes(health: AppHealth, registered: set[tuple[str, str]]) -> list[dict[str, Any]]:
    now = time.time()
    out = []
    for route in health.routes:
        ok = is_registered(route, registered)
        out.append(
            {
                "name": route.route,
                "kind": "route",
                "policy": route.policy,
                "critical": True,
                "target": "",
                "status": "ok" if ok else "failing",
                "reason": RESULT_SUCCESS if ok else REASON_ROUTE_MISSING,
                "detail": "" if ok else "not registered",
                "latency_seconds": None,
                "checked_at": now,
                "startup": _startup_outcome(health, route.route),
            }
        )
    return out


def _dependencies(health: AppHealth) -> list[dict[str, Any]]:
    out = []
    for check in health.checks:
        result = health.latest.get(check.name)
        startup = _startup_outcome(health, check.name)
        out.append({**describe(check), **_result(result), "startup": startup})
    return out


def _result(result: CheckResult | None) -> dict[str, Any]:
    if result is None:
        return {
            "status": "unknown",
            "reason": "",
            "detail": "not checked yet",
            "latency_seconds": None,
            "checked_at": None,
        }
    return {
        "status": "ok" if result.ok else "failing",
        "reason": result.reason,
        "detail": result.detail,
        "latency_seconds": round(result.duration_seconds, 6),
        "checked_at": result.at,
    }
