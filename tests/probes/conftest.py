"""Real servers for the probe tests: a Starlette app under uvicorn (plain and TLS) and raw peers.

Every test runs on both the default asyncio loop and uvloop, the loop the exporter runs on:
their transports fail in different ways (error types, TLS upgrade, close order).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import re
import socket
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import trustme
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from exporter.demo.app import create_demo_app
from exporter.demo.faults import Faults
from tests.servers import serve_app

TLS_NAME = "probe.test"
SAMPLE_JSON = {
    "status": "ok",
    "count": 3,
    "flag": True,
    "items": [{"id": "a1"}],
    "retired_at": None,
}


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@functools.cache
def gzip_bomb() -> bytes:
    """64 KiB of gzip that decode to BOMB_SIZE zero bytes."""
    return gzip.compress(bytes(BOMB_SIZE), compresslevel=9)


BOMB_SIZE = 64 << 20
DOCUMENT = json.dumps(SAMPLE_JSON).encode()
# /encoded/{name}: (its Content-Encoding, its body)
ENCODED: dict[str, tuple[str, Callable[[], bytes]]] = {
    "gzip": ("gzip", lambda: gzip.compress(DOCUMENT)),
    "x-gzip": ("x-gzip", lambda: gzip.compress(DOCUMENT)),
    "deflate": ("deflate", lambda: zlib.compress(DOCUMENT)),  # the zlib format, as RFC 9110 says
    "deflate-raw": ("deflate", lambda: _deflate_raw(DOCUMENT)),  # what some servers send
    "gzip-members": ("gzip", lambda: gzip.compress(DOCUMENT[:20]) + gzip.compress(DOCUMENT[20:])),
    "gzip-corrupt": ("gzip", lambda: gzip.compress(DOCUMENT)[:10] + b"not deflate at all"),
    "gzip-cut": ("gzip", lambda: gzip.compress(DOCUMENT)[:-12]),
    "gzip-bomb": ("gzip", gzip_bomb),
    "br": ("br", lambda: b"\x1b\x2a\x00\x00brotli stands in"),  # never decoded: any bytes do
    "zstd": ("zstd", lambda: b"(\xb5/\xfdzstd stands in"),
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class AppServer:
    url: str
    received: list[Received] = field(default_factory=list)

    def last(self) -> Received:
        return self.received[-1]


def _app(received: list[Received]) -> Starlette:
    async def record(request: Request) -> None:
        body = await request.body()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}
        received.append(Received(request.method, request.url.path, headers, body))

    async def status(request: Request) -> Response:
        return PlainTextResponse("status", status_code=int(request.path_params["code"]))

    async def echo(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("echoed")

    async def json_doc(request: Request) -> Response:
        return JSONResponse(SAMPLE_JSON)

    async def text(request: Request) -> Response:
        return PlainTextResponse("all systems operational")

    async def chunked(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"all systems ", b"operational"):
                yield part

        return StreamingResponse(parts())

    async def slow(request: Request) -> Response:
        await asyncio.sleep(int(request.query_params["ms"]) / 1000)  # the fault being tested
        return PlainTextResponse("late")

    async def big(request: Request) -> Response:
        return PlainTextResponse("x" * int(request.path_params["size"]))

    async def hops(request: Request) -> Response:
        left = int(request.path_params["n"])
        return RedirectResponse(f"/hops/{left - 1}", 302) if left else PlainTextResponse("arrived")

    async def redirect(request: Request) -> Response:
        await record(request)
        code = int(request.path_params["code"])
        return RedirectResponse(request.query_params.get("to", "/echo"), code)

    async def reflect(request: Request) -> Response:
        """Quotes the credentials it was sent back in the forms servers echo them in."""
        sent = request.headers.get("authorization") or request.headers.get("x-api-key", "")
        encoded = quote(sent, safe="")
        echoes = {
            "X-Echo": sent,
            "X-Echo-Form": quote_plus(sent),
            "X-Echo-Lower": re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded),
            "Location": f"/landing?auth={encoded}",
        }
        status = int(request.query_params.get("status", "200"))
        return JSONResponse({"echo": "x" * 40 + sent}, status, headers=echoes)

    async def encoded(request: Request) -> Response:
        """SAMPLE_JSON in the content coding the path names, sent whether asked for or not."""
        coding, body = ENCODED[request.path_params["name"]]
        return Response(body(), headers={"Content-Encoding": coding})

    return Starlette(
        routes=[
            Route("/encoded/{name}", encoded),
            Route("/status/{code:int}", status),
            Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE"]),
            Route("/json", json_doc),
            Route("/text", text, methods=["GET", "HEAD"]),
            Route("/chunked", chunked),
            Route("/slow", slow),
            Route("/big/{size:int}", big),
            Route("/hops/{n:int}", hops),
            Route("/redirect/{code:int}", redirect, methods=["GET", "POST", "HEAD"]),
            Route("/reflect", reflect),
            Route("/landing", text),
        ]
    )


@contextlib.contextmanager
def _serve(app: Starlette, **tls: Any) -> Iterator[int]:
    """Run `app` under uvicorn in a thread on a socket bound first, so no wait for startup."""
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False, **tls)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@pytest.fixture(scope="session")
def _app_server() -> Iterator[AppServer]:
    received: list[Received] = []
    with _serve(_app(received)) as port:
        yield AppServer(f"http://127.0.0.1:{port}", received)


@pytest.fixture
def app_server(_app_server: AppServer) -> AppServer:
    """The plain HTTP app, with what it received so far cleared."""
    _app_server.received.clear()
    return _app_server


@dataclass
class TLSServer:
    url: str
    ca_file: Path


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """The same app over HTTPS, its certificate for `probe.test` from a throwaway CA."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca_file, server_pem = folder / "ca.pem", folder / "server.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert(TLS_NAME).private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    with _serve(_app([]), ssl_certfile=str(server_pem)) as port:
        yield TLSServer(f"https://127.0.0.1:{port}", ca_file)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start TCP peers that speak whatever their handler writes; returns their URL."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: Handler) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await handler(reader, writer)

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound, then let go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Demo:
    """The demo API, served for a test module, and its fault switches."""

    url: str
    faults: Faults


@pytest.fixture(scope="module")
def _demo() -> Iterator[Demo]:
    app = create_demo_app()
    with serve_app(app) as url:
        yield Demo(url, app.state.faults)
