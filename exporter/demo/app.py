"""The demo MarketEdge API: routers that can vanish at runtime behind a `/health` that stays 200.

It reproduces the customer's outage: a failed import silently dropped a whole router, login and
admin endpoints answered 404, and `/health` kept answering 200 {"status": "healthy"}.

Routers, named as in the customer's notes:
    auth             POST /api/v1/auth/login, POST /api/v1/auth/refresh
    users            GET  /api/v1/users
    user_management  GET  /api/v1/user-management
    admin            GET  /api/v1/admin/feature-flags, GET /api/v1/admin/dashboard/stats
    organisations    GET  /api/v1/organisations
    features         GET  /api/v1/features                  (public)
Every other router needs `Authorization: Bearer <token>` from login or refresh; anything else,
the notes' "health_check_token" included, gets 401. `/openapi.json` lists /health and the routes
of the routers currently up (not itself, not `/_faults`).

Demo credentials: email "matt.lindop@zebra.associates", password "demo-password".

The app runs the in-app integration (exporter/integration/) as the customer's app would:
/health/live, /health/ready, /health/detailed and /metrics, after a startup validation of the
routes of the config named by $BUSINESS_EXPORTER_CONFIG, or without one of every route of its
routers, the admin router's degrading. A router dropped by a fault switch stays registered (the
switch fakes a runtime loss that the exporter sees from outside); a router that fails to import
is what the startup validation catches.

Fault switches (each answers with the resulting state; tests may call `app.state.faults`):
    GET    /_faults                                      the current state
    POST   /_faults/reset                                clear every fault
    POST   /_faults/routers/{name}/drop                  routes 404, leave /openapi.json
    POST   /_faults/routers/{name}/restore
    POST   /_faults/slow?path=/api/v1/users&seconds=3    wait before answering
    DELETE /_faults/slow?path=/api/v1/users
    POST   /_faults/error?path=/api/v1/users             answer 500
    DELETE /_faults/error?path=/api/v1/users
An unknown router or path gets 404 naming the known ones. `/health` takes no faults.

Run it alone:
    uvicorn --factory exporter.demo.app:create_demo_app --port 8000
    curl -X POST localhost:8000/_faults/routers/admin/drop
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exporter.demo.faults import Faults, RouterRoute, fault_routes
from exporter.integration import AppHealth

DEMO_EMAIL = "matt.lindop@zebra.associates"
DEMO_PASSWORD = "demo-password"

Endpoint = Callable[[Request], Awaitable[Response]]

_ORGANISATIONS = [
    {"id": 1, "name": "Zebra Associates", "industry": "Consulting", "tier": "enterprise"},
    {"id": 2, "name": "MarketEdge", "industry": "Market intelligence", "tier": "enterprise"},
]
_USERS = [
    {"id": 1, "email": DEMO_EMAIL, "name": "Matt Lindop", "role": "super_admin", "org": 1},
    {
        "id": 2,
        "email": "analyst@marketedge.example",
        "name": "Ana Lyst",
        "role": "analyst",
        "org": 2,
    },
]
_FEATURE_FLAGS = [
    {"key": "market_edge_dashboard", "enabled": True, "organisation": None},
    {"key": "zebra_associates_admin_panel", "enabled": True, "organisation": "Zebra Associates"},
    {"key": "pricing_intelligence_beta", "enabled": False, "organisation": None},
]
_FEATURES = [
    {"key": "market_edge_dashboard", "name": "Market Edge dashboard"},
    {"key": "competitor_pricing", "name": "Competitor pricing"},
]


class _Auth:
    """Bearer tokens issued for the demo credentials, and the guard of the private routers."""

    def __init__(self) -> None:
        self._tokens: set[str] = set()

    async def login(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fields = ("email", "password")
        if not isinstance(body, dict) or not all(isinstance(body.get(f), str) for f in fields):
            return _detail(422, "body must be a JSON object with string fields email and password")
        if (body["email"], body["password"]) != (DEMO_EMAIL, DEMO_PASSWORD):
            return _detail(401, "Incorrect email or password")
        return self._issue()

    async def refresh(self, request: Request) -> Response:
        token = self._bearer(request)
        if token is None:
            return _unauthenticated()
        self._tokens.discard(token)
        return self._issue()

    def protect(self, payload: Any) -> Endpoint:
        """An endpoint answering `payload` to a valid bearer token and 401 to anyone else."""

        async def endpoint(request: Request) -> Response:
            if self._bearer(request) is None:
                return _unauthenticated()
            return JSONResponse(payload)

        return endpoint

    def _issue(self) -> Response:
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "bearer"})

    def _bearer(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token in self._tokens else None


def _public(payload: Any) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(payload)

    return endpoint


def _detail(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


def _unauthenticated() -> Response:
    response = _detail(401, "Not authenticated")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _routers(auth: _Auth) -> dict[str, list[tuple[str, str, Endpoint]]]:
    """Each router's routes as (method, path, endpoint)."""
    stats = {
        "organisations": len(_ORGANISATIONS),
        "users": len(_USERS),
        "feature_flags": len(_FEATURE_FLAGS),
    }
    return {
        "auth": [
            ("POST", "/api/v1/auth/login", auth.login),
            ("POST", "/api/v1/auth/refresh", auth.refresh),
        ],
        "users": [("GET", "/api/v1/users", auth.protect({"users": _USERS}))],
        "user_management": [
            ("GET", "/api/v1/user-management", auth.protect({"roles": ["super_admin", "analyst"]})),
        ],
        "admin": [
            ("GET", "/api/v1/admin/feature-flags", auth.protect({"flags": _FEATURE_FLAGS})),
            ("GET", "/api/v1/admin/dashboard/stats", auth.protect(stats)),
        ],
        "organisations": [
            ("GET", "/api/v1/organisations", auth.protect({"organisations": _ORGANISATIONS})),
        ],
        "features": [("GET", "/api/v1/features", _public({"features": _FEATURES}))],
    }


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "healthy"})


def _openapi(routes: list[RouterRoute]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        ok = {"200": {"description": "OK"}}
        paths: dict[str, dict[str, Any]] = {"/health": {"get": {"responses": ok}}}
        for route in routes:
            if route.active:
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    operation = {"tags": [route.router], "responses": ok}
                    paths.setdefault(route.path, {})[method.lower()] = operation
        info = {"title": "MarketEdge API (business_exporter demo)", "version": "1.0.0"}
        return JSONResponse({"openapi": "3.1.0", "info": info, "paths": paths})

    return endpoint


def _app_health(
    routers: dict[str, list[tuple[str, str, Endpoint]]], config: str | None
) -> AppHealth:
    registry = CollectorRegistry()  # one per app: tests build many
    if config:
        return AppHealth.from_config(config, registry=registry)
    routes = [f"{method} {path}" for routes in routers.values() for method, path, _ in routes]
    degrade = [f"{method} {path}" for method, path, _ in routers["admin"]]
    return AppHealth(routes, degrade_routes=degrade, registry=registry)


def create_demo_app(health_config: str | Path | None = None) -> Starlette:
    """The demo API with every router up and no fault set; the switches are `app.state.faults`.
    `health_config`: the config whose routes it validates (default $BUSINESS_EXPORTER_CONFIG)."""
    routers = _routers(_Auth())
    config = health_config or os.environ.get("BUSINESS_EXPORTER_CONFIG")
    health = _app_health(routers, str(config) if config else None)
    faults = Faults({name: [path for _, path, _ in routes] for name, routes in routers.items()})
    api = [
        RouterRoute(path, endpoint, method=method, router=name, faults=faults)
        for name, routes in routers.items()
        for method, path, endpoint in routes
    ]
    app = Starlette(
        routes=[
            Route("/health", _health),
            Route("/openapi.json", _openapi(api)),
            *api,
            *fault_routes(faults),
        ]
    )
    app.state.faults = faults
    health.install(app)
    return app
