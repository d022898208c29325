"""The demo stops whole on SIGTERM and SIGHUP, as on Ctrl-C, moves off ports left taken, and
reloads its config on POST /-/reload."""

from __future__ import annotations

import os
import re
import signal
import socket
import urllib.request

import pytest

from exporter.demo.ports import is_free
from tests.demo.running import STOP_TIMEOUT, alive, descendants, running_demo

# What the demo starts as children (the kernel's names: 15 characters at most).
SERVERS = {"postgres", "redis-server", "prometheus", "prometheus-aler"}


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_to_the_process_group_stops_every_server_and_frees_every_port(
    signum: signal.Signals,
) -> None:
    with running_demo() as demo:
        demo.started()
        children = descendants(demo.process.pid)
        ports = demo.banner_ports()
        assert set(children.values()) >= SERVERS, children
        assert len(ports) >= 7  # API, exporter, PostgreSQL, Redis, Prometheus, Alertmanager, sink
        # What a supervisor, `docker stop` or a closed terminal sends: the whole group.
        os.killpg(demo.process.pid, signum)
        assert demo.process.wait(timeout=STOP_TIMEOUT) == 0
    left = {pid: name for pid, name in children.items() if alive(pid, name)}
    assert left == {}
    assert [port for port in sorted(ports) if not is_free(("127.0.0.1", port))] == []


@pytest.mark.slow
def test_a_usual_port_left_taken_moves_the_server_and_says_who_holds_it() -> None:
    with socket.socket() as squatter:  # as a database left behind by a killed demo
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            squatter.bind(("127.0.0.1", 55432))
        except OSError:
            pytest.fail("127.0.0.1:55432 is in use: this test needs to hold it itself")
        squatter.listen()
        with running_demo() as demo:
            demo.started()
            output = demo.output
    assert f"127.0.0.1:55432 is taken by pid {os.getpid()} (" in output
    moved = output.split("PostgreSQL listens on 127.0.0.1:", 1)[1].split()[0]
    assert f"PostgreSQL    127.0.0.1:{moved} database marketedge" in output
    assert "leaving out database_connectivity" not in output


@pytest.mark.slow
def test_the_demo_reloads_its_config_on_post_reload() -> None:
    with running_demo() as demo:
        demo.started()
        exporter = re.search(r"^\s*exporter\s+(http://127\.0\.0\.1:\d+)/", demo.output, re.M)
        assert exporter is not None, demo.output
        reload = urllib.request.Request(f"{exporter.group(1)}/-/reload", method="POST")
        with urllib.request.urlopen(reload, timeout=10) as answer:
            assert answer.status == 200
