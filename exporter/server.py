"""The exporter's HTTP face: /metrics, /probe, health, reload, and the pages (exporter/pages/)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from exporter.collector import probe_families
from exporter.conventions import FAILURE_REASONS
from exporter.exposition import MetricsRenderer
from exporter.ondemand import TooManyProbes
from exporter.pages.alertmanager import AlertmanagerClient
from exporter.pages.endpoints import page_routes
from exporter.probes import Trace
from exporter.runtime import Runtime
from exporter.state import TargetState
from exporter.web.auth import WebGuard
from exporter.web.config import WebSecurity

log = logging.getLogger(__name__)

# Level 1: exposition text compresses about tenfold even so, at a fraction of level 9's cost.
GZIP_LEVEL = 1
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream


LIFECYCLE_DISABLED = (
    "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle to reload "
    "over HTTP, or send it SIGHUP.\n"
)


def create_app(
    runtime: Runtime,
    *,
    security: WebSecurity | None = None,
    enable_lifecycle: bool = False,
    alertmanager_url: str | None = None,
) -> Starlette:
    """The Starlette app; its lifespan starts and stops the scheduler.

    `security` (from --web.config.file) puts basic auth before every endpoint and adds its
    headers to every response; POST /-/reload works only with `enable_lifecycle`. The pages
    show the alerts of the Alertmanager at `alertmanager_url`, when given.
    """
    alertmanager = AlertmanagerClient(alertmanager_url) if alertmanager_url else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.start()
        _reload_on_sighup(runtime)
        try:
            yield
        finally:
            await runtime.stop()
            if alertmanager is not None:
                await alertmanager.close()

    app = Starlette(
        routes=[
            *page_routes(),
            Route("/metrics", _metrics, methods=["GET"]),
            Route("/probe", _probe, methods=["GET"]),
            Route("/-/healthy", _healthy, methods=["GET", "HEAD"]),
            Route("/-/ready", _ready, methods=["GET", "HEAD"]),
            Route(
                "/-/reload", _reload if enable_lifecycle else _no_lifecycle, methods=["POST", "PUT"]
            ),
        ],
        middleware=[] if security is None else [Middleware(WebGuard, security=security)],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.renderer = MetricsRenderer()
    app.state.alertmanager = alertmanager
    return app


def _reload_on_sighup(runtime: Runtime) -> None:
    # Signal handlers can only be installed from the main thread; tests run the app elsewhere.
    if threading.current_thread() is threading.main_thread():
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, runtime.reload_soon)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _metrics(request: Request) -> Response:
    renderer: MetricsRenderer = request.app.state.renderer
    body = renderer.chunks(_runtime(request))
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return StreamingResponse(body, media_type=CONTENT_TYPE_LATEST)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return StreamingResponse(gzip_stream(body), media_type=CONTENT_TYPE_LATEST, headers=headers)


async def gzip_stream(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    # Piece by piece on the loop: a slice's piece compresses in a millisecond or two.
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    async for chunk in chunks:
        if compressed := compressor.compress(chunk):
            yield compressed
    yield compressor.flush()


async def _healthy(request: Request) -> Response:
    return PlainTextResponse("Healthy.\n")


async def _ready(request: Request) -> Response:
    if _runtime(request).ready:
        return PlainTextResponse("Ready.\n")
    return PlainTextResponse("Not ready: the scheduler has not started.\n", status_code=503)


async def _reload(request: Request) -> Response:
    error = await _runtime(request).reload()
    if error is None:
        return PlainTextResponse("Config reloaded.\n")
    return PlainTextResponse(f"Config reload failed, still running the old config:\n{error}\n", 500)


async def _no_lifecycle(request: Request) -> Response:
    return PlainTextResponse(LIFECYCLE_DISABLED, status_code=403)


async def _probe(request: Request) -> Response:
    name = request.query_params.get("target", "")
    target = _runtime(request).plan(name)
    if target is None:
        return PlainTextResponse(
            f"Unknown target {name!r}: /probe only runs targets named in the config.\n", 404
        )
    debug = request.query_params.get("debug", "").lower() in ("1", "true", "yes")
    trace = Trace() if debug else None
    try:
        result, duration = await _runtime(request).on_demand.run(target, trace)
    except TooManyProbes as busy:
        return PlainTextResponse(
            f"Too many /probe runs pending ({busy.pending}, --max-pending-probes): "
            f"retry after {busy.retry_after}s.\n",
            status_code=429,
            headers={"Retry-After": str(busy.retry_after)},
        )
    if trace is not None:
        return PlainTextResponse(_debug_report(target.name, trace, result.reason, duration))
    state = TargetState(target)
    state.record(result, duration, time.time())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_OneRun(state))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _OneRun(Collector):
    """Collector for the single run /probe performs: the same families as /metrics."""

    def __init__(self, state: TargetState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        return probe_families([self.state])


def _debug_report(name: str, trace: Trace, reason: str, duration: float) -> str:
    verdict = "success" if reason == "success" else f"failure: {reason} ({FAILURE_REASONS[reason]})"
    lines = [f"Probe {name}", *trace.lines, f"Finished in {duration:.3f}s: {verdict}", ""]
    return "\n".join(lines)
