"""The Redis probe against a real redis-server (tests/databases.py), and peers that misbehave."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis as Client

from exporter.config import parse_config
from exporter.demo.servers import acl_user
from exporter.probes import Trace, _tls
from exporter.probes._tls import tls_context
from exporter.probes.redis import probe
from exporter.scheduler import Scheduler, run_once
from tests.databases import (
    REDIS_PASSWORD,
    Certificates,
    Redis,
    fails_until_restarted,
    redis_server,
    target_yaml,
)
from tests.servers import async_wait_for, hung_server

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Answer = Callable[[list[bytes]], bytes]
KEY = r"business_exporter:probe:[0-9a-f]{16}"


def steps(result: Any) -> list[tuple[str, bool]]:
    return [(step.name, step.success) for step in result.steps]


async def stored_keys(redis: Redis) -> dict[str, int]:
    """Every key on the server, with its remaining time to live in milliseconds."""
    client = Client(
        host=redis.server.host,
        port=redis.server.port,
        password=REDIS_PASSWORD,
        decode_responses=True,
    )
    try:
        return {str(key): await client.pttl(key) for key in await client.keys("*")}
    finally:
        await client.aclose()


async def test_ping_and_a_round_trip_succeed_and_leave_no_key(redis: Redis) -> None:
    trace = Trace()
    result = await probe(redis.parsed(), trace)
    assert (result.success, result.reason, result.detail) == (True, "success", "")
    assert steps(result) == [("connect", True), ("ping", True), ("round_trip", True)]
    assert trace.lines[0] == f"connecting to 127.0.0.1:{redis.server.port} db 0"
    assert re.fullmatch(rf"SET, GET and DEL of {KEY} \(TTL 60000ms\) agree", trace.lines[2])
    assert await stored_keys(redis) == {}


async def test_without_a_round_trip_it_only_pings(redis: Redis) -> None:
    result = await probe(redis.parsed(round_trip=None))
    assert steps(result) == [("connect", True), ("ping", True)]


async def test_an_acl_user_logs_in_with_its_name(redis: Redis) -> None:
    assert (await probe(redis.parsed(username="probe"))).success
    stranger = await probe(redis.parsed(username="stranger"))
    assert (stranger.reason, stranger.detail) == (
        "auth_error",
        f"127.0.0.1:{redis.server.port} refused connect: "
        f"invalid username-password pair or user is disabled.",
    )
    # Steps that did not run are reported as failed: their series stay from run to run.
    assert steps(stranger) == [("connect", False), ("ping", False), ("round_trip", False)]


async def test_a_key_the_probe_may_not_delete_expires_on_its_own(
    tmp_path: Path, certificates: Certificates
) -> None:
    no_del = acl_user("no_del", "no-del-password", "~business_exporter:probe:* +ping +set +get")
    with redis_server(tmp_path, certificates, acl=(no_del,)) as redis:
        spec = redis.parsed(
            username="no_del", password=redis.password("no-del-password"), round_trip={"ttl": "30s"}
        )
        result = await probe(spec)
        assert result.reason == "auth_error"
        assert result.detail == (
            f"127.0.0.1:{redis.server.port} refused round_trip: "
            f"this user has no permissions to run the 'del' command"
        )
        [(key, ttl)] = (await stored_keys(redis)).items()
    assert re.fullmatch(KEY, key)
    assert 25_000 < ttl <= 30_000


async def test_a_full_store_is_a_query_error(redis: Redis) -> None:
    client = Client(host=redis.server.host, port=redis.server.port, password=REDIS_PASSWORD)
    try:
        await client.config_set("maxmemory", 1)  # and the default policy, noeviction
    finally:
        await client.aclose()
    assert (await probe(redis.parsed(round_trip=None))).success  # PING needs no memory
    result = await probe(redis.parsed())
    assert (result.reason, result.detail) == (
        "query_error",
        f"127.0.0.1:{redis.server.port} answered round_trip with an error: "
        f"OutOfMemoryError: command not allowed when used memory > 'maxmemory'.",
    )


async def test_a_wrong_password_is_an_auth_error_that_shows_no_password(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Redis-Password-42"
    spec = redis.spec(password=redis.password(wrong))
    config = parse_config(target_yaml("sessions", "redis", spec, failure_threshold=1))
    trace = Trace()
    result, _ = await run_once(config.targets[0], trace)
    scheduler = Scheduler()
    scheduler.apply(config)
    try:
        await async_wait_for(lambda: scheduler.states["sessions"].failing, what="a failing target")
    finally:
        await scheduler.stop()
    assert (result.reason, result.detail) == (
        "auth_error",
        f"127.0.0.1:{redis.server.port} refused connect: "
        f"invalid username-password pair or user is disabled.",
    )
    assert "auth_error" in caplog.text  # the logs do tell the story...
    for secret in (wrong, REDIS_PASSWORD):  # ...without a password
        assert secret not in result.detail
        assert secret not in "\n".join(trace.lines)
        assert secret not in caplog.text


def resp_peer(answers: dict[bytes, Answer]) -> Handler:
    """A peer speaking RESP that answers each command as `answers` says, others with an error."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while command := await _command(reader):
            answer = answers.get(command[0].upper())
            writer.write(answer(command) if answer else b"-ERR unknown command\r\n")
            await writer.drain()

    return handle


async def _command(reader: asyncio.StreamReader) -> list[bytes]:
    header = await reader.readline()
    if not header:
        return []
    parts = []
    for _ in range(int(header[1:])):
        size = int((await reader.readline())[1:])
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


def _always(reply: bytes) -> Answer:
    return lambda command: reply


async def test_a_password_the_server_echoes_is_scrubbed(
    raw_server: Callable[[Handler], Awaitable[str]], redis: Redis
) -> None:
    echo = resp_peer({b"AUTH": lambda command: b"-WRONGPASS not " + command[-1] + b"\r\n"})
    port = int((await raw_server(echo)).rsplit(":", 1)[1].strip("/"))
    trace = Trace()
    result = await probe(redis.parsed(port=port), trace)
    assert (result.reason, result.detail) == (
        "auth_error",
        f"127.0.0.1:{port} refused connect: not <secret>",
    )
    assert REDIS_PASSWORD not in "\n".join(trace.lines)


@pytest.mark.parametrize(
    ("get", "detail"),
    [
        (b"$5\r\nstale\r\n", rf"GET {KEY} returned another value than SET stored"),
        (b"$-1\r\n", rf"GET {KEY} found nothing right after SET"),
    ],
    ids=["other-value", "nothing"],
)
async def test_a_round_trip_that_reads_back_something_else_fails(
    raw_server: Callable[[Handler], Awaitable[str]], redis: Redis, get: bytes, detail: str
) -> None:
    peer = resp_peer(
        {
            b"AUTH": _always(b"+OK\r\n"),
            b"PING": _always(b"+PONG\r\n"),
            b"SET": _always(b"+OK\r\n"),
            b"GET": _always(get),
            b"DEL": _always(b":1\r\n"),
        }
    )
    port = int((await raw_server(peer)).rsplit(":", 1)[1].strip("/"))
    result = await probe(redis.parsed(port=port))
    assert result.reason == "unexpected_result"
    assert re.fullmatch(detail, result.detail)
    assert steps(result) == [("connect", True), ("ping", True), ("round_trip", False)]


async def test_refused_and_unresolvable_servers_have_their_reasons(
    redis: Redis, closed_port: int
) -> None:
    refused = await probe(redis.parsed(port=closed_port))
    assert (refused.reason, refused.detail) == (
        "connect_error",
        f"connection refused by 127.0.0.1:{closed_port}",
    )
    unknown = await probe(redis.parsed(host="no-such-host.invalid"))
    assert unknown.reason == "dns_error"
    assert unknown.detail.startswith("cannot resolve no-such-host.invalid: ")


async def test_a_database_index_the_server_lacks_is_a_query_error(redis: Redis) -> None:
    result = await probe(redis.parsed(db=99))
    assert (result.reason, result.detail) == (
        "query_error",
        f"127.0.0.1:{redis.server.port} answered connect with an error: DB index is out of range",
    )


async def test_tls_verifies_the_server_certificate(redis: Redis) -> None:
    port = redis.server.tls_port
    ca_file = str(redis.certificates.ca_file)
    assert (await probe(redis.parsed(port=port, tls={"ca_file": ca_file}))).success
    assert (await probe(redis.parsed(port=port, tls={"insecure_skip_verify": True}))).success
    untrusted = await probe(redis.parsed(port=port, tls={}))
    assert (untrusted.reason, untrusted.detail) == (
        "tls_error",
        f"certificate of 127.0.0.1:{port} not accepted: "
        f"self-signed certificate in certificate chain",
    )


async def test_tls_runs_share_one_context_per_ca_file(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []

    def counting(*args: Any) -> ssl.SSLContext:
        made.append(args)
        return tls_context(*args)

    monkeypatch.setattr(_tls, "tls_context", counting)
    _tls._cached_context.cache_clear()
    ca_file = str(redis.certificates.ca_file)
    spec = redis.parsed(port=redis.server.tls_port, tls={"ca_file": ca_file})
    assert all([(await probe(spec)).success for _ in range(3)])
    assert len(made) == 1


async def test_a_stopped_redis_fails_its_target_until_it_is_back(redis: Redis) -> None:
    config = parse_config(
        target_yaml("sessions", "redis", redis.spec(), failure_threshold=2, success_threshold=2)
    )
    state = await fails_until_restarted(config, redis.server)
    assert state.consecutive_successes >= 2
    assert state.last_result is not None
    assert state.last_result.success


async def test_a_hung_server_times_out_and_is_hung_up_on() -> None:
    with hung_server() as (url, accepted):
        spec = {"host": "127.0.0.1", "port": int(url.rsplit(":", 1)[1])}
        config = parse_config(target_yaml("hung", "redis", spec, interval="1s", timeout="200ms"))
        result, duration = await run_once(config.targets[0])
        assert result.reason == "timeout"
        assert 0.19 <= duration < 0.5  # timers may fire a clock tick early
        assert steps(result) == [("connect", False), ("ping", False)]
        await async_wait_for(lambda: accepted, what="the probe's connection")
        accepted[0].settimeout(2)
        assert accepted[0].recv(1024).startswith(b"*")  # its first commands, then...
        await asyncio.sleep(0)  # (the loop closes a dropped socket on its next turn)
        assert accepted[0].recv(1024) == b""  # ...it hung up
