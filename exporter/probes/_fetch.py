"""One HTTP request for a probe: fresh connection, TLS, redirects, failures named as reasons.

The http, openapi and steps kinds send their requests through here (connections are opened
by exporter/probes/_connect.py, which tcp uses alone). Trouble with the target is raised as
`Failure`, whose reason is one of the bounded vocabulary in exporter/conventions.py.
"""

from __future__ import annotations

import functools
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from exporter.config import RequestSpec, SecretSource, reveal
from exporter.conventions import (
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_INVALID_RESPONSE,
    REASON_RESPONSE_TOO_LARGE,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_STATUS,
)
from exporter.probes._connect import (
    Connector,
    Failure,
    TLSContext,
    basic_header,
    connect,
    handshake,
    ms,
    note_tls,
    open_tunnel,
)
from exporter.probes._http_client import (
    Connection,
    Header,
    Request,
    Response,
    ResponseError,
    ResponseTooLarge,
)
from exporter.probes.result import Seen, Trace

# Imported from here by the kinds.
__all__ = ["Connector", "Failure", "TLSContext", "connect", "handshake", "ms"]

SENSITIVE = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding"})  # always ours
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class Session(Protocol):
    """What a multi-request probe keeps between requests (cookies): asked at every hop."""

    def prepare(self, request: Request) -> Request: ...

    def store(self, request: Request, response: Response) -> None: ...


# Building requests.


def configured_headers(spec: RequestSpec) -> list[Header]:
    """The spec's headers and basic auth with secrets revealed and marked as secret."""
    headers = [
        Header(name, reveal(value), isinstance(value, SecretSource) or name.lower() in SENSITIVE)
        for name, value in spec.headers.items()
        if name.lower() not in _FRAMING
    ]
    if spec.basic_auth is not None:
        headers = [h for h in headers if h.name.lower() != "authorization"]
        headers.append(basic_header("Authorization", spec.basic_auth))
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


@dataclass(frozen=True, slots=True)
class Redirects:
    """What following a request and its redirects reads of its spec, at every run."""

    follow: bool
    most: int  # max_redirects
    max_response_bytes: int
    server_name: str | None  # for the hops to the configured host

    @classmethod
    def of(cls, spec: RequestSpec) -> Redirects:
        """The spec's rules, one object for the many specs that give the same (the defaults)."""
        tls = spec.tls
        return _redirects(
            spec.follow_redirects, spec.max_redirects, spec.max_response_bytes, tls.server_name
        )


@functools.lru_cache(maxsize=1024)
def _redirects(follow: bool, most: int, max_bytes: int, server_name: str | None) -> Redirects:
    return Redirects(follow, most, max_bytes, server_name)


async def follow(
    rules: Redirects,
    first: Request,
    data: bytes,
    connector: Connector,
    trace: Trace | None,
    session: Session | None = None,
) -> Response:
    """Send `first` (already encoded as `data`) and follow redirects as `rules` allow.

    The final response's `cert_expiry` is the earliest of every hop's.
    """
    request, hops, expiry = first, 0, None
    while True:
        if session is not None:
            request = session.prepare(request)
            data = request.encode()
        response = await fetch(request, data, connector, rules.max_response_bytes, trace)
        expiry = earlier(expiry, response.cert_expiry)
        if session is not None:
            session.store(request, response)
        location = response.header(b"location") if response.status in _REDIRECTS else None
        if not rules.follow or location is None:
            response.cert_expiry = expiry
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        if hops == rules.most:
            raise Failure(
                REASON_UNEXPECTED_STATUS,
                f"status {response.status} redirects to {target} after {hops} redirect(s), "
                f"the most max_redirects allows",
                response.status,
            )
        sni = rules.server_name if urlsplit(target).hostname == first.host else None
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


def earlier(a: float | None, b: float | None) -> float | None:
    """The earlier of two times, either of which may be unknown."""
    return b if a is None else a if b is None else min(a, b)


def seen(response: Response, cert_expiry: float | None = None) -> Seen:
    """What `response` came over, with an expiry seen earlier in the run folded in."""
    expiry = earlier(cert_expiry, response.cert_expiry)
    return Seen(f"HTTP/{response.version}", response.tls_version, expiry)


async def fetch(
    request: Request, data: bytes, connector: Connector, max_body: int, trace: Trace | None
) -> Response:
    """One request on a fresh connection: the response, or Failure naming what went wrong."""
    connection: Connection | None = None
    proxy = connector.proxy
    if proxy is not None and not proxy.serves(request.host):
        proxy = None
    # Whom a failure is about: the proxy, until a tunnel reaches the target.
    where = (
        (request.host, request.port, "") if proxy is None else (proxy.host, proxy.port, "proxy ")
    )
    try:
        connection = await connect(where[0], where[1], trace, connector.families)
        if proxy is not None and request.tls:
            await open_tunnel(connection, proxy, request, trace)
            where = (request.host, request.port, "")
        if request.tls:
            await handshake(connection, connector.tls.context(), request.server_name, trace)
        proxied = proxy.headers if proxy is not None and not request.tls else None
        if proxied is not None:
            data = request.encode(proxied)
        response = await _exchange(connection, request, data, max_body, trace, proxied)
        note_tls(response, connection)
        return response
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        raise classify(err, *where) from None
    finally:
        if connection is not None:
            connection.close()


async def _exchange(
    connection: Connection,
    request: Request,
    data: bytes,
    max_body: int,
    trace: Trace | None,
    proxy: tuple[Header, ...] | None = None,
) -> Response:
    if trace:
        for line in request.head_lines(mask=True, proxy=proxy):
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


def classify(err: Exception, host: str, port: int, what: str = "") -> Failure:
    """Name what went wrong with the target in the bounded reason vocabulary.

    `what` ("proxy ") says that host:port is the proxy the request went through.
    """
    where = f"{what}{host}:{port}"
    if isinstance(err, Failure):
        return err
    if isinstance(err, socket.gaierror):
        return Failure(REASON_DNS_ERROR, f"cannot resolve {what}{host}: {err.strerror or err}")
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
