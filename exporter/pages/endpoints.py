"""The pages' HTTP endpoints; exporter/server.py mounts them beside its own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from exporter import conventions as c
from exporter.pages.alertmanager import NOT_CONFIGURED, AlertmanagerClient, AlertState
from exporter.pages.html import refresh_seconds
from exporter.pages.oncall import OnCallView, oncall_view
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
    refresh = refresh_seconds(request.query_params.get("refresh"))

    def render(view: OnCallView) -> Response:
        return HTMLResponse(oncall_html(view, refresh), headers=_HEADERS)

    return await _oncall(request, render)


async def _oncall_json(request: Request) -> Response:
    return await _oncall(request, lambda view: JSONResponse(oncall_json(view), headers=_HEADERS))


async def _oncall(request: Request, render: Callable[[OnCallView], Response]) -> Response:
    """The page of now, rendered in a worker thread: 0.2 s of CPU for 10,000 targets
    (bench/pages.py), which the event loop, starting probes, must not wait out. The state
    table is listed here, on the loop, where it changes."""
    runtime, alerts = _runtime(request), await _alerts(request)
    states = list(runtime.scheduler.states.values())

    def work() -> Response:
        return render(oncall_view(runtime, alerts, time.time(), states))

    return await asyncio.to_thread(_one_at_a_time, work)


def _one_at_a_time(work: Callable[[], Response]) -> Response:
    # One render at a time: however many requests come, the pages take one core at most.
    with _rendering:
        return work()


_rendering = threading.Lock()


async def _status_page(request: Request) -> Response:
    refresh = refresh_seconds(request.query_params.get("refresh"))

    def render(view: TenantStatus) -> Response:
        return HTMLResponse(status_html(view, refresh), headers=_HEADERS)

    return await _tenant(request, render)


async def _status_json(request: Request) -> Response:
    return await _tenant(request, lambda view: JSONResponse(status_json(view), headers=_HEADERS))


async def _tenant(request: Request, render: Callable[[TenantStatus], Response]) -> Response:
    runtime, tenant = _runtime(request), request.path_params["tenant"]
    if not published(runtime.config, tenant):
        # Starlette's own answer to a path it does not know: which tenants exist stays unsaid.
        raise HTTPException(status_code=404)
    states = [s for s in runtime.scheduler.states.values() if s.about.tenant == tenant]

    def work() -> Response:
        return render(tenant_status(runtime, tenant, time.time(), states))

    return await asyncio.to_thread(_one_at_a_time, work)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _alerts(request: Request) -> AlertState:
    client: AlertmanagerClient | None = request.app.state.alertmanager
    return NOT_CONFIGURED if client is None else await client.state()
