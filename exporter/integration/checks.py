"""Dependencies an app names for its startup validation and readiness: PostgreSQL, Redis, HTTP.

Each check opens a fresh connection, does the least that proves the dependency answers, and
closes it; its timeout is enforced by run_check. A failure is a value (a reason from the
exporter's vocabulary and a detail with every secret of the check masked), never an exception.
The drivers are imported when a check first runs, so an app that names no Redis loads no Redis.

    Postgres("database", os.environ["DATABASE_URL"], policy="fail_fast", timeout=3)
    Redis("sessions", os.environ["REDIS_URL"], policy="degrade")
    HTTP("auth0", "https://example.eu.auth0.com/.well-known/jwks.json", critical=False)
    Check("ledger_pool", lambda: pool.fetchval("SELECT 1"))   # anything async that raises
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

from exporter.conventions import (
    REASON_AUTH_ERROR,
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_QUERY_ERROR,
    REASON_TIMEOUT,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_STATUS,
    RESULT_SUCCESS,
)

Policy = Literal["fail_fast", "degrade"]
POLICIES = ("fail_fast", "degrade")
MASK = "<secret>"
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class CheckFailed(Exception):
    """A check's verdict on its way out: a reason of the vocabulary and what was seen."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One run of a check. `detail` never holds a secret of the check."""

    ok: bool
    reason: str  # "success" or a failure reason (exporter/conventions.py)
    detail: str
    duration_seconds: float
    at: float  # Unix time the run finished


@dataclass(frozen=True)
class Dependency:
    """A named dependency check: `policy` says what a failure at startup does (fail_fast: the
    app refuses to start; degrade: it starts not ready), `critical` whether a failure at any
    time makes it not ready."""

    name: str
    _: KW_ONLY
    policy: Policy = "fail_fast"
    critical: bool = True
    timeout: float = 5.0
    kind: ClassVar[str] = "custom"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"a check name is letters, digits and underscores, not {self.name!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be fail_fast or degrade, not {self.policy!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be greater than 0, not {self.timeout!r}")

    @property
    def where(self) -> str:
        """What is checked, shown in reports: an address, never a credential."""
        return ""

    def secrets(self) -> tuple[str, ...]:
        """Texts to mask wherever the check's failures are shown."""
        return ()

    def prepare(self) -> None:
        """Load what the check needs (a driver), before its timeout starts."""

    async def run(self) -> None:
        """Succeed or raise; run_check owns the timeout."""
        raise NotImplementedError

    def classify(self, err: Exception) -> tuple[str, str]:
        """(reason, detail) of an exception the check raised."""
        return classify_os_error(err, self.where) or (REASON_ERROR, _text(err))


@dataclass(frozen=True)
class Check(Dependency):
    """Any async callable the app already has (a pool's query, a client's ping): raising fails
    it. `masked`: texts its errors may quote (an API key in a URL) and reports must not."""

    probe: Callable[[], Awaitable[object]] = field(repr=False, kw_only=True)
    masked: tuple[str, ...] = field(default=(), repr=False, kw_only=True)

    def secrets(self) -> tuple[str, ...]:
        return self.masked

    async def run(self) -> None:
        await self.probe()


async def run_check(dependency: Dependency) -> CheckResult:
    """Run one check within its timeout; whatever happens comes back as a result."""
    started = time.perf_counter()
    try:
        dependency.prepare()
        started = time.perf_counter()
        async with asyncio.timeout(dependency.timeout):
            await dependency.run()
        reason, detail = RESULT_SUCCESS, ""
    except TimeoutError:
        reason, detail = REASON_TIMEOUT, f"no answer within {dependency.timeout:g}s"
    except CheckFailed as failed:
        reason, detail = failed.reason, str(failed)
    except Exception as err:  # a down dependency is a value; CancelledError passes
        reason, detail = _classified(dependency, err)
    duration = time.perf_counter() - started
    detail = mask(detail, dependency.secrets())
    return CheckResult(reason == RESULT_SUCCESS, reason, detail, duration, time.time())


def _classified(dependency: Dependency, err: Exception) -> tuple[str, str]:
    try:
        return dependency.classify(err)
    except Exception:  # a classification that trips must not turn a failure into a crash
        return REASON_ERROR, _text(err)


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each secret replaced, longest first (a password inside a DSN)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def classify_os_error(err: BaseException, where: str) -> tuple[str, str] | None:
    """Socket trouble, whichever driver wrapped it, named in the reason vocabulary."""
    cause = _root(err)
    if isinstance(cause, socket.gaierror):
        return REASON_DNS_ERROR, f"cannot resolve the host of {where}: {cause.strerror or cause}"
    if isinstance(cause, ssl.SSLError):
        return REASON_TLS_ERROR, f"TLS with {where} failed: {cause.reason or cause}"
    if isinstance(cause, TimeoutError):
        return REASON_TIMEOUT, f"{where} did not answer in time"
    if isinstance(cause, ConnectionRefusedError):
        return REASON_CONNECT_ERROR, f"connection refused by {where}"
    if isinstance(cause, OSError):
        return REASON_CONNECT_ERROR, f"cannot talk to {where}: {_text(cause)}"
    return None


def _root(err: BaseException) -> BaseException:
    """The innermost exception of a chain, or a URLError's reason."""
    seen = {id(err)}
    while True:
        inner = err.__cause__ or err.__context__
        if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
            inner = err.reason
        if inner is None or id(inner) in seen:
            return err
        seen.add(id(inner))
        err = inner


def _text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _url_secrets(url: str) -> tuple[str, ...]:
    """A URL's password and query (tokens travel there), and the URL when it holds either."""
    parts = urlsplit(url)
    password = parts.password or ""
    if not (password or parts.query):
        return ()
    return (url, password, unquote(password), parts.query)


def _address(url: str) -> str:
    """scheme://host:port/path of a URL: no user, password or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _check_url(what: str, url: str, schemes: tuple[str, ...]) -> None:
    """Refuse a URL the driver could not use, at construction (the app's import) rather
    than at every check; the message names the address only."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{what} has a port that is not a number: {_address(url)}") from None
    if f"{parts.scheme}://" not in schemes or (
        parts.scheme.startswith("http") and not parts.hostname
    ):
        raise ValueError(f"{what} must start with {' or '.join(schemes)}, not {_address(url)}")


@dataclass(frozen=True)
class Postgres(Dependency):
    """A fresh login to PostgreSQL (asyncpg) and one query; `dsn` as asyncpg takes it."""

    dsn: str = field(repr=False)
    _: KW_ONLY
    query: str = "SELECT 1"
    kind: ClassVar[str] = "postgres"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_url("dsn", self.dsn, ("postgresql://", "postgres://"))

    @property
    def where(self) -> str:
        return _address(self.dsn)

    def secrets(self) -> tuple[str, ...]:
        return _url_secrets(self.dsn)

    def prepare(self) -> None:
        import asyncpg  # noqa: F401  # imported once, on the first check

    async def run(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(dsn=self.dsn, timeout=self.timeout)
        try:
            await connection.fetchval(self.query)
            await connection.close()
        finally:
            if not connection.is_closed():  # cut off by the timeout: drop it without waiting
                connection.terminate()

    def classify(self, err: Exception) -> tuple[str, str]:
        import asyncpg

        if isinstance(err, asyncpg.InvalidAuthorizationSpecificationError):
            return REASON_AUTH_ERROR, f"{self.where} refused the login: {err}"
        if isinstance(err, asyncpg.PostgresError):
            return REASON_QUERY_ERROR, f"{self.where} answered with an error: {_text(err)}"
        return super().classify(err)


@dataclass(frozen=True)
class Redis(Dependency):
    """A fresh connection to Redis and PING; `url` as redis-py's from_url takes it."""

    url: str = field(repr=False)
    kind: ClassVar[str] = "redis"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_url("url", self.url, ("redis://", "rediss://", "unix://"))

    @property
    def where(self) -> str:
        return _address(self.url)

    def secrets(self) -> tuple[str, ...]:
        return _url_secrets(self.url)

    def prepare(self) -> None:
        import redis.asyncio  # noqa: F401  # imported once, on the first check

    async def run(self) -> None:
        from redis.asyncio import Redis as Client
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = Client.from_url(self.url, retry=Retry(NoBackoff(), 0), protocol=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    def classify(self, err: Exception) -> tuple[str, str]:
        from redis.exceptions import AuthenticationError, ResponseError

        if isinstance(err, AuthenticationError):
            return REASON_AUTH_ERROR, f"{self.where} refused the login: {err}"
        if isinstance(err, ResponseError):
            return REASON_QUERY_ERROR, f"{self.where} answered with an error: {_text(err)}"
        return super().classify(err)


@dataclass(frozen=True)
class HTTP(Dependency):
    """A request to an upstream the app calls; a status outside `valid_status` fails it.

    The standard library's client, in a worker thread with the check's timeout on its socket:
    the exporter's own client would load the whole probe runtime into the app.
    """

    url: str
    _: KW_ONLY
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    valid_status: tuple[int, ...] = tuple(range(200, 400))
    kind: ClassVar[str] = "http"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_url("url", self.url, ("http://", "https://"))

    @property
    def where(self) -> str:
        return _address(self.url)

    def secrets(self) -> tuple[str, ...]:
        return (*_url_secrets(self.url), *self.headers.values())

    async def run(self) -> None:
        status = await asyncio.to_thread(self._fetch)
        if status not in self.valid_status:
            raise CheckFailed(REASON_UNEXPECTED_STATUS, f"{self.where} answered {status}")

    def _fetch(self) -> int:
        request = urllib.request.Request(self.url, method=self.method, headers=dict(self.headers))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as err:  # a status is an answer, not trouble
            err.close()
            return err.code

    def classify(self, err: Exception) -> tuple[str, str]:
        return classify_os_error(err, self.where) or (REASON_ERROR, f"{self.where}: {_text(err)}")


def describe(dependency: Dependency) -> dict[str, Any]:
    """The static facts of a check, for reports."""
    return {
        "name": dependency.name,
        "kind": dependency.kind,
        "policy": dependency.policy,
        "critical": dependency.critical,
        "target": dependency.where,
    }
