"""The pages' HTTP endpoints; exporter/server.py mounts them beside its own."""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from exporter import conventions as c
from exporter.pages.alertmanager import NOT_CONFIGURED, AlertmanagerClient, AlertState
from exporter.pages.html import refresh_seconds
from exporter.pages.oncall import oncall_view
from exporter.pages.oncall_html import oncall_html
from exporter.pages.oncall_json import oncall_json
from exporter.pages.status import TenantStatus, published, tenant_status
from exporter.pages.status_render import status_html, status_json
from exporter.runtime import Runtime

# The pages show the state of now: a browser or a proxy must not keep an old one.
_HEADERS = {"Cache-Control": "no-store"}


def page_routes() -> list[Route]:
    return [
        Route(c.PAGE_ONCALL, _oncall_page, methods=["GET"]),
        Route(c.PAGE_ONCALL_JSON, _oncall_json, methods=["GET"]),
        Route(c.PAGE_STATUS, _status_page, methods=["GET"]),
        Route(c.PAGE_STATUS_JSON, _status_json, methods=["GET"]),
    ]


async def _oncall_page(request: Request) -> Response:
    view = oncall_view(_runtime(request), await _alerts(request), time.time())
    refresh = refresh_seconds(request.query_params.get("refresh"))
    return HTMLResponse(oncall_html(view, refresh), headers=_HEADERS)


async def _oncall_json(request: Request) -> Response:
    view = oncall_view(_runtime(request), await _alerts(request), time.time())
    return JSONResponse(oncall_json(view), headers=_HEADERS)


async def _status_page(request: Request) -> Response:
    refresh = refresh_seconds(request.query_params.get("refresh"))
    return HTMLResponse(status_html(_tenant(request), refresh), headers=_HEADERS)


async def _status_json(request: Request) -> Response:
    return JSONResponse(status_json(_tenant(request)), headers=_HEADERS)


def _tenant(request: Request) -> TenantStatus:
    runtime, tenant = _runtime(request), request.path_params["tenant"]
    if not published(runtime.config, tenant):
        # Starlette's own answer to a path it does not know: which tenants exist stays unsaid.
        raise HTTPException(status_code=404)
    return tenant_status(runtime, tenant, time.time())


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _alerts(request: Request) -> AlertState:
    client: AlertmanagerClient | None = request.app.state.alertmanager
    return NOT_CONFIGURED if client is None else await client.state()
