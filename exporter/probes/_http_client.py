"""A minimal HTTP/1.1 client: one request per fresh connection, responses parsed by httptools.

An `asyncio.Protocol` rather than streams: against a local nginx it cost 0.11 CPU-ms per
request on uvloop where `asyncio.open_connection` cost 0.15 (0.16 and 0.18 on the default
loop), because received bytes go straight into the parser with no reader task to wake.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httptools

from exporter import __version__
from exporter.probes._coding import CODINGS, Inflater, TooLarge, content_coding

USER_AGENT = f"business-exporter/{__version__}"
_MAX_HEAD = 64 * 1024  # status line and headers; a peer sending more is not serving HTTP
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_URL_SAFE = "/%:@!$&'()*+,;=?~"  # characters a request target keeps as they are
# What a discarded response protocol holds instead of its parser: one that calls back nothing
# and is never fed (a protocol stops reading once its response is settled).
_SPENT_PARSER = httptools.HttpResponseParser(object())


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    value: str
    secret: bool  # shown as <secret> by head_lines(mask=True)


@dataclass(frozen=True, slots=True)
class Request:
    """Where to connect and what to send there."""

    url: str
    method: str
    headers: tuple[Header, ...]
    body: bytes | None
    json: bool
    host: str
    port: int
    tls: bool
    server_name: str
    authority: str
    target: str

    @classmethod
    def to(
        cls,
        url: str,
        method: str,
        headers: tuple[Header, ...] = (),
        body: bytes | None = None,
        *,
        json: bool = False,
        server_name: str | None = None,
    ) -> Request:
        """A request for an absolute http(s) URL; ValueError for any other URL."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an absolute http:// or https:// URL")
        target = quote(parts.path or "/", safe=_URL_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_URL_SAFE)
        host = parts.hostname
        tls = parts.scheme == "https"
        sni = server_name or host
        return cls(url, method, headers, body, json, host, port, tls, sni, parts.netloc, target)

    def head_lines(self, mask: bool = False, proxy: tuple[Header, ...] | None = None) -> list[str]:
        """The request line and headers; with `mask`, secret values replaced for display.

        With `proxy` (the proxy's own headers), the request as an HTTP proxy takes it: the
        absolute URL as its target.
        """
        given = {h.name.lower() for h in self.headers}
        target = self.target if proxy is None else f"http://{self.authority}{self.target}"
        lines = [f"{self.method} {target} HTTP/1.1"]
        if "host" not in given:
            lines.append(f"Host: {self.authority}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {USER_AGENT}")
        headers = self.headers if proxy is None else (*self.headers, *proxy)
        lines += [f"{h.name}: {'<secret>' if mask and h.secret else h.value}" for h in headers]
        if self.body is not None:
            if self.json and "content-type" not in given:
                lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(self.body)}")
        elif self.method in _BODY_METHODS:
            lines.append("Content-Length: 0")
        lines.append("Connection: close")
        return lines

    def encode(self, proxy: tuple[Header, ...] | None = None) -> bytes:
        head = "\r\n".join(self.head_lines(proxy=proxy)) + "\r\n\r\n"
        return head.encode() + (self.body or b"")


def tunnel_lines(authority: str, headers: tuple[Header, ...], mask: bool = False) -> list[str]:
    """The CONNECT request that asks an HTTP proxy for a tunnel to `authority` (host:port)."""
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", f"User-Agent: {USER_AGENT}"]
    return lines + [f"{h.name}: {'<secret>' if mask and h.secret else h.value}" for h in headers]


class ResponseError(Exception):
    """A response that cannot be used, with its status when that much arrived."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidResponse(ResponseError):
    """The peer sent something that is not HTTP, or closed before a complete response."""


class ResponseTooLarge(ResponseError):
    """The response body grew past the caller's limit; reading stopped there."""


@dataclass(slots=True)
class Response:
    status: int
    reason: str
    version: str
    headers: list[tuple[bytes, bytes]]
    body: bytes  # decoded when the Content-Encoding is gzip or deflate
    decoded_from: str = ""  # the content coding the body was decoded from
    received: int = 0  # body bytes as they came, before decoding
    undecodable: str = ""  # a Content-Encoding this client cannot decode: body left as sent
    tls_version: str = ""  # of the connection it came on: "TLS 1.3"; "" without TLS
    cert_expiry: float | None = None  # the earliest notAfter the server presented, Unix time

    def header(self, name: bytes) -> bytes | None:
        """The first header called `name` (lower case), or None."""
        return next((v for n, v in self.headers if n.lower() == name), None)


class _ResponseProtocol(asyncio.Protocol):
    """Feeds received bytes to httptools and resolves `done` with the first final response."""

    def __init__(self, done: asyncio.Future[Response]) -> None:
        self.done = done
        self._parser = httptools.HttpResponseParser(self)
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._received = 0
        self._headers_complete = False
        self._inflater: Inflater | None = None
        self._coding = ""
        self.max_body = 0
        self.head = False
        self.awaited = False  # set once a request is sent and its response awaited

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        self._received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as err:
            self._fail(InvalidResponse(f"not a valid HTTP response: {err}", self._status()))
        if not self._headers_complete and self._received > _MAX_HEAD:
            self._fail(InvalidResponse(f"no end of the response headers in {_MAX_HEAD} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is not None:
            self._fail(exc)
        elif self._headers_complete and self._delimited_by_eof():
            self._finish()
        elif self._headers_complete:
            message = "the peer closed the connection in the middle of the body"
            self._fail(InvalidResponse(message, self._status()))
        else:
            self._fail(InvalidResponse("the peer closed the connection before a complete response"))
        if not self.awaited and not self.done.cancelled():
            # A connection given up while it opened (a run cut off by its timeout) is closed by
            # asyncio with nobody to read this: marked as read, or asyncio logs it as lost.
            self.done.exception()

    # httptools callbacks

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_complete = True
        self._coding = content_coding(self._headers)
        if self._coding in CODINGS:
            self._inflater = Inflater(CODINGS[self._coding], self.max_body)
        if self.head:  # a response to HEAD announces a body it never sends
            self._finish()
        elif (declared := self._declared_length()) > self.max_body:  # no need to read it
            message = f"the body's Content-Length {declared} exceeds max_response_bytes"
            self._fail(ResponseTooLarge(f"{message} ({self.max_body})", self._status()))

    def on_body(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.max_body:
            message = f"the body exceeds max_response_bytes ({self.max_body})"
            self._fail(ResponseTooLarge(message, self._status()))
        elif self.done.done():
            return
        elif self._inflater is None:
            self._body.append(chunk)
        else:
            self._inflate(chunk)

    def _inflate(self, chunk: bytes) -> None:
        assert self._inflater is not None
        try:
            self._body.append(self._inflater.feed(chunk))
        except TooLarge:
            message = (
                f"the body, {self._coding}-decoded, exceeds max_response_bytes ({self.max_body})"
            )
            self._fail(ResponseTooLarge(message, self._status()))
        except zlib.error as err:
            message = f"the body is not valid {self._coding} (Content-Encoding): {err}"
            self._fail(InvalidResponse(message, self._status()))

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # interim (100 Continue, 103 Early Hints)
            self._reason, self._headers, self._headers_complete = b"", [], False
        else:
            self._finish()

    def discard(self) -> None:
        """Report nothing more: cancel a pending result, mark an error nobody read as seen.

        What was read goes now: an error's traceback holds this protocol in a reference cycle
        that lives until the cyclic GC runs, which bytes read do not hasten (bench/oversized.py:
        RSS rose past 200 MB with a 16 MiB body limit, each run's pieces kept).
        """
        if not self.done.done():
            self.done.cancel()
        elif not self.done.cancelled():
            self.done.exception()
        self._body.clear()
        self._inflater = None
        # The parser holds this protocol's bound methods, a cycle: with it cut, reference
        # counting frees the protocol, its future and the response as the run ends, where the
        # cyclic collector found 15 objects a run to free (bench/serve_cost.py).
        self._parser = _SPENT_PARSER

    # helpers

    def _status(self) -> int | None:
        return self._parser.get_status_code() if self._headers_complete else None

    def _declared_length(self) -> int:
        """The Content-Length of a response that has a body; 0 when there is none or no length."""
        status = self._parser.get_status_code()
        if status < 200 or status in (204, 304):
            return 0
        value = next((v for n, v in self._headers if n.lower() == b"content-length"), b"0")
        return int(value) if value.strip().isdigit() else 0  # httptools refuses a bad one

    def _delimited_by_eof(self) -> bool:
        names = {n.lower() for n, _ in self._headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _finish(self) -> None:
        if self.done.done():
            return
        inflater = None if self.head else self._inflater
        if inflater is not None:
            try:
                inflater.finish()
            except zlib.error as err:
                message = f"the body is not valid {self._coding} (Content-Encoding): {err}"
                self._fail(InvalidResponse(message, self._status()))
                return
        self.done.set_result(
            Response(
                status=self._parser.get_status_code(),
                reason=self._reason.decode("latin-1"),
                version=self._parser.get_http_version(),
                headers=self._headers,
                body=b"".join(self._body),
                decoded_from=self._coding if inflater is not None else "",
                received=self._size,
                undecodable="" if self._inflater is not None or self.head else self._coding,
            )
        )

    def _fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


class Connection:
    """One TCP (then maybe TLS) connection carrying one request. Always `close()` it."""

    def __init__(self, transport: asyncio.Transport, protocol: _ResponseProtocol) -> None:
        self.transport = transport
        self._protocol = protocol

    @classmethod
    async def open(cls, host: str, port: int, family: int = 0) -> Connection:
        """Resolve (to `family` addresses only, if given) and connect; socket.gaierror, OSError."""
        loop = asyncio.get_running_loop()
        protocol = _ResponseProtocol(loop.create_future())
        transport, _ = await loop.create_connection(lambda: protocol, host, port, family=family)
        return cls(transport, protocol)

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """Upgrade to TLS; raises ssl.SSLError (certificate problems included) or OSError.

        Responses read after this are parsed afresh: what came before (a proxy's answer to
        CONNECT) is done with.
        """
        loop = asyncio.get_running_loop()
        if self._protocol.awaited:
            self._protocol.discard()
            self._protocol = _ResponseProtocol(loop.create_future())
        tls = await loop.start_tls(
            self.transport, self._protocol, context, server_hostname=server_hostname
        )
        if tls is None:  # only when the transport closed during the handshake
            raise ConnectionResetError("the peer closed the connection during the TLS handshake")
        self.transport = tls

    async def exchange(self, request: bytes, *, max_body: int, head: bool) -> Response:
        """Send `request`, read the response; raises InvalidResponse, ResponseTooLarge, OSError."""
        self._protocol.max_body = max_body
        self._protocol.head = head
        self._protocol.awaited = True
        self.transport.write(request)
        return await self._protocol.done

    def tls_object(self) -> ssl.SSLObject | None:
        """The TLS session, once start_tls has run."""
        tls: ssl.SSLObject | None = self.transport.get_extra_info("ssl_object")
        return tls

    def peer(self) -> str:
        """The address connected to, as `ip:port`."""
        address = self.transport.get_extra_info("peername")
        return f"{address[0]}:{address[1]}" if address else "?"

    def close(self) -> None:
        """Drop the connection at once: no TLS close_notify to wait for, no socket left behind."""
        self.transport.abort()
        self._protocol.discard()
