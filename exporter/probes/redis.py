"""The Redis probe: a fresh login, PING, and optionally a SET-GET-DEL round trip with a TTL.

result = await probe(RedisSpec.model_validate({"host": "cache", "round_trip": {}}))

One connection per run, no retries: a refused connection or a lost key is the answer, not
something to paper over. The round-trip key is random under `key_prefix` and carries a TTL, so
a run cut short leaves nothing behind for long.
"""

from __future__ import annotations

import secrets
import socket
import ssl
from collections.abc import Mapping
from typing import Any

from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from exporter.config.redis import RedisSpec, RoundTrip
from exporter.conventions import (
    REASON_AUTH_ERROR,
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_QUERY_ERROR,
    REASON_TIMEOUT,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_RESULT,
)
from exporter.probes._mask import PreparedProbe, no_plan, the_spec
from exporter.probes._mask import prepare as prepare_with
from exporter.probes._run import Failure, Run, ms
from exporter.probes._tls import client_context
from exporter.probes.result import ProbeResult, Trace


def prepare(spec: RedisSpec) -> PreparedProbe[RedisSpec, RedisSpec, None]:
    """The probe of `spec`: it connects anew each run, so there is nothing more to prepare."""
    return prepare_with(spec, no_plan, _probe, the_spec)


async def probe(spec: RedisSpec, trace: Trace | None = None) -> ProbeResult:
    """PING, and the round trip when configured; trouble comes back as a failed result."""
    return await prepare(spec)(trace)


async def _probe(spec: RedisSpec, _plan: None, trace: Trace | None) -> ProbeResult:
    run = Run(trace, spec.step_names())
    connection = _connection(spec)
    tls = " over TLS" if spec.tls is not None else ""
    login = f" as {spec.username}" if spec.username else ""
    run.note(f"connecting to {spec.host}:{spec.port} db {spec.db}{login}{tls}")
    try:
        result = await _run(connection, spec, run)
    finally:
        # Does not wait for the peer (nowait): safe while a cancellation unwinds.
        await connection.disconnect(nowait=True)
    return run.finish(result)


def _connection(spec: RedisSpec) -> Connection:
    options: dict[str, Any] = {
        "host": spec.host,
        "port": spec.port,
        "db": spec.db,
        "username": spec.username,
        "password": spec.password.reveal() if spec.password is not None else None,
        "socket_timeout": None,  # the scheduler owns the timeout
        "socket_connect_timeout": None,
        "retry": Retry(NoBackoff(), 0),  # the asyncio client's own class: no retries
        "protocol": 2,  # RESP2 and AUTH, which every Redis speaks (HELLO came with Redis 6)
    }
    if spec.tls is None:
        return Connection(**options)
    return _TLSConnection(client_context(spec.tls), **options)


class _TLSConnection(Connection):
    """A connection over TLS with a context made once per CA file.

    redis-py's SSLConnection makes and loads a context of its own for every connection, and
    a probe opens a connection every run: milliseconds of CA loading each time.
    """

    def __init__(self, context: ssl.SSLContext, **options: Any) -> None:
        self._tls = context
        super().__init__(**options)

    def _connection_arguments(self) -> Mapping[str, Any]:
        return {**super()._connection_arguments(), "ssl": self._tls}


async def _run(connection: Connection, spec: RedisSpec, run: Run) -> ProbeResult:
    try:
        with run.step("connect"):
            await connection.connect()  # type: ignore[no-untyped-call]  # TCP, TLS, AUTH, SELECT
        run.note(f"connected in {ms(run.started)}")
        with run.step("ping"):
            pong = await _command(connection, "PING")
            if pong not in (b"PONG", "PONG", True):
                raise Failure(REASON_UNEXPECTED_RESULT, f"PING answered {pong!r}")
        if spec.round_trip is not None:
            with run.step("round_trip"):
                await _round_trip(connection, spec.round_trip, run)
        result = ProbeResult.ok()
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        reason, detail = _classify(err, spec, run.phase)
        result = ProbeResult.failed(reason, detail)
    if connection.is_connected:
        await connection.disconnect()
    return result


async def _round_trip(connection: Connection, check: RoundTrip, run: Run) -> None:
    key = f"{check.key_prefix}{secrets.token_hex(8)}"
    value = secrets.token_hex(16).encode()
    ttl_ms = max(1, round(check.ttl * 1000))
    await _command(connection, "SET", key, value, "PX", ttl_ms)
    stored = await _command(connection, "GET", key)
    await _command(connection, "DEL", key)
    if stored is None:
        raise Failure(REASON_UNEXPECTED_RESULT, f"GET {key} found nothing right after SET")
    if stored != value:
        raise Failure(REASON_UNEXPECTED_RESULT, f"GET {key} returned another value than SET stored")
    run.note(f"SET, GET and DEL of {key} (TTL {ttl_ms}ms) agree")


async def _command(connection: Connection, *args: Any) -> Any:
    await connection.send_command(*args)
    return await connection.read_response()


def _classify(err: Exception, spec: RedisSpec, phase: str) -> tuple[str, str]:
    """Name what went wrong in the bounded reason vocabulary."""
    where = f"{spec.host}:{spec.port}"
    if isinstance(err, Failure):
        return err.reason, str(err)
    if isinstance(err, AuthenticationError | NoPermissionError):
        return REASON_AUTH_ERROR, f"{where} refused {phase}: {err}"
    if isinstance(err, ResponseError):  # redis-py turns the error's code into a subclass
        kind = "" if type(err) is ResponseError else f"{type(err).__name__}: "
        return REASON_QUERY_ERROR, f"{where} answered {phase} with an error: {kind}{err}"
    if isinstance(err, RedisTimeoutError):
        return REASON_TIMEOUT, f"{where}: {err}"
    if isinstance(err, RedisConnectionError | OSError):
        return _connection_trouble(err, spec, where, phase)
    return REASON_ERROR, f"{phase}: {type(err).__name__}: {err}"


def _connection_trouble(err: Exception, spec: RedisSpec, where: str, phase: str) -> tuple[str, str]:
    """redis-py wraps socket errors in its ConnectionError; the cause says which they were."""
    cause = _root(err)
    if isinstance(cause, socket.gaierror):
        return REASON_DNS_ERROR, f"cannot resolve {spec.host}: {cause.strerror or cause}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        return REASON_TLS_ERROR, f"certificate of {where} not accepted: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return REASON_TLS_ERROR, f"TLS failed with {where}: {cause.reason or cause}"
    if isinstance(cause, ConnectionRefusedError):
        return REASON_CONNECT_ERROR, f"connection refused by {where}"
    if phase != "connect":
        return REASON_CONNECT_ERROR, f"connection to {where} lost during {phase}: {err}"
    return REASON_CONNECT_ERROR, f"cannot connect to {where}: {err}"


def _root(err: BaseException) -> BaseException:
    """The innermost exception of a chain (explicit causes first, then implicit contexts)."""
    seen = {id(err)}
    while True:
        inner = err.__cause__ or err.__context__
        if inner is None or id(inner) in seen:
            return err
        seen.add(id(inner))
        err = inner
