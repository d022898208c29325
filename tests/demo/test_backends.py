"""The demo's databases: the reference config's database targets pass against them, and a
missing server leaves its targets out with a reason."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from exporter.config import Config, parse_config
from exporter.demo import backends, servers
from exporter.demo.servers import RedisServer, ServerUnavailable
from exporter.probes import PROBES
from tests.servers import free_port

REFERENCE = Path(__file__).parents[2] / "examples" / "marketedge.yaml"
DATABASE_TARGETS = ["database_connectivity", "tenant_isolation", "redis_session_storage"]


def reference_config(monkeypatch: pytest.MonkeyPatch, postgres: int, redis: int) -> Config:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", "demo-password")
    text = REFERENCE.read_text()
    assert "port: 55432" in text
    assert "port: 56379" in text
    text = text.replace("port: 55432", f"port: {postgres}").replace("port: 56379", f"port: {redis}")
    return parse_config(text)


async def test_the_reference_database_targets_pass_against_the_demo_databases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = free_port(), free_port()
    monkeypatch.setattr(backends, "POSTGRES", ("127.0.0.1", ports[0]))
    monkeypatch.setattr(backends, "REDIS", ("127.0.0.1", ports[1]))
    monkeypatch.delenv(backends.POSTGRES_PASSWORD_ENV, raising=False)
    monkeypatch.delenv(backends.REDIS_PASSWORD_ENV, raising=False)
    backends.set_environment()  # random passwords, shared by the servers and the config
    with backends.started() as started:
        assert started.unavailable == {}
        config = reference_config(monkeypatch, *ports)
        targets = [t for t in config.targets if t.kind in ("postgres", "redis")]
        assert [t.name for t in targets] == DATABASE_TARGETS
        for target in targets:
            result = await PROBES[target.kind](target.spec, None)
            assert (target.name, result.reason, result.detail) == (target.name, "success", "")
        directories = [started.postgres.directory, started.redis.directory]  # type: ignore[union-attr]
    assert not any(d.exists() for d in directories)


def test_targets_of_a_missing_server_are_left_out_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(servers, "POSTGRES_ROOT", tmp_path)
    monkeypatch.setattr(servers, "redis_bin", lambda: None)
    monkeypatch.setenv(backends.POSTGRES_PASSWORD_ENV, "x")
    monkeypatch.setenv(backends.REDIS_PASSWORD_ENV, "x")
    with backends.started() as started:
        config, left_out = started.without_unavailable(reference_config(monkeypatch, 1, 2))
    assert left_out == [
        f"leaving out database_connectivity, tenant_isolation: "
        f"PostgreSQL is not installed (no {tmp_path}/*/bin/postgres)",
        "leaving out redis_session_storage: Redis is not installed (no redis-server)",
    ]
    names = [t.name for t in config.targets]
    assert names
    assert not set(names) & set(DATABASE_TARGETS)


def test_a_server_that_cannot_start_says_why_and_leaves_nothing_behind() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        server = RedisServer(taken.getsockname()[1])
        with pytest.raises(ServerUnavailable, match="exited with status 1 while starting"):
            server.start()
        assert "Address already in use" in server.log_tail()
        server.close()
    assert not server.directory.exists()
    assert not server.running
