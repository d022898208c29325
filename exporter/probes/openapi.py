"""The openapi probe: are the critical routes still registered? Asked of the app's own document.

A router that failed to import leaves `/health` green and its routes out of `/openapi.json`;
this probe reads that document and reports each configured route as a step.

result = await probe(OpenAPISpec.model_validate(
    {"url": "http://127.0.0.1:8000/openapi.json", "routes": ["POST /api/v1/auth/login"]}
))
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from exporter.config.openapi import OpenAPISpec, split_route
from exporter.conventions import REASON_ERROR, REASON_OPENAPI_UNAVAILABLE, REASON_ROUTE_MISSING
from exporter.probes._fetch import (
    Connector,
    Failure,
    Redirects,
    configured_headers,
    follow,
    ms,
    new_request,
    readable_body,
    seen,
)
from exporter.probes._http_client import Header, Request
from exporter.probes._mask import PreparedProbe, the_spec
from exporter.probes._mask import prepare as prepare_with
from exporter.probes.result import ProbeResult, StepResult, Trace

_PARAMETER = re.compile(r"\{[^}/]*\}")


@dataclass(slots=True)
class _Plan:
    request: Request
    data: bytes
    connector: Connector
    routes: tuple[tuple[str, str, str], ...]  # (route as configured, method key, path shape)
    redirects: Redirects


def prepare(spec: OpenAPISpec) -> PreparedProbe[OpenAPISpec, OpenAPISpec, _Plan]:
    """The probe of `spec`, its request, TLS context and route shapes prepared for every run."""
    return prepare_with(spec, _make_plan, _run, the_spec)


async def probe(spec: OpenAPISpec, trace: Trace | None = None) -> ProbeResult:
    """Fetch the document and look up every route, prepared for this run alone."""
    return await prepare(spec)(trace)


async def _run(spec: OpenAPISpec, plan: _Plan, trace: Trace | None) -> ProbeResult:
    """Each route is a step, present or not."""
    if trace:
        trace.add(f"fetching the OpenAPI document {spec.url}")
    started = time.perf_counter()
    response = None
    try:
        response = await follow(plan.redirects, plan.request, plan.data, plan.connector, trace)
        status = response.status
        if not 200 <= status < 300:
            raise Failure(REASON_OPENAPI_UNAVAILABLE, f"{spec.url} answered {status}", status)
        result = _check(plan, _paths(spec.url, readable_body(response)), trace)
        result.http_status_code = status
    except Failure as failure:
        result = ProbeResult.failed(failure.reason, str(failure), http_status_code=failure.status)
    except Exception as err:  # a surprise still ends as a result; CancelledError passes
        result = ProbeResult.failed(REASON_ERROR, f"{type(err).__name__}: {err}")
    if response is not None:
        result.seen = seen(response)
    if not result.steps:  # routes not looked up count as not found: the series stay put
        result.steps = [StepResult(route, False, 0.0) for route in spec.routes]
    if trace:
        outcome = "success" if result.success else f"failure ({result.reason}): {result.detail}"
        trace.add(f"verdict: {outcome}, {ms(started)} in all")
    return result


def _make_plan(spec: OpenAPISpec) -> _Plan:
    headers = configured_headers(spec)
    if not any(h.name.lower() == "accept" for h in headers):
        headers.append(Header("Accept", "application/json", False))
    request = new_request(spec.url, "GET", tuple(headers), server_name=spec.tls.server_name)
    routes = []
    for route in spec.routes:
        method, path = split_route(route)
        routes.append((route, method.lower(), _shape(path)))
    plan = _Plan(request, request.encode(), Connector(spec), tuple(routes), Redirects.of(spec))
    if request.tls:
        with contextlib.suppress(Failure):  # it fails again, in the run, where it is reported
            plan.connector.tls.context()
    return plan


def _shape(path: str) -> str:
    """A path with its parameters unnamed: `/users/{id}` and `/users/{user_id}` are one route."""
    return _PARAMETER.sub("{}", path)


def _paths(url: str, body: bytes) -> dict[str, set[str]]:
    """Each path shape in the document with the operations it has."""
    try:
        document = json.loads(body)
    except ValueError as err:
        raise Failure(REASON_OPENAPI_UNAVAILABLE, f"{url} is not JSON: {err}") from None
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict):
        raise Failure(REASON_OPENAPI_UNAVAILABLE, f"{url} has no paths object")
    shapes: dict[str, set[str]] = {}
    for path, item in paths.items():
        if isinstance(path, str) and isinstance(item, dict):
            shapes.setdefault(_shape(path), set()).update(_operations(item))
    return shapes


def _operations(item: dict[str, Any]) -> set[str]:
    return {key for key, value in item.items() if isinstance(value, dict)}


def _check(plan: _Plan, shapes: dict[str, set[str]], trace: Trace | None) -> ProbeResult:
    steps, missing = [], []
    for route, method, shape in plan.routes:
        present = method in shapes.get(shape, ())
        steps.append(StepResult(route, present, 0.0))
        if not present:
            missing.append(route)
        if trace:
            trace.add(f"route {route}: {'registered' if present else 'MISSING'}")
    if missing:
        detail = f"{len(missing)} of {len(steps)} routes missing: {', '.join(missing)}"
        return ProbeResult.failed(REASON_ROUTE_MISSING, detail, steps=steps)
    return ProbeResult.ok(steps=steps)
