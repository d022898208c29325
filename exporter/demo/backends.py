"""The demo's databases: PostgreSQL with the multi-tenant schema and Redis, on fixed loopback ports.

examples/marketedge.yaml points its database targets at these ports and reads the passwords from
the environment; `set_environment()` fills those in (without overriding) before the config loads.
A server that cannot start is left out, and so are the targets that need it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from exporter.config import Config
from exporter.demo import database
from exporter.demo.servers import (
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    acl_user,
    missing_postgres,
    missing_redis,
)

POSTGRES = ("127.0.0.1", 55432)
REDIS = ("127.0.0.1", 56379)
DATABASE = "marketedge"
POSTGRES_PASSWORD_ENV = "MARKETEDGE_DB_PASSWORD"
REDIS_PASSWORD_ENV = "MARKETEDGE_REDIS_PASSWORD"
REDIS_USER = "business_exporter"
# Least privilege: the probe's Redis user may only ping and touch its own keys.
_REDIS_RULES = "resetkeys ~business_exporter:probe:* resetchannels -@all +ping +set +get +del"
_NAMES = {"postgres": "PostgreSQL", "redis": "Redis"}


def set_environment() -> None:
    """Give the demo's password variables a random value each, unless they are set already."""
    for name in (POSTGRES_PASSWORD_ENV, REDIS_PASSWORD_ENV):
        os.environ.setdefault(name, secrets.token_urlsafe(18))


@dataclass
class Backends:
    """The servers that started, and why the others did not (by probe kind)."""

    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    unavailable: dict[str, str] = field(default_factory=dict)

    def without_unavailable(self, config: Config) -> tuple[Config, list[str]]:
        """`config` without the targets whose server is missing, and a line per kind left out."""
        lines = []
        for kind, why in self.unavailable.items():
            names = [t.name for t in config.targets if t.kind == kind]
            if names:
                lines.append(f"leaving out {', '.join(names)}: {why}")
        kept = [t for t in config.targets if t.kind not in self.unavailable]
        return config.model_copy(update={"targets": kept}), lines

    def instructions(self) -> str:
        """How to reach the databases and break them, for the demo's banner."""
        lines = []
        if self.postgres is not None:
            psql = (
                f"{self.postgres.bin / 'psql'} -h {self.postgres.directory} -p {POSTGRES[1]} "
                f"-U postgres {DATABASE}"
            )
            lines += [
                f"  PostgreSQL    {POSTGRES[0]}:{POSTGRES[1]} database {DATABASE}, "
                f"forced row-level security on {', '.join(database.TENANT_TABLES)}",
                f"    {psql} -c 'ALTER TABLE users NO FORCE ROW LEVEL SECURITY'   # rls_disabled",
                f"    {psql} -c 'ALTER TABLE users FORCE ROW LEVEL SECURITY'      # and back",
                f"    kill -STOP {self.postgres.pid}   # hang the database; kill -CONT to resume",
            ]
        if self.redis is not None:
            lines += [
                f"  Redis         {REDIS[0]}:{REDIS[1]} user {REDIS_USER}",
                f"    kill -STOP {self.redis.pid}   # hang Redis; kill -CONT to resume",
            ]
        return "\n".join(lines)


@contextlib.contextmanager
def started() -> Iterator[Backends]:
    """Start the servers that can start; stop and remove them all on exit."""
    backends = Backends()
    with contextlib.ExitStack() as stack:
        for kind, start in (("postgres", _postgres), ("redis", _redis)):
            try:
                setattr(backends, kind, stack.enter_context(start()))
            except ServerUnavailable as err:
                backends.unavailable[kind] = str(err)
            except (OSError, RuntimeError) as err:  # e.g. the schema would not load
                backends.unavailable[kind] = f"{_NAMES[kind]} did not start: {err}"
        yield backends


@contextlib.contextmanager
def _postgres() -> Iterator[PostgresServer]:
    _check(missing_postgres, POSTGRES, "postgres")
    with PostgresServer(POSTGRES[1], POSTGRES[0]) as server:
        database.create_roles(server, os.environ[POSTGRES_PASSWORD_ENV])
        database.create_tenant_database(server, DATABASE)
        yield server


@contextlib.contextmanager
def _redis() -> Iterator[RedisServer]:
    _check(missing_redis, REDIS, "redis")
    user = acl_user(REDIS_USER, os.environ[REDIS_PASSWORD_ENV], _REDIS_RULES)
    with RedisServer(REDIS[1], REDIS[0], acl=[user, "default off"]) as server:
        yield server


def _check(missing: Callable[[], str | None], address: tuple[str, int], kind: str) -> None:
    why = missing()
    if why is None and not _free(address):
        why = f"{address[0]}:{address[1]} is in use (another demo running?)"
    if why is not None:
        raise ServerUnavailable(why if why.startswith(_NAMES[kind]) else f"{_NAMES[kind]}: {why}")


def _free(address: tuple[str, int]) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind(address)
        except OSError:
            return False
    return True
