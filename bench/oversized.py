"""Memory of a running exporter whose targets answer with bodies far above max_response_bytes.

    .venv/bin/python bench/oversized.py [--seconds 600] [--every 30] [--interval 1s]

`business-exporter serve` runs in its own process on five targets, every --interval, against a
local server (a thread of this script) that never stops sending:
  length    http,    Content-Length of 1 TiB, zeros
  chunked   http,    chunked, endless
  eof       steps,   a body delimited by the connection's end, endless (a json_path capture)
  openapi   openapi, an endless chunked JSON document (its max_response_bytes is 16 MiB)
  bomb      http,    a gzip bomb: 256 KiB that decode to 256 MiB
and every --every seconds it prints the exporter's RSS and peak RSS (VmRSS, VmHWM from /proc),
its open files, its runs so far and how many ended response_too_large, and asks `/probe` for
one target as well. RSS should level off after the first rounds and stay there. Prints a
table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import re
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from memory import proc_status
from probe_cost import free_port, running

CHUNK = bytes(64 << 10)
BOMB = gzip.compress(bytes(256 << 20), compresslevel=9)
HEADS = {
    b"/length": b"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"/eof": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
    b"/openapi.json": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"/bomb": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    % len(BOMB),
}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        path = (await reader.readuntil(b"\r\n\r\n")).split(b" ", 2)[1]
        writer.write(HEADS[path])
        if path == b"/bomb":
            writer.write(BOMB)
        elif path == b"/openapi.json":
            writer.write(b'%x\r\n{"paths": {\r\n' % len(b'{"paths": {'))
        piece = b'"/x": {"get": {}}, ' * 3000 if path == b"/openapi.json" else CHUNK
        chunked = path in (b"/chunked", b"/openapi.json")
        while path != b"/bomb":  # until the exporter hangs up
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
        await writer.drain()
    writer.close()


@contextlib.contextmanager
def endless_server() -> Iterator[int]:
    """The body server, on its own event loop in a thread; yields its port."""
    loop = asyncio.new_event_loop()
    started: asyncio.Future[asyncio.Server] = loop.create_future()

    async def serve() -> None:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0)
        started.set_result(server)
        await server.serve_forever()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    while not started.done():
        time.sleep(0.01)
    yield started.result().sockets[0].getsockname()[1]
    # The thread is a daemon: it ends with this script, mid-write as like as not.


def config_text(port: int, interval: str) -> str:
    base = f"http://127.0.0.1:{port}"
    checks = {"body_checks": [{"matches": "never there"}]}
    capture = {"capture": {"id": {"json_path": "$.id"}}}
    kinds = {
        "length": ("http", {"url": f"{base}/length", **checks}),
        "chunked": ("http", {"url": f"{base}/chunked", **checks}),
        "eof": ("steps", {"steps": [{"name": "read", "url": f"{base}/eof", **capture}]}),
        "openapi": ("openapi", {"url": f"{base}/openapi.json", "routes": ["GET /x"]}),
        "bomb": ("http", {"url": f"{base}/bomb", **checks}),
    }
    lines = [f"defaults: {{interval: {interval}, timeout: {interval}}}", "targets:"]
    for name, (kind, spec) in kinds.items():
        lines.append(
            f"  - {{name: {name}, severity: low, context: bench, service: bench, "
            f"{kind}: {json.dumps(spec)}}}"
        )
    return "\n".join(lines) + "\n"


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text: str = response.read().decode()
        return text


def runs_by_result(text: str) -> dict[str, float]:
    """business_probe_runs_total summed over the targets, by result."""
    runs: dict[str, float] = {}
    line = r'^business_probe_runs_total\{[^}]*result="([^"]+)"[^}]*\} (\S+)$'
    for result, value in re.findall(line, text, re.M):
        runs[result] = runs.get(result, 0.0) + float(value)
    return runs


def ask_probe(port: int) -> None:
    url = f"http://127.0.0.1:{port}/probe?target=bomb"
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between readings")
    parser.add_argument("--interval", default="1s", help="each target's interval and timeout")
    args = parser.parse_args()
    print(f"five targets every {args.interval}, bodies far above max_response_bytes; readings:")
    print(
        f"{'seconds':>8} {'RSS':>9} {'peak RSS':>9} {'open files':>11} {'runs':>7} "
        f"{'too large':>10} {'other':>6}"
    )
    with tempfile.TemporaryDirectory() as folder, endless_server() as body_port:
        config = Path(folder) / "oversized.yaml"
        config.write_text(config_text(body_port, args.interval))
        port = free_port()
        exporter = Path(sys.executable).with_name("business-exporter")
        command = [str(exporter), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
        with running(command, port, "business-exporter") as proc:
            started = time.monotonic()
            while True:
                ask_probe(port)
                counts = runs_by_result(metrics(port))
                runs, too_large = sum(counts.values()), counts.get("response_too_large", 0.0)
                files = len(list(Path(f"/proc/{proc.pid}/fd").iterdir()))
                print(
                    f"{time.monotonic() - started:>8.0f} {proc_status(proc.pid, 'VmRSS'):>7.1f}MB "
                    f"{proc_status(proc.pid, 'VmHWM'):>7.1f}MB {files:>11} {runs:>7.0f} "
                    f"{too_large:>10.0f} {runs - too_large:>6.0f}",
                    flush=True,
                )
                if time.monotonic() - started >= args.seconds:
                    break
                time.sleep(args.every)


if __name__ == "__main__":
    main()
