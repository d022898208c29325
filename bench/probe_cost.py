"""CPU cost of one HTTP probe: this exporter's probe beside blackbox_exporter's, on loopback.

    .venv/bin/python bench/probe_cost.py [--probes 5000] [--concurrency 50]

The target is a local nginx answering `return 200 "ok"`. Every probe opens a fresh
connection, as blackbox_exporter does. Our probes run in this process, each under
`asyncio.timeout` as the scheduler runs them, and cost this process' CPU time
(time.process_time). blackbox_exporter is driven through `/probe` over keep-alive
connections, as Prometheus scrapes it, and costs the utime + stime of its own process
(/proc/PID/stat). Neither figure includes nginx. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from importlib.metadata import version as installed
from pathlib import Path
from typing import Any

import httptools
import uvloop

from exporter.config import HTTPSpec
from exporter.probes.http import probe

NGINX = "/usr/sbin/nginx"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
WARMUP = 200

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
"""

BLACKBOX_CONF = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


@dataclass
class Row:
    prober: str
    cpu_ms: float
    per_second: float
    failures: int


# Servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Startup, not a measurement: poll until the port accepts or the process died."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        time.sleep(0.02)
    raise SystemExit(f"{what} did not listen on 127.0.0.1:{port} within 10s")


@contextlib.contextmanager
def running(
    args: list[str], port: int, what: str, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        wait_listening(port, proc, what)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


Server = contextlib.AbstractContextManager[subprocess.Popen[bytes]]


def start_nginx(folder: Path) -> tuple[Server, int]:
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, port=port))
    args = [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")]
    return running(args, port, "nginx"), port


def start_blackbox(folder: Path) -> tuple[Server, int]:
    port = free_port()
    conf = folder / "blackbox.yml"
    conf.write_text(BLACKBOX_CONF)
    args = [BLACKBOX, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"]
    return running(args, port, "blackbox_exporter"), port


def version(args: list[str]) -> str:
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    return (out.stdout + out.stderr).splitlines()[0].strip()


# Load

Probe = Callable[[], Awaitable[bool]]
Session = Callable[[], contextlib.AbstractAsyncContextManager[Probe]]


async def load(session: Session, total: int, concurrency: int) -> int:
    """Run `total` probes on `concurrency` workers; return how many failed."""

    async def worker(one: Probe, count: int) -> int:
        return sum([not await one() for _ in range(count)])

    shares = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
    async with session() as one:
        return sum(await asyncio.gather(*(worker(one, n) for n in shares)))


def cpu_per_probe(
    runner: Callable[[Coroutine[Any, Any, int]], int],
    session: Session,
    probes: int,
    concurrency: int,
    cpu: Callable[[], float] = time.process_time,
) -> tuple[float, float, int]:
    """CPU-ms per probe, probes per second, failures; after a warm-up run."""
    runner(load(session, WARMUP, concurrency))
    cpu0, wall0 = cpu(), time.perf_counter()
    failures = runner(load(session, probes, concurrency))
    cpu1, wall1 = cpu(), time.perf_counter()
    return (cpu1 - cpu0) * 1000 / probes, probes / (wall1 - wall0), failures


def ours(url: str) -> Session:
    spec = HTTPSpec.model_validate({"url": url})

    async def one() -> bool:
        async with asyncio.timeout(5):
            return (await probe(spec)).success

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Probe]:
        yield one

    return session


def with_aiohttp(url: str) -> Session | None:
    try:
        import aiohttp  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Probe]:
        connector = aiohttp.TCPConnector(force_close=True)  # no connection reuse
        async with aiohttp.ClientSession(connector=connector) as client:

            async def one() -> bool:
                async with asyncio.timeout(5), client.get(url) as response:
                    await response.read()
                    return bool(response.status == 200)

            yield one

    return session


def with_httpx(url: str) -> Session | None:
    try:
        import httpx
    except ImportError:
        return None

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Probe]:
        limits = httpx.Limits(max_keepalive_connections=0)  # a fresh connection per probe
        async with httpx.AsyncClient(limits=limits) as client:

            async def one() -> bool:
                async with asyncio.timeout(5):
                    return (await client.get(url)).status_code == 200

            yield one

    return session


class KeepAlive(asyncio.Protocol):
    """One keep-alive connection to blackbox_exporter, as Prometheus scrapes it."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.done: asyncio.Future[bytes] | None = None

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        assert self.done is not None
        self.done.set_result(b"".join(self.body))
        self.body = []


def via_blackbox(port: int, target: str) -> Session:
    request = (
        f"GET /probe?target={target}&module=http_2xx HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ).encode()

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Probe]:
        loop = asyncio.get_running_loop()
        idle: list[tuple[asyncio.Transport, KeepAlive]] = []
        opened: list[asyncio.Transport] = []

        async def one() -> bool:
            if idle:
                transport, protocol = idle.pop()
            else:
                transport, protocol = await loop.create_connection(KeepAlive, "127.0.0.1", port)
                opened.append(transport)
            protocol.done = loop.create_future()
            transport.write(request)
            body = await protocol.done
            idle.append((transport, protocol))
            return b"\nprobe_success 1\n" in body

        try:
            yield one
        finally:
            for transport in opened:
                transport.close()

    return session


def process_cpu(pid: int) -> Callable[[], float]:
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    return cpu


# Report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    n, c = args.probes, args.concurrency
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="probe-cost-") as tmp:
        nginx, nginx_port = start_nginx(Path(tmp))
        blackbox, blackbox_port = start_blackbox(Path(tmp))
        url = f"http://127.0.0.1:{nginx_port}/"
        with nginx, blackbox as proc:
            candidates = [
                ("business_exporter http.probe, uvloop", uvloop.run, ours(url)),
                ("business_exporter http.probe, asyncio", asyncio.run, ours(url)),
                ("aiohttp (force_close), uvloop", uvloop.run, with_aiohttp(url)),
                ("httpx (no keep-alive), uvloop", uvloop.run, with_httpx(url)),
            ]
            for name, runner, session in candidates:
                if session is None:
                    print(f"(skipped {name.split(' ')[0]}: not installed)")
                    continue
                rows.append(Row(name, *cpu_per_probe(runner, session, n, c)))
            driver = via_blackbox(blackbox_port, url)
            figures = cpu_per_probe(asyncio.run, driver, n, c, process_cpu(proc.pid))
            rows.append(Row("blackbox_exporter /probe (its process only)", *figures))
    print_report(rows, n, c, nginx_port)
    return 0


def print_report(rows: list[Row], probes: int, concurrency: int, port: int) -> None:
    print(
        f"python {platform.python_version()}, uvloop {installed('uvloop')}, {os.cpu_count()} CPUs"
    )
    print(f"{version([NGINX, '-v'])} on 127.0.0.1:{port}; {version([BLACKBOX, '--version'])}")
    print(f"{probes} probes per row, concurrency {concurrency}, a fresh connection per probe\n")
    print(f"{'prober':<46} {'CPU-ms/probe':>12} {'probes/s':>9} {'failed':>7}")
    for row in rows:
        print(f"{row.prober:<46} {row.cpu_ms:>12.3f} {row.per_second:>9.0f} {row.failures:>7}")
    blackbox = rows[-1].cpu_ms
    print()
    for row in rows[:-1]:
        if row.prober.startswith("business_exporter"):
            print(f"ratio {row.prober} / blackbox_exporter: {row.cpu_ms / blackbox:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
