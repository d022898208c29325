"""The openapi probe against the demo API (routers dropped at runtime) and hand-made documents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from exporter.config import ConfigError, parse_config
from exporter.config.openapi import OpenAPISpec
from exporter.conventions import (
    REASON_CONNECT_ERROR,
    REASON_OPENAPI_UNAVAILABLE,
    REASON_ROUTE_MISSING,
    REASON_TIMEOUT,
    REASON_TLS_ERROR,
    RESULT_SUCCESS,
)
from exporter.probes import ProbeResult, StepResult, Trace
from exporter.probes.openapi import probe
from exporter.scheduler import run_once
from tests.probes.conftest import TLS_NAME, Demo, Handler, TLSServer
from tests.servers import serve_app

# The seeds' StartupValidator.CRITICAL_ENDPOINTS, with the methods the demo API serves.
CRITICAL = [
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "GET /api/v1/admin/feature-flags",
    "GET /api/v1/admin/dashboard/stats",
    "GET /api/v1/users",
    "GET /api/v1/user-management",
    "GET /api/v1/organisations",
]
ADMIN = ["GET /api/v1/admin/feature-flags", "GET /api/v1/admin/dashboard/stats"]
KEY = "doc-key-7c1e-secret"
RawServer = Callable[[Handler], Awaitable[str]]


@pytest.fixture
def demo(_demo: Demo) -> Iterator[Demo]:
    """The demo API with every router up; faults set by a test are cleared after it."""
    yield _demo
    _demo.faults.reset()


def _documents() -> Starlette:
    templated = {"/api/v1/users/{id}": {"get": {}, "parameters": [{"name": "id"}]}}

    async def document(request: Request) -> Response:
        return JSONResponse({"openapi": "3.1.0", "paths": templated})

    async def guarded(request: Request) -> Response:
        if request.headers.get("x-api-key") != KEY:
            return JSONResponse({"detail": "no key"}, 401)
        return JSONResponse({"paths": {"/guarded": {"get": {}}}})

    async def moved(request: Request) -> Response:
        return RedirectResponse("/document", 308)

    async def text(request: Request) -> Response:
        return PlainTextResponse("<html>Swagger UI</html>")

    async def no_paths(request: Request) -> Response:
        return JSONResponse({"openapi": "3.1.0", "info": {}})

    async def paths_list(request: Request) -> Response:
        return JSONResponse({"paths": ["/api/v1/users"]})

    return Starlette(
        routes=[
            Route("/document", document),
            Route("/guarded", guarded),
            Route("/moved", moved),
            Route("/text", text),
            Route("/no-paths", no_paths),
            Route("/paths-list", paths_list),
        ]
    )


@pytest.fixture(scope="module")
def documents() -> Iterator[str]:
    with serve_app(_documents()) as url:
        yield url


def spec(url: str, routes: list[str], **fields: Any) -> OpenAPISpec:
    return OpenAPISpec.model_validate({"url": url, "routes": routes, **fields})


def steps(result: ProbeResult) -> dict[str, bool]:
    return {step.name: step.success for step in result.steps}


# Route registration on the demo API


async def test_every_critical_route_is_registered_on_a_healthy_api(demo: Demo) -> None:
    result = await probe(spec(f"{demo.url}/openapi.json", CRITICAL))
    assert (result.reason, result.detail, result.http_status_code) == (RESULT_SUCCESS, "", 200)
    assert result.steps == [StepResult(route, True, 0.0) for route in CRITICAL]


async def test_a_dropped_router_fails_and_its_routes_are_named(demo: Demo) -> None:
    demo.faults.drop("admin")
    result = await probe(spec(f"{demo.url}/openapi.json", CRITICAL))
    assert (result.success, result.reason) == (False, REASON_ROUTE_MISSING)
    assert result.detail == f"2 of 7 routes missing: {', '.join(ADMIN)}"
    assert steps(result) == {route: route not in ADMIN for route in CRITICAL}


async def test_a_restored_router_passes_again(demo: Demo) -> None:
    demo.faults.drop("auth")
    assert (await probe(spec(f"{demo.url}/openapi.json", CRITICAL))).reason == REASON_ROUTE_MISSING
    demo.faults.restore("auth")
    assert (await probe(spec(f"{demo.url}/openapi.json", CRITICAL))).success


async def test_the_method_is_part_of_the_route(demo: Demo) -> None:
    result = await probe(spec(f"{demo.url}/openapi.json", ["GET /api/v1/auth/login"]))
    assert (result.reason, result.detail) == (
        REASON_ROUTE_MISSING,
        "1 of 1 routes missing: GET /api/v1/auth/login",
    )


async def test_the_trace_lists_each_route(demo: Demo) -> None:
    demo.faults.drop("admin")
    trace = Trace()
    await probe(spec(f"{demo.url}/openapi.json", ["GET /api/v1/users", ADMIN[0]]), trace)
    assert "route GET /api/v1/users: registered" in trace.lines
    assert f"route {ADMIN[0]}: MISSING" in trace.lines
    assert trace.lines[-1].startswith("verdict: failure (route_missing): 1 of 2 routes missing")


# Reading documents


async def test_path_parameters_match_whatever_their_names(documents: str) -> None:
    routes = ["GET /api/v1/users/{user_id}", "DELETE /api/v1/users/{id}"]
    result = await probe(spec(f"{documents}/document", routes))
    assert steps(result) == {routes[0]: True, routes[1]: False}


async def test_redirects_to_the_document_are_followed(documents: str) -> None:
    result = await probe(spec(f"{documents}/moved", ["GET /api/v1/users/{id}"]))
    assert result.success


async def test_configured_headers_are_sent(documents: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOC_KEY", KEY)
    without = await probe(spec(f"{documents}/guarded", ["GET /guarded"]))
    assert (without.reason, without.detail) == (
        REASON_OPENAPI_UNAVAILABLE,
        f"{documents}/guarded answered 401",
    )
    with_key = spec(
        f"{documents}/guarded", ["GET /guarded"], headers={"X-Api-Key": {"env": "DOC_KEY"}}
    )
    assert (await probe(with_key)).success


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/missing", "answered 404"),
        ("/text", "is not JSON: Expecting value: line 1 column 1 (char 0)"),
        ("/no-paths", "has no paths object"),
        ("/paths-list", "has no paths object"),
    ],
)
async def test_a_document_that_cannot_be_read_is_unavailable(
    documents: str, path: str, detail: str
) -> None:
    result = await probe(spec(documents + path, CRITICAL[:2]))
    assert (result.reason, result.detail) == (
        REASON_OPENAPI_UNAVAILABLE,
        f"{documents}{path} {detail}",
    )
    # Every configured route keeps its series, as not found: nothing proved it registered.
    assert result.steps == [StepResult(route, False, 0.0) for route in CRITICAL[:2]]


async def test_a_non_2xx_document_reports_its_status(documents: str) -> None:
    result = await probe(spec(f"{documents}/missing", CRITICAL[:1]))
    assert result.http_status_code == 404


async def test_connection_trouble_keeps_the_http_reasons(closed_port: int) -> None:
    result = await probe(spec(f"http://127.0.0.1:{closed_port}/openapi.json", CRITICAL[:1]))
    assert (result.reason, result.detail) == (
        REASON_CONNECT_ERROR,
        f"connection refused by 127.0.0.1:{closed_port}",
    )
    assert steps(result) == {CRITICAL[0]: False}


async def test_a_run_cut_off_by_its_timeout_still_reports_every_route(
    raw_server: RawServer,
) -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    url = await raw_server(never_answer)
    text = (
        "targets:\n  - name: routes\n    severity: critical\n    context: revenue_critical\n"
        f"    service: api\n    timeout: 100ms\n"
        f"    openapi: {{url: '{url}', routes: {CRITICAL[:2]}}}\n"
    )
    result, _ = await run_once(parse_config(text).targets[0])
    assert result.reason == REASON_TIMEOUT
    assert result.steps == [StepResult(route, False, 0.0) for route in CRITICAL[:2]]


async def test_tls_settings_are_honoured(tls_server: TLSServer) -> None:
    url = f"{tls_server.url}/json"  # served over TLS, but not an OpenAPI document
    untrusted = await probe(spec(url, CRITICAL[:1]))
    assert untrusted.reason == REASON_TLS_ERROR
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    trusted = await probe(spec(url, CRITICAL[:1], tls=tls))
    assert (trusted.reason, trusted.detail) == (
        REASON_OPENAPI_UNAVAILABLE,
        f"{url} has no paths object",
    )


# Config


def test_routes_are_read_as_method_and_path() -> None:
    parsed = spec("http://127.0.0.1:8000/openapi.json", ["get /api/v1/users", " POST  /x "])
    assert parsed.routes == ["GET /api/v1/users", "POST /x"]


def test_an_openapi_target_needs_routes() -> None:
    text = (
        "targets:\n  - name: routes\n    severity: critical\n    context: revenue_critical\n"
        "    service: api\n    openapi: {url: 'http://127.0.0.1:8000/openapi.json'}\n"
    )
    with pytest.raises(ConfigError, match=r"targets\[0\]\.openapi\.routes: is required"):
        parse_config(text)
