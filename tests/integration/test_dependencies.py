"""Dependency checks against real PostgreSQL, Redis and HTTP servers, in a served Starlette app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter.demo import database
from exporter.integration import HTTP, AppHealth, Check, Dependency, Postgres, Redis
from exporter.integration.checks import run_check
from tests.databases import MONITOR_PASSWORD, REDIS_PASSWORD, TEMPLATE
from tests.databases import Postgres as PostgresFixture
from tests.databases import Redis as RedisFixture
from tests.integration.apps import Started, running
from tests.servers import hung_server, serve_app, wait_for

RECHECK = 0.2  # seconds between dependency checks once started
UP = 30.0  # the timeout of a check that must pass: generous, for a loaded test machine


def dsn(postgres: PostgresFixture, password: str = MONITOR_PASSWORD) -> str:
    server = postgres.server
    return f"postgresql://{database.MONITOR_USER}:{password}@{server.host}:{server.port}/{TEMPLATE}"


def redis_url(redis: RedisFixture, password: str = REDIS_PASSWORD) -> str:
    return f"redis://:{password}@{redis.server.host}:{redis.server.port}/0"


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def app_with(checks: Sequence[Dependency]) -> Starlette:
    """A Starlette app with one required route and `checks`."""
    health = AppHealth(
        ["GET /orders"], checks=checks, recheck_interval=RECHECK, registry=CollectorRegistry()
    )
    app = Starlette(routes=[Route("/orders", _ok)])
    health.install(app)
    return app


@pytest.fixture
def upstream() -> Iterator[str]:
    """An HTTP upstream: /ok answers 200, /unavailable 503."""

    async def unavailable(request: Any) -> PlainTextResponse:
        return PlainTextResponse("down for maintenance", status_code=503)

    app = Starlette(routes=[Route("/ok", _ok), Route("/unavailable", unavailable)])
    with serve_app(app) as url:
        yield url


def component(started: Started, name: str) -> dict[str, Any]:
    report = httpx.get(f"{started.url}/health/detailed").json()
    found: dict[str, Any] = next(c for c in report["components"] if c["name"] == name)
    return found


def test_every_dependency_up_makes_the_app_ready_with_each_latency(
    postgres: PostgresFixture, redis: RedisFixture, upstream: str
) -> None:
    app = app_with(
        [
            Postgres("database", dsn(postgres), timeout=UP),
            Redis("sessions", redis_url(redis), timeout=UP),
            HTTP("auth0", f"{upstream}/ok", timeout=UP),
        ]
    )
    with running(app) as started:
        ready = httpx.get(f"{started.url}/health/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready", "reasons": []})
        report = httpx.get(f"{started.url}/health/detailed").json()
        assert report["status"] == "ready"
        assert report["startup"]["outcome"] == "passed"
        by_name = {c["name"]: c for c in report["components"]}
        assert {name: by_name[name]["status"] for name in by_name} == dict.fromkeys(
            ("GET /orders", "database", "sessions", "auth0"), "ok"
        )
        server = postgres.server
        assert by_name["database"]["target"] == f"postgresql://{server.host}:{server.port}/tenants"
        for name in ("database", "sessions", "auth0"):
            assert 0 < by_name[name]["latency_seconds"] < 5
            assert by_name[name]["startup"] == "passed"


def test_a_fail_fast_database_that_is_down_stops_the_start(
    postgres: PostgresFixture, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_with([Postgres("database", dsn(postgres), timeout=3)])
    postgres.server.stop()
    with running(app) as started:
        assert not started.url
        assert started.exit_status == 3
    refusal = next(r.getMessage() for r in caplog.records if r.levelname == "CRITICAL")
    where = f"postgresql://{postgres.server.host}:{postgres.server.port}/tenants"
    assert refusal.splitlines()[1] == (
        f"  postgres database ({where}): connect_error: connection refused by {where}"
    )


def test_a_degraded_redis_keeps_the_app_not_ready_until_it_is_back(redis: RedisFixture) -> None:
    app = app_with([Redis("sessions", redis_url(redis), policy="degrade", timeout=UP)])
    redis.server.stop()
    with running(app) as started:
        assert started.url, "degrade must let the app start"
        ready = httpx.get(f"{started.url}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["reasons"] == ["redis sessions is failing: connect_error"]
        assert component(started, "sessions")["startup"] == "failed"
        redis.server.start()
        wait_for(
            lambda: httpx.get(f"{started.url}/health/ready").status_code == 200,
            what="readiness once Redis is back",
        )
        assert component(started, "sessions")["status"] == "ok"
        assert component(started, "sessions")["startup"] == "failed"  # the startup record stays


def test_a_critical_dependency_lost_after_startup_turns_readiness_503(
    postgres: PostgresFixture,
) -> None:
    app = app_with([Postgres("database", dsn(postgres), timeout=UP)])
    with running(app) as started:
        assert httpx.get(f"{started.url}/health/ready").status_code == 200
        postgres.server.stop()
        wait_for(
            lambda: httpx.get(f"{started.url}/health/ready").status_code == 503,
            what="readiness to turn 503 once PostgreSQL is down",
        )
        assert component(started, "database")["reason"] == "connect_error"


def test_a_non_critical_upstream_down_is_reported_and_keeps_the_app_ready(upstream: str) -> None:
    app = app_with([HTTP("pricing", f"{upstream}/unavailable", policy="degrade", critical=False)])
    with running(app) as started:
        assert httpx.get(f"{started.url}/health/ready").status_code == 200
        pricing = component(started, "pricing")
        assert (pricing["status"], pricing["reason"], pricing["critical"]) == (
            "failing",
            "unexpected_status",
            False,
        )
        assert pricing["detail"] == f"{upstream}/unavailable answered 503"


def test_a_hung_upstream_fails_its_check_at_the_timeout() -> None:
    with hung_server() as (url, _):
        app = app_with([HTTP("ledger", f"{url}/health", policy="degrade", timeout=0.3)])
        with running(app) as started:
            ledger = component(started, "ledger")
            assert (ledger["status"], ledger["reason"]) == ("failing", "timeout")
            assert 0.3 <= ledger["latency_seconds"] < 1.5
            assert httpx.get(f"{started.url}/health/ready").status_code == 503


def test_no_secret_shows_in_reports_metrics_or_logs(
    postgres: PostgresFixture,
    redis: RedisFixture,
    upstream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong passwords, a token in a URL's query and a header, and a custom check whose
    error quotes its API key: none of them reaches a page, a series or a log line."""
    token, api_key = "tok-Query-Secret-5e1b", "key-Custom-Secret-0c7d"
    wrong_pg, wrong_redis = "pg-Wrong-Secret-22aa", "redis-Wrong-Secret-33bb"

    async def billing() -> None:
        raise RuntimeError(f"GET https://billing.example/?api_key={api_key} failed: 401")

    app = app_with(
        [
            Postgres("database", dsn(postgres, wrong_pg), policy="degrade"),
            Redis("sessions", redis_url(redis, wrong_redis), policy="degrade"),
            HTTP(
                "pricing",
                f"{upstream}/unavailable?token={token}",
                headers={"Authorization": f"Bearer {token}"},
                policy="degrade",
            ),
            Check("billing", probe=billing, masked=(api_key,), policy="degrade"),
        ]
    )
    with running(app) as started:
        pages = [
            httpx.get(f"{started.url}{path}").text
            for path in ("/health/ready", "/health/detailed", "/metrics")
        ]
        reasons = {
            c["name"]: c["reason"]
            for c in httpx.get(f"{started.url}/health/detailed").json()["components"]
        }
    assert reasons == {
        "GET /orders": "success",
        "database": "auth_error",
        "sessions": "auth_error",
        "pricing": "unexpected_status",
        "billing": "error",
    }
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET https://billing.example/?api_key=<secret> failed: 401" in logs
    for secret in (token, api_key, wrong_pg, wrong_redis, MONITOR_PASSWORD, REDIS_PASSWORD):
        for text in [*pages, logs]:
            assert secret not in text


def test_a_check_that_never_answers_fails_at_its_timeout() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    app = app_with([Check("ledger", probe=forever, policy="degrade", timeout=0.3)])
    with running(app) as started:
        ledger = component(started, "ledger")
    assert (ledger["status"], ledger["reason"], ledger["detail"]) == (
        "failing",
        "timeout",
        "no answer within 0.3s",
    )
    assert 0.3 <= ledger["latency_seconds"] < 1.5


class _Echoing(Postgres):
    """A driver that quotes the DSN in its error, as some do."""

    async def run(self) -> None:
        raise RuntimeError(f"cannot use {self.dsn}")


class _EchoingRedis(Redis):
    async def run(self) -> None:
        raise RuntimeError(f"cannot use {self.url}")


async def test_a_url_a_driver_quotes_back_is_masked() -> None:
    postgres = await run_check(_Echoing("db", "postgresql://app:pg%2FSecret@db:5432/app"))
    assert postgres.detail == "RuntimeError: cannot use <secret>"
    redis = await run_check(_EchoingRedis("cache", "rediss://:redisSecret@cache:6380/0?ssl=true"))
    assert redis.detail == "RuntimeError: cannot use <secret>"
