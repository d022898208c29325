"""A flood cannot exhaust the exporter's file descriptors: `serve` under 1,000 connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, hung_server, wait_for
from tests.web.conftest import exporter, exporter_config

MAX_CONNECTIONS = 40
MAX_PROBES = 3
START = 60  # seconds for `serve` to listen, on a busy machine


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@contextlib.contextmanager
def served(config: Path) -> Iterator[tuple[int, int]]:
    """`business-exporter serve` with small limits: (pid, port)."""
    port = free_port()
    argv = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    argv += ["--listen", f"127.0.0.1:{port}", "--max-concurrent-probes", str(MAX_PROBES)]
    argv += ["--web.max-connections", str(MAX_CONNECTIONS)]
    with subprocess.Popen(argv) as process:
        try:
            wait_for(lambda: _accepts(port), START, what="the exporter to listen")
            yield process.pid, port
        finally:
            process.terminate()
            process.wait(timeout=10)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def _request(port: int, path: str) -> str:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return "refused"
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        line = await reader.readline()
        await reader.read()
        return line.split()[1].decode() if line else "closed"
    except OSError:
        return "reset"
    finally:
        writer.close()


async def _flood(port: int, paths: list[str]) -> list[str]:
    return await asyncio.gather(*(_request(port, path) for path in paths))


def test_a_flood_of_probe_requests_keeps_open_fds_under_the_limits(tmp_path: Path) -> None:
    with hung_server() as (url, accepted):
        config = exporter_config(tmp_path, *(f"hung{i}={url}/" for i in range(10)))
        with served(config) as (pid, port):
            before = _open_fds(pid)
            peak = [before]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peak.append(_open_fds(pid))

            sampler = threading.Thread(target=sample)
            sampler.start()
            paths = [f"/probe?target=hung{i % 10}" for i in range(600)]
            paths += [f"/probe?target=hung{i % 10}&debug=true" for i in range(400)]
            try:
                answers = asyncio.run(_flood(port, paths))
            finally:
                done.set()
                sampler.join()
    # Served connections, their probes' sockets, and a few in the kernel's hands being closed.
    assert max(peak) <= before + MAX_CONNECTIONS + MAX_PROBES + 10, (before, max(peak))
    assert answers.count("200") >= 10
    assert len(accepted) <= 10 + 64  # one shared run per target, and the debug runs admitted
    assert set(answers) <= {"200", "429", "503", "closed", "reset"}


def test_a_connection_that_never_sends_a_request_is_closed(tmp_path: Path) -> None:
    config = exporter_config(tmp_path, "down=http://127.0.0.1:1/")
    with exporter(config) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as idle:
            idle.settimeout(15)  # uvicorn's keep-alive timeout is 5 s
            assert idle.recv(1) == b""


@pytest.mark.parametrize("idle_connections", [MAX_CONNECTIONS * 3])
def test_idle_connections_beyond_the_limit_are_closed_at_once(
    tmp_path: Path, idle_connections: int
) -> None:
    config = exporter_config(tmp_path, "down=http://127.0.0.1:1/")
    with served(config) as (pid, port), contextlib.ExitStack() as stack:
        before = _open_fds(pid)
        sockets = [
            stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            for _ in range(idle_connections)
        ]
        wait_for(lambda: _open_fds(pid) >= before + MAX_CONNECTIONS - 1, what="the connections")
        beyond = idle_connections - MAX_CONNECTIONS
        wait_for(lambda: sum(map(_closed, sockets)) >= beyond, what="the connections beyond")
        assert _open_fds(pid) <= before + MAX_CONNECTIONS


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
