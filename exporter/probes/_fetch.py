"""One HTTP request for a probe: fresh connection, TLS, redirects, failures named as reasons.

The http, openapi and steps kinds send their requests through here; tcp uses `connect`,
`handshake` and `classify`. Trouble with the target is raised as `Failure`, whose reason is
one of the bounded vocabulary in exporter/conventions.py.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import time
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from exporter.config import RequestSpec, SecretSource, TLSSettings, reveal
from exporter.conventions import (
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_INVALID_RESPONSE,
    REASON_RESPONSE_TOO_LARGE,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_STATUS,
)
from exporter.probes import Trace
from exporter.probes._http_client import (
    Connection,
    Header,
    Request,
    Response,
    ResponseError,
    ResponseTooLarge,
    tls_context,
)

SENSITIVE = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding"})  # always ours
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class Failure(Exception):
    """A failed probe on its way out of the call stack, with its reason known."""

    def __init__(self, reason: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


class Session(Protocol):
    """What a multi-request probe keeps between requests (cookies): asked at every hop."""

    def prepare(self, request: Request) -> Request: ...

    def store(self, request: Request, response: Response) -> None: ...


class TLSContext:
    """A `tls:` block and its client context, loaded on first use (CA files take milliseconds)."""

    __slots__ = ("_context", "settings")

    def __init__(self, settings: TLSSettings) -> None:
        self.settings = settings
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            ca_file = self.settings.ca_file
            try:
                mtime = ca_file.stat().st_mtime_ns if ca_file else 0
                self._context = tls_context(self.settings.insecure_skip_verify, ca_file, mtime)
            except OSError as err:
                raise Failure(REASON_ERROR, f"cannot load tls.ca_file {ca_file}: {err}") from None
        return self._context


# Building requests.


def configured_headers(spec: RequestSpec) -> list[Header]:
    """The spec's headers and basic auth with secrets revealed and marked as secret."""
    headers = [
        Header(name, reveal(value), isinstance(value, SecretSource) or name.lower() in SENSITIVE)
        for name, value in spec.headers.items()
        if name.lower() not in _FRAMING
    ]
    if spec.basic_auth is not None:
        auth = f"{spec.basic_auth.username}:{spec.basic_auth.password.reveal()}".encode()
        headers = [h for h in headers if h.name.lower() != "authorization"]
        headers.append(Header("Authorization", f"Basic {base64.b64encode(auth).decode()}", True))
    return headers


def new_request(
    url: str,
    method: str,
    headers: tuple[Header, ...],
    body: bytes | None = None,
    is_json: bool = False,
    server_name: str | None = None,
) -> Request:
    """A request ready to encode; Failure (error) for a bad URL or header."""
    for header in headers:
        if not _TOKEN.match(header.name) or "\r" in header.value or "\n" in header.value:
            raise Failure(REASON_ERROR, f"header {header.name!r} has a bad name or a line break")
    try:
        return Request.to(url, method, headers, body, json=is_json, server_name=server_name)
    except ValueError as err:
        raise Failure(REASON_ERROR, f"cannot request {url!r}: {err}") from None


# Running a request: connect, send, read, follow redirects.


async def follow(
    spec: RequestSpec,
    first: Request,
    data: bytes,
    tls: TLSContext,
    trace: Trace | None,
    session: Session | None = None,
) -> Response:
    """Send `first` (already encoded as `data`) and follow redirects as `spec` allows."""
    request, hops = first, 0
    while True:
        if session is not None:
            request = session.prepare(request)
            data = request.encode()
        response = await fetch(request, data, tls, spec.max_response_bytes, trace)
        if session is not None:
            session.store(request, response)
        location = response.header(b"location") if response.status in _REDIRECTS else None
        if not spec.follow_redirects or location is None:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        if hops == spec.max_redirects:
            raise Failure(
                REASON_UNEXPECTED_STATUS,
                f"status {response.status} redirects to {target} after {hops} redirect(s), "
                f"the most max_redirects allows",
                response.status,
            )
        sni = spec.tls.server_name if urlsplit(target).hostname == first.host else None
        request, hops = _redirect(request, response.status, target, sni), hops + 1
        data = request.encode()
        if trace:
            trace.add(f"redirect {hops}: {response.status} to {request.method} {request.url}")


def _redirect(request: Request, status: int, url: str, server_name: str | None) -> Request:
    """The next hop, as browsers do it: 303 (and 301/302 after POST) turn into a bodyless GET."""
    method, body = request.method, request.body
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
    headers = request.headers
    if urlsplit(url).hostname != request.host:  # credentials stay with their configured host
        headers = tuple(h for h in headers if not h.secret)
    return new_request(url, method, headers, body, request.json, server_name)


async def fetch(
    request: Request, data: bytes, tls: TLSContext, max_body: int, trace: Trace | None
) -> Response:
    """One request on a fresh connection: the response, or Failure naming what went wrong."""
    connection: Connection | None = None
    try:
        connection = await connect(request.host, request.port, trace)
        if request.tls:
            await handshake(connection, tls.context(), request.server_name, trace)
        return await _exchange(connection, request, data, max_body, trace)
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        raise classify(err, request.host, request.port) from None
    finally:
        if connection is not None:
            connection.close()


async def connect(host: str, port: int, trace: Trace | None) -> Connection:
    """Resolve and connect; the caller closes the connection."""
    if trace:
        trace.add(f"resolving and connecting to {host}:{port}")
    started = time.perf_counter()
    connection = await Connection.open(host, port)
    if trace:
        trace.add(f"connected to {connection.peer()} in {ms(started)}")
    return connection


async def handshake(
    connection: Connection, context: ssl.SSLContext, server_name: str, trace: Trace | None
) -> None:
    """Upgrade `connection` to TLS, verifying the peer as `context` says."""
    started = time.perf_counter()
    await connection.start_tls(context, server_name)
    if trace:
        tls = connection.transport.get_extra_info("ssl_object")
        trace.add(
            f"TLS handshake with server name {server_name} in {ms(started)}: "
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
            value = "<secret>" if name.lower() in SENSITIVE else raw_value.decode("latin-1")
            trace.add(f"< {name}: {value}")
        size = f"{response.received} body bytes"
        if response.decoded_from:
            size += f", {len(response.body)} {response.decoded_from}-decoded"
        trace.add(f"response of {size} in {ms(started)}")
    return response


def readable_body(response: Response) -> bytes:
    """The body to check; Failure when it came in a coding this client cannot decode."""
    if response.undecodable:
        raise Failure(
            REASON_INVALID_RESPONSE,
            f"the body is {response.undecodable}-encoded (Content-Encoding), which the probe "
            f"cannot decode: it decodes gzip and deflate (send an Accept-Encoding header that "
            f"leaves {response.undecodable} out)",
            response.status,
        )
    return response.body


def classify(err: Exception, host: str, port: int) -> Failure:
    """Name what went wrong with the target in the bounded reason vocabulary."""
    where = f"{host}:{port}"
    if isinstance(err, Failure):
        return err
    if isinstance(err, socket.gaierror):
        return Failure(REASON_DNS_ERROR, f"cannot resolve {host}: {err.strerror or err}")
    if isinstance(err, ssl.SSLCertVerificationError):
        return Failure(
            REASON_TLS_ERROR, f"certificate of {where} not accepted: {err.verify_message}"
        )
    if isinstance(err, ssl.SSLError):
        return Failure(REASON_TLS_ERROR, f"TLS failed with {where}: {err.reason or err}")
    if isinstance(err, ConnectionRefusedError):
        return Failure(REASON_CONNECT_ERROR, f"connection refused by {where}")
    if isinstance(err, ConnectionResetError):
        return Failure(REASON_CONNECT_ERROR, f"connection reset by {where}")
    if isinstance(err, OSError):
        return Failure(REASON_CONNECT_ERROR, f"cannot connect to {where}: {err.strerror or err}")
    if isinstance(err, ResponseError):
        too_large = isinstance(err, ResponseTooLarge)
        reason = REASON_RESPONSE_TOO_LARGE if too_large else REASON_INVALID_RESPONSE
        return Failure(reason, f"{where}: {err}", err.status)
    return Failure(REASON_ERROR, f"{type(err).__name__}: {err}")


def ms(since: float) -> str:
    """Milliseconds since `since` (a perf_counter reading), for traces."""
    return f"{(time.perf_counter() - since) * 1000:.1f}ms"
