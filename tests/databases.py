"""Real PostgreSQL and Redis servers for tests: exporter.demo.servers with the demo's schema.

`postgres_server()` starts one PostgreSQL (with TLS) holding the multi-tenant schema in a template
database; tests that change the schema take a copy of it. `redis_server()` starts Redis with a
password and an ACL user. Both fail loudly, never skip, when a binary is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import trustme

from exporter.config import Config
from exporter.config.postgres import PostgresSpec
from exporter.config.redis import RedisSpec
from exporter.demo import database
from exporter.demo.servers import (
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    acl_user,
)
from exporter.scheduler import Scheduler
from exporter.state import TargetState
from tests.servers import async_wait_for, free_port

# Distinctive on purpose: the tests that keep secrets out of output search for them.
MONITOR_PASSWORD = "pg-Monitor-Secret-7f3a"
REDIS_PASSWORD = "redis-Probe-Secret-91c2"
REDIS_USER = "probe"
TEMPLATE = "tenants"
ISOLATION = {
    "tables": list(database.TENANT_TABLES),
    "tenant": "acme",
    "role": database.APP_ROLE,
    "setting": database.TENANT_SETTING,
}


@dataclass
class Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, folder: Path) -> Certificates:
        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        made = cls(folder / "ca.pem", folder / "server.crt", folder / "server.key")
        ca.cert_pem.write_to_path(str(made.ca_file))
        issued.cert_chain_pems[0].write_to_path(str(made.cert_file))
        issued.private_key_pem.write_to_path(str(made.key_file))
        return made


def _secret_file(folder: Path, name: str, value: str) -> dict[str, str]:
    path = folder / name
    path.write_text(value)
    return {"file": str(path)}


def target_yaml(name: str, kind: str, spec: dict[str, Any], **fields: Any) -> str:
    """One target for parse_config: `spec` as the `kind:` block (JSON is YAML), fast defaults."""
    settings = {"interval": "100ms", "timeout": "100ms", **fields}
    more = "".join(f"    {key}: {value}\n" for key, value in settings.items())
    return (
        f"targets:\n  - name: {name}\n    severity: critical\n    context: revenue_critical\n"
        f"    service: database\n{more}    {kind}: {json.dumps(spec)}\n"
    )


@dataclass
class Postgres:
    server: PostgresServer
    folder: Path
    certificates: Certificates

    def spec(self, dbname: str = TEMPLATE, **fields: Any) -> dict[str, Any]:
        """A `postgres:` block logging in as the monitoring user, its password in a file."""
        return {
            "host": self.server.host,
            "port": self.server.port,
            "user": database.MONITOR_USER,
            "password": self.password(MONITOR_PASSWORD),
            "database": dbname,
            **fields,
        }

    def parsed(self, **fields: Any) -> PostgresSpec:
        return PostgresSpec.model_validate(self.spec(**fields))

    def password(self, value: str) -> dict[str, str]:
        return _secret_file(self.folder, f"pg-password-{uuid.uuid4().hex}", value)

    @contextlib.contextmanager
    def tenant_database(self) -> Iterator[str]:
        """A copy of the template to change at will, dropped afterwards."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        database.create_tenant_database(self.server, name, template=TEMPLATE)
        try:
            yield name
        finally:
            self.server.start()  # a test may have stopped it
            self.server.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres_server(folder: Path, certificates: Certificates) -> Iterator[Postgres]:
    """PostgreSQL with TLS, the demo's roles and the tenant schema in database `tenants`."""
    tls = (certificates.cert_file, certificates.key_file)
    with _required(), PostgresServer(free_port(), tls=tls) as server:
        database.create_roles(server, MONITOR_PASSWORD)
        database.create_tenant_database(server, TEMPLATE)
        yield Postgres(server, folder, certificates)


@dataclass
class Redis:
    server: RedisServer
    folder: Path
    certificates: Certificates

    def spec(self, **fields: Any) -> dict[str, Any]:
        """A `redis:` block for the default user, its password in a file, with a round trip."""
        return {
            "host": self.server.host,
            "port": self.server.port,
            "password": self.password(REDIS_PASSWORD),
            "round_trip": {},
            **fields,
        }

    def parsed(self, **fields: Any) -> RedisSpec:
        return RedisSpec.model_validate(self.spec(**fields))

    def password(self, value: str) -> dict[str, str]:
        return _secret_file(self.folder, f"redis-password-{uuid.uuid4().hex}", value)


@contextlib.contextmanager
def redis_server(
    folder: Path, certificates: Certificates, acl: tuple[str, ...] = ()
) -> Iterator[Redis]:
    """Redis with a password, user `probe` (all commands) plus `acl`, and a TLS port."""
    tls = (certificates.cert_file, certificates.key_file, certificates.ca_file)
    users = (acl_user(REDIS_USER, REDIS_PASSWORD, "~* &* +@all"), *acl)
    with (
        _required(),
        RedisServer(
            free_port(), password=REDIS_PASSWORD, acl=users, tls=tls, tls_port=free_port()
        ) as server,
    ):
        yield Redis(server, folder, certificates)


@contextlib.contextmanager
def _required() -> Iterator[None]:
    """A missing server fails the test with what to install: tests never skip for it."""
    try:
        yield
    except ServerUnavailable as err:
        raise RuntimeError(
            f"{err}. The tests start real servers: run `make test`, which installs the Debian "
            f"packages postgresql and redis-server."
        ) from err


class Restartable(Protocol):
    def stop(self) -> None: ...
    def start(self) -> None: ...


async def fails_until_restarted(config: Config, server: Restartable) -> TargetState:
    """Run the config's one target; stop `server` mid-run, then start it again.

    Returns the target's state once it has failed with connect_error and recovered, the
    scheduler's loop alive throughout.
    """
    scheduler = Scheduler()
    scheduler.apply(config)
    [state] = scheduler.states.values()
    try:
        await async_wait_for(lambda: state.consecutive_successes >= 1, what="a first success")
        await asyncio.to_thread(server.stop)
        await async_wait_for(
            lambda: state.failing and state.runs.get("connect_error", 0) >= 2,
            what="the target failing with connect_error",
        )
        assert scheduler.scheduled_targets() == 1
        await asyncio.to_thread(server.start)
        await async_wait_for(lambda: not state.failing, what="the target to recover")
    finally:
        await scheduler.stop()
    return state
