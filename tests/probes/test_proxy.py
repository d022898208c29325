"""Targets behind an HTTP proxy: http:// forwarded, https:// tunnelled with CONNECT.

The proxy is a small asyncio one written for these tests, a real peer on 127.0.0.1:0 that
relays bytes both ways and records what it was asked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from exporter.config import HTTPSpec
from exporter.config.steps import StepsSpec
from exporter.conventions import REASON_CONNECT_ERROR, REASON_UNEXPECTED_STATUS, RESULT_SUCCESS
from exporter.probes import Trace, steps
from exporter.probes.http import probe
from tests.probes.conftest import TLS_NAME, AppServer, TLSServer

PASSWORD = "pr0xy-s3cret"
CREDENTIALS = "Basic " + base64.b64encode(f"monitor:{PASSWORD}".encode()).decode()


@dataclass
class Proxy:
    url: str
    asked: list[str] = field(default_factory=list)  # each request line
    authorizations: list[str] = field(default_factory=list)  # each Proxy-Authorization sent


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def http_proxy(require: str | None = None) -> AsyncIterator[Proxy]:
    """An HTTP proxy; with `require`, a 407 for requests without that Proxy-Authorization."""
    proxy = Proxy("")
    handlers: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await _serve(proxy, require, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def _serve(
    proxy: Proxy, require: str | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    line, *header_lines = head.split("\r\n")
    headers = dict(h.split(": ", 1) for h in header_lines if h)
    proxy.asked.append(line)
    given = headers.get("Proxy-Authorization", "")
    proxy.authorizations.append(given)
    if require is None or given == require:
        await _forward(line, head, reader, writer)
        return
    writer.write(
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b'Proxy-Authenticate: Basic realm="probe"\r\n'
        + f"X-Echo: {given}\r\nContent-Length: 0\r\n\r\n".encode()
    )
    await writer.drain()


async def _forward(
    line: str, head: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    method, target, _ = line.split(" ")
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:  # absolute-form: ask the origin in origin-form, minus what was for the proxy
        parts = urlsplit(target)
        assert parts.hostname is not None
        upstream_reader, upstream_writer = await asyncio.open_connection(
            parts.hostname, parts.port or 80
        )
        rest = [h for h in head.split("\r\n")[1:] if not h.startswith("Proxy-Authorization")]
        origin = parts.path + (f"?{parts.query}" if parts.query else "")
        upstream_writer.write("\r\n".join([f"{method} {origin} HTTP/1.1", *rest]).encode())
    try:
        await asyncio.gather(_relay(reader, upstream_writer), _relay(upstream_reader, writer))
    finally:
        upstream_writer.close()
        writer.close()


def spec(url: str, proxy: Proxy, **fields: Any) -> HTTPSpec:
    return HTTPSpec.model_validate({"url": url, "proxy_url": proxy.url, **fields})


def tls_of(server: TLSServer) -> dict[str, str]:
    return {"ca_file": str(server.ca_file), "server_name": TLS_NAME}


# Through the proxy


async def test_https_goes_through_a_connect_tunnel(tls_server: TLSServer) -> None:
    async with http_proxy() as proxy:
        result = await probe(spec(tls_server.url + "/text", proxy, tls=tls_of(tls_server)))
        assert (result.reason, result.detail) == (RESULT_SUCCESS, "")
        assert proxy.asked == [f"CONNECT {tls_server.url.removeprefix('https://')} HTTP/1.1"]
        assert result.seen is not None
        assert result.seen.tls_version == "TLS 1.3"  # the target's TLS, through the tunnel


async def test_http_is_forwarded_with_the_absolute_url(app_server: AppServer) -> None:
    async with http_proxy() as proxy:
        result = await probe(spec(app_server.url + "/echo?x=1", proxy))
        assert (result.reason, result.detail) == (RESULT_SUCCESS, "")
        assert proxy.asked == [f"GET {app_server.url}/echo?x=1 HTTP/1.1"]
        assert app_server.last().path == "/echo"


async def test_every_redirect_hop_goes_through_the_proxy(app_server: AppServer) -> None:
    async with http_proxy() as proxy:
        result = await probe(spec(app_server.url + "/hops/2", proxy))
        assert result.success
        assert [line.split(" ")[1] for line in proxy.asked] == [
            f"{app_server.url}/hops/{n}" for n in (2, 1, 0)
        ]


async def test_a_flow_s_steps_go_through_the_proxy(app_server: AppServer) -> None:
    async with http_proxy() as proxy:
        flow = StepsSpec.model_validate(
            {
                "steps": [
                    {"name": "a", "url": app_server.url + "/text", "proxy_url": proxy.url},
                    {"name": "b", "url": app_server.url + "/json", "proxy_url": proxy.url},
                ]
            }
        )
        assert (await steps.probe(flow)).success
        assert len(proxy.asked) == 2


async def test_no_proxy_hosts_are_reached_directly(app_server: AppServer) -> None:
    async with http_proxy() as proxy:
        result = await probe(spec(app_server.url + "/text", proxy, no_proxy=["127.0.0.1"]))
        assert result.success
        assert proxy.asked == []


# Credentials


@pytest.fixture
def proxy_password(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("PROXY_PASSWORD", PASSWORD)
    return {"username": "monitor", "password": {"env": "PROXY_PASSWORD"}}


async def test_proxy_credentials_open_the_tunnel_and_never_show(
    tls_server: TLSServer, proxy_password: dict[str, Any]
) -> None:
    async with http_proxy(require=CREDENTIALS) as proxy:
        trace = Trace()
        fields = {"tls": tls_of(tls_server), "proxy_basic_auth": proxy_password}
        result = await probe(spec(tls_server.url + "/text", proxy, **fields), trace)
        assert result.success
        assert proxy.authorizations == [CREDENTIALS]
        assert "> Proxy-Authorization: <secret>" in trace.lines
        assert not [line for line in trace.lines if PASSWORD in line or CREDENTIALS in line]


async def test_forwarded_requests_carry_the_credentials_and_never_show_them(
    app_server: AppServer, proxy_password: dict[str, Any]
) -> None:
    async with http_proxy(require=CREDENTIALS) as proxy:
        trace = Trace()
        result = await probe(
            spec(app_server.url + "/echo", proxy, proxy_basic_auth=proxy_password), trace
        )
        assert result.success
        assert proxy.authorizations == [CREDENTIALS]
        assert "Proxy-Authorization" not in app_server.last().headers  # the proxy's, not the app's
        assert "> Proxy-Authorization: <secret>" in trace.lines
        assert not [line for line in trace.lines if PASSWORD in line]


async def test_a_refused_tunnel_is_a_connect_error_that_masks_what_the_proxy_echoes(
    tls_server: TLSServer, proxy_password: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with http_proxy(require="Basic c29tZW9uZS1lbHNl") as proxy:
        trace = Trace()
        fields = {"tls": tls_of(tls_server), "proxy_basic_auth": proxy_password}
        result = await probe(spec(tls_server.url + "/text", proxy, **fields), trace)
        target = tls_server.url.removeprefix("https://")
        address = proxy.url.removeprefix("http://")
        assert (result.reason, result.detail) == (
            REASON_CONNECT_ERROR,
            f"proxy {address} refused a tunnel to {target}: 407 Proxy Authentication Required",
        )
        assert result.http_status_code is None  # the proxy's status, not the target's
        assert not [line for line in trace.lines if PASSWORD in line or CREDENTIALS in line]


async def test_a_forwarding_proxy_s_refusal_is_the_status_it_answered(
    app_server: AppServer, proxy_password: dict[str, Any]
) -> None:
    async with http_proxy(require="Basic c29tZW9uZS1lbHNl") as proxy:
        trace = Trace()
        result = await probe(
            spec(app_server.url + "/text", proxy, proxy_basic_auth=proxy_password), trace
        )
        assert (result.reason, result.http_status_code) == (REASON_UNEXPECTED_STATUS, 407)
        assert "< X-Echo: <secret>" in trace.lines  # the proxy quoted the credentials back
        assert not [line for line in trace.lines if PASSWORD in line or CREDENTIALS in line]


async def test_a_proxy_that_is_down_is_a_connect_error_naming_the_proxy(
    app_server: AppServer, closed_port: int
) -> None:
    proxied = HTTPSpec.model_validate(
        {"url": app_server.url + "/text", "proxy_url": f"http://127.0.0.1:{closed_port}"}
    )
    result = await probe(proxied)
    assert (result.reason, result.detail) == (
        REASON_CONNECT_ERROR,
        f"connection refused by proxy 127.0.0.1:{closed_port}",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"proxy_url": "http://monitor:pw@proxy:3128"},
            "must not hold credentials: use proxy_basic_auth with env or file",
        ),
        ({"proxy_url": "socks5://proxy:1080"}, "must be an http://host:port URL of a proxy"),
        ({"proxy_url": "http://proxy:3128/path"}, "must be an http://host:port URL of a proxy"),
        ({"no_proxy": ["internal"]}, "proxy_basic_auth and no_proxy go with proxy_url"),
        (
            {"proxy_url": "http://proxy:3128", "no_proxy": ["http://x"]},
            "must hold host names, .domains or IPs",
        ),
        (
            {"proxy_url": "http://proxy:3128", "headers": {"Proxy-Authorization": "x"}},
            "Proxy-Authorization is set from proxy_basic_auth",
        ),
    ],
)
def test_proxy_settings_that_cannot_work_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        HTTPSpec.model_validate({"url": "https://api.test/", **fields})
    assert message in str(raised.value)
    assert ":pw@" not in str(raised.value).split("input_value")[0]
