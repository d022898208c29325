"""Reading the routes an app registered: FastAPI routers, Starlette mounts, parameters, methods."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute

from exporter.integration import AppHealth
from exporter.integration.routes import (
    NotAnApp,
    RequiredRoute,
    missing,
    parse_route,
    registered_routes,
)
from tests.integration.apps import ROOT


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def absent(app: Any, *routes: str) -> list[str]:
    return missing([RequiredRoute(r, "fail_fast") for r in routes], registered_routes(app))


def fastapi_app() -> FastAPI:
    users = APIRouter(prefix="/users")

    @users.get("/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @users.api_route("/{user_id}/roles", methods=["PUT", "PATCH"])
    async def roles(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    api = APIRouter(prefix="/api/v1")
    api.include_router(users)
    app = FastAPI()
    app.include_router(api)
    reports = FastAPI()

    @reports.get("/monthly")
    async def monthly() -> dict[str, str]:
        return {}

    app.mount("/reports", reports)
    return app


def test_fastapi_routes_through_nested_routers_and_mounted_apps() -> None:
    app = fastapi_app()
    assert absent(app, "GET /api/v1/users/{id}", "PATCH /api/v1/users/{user_id}/roles") == []
    assert absent(app, "GET /reports/monthly") == []
    assert absent(app, "GET /api/v1/users", "GET /monthly", "DELETE /api/v1/users/{id}") == [
        "GET /api/v1/users",
        "GET /monthly",
        "DELETE /api/v1/users/{id}",
    ]


def test_starlette_routes_parameters_and_convertors_are_one_shape() -> None:
    class Orders(HTTPEndpoint):
        async def get(self, request: Any) -> PlainTextResponse:
            return PlainTextResponse("orders")

    app = Starlette(
        routes=[
            Mount("/api", routes=[Route("/items/{item_id:int}", _ok, methods=["GET", "DELETE"])]),
            Route("/orders", Orders),  # a class endpoint: every method reaches it
            WebSocketRoute("/live", _ok),
        ]
    )
    wrapped = CORSMiddleware(app, allow_origins=["*"])
    assert absent(wrapped, "DELETE /api/items/{id}", "HEAD /api/items/{x}", "POST /orders") == []
    assert absent(wrapped, "GET /api/items", "GET /live", "POST /api/items/{id}") == [
        "GET /api/items",
        "GET /live",
        "POST /api/items/{id}",
    ]


def test_a_route_is_one_method_and_one_path() -> None:
    assert parse_route(" get   /api/v1/users ") == "GET /api/v1/users"
    for bad in ("/api/v1/users", "FETCH /x", "GET api", "GET /a b"):
        with pytest.raises(ValueError, match='must be "METHOD /path"'):
            parse_route(bad)


def test_an_object_without_routes_is_no_app() -> None:
    with pytest.raises(NotAnApp, match="is not a Starlette or FastAPI application"):
        registered_routes(object())


def test_degrade_routes_are_required_routes_too() -> None:
    health = AppHealth(["GET /a", "get /b"], degrade_routes=["GET /b", "GET /c"])
    assert health.routes == (
        RequiredRoute("GET /a", "fail_fast"),
        RequiredRoute("GET /b", "degrade"),
        RequiredRoute("GET /c", "degrade"),
    )


def test_importing_the_integration_loads_no_fastapi_and_no_probe_runtime() -> None:
    """An app installs business-exporter for it: the integration must stay light, and a
    Starlette app must not need FastAPI, even once validated and serving its endpoints."""
    script = """
import asyncio, sys
from starlette.applications import Starlette
from starlette.routing import Route
from exporter.integration import AppHealth
async def ok(request): ...
health = AppHealth(["GET /orders"])
app = Starlette(routes=[Route("/orders", ok)])
health.install(app)
asyncio.run(health.validate_startup())
assert health.readiness().ready
heavy = ("fastapi", "exporter.probes", "exporter.scheduler", "exporter.server",
         "exporter.generate", "exporter.config", "asyncpg", "redis", "uvloop", "httptools",
         "grafana_foundation_sdk", "yaml", "pydantic")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(heavy)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
