"""A flood of /probe requests against a running `business-exporter serve`.

    .venv/bin/python bench/probe_flood.py [--requests 1000] [--max-concurrent-probes 5]
                                          [--max-pending-probes 64] [--max-connections 512]

Starts the exporter as a process, on a config with a target that hangs (a server that
accepts and never answers, timeout 5 s) and one whose body is as large as the probe reads
(1 MiB). Each scenario sends --requests concurrent GET /probe at once and samples the
exporter's open file descriptors and RSS every 50 ms from /proc. Prints the peaks next to
the limits that bound them, the answers by status, and how many connections the targets saw
(concurrent requests for one target share one run); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BODY_BYTES = 1 << 20  # the http probe's default max_response_bytes
# Pending debug runs take their turns, 5 s each, --max-concurrent-probes at a time.
CLIENT_TIMEOUT = 120


@dataclass
class Peer:
    """A target server in a thread: counts connections; hangs, or sends a large body."""

    hang: bool
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _held: list[socket.socket] = field(default_factory=list)

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            if self.hang:
                self._held.append(conn)
            else:
                threading.Thread(target=_send_body, args=(conn,), daemon=True).start()

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        thread = threading.Thread(target=self.serve, args=(listener,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
        finally:
            self._stop.set()
            thread.join()
            for conn in self._held:
                conn.close()
            listener.close()


def _send_body(conn: socket.socket) -> None:
    with conn, contextlib.suppress(OSError):
        conn.recv(65536)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {BODY_BYTES}\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode() + b"x" * BODY_BYTES)


def config_text(hung: str, huge: str) -> str:
    common = "severity: medium, context: bench, service: flood, interval: 1h, timeout: 5s"
    return (
        "targets:\n"
        f'  - {{name: hung, {common}, http: {{url: "{hung}"}}}}\n'
        f'  - {{name: huge, {common}, http: {{url: "{huge}"}}}}\n'
    )


@contextlib.contextmanager
def exporter(config: Path, port: int, args: argparse.Namespace) -> Iterator[int]:
    argv = [
        sys.executable,
        "-m",
        "exporter",
        "serve",
        "--config",
        str(config),
        "--listen",
        f"127.0.0.1:{port}",
        "--max-concurrent-probes",
        str(args.max_concurrent_probes),
        "--max-pending-probes",
        str(args.max_pending_probes),
        "--web.max-connections",
        str(args.max_connections),
    ]
    with subprocess.Popen(argv, stderr=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 30
            while not _accepts(port):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the exporter did not start")
                time.sleep(0.05)
            yield process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def drained(port: int) -> None:
    """Wait until the last flood's runs are over, so that each row starts from nothing."""
    names = ("business_exporter_probe_runs_pending ", "business_exporter_probes_in_flight ")
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
            lines = response.read().decode().splitlines()
        if all(float(line.split()[-1]) == 0 for line in lines if line.startswith(names)):
            return
        time.sleep(0.2)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def fds_and_rss(pid: int) -> tuple[int, float]:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return fds, int(line.split()[1]) / 1024
    return fds, 0.0


async def one_request(port: int, path: str) -> str:
    """The status code, or how the connection ended without one."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return "refused"
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), CLIENT_TIMEOUT)
        await reader.read()  # the whole answer, as a scraper would
        return status.split()[1].decode() if status.startswith(b"HTTP/") else "closed"
    except (OSError, TimeoutError):
        return "reset"
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@dataclass
class Flood:
    """What one flood did to the exporter: (fds, RSS MB) before, at the peak and after."""

    before: tuple[int, float]
    peak: tuple[int, float]
    after: tuple[int, float]
    answers: collections.Counter[str]
    seconds: float

    def row(self, name: str, target_connections: int) -> str:
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(self.answers.items()))
        fds = f"{self.before[0]} / {self.peak[0]} / {self.after[0]}"
        rss = f"{self.before[1]:.0f} / {self.peak[1]:.0f} / {self.after[1]:.0f}"
        return (
            f"| {name} | {fds} | {rss} | {self.answers.get('429', 0)} | {statuses} "
            f"| {target_connections} | {self.seconds:.1f} |"
        )


async def flood(pid: int, port: int, path: str, requests: int) -> Flood:
    before = fds_and_rss(pid)
    peak = [before[0], before[1]]

    async def sample() -> None:
        while True:
            fds, rss = fds_and_rss(pid)
            peak[0], peak[1] = max(peak[0], fds), max(peak[1], rss)
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    answers = await asyncio.gather(*(one_request(port, path) for _ in range(requests)))
    elapsed = time.perf_counter() - started
    sampler.cancel()
    await asyncio.sleep(1)  # what the process keeps after the flood
    peaks = (int(peak[0]), peak[1])
    return Flood(before, peaks, fds_and_rss(pid), collections.Counter(answers), elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--max-concurrent-probes", type=int, default=5)
    parser.add_argument("--max-pending-probes", type=int, default=64)
    parser.add_argument("--max-connections", type=int, default=512)
    args = parser.parse_args()
    hung, huge = Peer(hang=True), Peer(hang=False)
    scenarios = [
        ("hung target", "/probe?target=hung", hung),
        ("hung target, debug=true", "/probe?target=hung&debug=true", hung),
        ("1 MiB body", "/probe?target=huge", huge),
        ("1 MiB body, debug=true", "/probe?target=huge&debug=true", huge),
    ]
    with (
        hung.running() as hung_url,
        huge.running() as huge_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = Path(tmp) / "config.yaml"
        config.write_text(config_text(hung_url, huge_url))
        port = _free_port()
        print(
            f"{args.requests} concurrent GET /probe per row; --max-concurrent-probes "
            f"{args.max_concurrent_probes}, --max-pending-probes {args.max_pending_probes}, "
            f"--web.max-connections {args.max_connections}; target timeout 5 s\n"
        )
        print(
            "| flood | fds before / peak / after | RSS MB before / peak / after | 429s "
            "| answers (status: count) | target connections | seconds |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        with exporter(config, port, args) as pid:
            for name, path, peer in scenarios:
                drained(port)
                seen = peer.connections
                result = asyncio.run(flood(pid, port, path, args.requests))
                print(result.row(name, peer.connections - seen), flush=True)
        bound = args.max_connections + args.max_concurrent_probes
        print(
            f"\nfds are bounded by --web.max-connections + --max-concurrent-probes = {bound} "
            "(plus the process's own few); 'closed' answers are connections beyond "
            "--web.max-connections, closed at once."
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    main()
