"""The HTTP probe: a request and its redirects, each on a fresh connection, checked against a spec.

result = await probe(HTTPSpec.model_validate({"url": "https://api.example.com/health"}))
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import time
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from exporter.config import BodyCheck, HTTPSpec, SecretSource, TLSSettings, format_duration, reveal
from exporter.conventions import (
    REASON_BODY_MISMATCH,
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_INVALID_RESPONSE,
    REASON_RESPONSE_TOO_LARGE,
    REASON_SLOW,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_STATUS,
)
from exporter.jsonpath import compile_path
from exporter.probes import ProbeResult, Trace
from exporter.probes._body import check_body
from exporter.probes._http_client import (
    Connection,
    Header,
    Request,
    Response,
    ResponseError,
    ResponseTooLarge,
    tls_context,
)

_SENSITIVE = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding"})  # always ours
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class _Failure(Exception):
    """A failed probe on its way out of the call stack, with its reason known."""

    def __init__(self, reason: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


@dataclass(slots=True)
class _Plan:
    """What a spec needs at every run, worked out once per spec object."""

    first: Request
    data: bytes
    checks: tuple[tuple[BodyCheck, tuple[str | int, ...]], ...]
    tls: TLSSettings
    context: ssl.SSLContext | None = None


async def probe(spec: HTTPSpec, trace: Trace | None = None) -> ProbeResult:
    """Run one HTTP check of `spec`; trouble with the target comes back as a failed result."""
    if trace:
        trace.add(f"probing {spec.method} {spec.url}")
    started = time.perf_counter()
    try:
        plan = _plan_for(spec)
        begun = time.perf_counter()  # after a first run's preparation, which is not the target's
        response = await _follow(spec, plan, trace)
        result = _judge(spec, plan, response, time.perf_counter() - begun, trace)
    except _Failure as failure:
        result = ProbeResult.failed(failure.reason, str(failure), http_status_code=failure.status)
    except Exception as err:  # a surprise still ends as a result; CancelledError passes
        result = ProbeResult.failed(REASON_ERROR, f"{type(err).__name__}: {err}")
    if trace:
        outcome = "success" if result.success else f"failure ({result.reason}): {result.detail}"
        trace.add(f"verdict: {outcome}, {_ms(started)} in all")
    return result


# Preparing a spec: request bytes, TLS context, compiled checks.

_plans: dict[int, tuple[weakref.ref[HTTPSpec], _Plan]] = {}


def _plan_for(spec: HTTPSpec) -> _Plan:
    """The spec's plan, kept while the spec lives (specs are not hashable, hence id + weakref)."""
    key = id(spec)
    entry = _plans.get(key)
    if entry is not None and entry[0]() is spec:
        return entry[1]
    plan = _make_plan(spec)
    _plans[key] = (weakref.ref(spec, lambda _: _plans.pop(key, None)), plan)
    return plan


def _make_plan(spec: HTTPSpec) -> _Plan:
    headers = [
        Header(name, reveal(value), isinstance(value, SecretSource) or name.lower() in _SENSITIVE)
        for name, value in spec.headers.items()
        if name.lower() not in _FRAMING
    ]
    if spec.basic_auth is not None:
        auth = f"{spec.basic_auth.username}:{spec.basic_auth.password.reveal()}".encode()
        headers = [h for h in headers if h.name.lower() != "authorization"]
        headers.append(Header("Authorization", f"Basic {base64.b64encode(auth).decode()}", True))
    for header in headers:
        if not _TOKEN.match(header.name) or "\r" in header.value or "\n" in header.value:
            raise _Failure(REASON_ERROR, f"header {header.name!r} has a bad name or a line break")
    is_json = "json_body" in spec.model_fields_set
    body = json.dumps(spec.json_body).encode() if is_json else None
    if spec.body is not None:
        body = spec.body.encode()
    first = _request(spec.url, spec.method, tuple(headers), body, is_json, spec.tls.server_name)
    checks = tuple((c, compile_path(c.json_path) if c.json_path else ()) for c in spec.body_checks)
    plan = _Plan(first, first.encode(), checks, spec.tls)
    if first.tls:
        _context(plan)
    return plan


def _request(
    url: str,
    method: str,
    headers: tuple[Header, ...],
    body: bytes | None,
    is_json: bool,
    server_name: str | None,
) -> Request:
    try:
        return Request.to(url, method, headers, body, json=is_json, server_name=server_name)
    except ValueError as err:
        raise _Failure(REASON_ERROR, f"cannot request {url!r}: {err}") from None


def _context(plan: _Plan) -> ssl.SSLContext:
    if plan.context is None:
        ca_file = plan.tls.ca_file
        try:
            mtime = ca_file.stat().st_mtime_ns if ca_file else 0
            plan.context = tls_context(plan.tls.insecure_skip_verify, ca_file, mtime)
        except OSError as err:
            raise _Failure(REASON_ERROR, f"cannot load tls.ca_file {ca_file}: {err}") from None
    return plan.context


# Running a plan: connect, send, read, follow redirects.


async def _follow(spec: HTTPSpec, plan: _Plan, trace: Trace | None) -> Response:
    request, data, hops = plan.first, plan.data, 0
    while True:
        response = await _fetch(plan, request, data, spec.max_response_bytes, trace)
        location = response.header(b"location") if response.status in _REDIRECTS else None
        if not spec.follow_redirects or location is None:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        if hops == spec.max_redirects:
            raise _Failure(
                REASON_UNEXPECTED_STATUS,
                f"status {response.status} redirects to {target} after {hops} redirect(s), "
                f"the most max_redirects allows",
                response.status,
            )
        request, hops = _redirect(plan, request, response.status, target), hops + 1
        data = request.encode()
        if trace:
            trace.add(f"redirect {hops}: {response.status} to {request.method} {request.url}")


def _redirect(plan: _Plan, request: Request, status: int, url: str) -> Request:
    """The next hop, as browsers do it: 303 (and 301/302 after POST) turn into a bodyless GET."""
    method, body = request.method, request.body
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
    host = urlsplit(url).hostname
    headers = request.headers
    if host != request.host:  # credentials stay with the host they were configured for
        headers = tuple(h for h in headers if not h.secret)
    sni = plan.tls.server_name if host == plan.first.host else None
    return _request(url, method, headers, body, request.json, sni)


async def _fetch(
    plan: _Plan, request: Request, data: bytes, max_body: int, trace: Trace | None
) -> Response:
    connection: Connection | None = None
    try:
        connection = await _connect(request, trace)
        if request.tls:
            await _handshake(connection, request, _context(plan), trace)
        return await _exchange(connection, request, data, max_body, trace)
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        raise _classify(err, request) from None
    finally:
        if connection is not None:
            connection.close()


async def _connect(request: Request, trace: Trace | None) -> Connection:
    if trace:
        trace.add(f"resolving and connecting to {request.host}:{request.port}")
    started = time.perf_counter()
    connection = await Connection.open(request.host, request.port)
    if trace:
        trace.add(f"connected to {connection.peer()} in {_ms(started)}")
    return connection


async def _handshake(
    connection: Connection, request: Request, context: ssl.SSLContext, trace: Trace | None
) -> None:
    started = time.perf_counter()
    await connection.start_tls(context, request.server_name)
    if trace:
        tls = connection.transport.get_extra_info("ssl_object")
        trace.add(
            f"TLS handshake with server name {request.server_name} in {_ms(started)}: "
            f"{tls.version()} {tls.cipher()[0]}, {_certificate(tls.getpeercert())}"
        )


def _certificate(cert: dict[str, Any] | None) -> str:
    if not cert:  # what an unverified handshake reports
        return "certificate not checked (insecure_skip_verify)"
    names = [value for _, value in cert.get("subjectAltName", ())]
    return f"certificate for {', '.join(names[:3])} valid until {cert.get('notAfter')}"


async def _exchange(
    connection: Connection, request: Request, data: bytes, max_body: int, trace: Trace | None
) -> Response:
    if trace:
        for line in request.head_lines(mask=True):
            trace.add(f"> {line}")
        if request.body is not None:
            trace.add(f"> ({len(request.body)} bytes of body)")
    started = time.perf_counter()
    response = await connection.exchange(data, max_body=max_body, head=request.method == "HEAD")
    if trace:
        trace.add(f"< HTTP/{response.version} {response.status} {response.reason}")
        for raw_name, raw_value in response.headers:
            name = raw_name.decode("latin-1")
            value = "<secret>" if name.lower() in _SENSITIVE else raw_value.decode("latin-1")
            trace.add(f"< {name}: {value}")
        trace.add(f"response of {len(response.body)} body bytes in {_ms(started)}")
    return response


def _classify(err: Exception, request: Request) -> _Failure:
    """Name what went wrong with the target in the bounded reason vocabulary."""
    where = f"{request.host}:{request.port}"
    if isinstance(err, _Failure):
        return err
    if isinstance(err, socket.gaierror):
        return _Failure(REASON_DNS_ERROR, f"cannot resolve {request.host}: {err.strerror or err}")
    if isinstance(err, ssl.SSLCertVerificationError):
        return _Failure(
            REASON_TLS_ERROR, f"certificate of {where} not accepted: {err.verify_message}"
        )
    if isinstance(err, ssl.SSLError):
        return _Failure(REASON_TLS_ERROR, f"TLS failed with {where}: {err.reason or err}")
    if isinstance(err, ConnectionRefusedError):
        return _Failure(REASON_CONNECT_ERROR, f"connection refused by {where}")
    if isinstance(err, ConnectionResetError):
        return _Failure(REASON_CONNECT_ERROR, f"connection reset by {where}")
    if isinstance(err, OSError):
        return _Failure(REASON_CONNECT_ERROR, f"cannot connect to {where}: {err.strerror or err}")
    if isinstance(err, ResponseError):
        too_large = isinstance(err, ResponseTooLarge)
        reason = REASON_RESPONSE_TOO_LARGE if too_large else REASON_INVALID_RESPONSE
        return _Failure(reason, f"{where}: {err}", err.status)
    return _Failure(REASON_ERROR, f"{type(err).__name__}: {err}")


# Judging the final response.


def _judge(
    spec: HTTPSpec, plan: _Plan, response: Response, elapsed: float, trace: Trace | None
) -> ProbeResult:
    status = response.status
    if not spec.status_ok(status):
        expected = ", ".join(str(code) for code in spec.valid_status_codes)
        return ProbeResult.failed(
            REASON_UNEXPECTED_STATUS,
            f"status {status}, expected {expected}",
            http_status_code=status,
        )
    mismatch = check_body(plan.checks, response.body, trace) if plan.checks else None
    if mismatch is not None:
        return ProbeResult.failed(REASON_BODY_MISMATCH, mismatch, http_status_code=status)
    if spec.max_duration is not None and elapsed > spec.max_duration:
        limit = format_duration(spec.max_duration)
        detail = f"took {elapsed * 1000:.0f}ms, longer than max_duration {limit}"
        return ProbeResult.failed(REASON_SLOW, detail, http_status_code=status)
    return ProbeResult.ok(http_status_code=status)


def _ms(since: float) -> str:
    return f"{(time.perf_counter() - since) * 1000:.1f}ms"
