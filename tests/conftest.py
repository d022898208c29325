"""Fixtures every test folder may use: real PostgreSQL and Redis servers (tests/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import Certificates, Postgres, Redis, postgres_server, redis_server


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="session")
def _postgres(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Postgres]:
    with postgres_server(tmp_path_factory.mktemp("postgres"), certificates) as server:
        yield server


@pytest.fixture
def postgres(_postgres: Postgres) -> Postgres:
    """The session's PostgreSQL, running (a test that stopped it may have failed midway)."""
    _postgres.server.start()
    return _postgres


@pytest.fixture
def tenant_database(postgres: Postgres) -> Iterator[str]:
    """A fresh copy of the tenant schema for a test to break, dropped afterwards."""
    with postgres.tenant_database() as name:
        yield name


@pytest.fixture
def redis(tmp_path: Path, certificates: Certificates) -> Iterator[Redis]:
    """A fresh Redis per test: it starts in milliseconds, and tests may reconfigure it."""
    with redis_server(tmp_path, certificates) as server:
        yield server
