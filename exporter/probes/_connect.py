"""How a probe's request reaches its server: TLS context, proxy, IP protocol, connection.

`fetch` (exporter/probes/_fetch.py) opens every connection through here; tcp uses `connect`
and `handshake` alone. Trouble is raised as `Failure`, its reason from the bounded vocabulary
in exporter/conventions.py.
"""

from __future__ import annotations

import base64
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from exporter.config import BasicAuth, RequestSpec, TLSSettings
from exporter.conventions import REASON_CONNECT_ERROR, REASON_DNS_ERROR, REASON_ERROR
from exporter.probes._http_client import Connection, Header, Request, Response, tunnel_lines
from exporter.probes._peer import earliest_expiry, tls_version_name
from exporter.probes._tls import TLSFileError, TLSFiles, context_for
from exporter.probes.result import Trace


class Failure(Exception):
    """A failed probe on its way out of the call stack, with its reason known."""

    def __init__(self, reason: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


class TLSContext:
    """A `tls:` block and its client context, shared through _tls.context_for."""

    __slots__ = ("files", "server_name")

    def __init__(self, settings: TLSSettings) -> None:
        self.files = TLSFiles.of(settings)
        self.server_name = settings.server_name

    def context(self) -> ssl.SSLContext:
        """The context for the files as they are now: a renewed certificate is loaded again.

        A stat of each file a run: 4us, where loading CAs and a key takes milliseconds.
        """
        try:
            return context_for(self.files)
        except TLSFileError as err:
            raise Failure(REASON_ERROR, str(err)) from None


_FAMILIES = {"ip4": socket.AF_INET, "ip6": socket.AF_INET6}


_FAMILY_NAMES: dict[int, str] = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy: forwards http:// requests, tunnels https:// ones with CONNECT."""

    host: str
    port: int
    headers: tuple[Header, ...]  # Proxy-Authorization, when there are credentials
    no_proxy: tuple[str, ...]

    @classmethod
    def of(cls, spec: RequestSpec) -> Proxy | None:
        if spec.proxy_url is None:
            return None
        parts = urlsplit(spec.proxy_url)
        assert parts.hostname is not None  # RequestSpec checked the URL
        headers = (
            ()
            if spec.proxy_basic_auth is None
            else (basic_header("Proxy-Authorization", spec.proxy_basic_auth),)
        )
        return cls(parts.hostname, parts.port or 80, headers, tuple(spec.no_proxy))

    def serves(self, host: str) -> bool:
        """Whether a request to `host` goes through the proxy: not when no_proxy names it."""
        host = host.lower()
        return not any(
            host == n.lstrip(".") or host.endswith("." + n.lstrip(".")) for n in self.no_proxy
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Connector:
    """How a spec's requests reach their servers: TLS context, proxy, IP protocol. One per spec."""

    __slots__ = ("families", "proxy", "tls")

    def __init__(self, spec: RequestSpec) -> None:
        self.tls = TLSContext(spec.tls)
        self.proxy = Proxy.of(spec)
        preferred = spec.preferred_ip_protocol
        if preferred is None:
            self.families: tuple[int, ...] = (socket.AF_UNSPEC,)
        else:
            first = _FAMILIES[preferred]
            other = socket.AF_INET6 if first == socket.AF_INET else socket.AF_INET
            self.families = (first, other) if spec.ip_protocol_fallback else (first,)


def basic_header(name: str, auth: BasicAuth) -> Header:
    pair = f"{auth.username}:{auth.password.reveal()}".encode()
    return Header(name, f"Basic {base64.b64encode(pair).decode()}", True)


async def connect(
    host: str, port: int, trace: Trace | None, families: tuple[int, ...] = (socket.AF_UNSPEC,)
) -> Connection:
    """Resolve (to the families in order, the next when one has no address) and connect."""
    if trace:
        trace.add(f"resolving and connecting to {host}:{port}{_preference(families)}")
    started = time.perf_counter()
    for i, family in enumerate(families):
        try:
            connection = await Connection.open(host, port, family)
            break
        except socket.gaierror as err:
            if family == socket.AF_UNSPEC:
                raise
            name, why = _FAMILY_NAMES[family], err.strerror or err
            if i + 1 == len(families):
                detail = f"cannot resolve {host} to an {name} address: {why}"
                raise Failure(REASON_DNS_ERROR, detail) from None
            if trace:
                trace.add(f"no {name} address for {host} ({why}): trying the other protocol")
    if trace:
        trace.add(f"connected to {connection.peer()} in {ms(started)}")
    return connection


def _preference(families: tuple[int, ...]) -> str:
    if families[0] == socket.AF_UNSPEC:
        return ""
    names = " then ".join(_FAMILY_NAMES[f] for f in families)
    return f" ({names})"


async def open_tunnel(
    connection: Connection, proxy: Proxy, request: Request, trace: Trace | None
) -> None:
    """Ask the proxy for a tunnel to the request's host; Failure when it refuses."""
    host = f"[{request.host}]" if ":" in request.host else request.host
    authority = f"{host}:{request.port}"
    if trace:
        for line in tunnel_lines(authority, proxy.headers, mask=True):
            trace.add(f"> {line}")
    head = "\r\n".join(tunnel_lines(authority, proxy.headers)) + "\r\n\r\n"
    answer = await connection.exchange(head.encode(), max_body=0, head=True)
    if trace:
        trace.add(f"< HTTP/{answer.version} {answer.status} {answer.reason}")
    if not 200 <= answer.status < 300:
        refusal = f"{answer.status} {answer.reason}".strip()
        raise Failure(
            REASON_CONNECT_ERROR,
            f"proxy {proxy.address} refused a tunnel to {authority}: {refusal}",
        )


def note_tls(response: Response, connection: Connection) -> None:
    tls = connection.tls_object()
    if tls is not None:
        response.tls_version = tls_version_name(tls)
        response.cert_expiry = earliest_expiry(tls)


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


def ms(since: float) -> str:
    """Milliseconds since `since` (a perf_counter reading), for traces."""
    return f"{(time.perf_counter() - since) * 1000:.1f}ms"
