"""Reloads of a bad config fail cleanly and in time: the old config keeps running, and later
reloads work. Real exporters: the Starlette app with a real Runtime, and a `serve` process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exporter.config import load_config
from exporter.config.limits import ConfigLimits
from exporter.runtime import Runtime
from exporter.server import create_app
from tests.servers import free_port, serve_app, wait_for
from tests.test_config_limits import TESTDATA, fifo, per_tenant_copies
from tests.test_end_to_end import Exporter

TARGET = """
  - name: {name}
    severity: low
    context: ops
    service: api
    interval: 1h
    http: {{url: "http://127.0.0.1:1/"}}
"""
OLD, NEW = ("login", "logout"), ("login", "signup")
# A memory cap low enough to stop the test's large configs, and a time limit high enough
# for a parse on a busy machine.
LIMITS = ConfigLimits(parse_timeout=30, parse_memory=64 << 20)


def config(names: tuple[str, ...]) -> str:
    return "targets:" + "".join(TARGET.format(name=name) for name in names)


class Served:
    """The exporter's app on a real Runtime, served on a free port."""

    def __init__(self, path: Path, base: str, runtime: Runtime) -> None:
        self.path, self.base, self.runtime = path, base, runtime

    def reload(self) -> httpx.Response:
        return httpx.post(f"{self.base}/-/reload", timeout=60)

    def metrics(self) -> str:
        return httpx.get(f"{self.base}/metrics").text

    def probed(self) -> tuple[str, ...]:
        return tuple(sorted(self.runtime.scheduler.states))

    def assert_still_running_the_old_config(self) -> None:
        assert self.probed() == OLD
        text = self.metrics()
        assert "business_exporter_config_last_reload_successful 0.0" in text
        assert "business_exporter_targets 2.0" in text
        assert 'probe="logout"' in text

    def assert_a_good_reload_works(self) -> None:
        self.path.unlink()
        self.path.write_text(config(NEW))
        response = self.reload()
        assert (response.status_code, response.text) == (200, "Config reloaded.\n")
        assert self.probed() == NEW
        assert "business_exporter_config_last_reload_successful 1.0" in self.metrics()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    path = tmp_path / "config.yaml"
    path.write_text(config(OLD))
    runtime = Runtime(load_config(path), path, limits=LIMITS)
    with serve_app(create_app(runtime, enable_lifecycle=True)) as base:
        yield Served(path, base, runtime)


def test_an_alias_bomb_fails_the_reload_at_once_and_a_later_reload_works(served: Served) -> None:
    served.path.write_bytes((TESTDATA / "invalid-alias-bomb.yaml").read_bytes())
    response = served.reload()
    assert response.status_code == 500
    assert "refused as an alias bomb (" in response.text
    served.assert_still_running_the_old_config()
    served.assert_a_good_reload_works()


def test_a_parse_past_the_time_limit_fails_the_reload_and_a_later_reload_works(
    served: Served, tmp_path: Path
) -> None:
    served.path.unlink()
    served.runtime.limits = ConfigLimits(parse_timeout=1)
    with fifo(tmp_path):  # the same path, now blocking whoever reads it
        response = served.reload()
    assert response.status_code == 500
    assert "parsing the config took longer than 1s, the limit" in response.text
    served.assert_still_running_the_old_config()
    served.runtime.limits = LIMITS
    served.assert_a_good_reload_works()


def test_a_parse_past_the_memory_cap_fails_the_reload_and_a_later_reload_works(
    served: Served,
) -> None:
    served.path.write_text(per_tenant_copies(tenants=200, description_bytes=400_000))
    response = served.reload()
    assert response.status_code == 500
    assert "parsing the config needed more than 64MiB of memory, the limit" in response.text
    served.assert_still_running_the_old_config()
    served.assert_a_good_reload_works()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the config is empty: it must list at least one target ("),
        ("# the deploy was cut short\n", "the config is empty"),
        ("targets: []\n", "targets: must list at least one target: with none, nothing is probed"),
    ],
    ids=["truncated", "comments-only", "no-targets"],
)
def test_a_config_that_would_probe_nothing_fails_the_reload(
    served: Served, text: str, message: str
) -> None:
    served.path.write_text(text)
    response = served.reload()
    assert response.status_code == 500
    assert message in response.text
    served.assert_still_running_the_old_config()
    served.assert_a_good_reload_works()


def parser_processes() -> set[int]:
    """This process's children that are config parsers."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"exporter.config.isolated" in cmdline:
            found.add(int(entry.name))
    return found


def test_forty_concurrent_reloads_run_one_parser_and_queue_at_most_one(served: Served) -> None:
    served.path.unlink()
    os.mkfifo(served.path)  # each parse blocks until the test feeds it

    def feed() -> None:
        with served.path.open("w") as writer:  # opens once a parser reads
            writer.write(config(NEW))

    def forty_waiting() -> bool:
        return served.runtime.reloads_waiting == 40

    async def forty() -> tuple[list[httpx.Response], set[int]]:
        async with httpx.AsyncClient(base_url=served.base, timeout=30) as client:
            first = asyncio.ensure_future(client.post("/-/reload"))
            await asyncio.to_thread(wait_for, parser_processes, 30, "a parser")
            rest = [asyncio.ensure_future(client.post("/-/reload")) for _ in range(39)]
            await asyncio.to_thread(wait_for, forty_waiting, 30, "40 waiting reloads")
            parsers = parser_processes()
            assert len(parsers) == 1
            await asyncio.to_thread(feed)  # the first parse ends...
            await asyncio.to_thread(wait_for, lambda: parser_processes() - parsers, 30)
            parsers |= parser_processes()
            await asyncio.to_thread(feed)  # ...then the one queued behind it
            return await asyncio.gather(first, *rest), parsers

    try:
        responses, parsers = asyncio.run(forty())
    finally:
        release_parsers(served.path, config(NEW))
    assert len(parsers) == 2
    assert [r.status_code for r in responses] == [200] * 40
    assert served.runtime.reloads == {"success": 2, "failure": 0}
    assert 'business_exporter_config_reloads_total{result="success"} 2.0' in served.metrics()
    assert served.probed() == NEW


def release_parsers(fifo_path: Path, text: str) -> None:
    """Should parsers still wait on the FIFO, end the one reading it and feed the others."""
    with contextlib.suppress(OSError):  # ENXIO: no parser is reading
        writer = os.open(fifo_path, os.O_WRONLY | os.O_NONBLOCK)
        fifo_path.unlink()
        fifo_path.write_text(text)
        os.close(writer)


def test_sighup_with_an_alias_bomb_keeps_serve_running_its_old_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config(OLD))
    exporter = Exporter(path, free_port(), "--config-parse-memory", "256MiB")
    try:
        wait_for(exporter.ready, timeout=60, what="the exporter to be ready")
        path.write_bytes((TESTDATA / "invalid-alias-bomb.yaml").read_bytes())
        exporter.process.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads(exporter, "failure"), timeout=30, what="the reload to fail")
        assert exporter.sample("business_exporter_config_last_reload_successful") == 0
        assert exporter.sample("business_exporter_targets") == 2
        path.write_text(config(NEW))
        exporter.process.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads(exporter, "success"), timeout=30, what="a good reload")
        assert exporter.sample("business_exporter_config_last_reload_successful") == 1
        assert exporter.sample("business_probe_failing", probe="signup") is not None
    finally:
        stderr = exporter.stop()
    assert "refused as an alias bomb" in stderr


def reloads(exporter: Exporter, result: str) -> float | None:
    return exporter.sample("business_exporter_config_reloads_total", result=result)


async def test_without_a_process_to_spare_a_reload_fails_rather_than_parse_in_the_exporter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config(OLD))
    runtime = Runtime(load_config(path), path, limits=LIMITS)
    runtime.start()
    try:
        path.write_text(config(NEW))
        monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
        error = await runtime.reload()
        assert error is not None
        assert "cannot start a process to parse the config" in str(error)
        assert sorted(runtime.scheduler.states) == list(OLD)
        monkeypatch.undo()
        assert await runtime.reload() is None
        assert sorted(runtime.scheduler.states) == list(NEW)
    finally:
        await runtime.stop()
