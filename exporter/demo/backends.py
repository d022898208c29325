"""The demo's databases: PostgreSQL with the multi-tenant schema and Redis, on loopback ports.

examples/marketedge.yaml points its database targets at the usual ports and reads the passwords
from the environment; `set_environment()` fills those in (without overriding) before the config
loads. A usual port that is taken moves the server to a free one (`adapted()` moves the targets
with it); a server that cannot start is left out, and so are the targets that need it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from exporter.config import Config
from exporter.demo import database
from exporter.demo.ports import Address, usual_or_free
from exporter.demo.relocate import relocated
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
    # The usual address of a server that listens elsewhere -> where it listens.
    moves: dict[Address, Address] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why, a line per move

    def adapted(self, config: Config) -> tuple[Config, list[str]]:
        """`config` pointed at where the servers listen, without the targets whose server is
        missing; and a line per move and per kind left out."""
        kept, left_out = self.without_unavailable(relocated(config, self.moves))
        return kept, [*self.notes, *left_out]

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
        """Where the databases listen, for the demo's banner (the faults say how to break them)."""
        lines = []
        if self.postgres is not None:
            host, port = self.postgres.host, self.postgres.port
            lines += [
                f"  PostgreSQL    {host}:{port} database {DATABASE}, "
                f"forced row-level security on {', '.join(database.TENANT_TABLES)}",
            ]
        if self.redis is not None:
            lines += [f"  Redis         {self.redis.host}:{self.redis.port} user {REDIS_USER}"]
        return "\n".join(lines)

    def psql(self) -> str:
        """The psql command line that reaches the demo database as its superuser."""
        assert self.postgres is not None
        server = self.postgres
        return (
            f"{server.bin / 'psql'} -h {server.directory} -p {server.port} -U postgres {DATABASE}"
        )


@contextlib.contextmanager
def started() -> Iterator[Backends]:
    """Start the servers that can start; stop and remove them all on exit."""
    backends = Backends()
    with contextlib.ExitStack() as stack:
        for kind, start, usual in (("postgres", _postgres, POSTGRES), ("redis", _redis, REDIS)):
            try:
                _check(kind)
                address, note = usual_or_free(usual, _NAMES[kind])
                setattr(backends, kind, stack.enter_context(start(address)))
            except ServerUnavailable as err:
                backends.unavailable[kind] = str(err)
            except (OSError, RuntimeError) as err:  # e.g. the schema would not load
                backends.unavailable[kind] = f"{_NAMES[kind]} did not start: {err}"
            else:
                if note is not None:
                    backends.moves[usual] = address
                    backends.notes.append(note)
        yield backends


@contextlib.contextmanager
def _postgres(address: Address) -> Iterator[PostgresServer]:
    with PostgresServer(address[1], address[0]) as server:
        database.create_roles(server, os.environ[POSTGRES_PASSWORD_ENV])
        database.create_tenant_database(server, DATABASE)
        yield server


@contextlib.contextmanager
def _redis(address: Address) -> Iterator[RedisServer]:
    user = acl_user(REDIS_USER, os.environ[REDIS_PASSWORD_ENV], _REDIS_RULES)
    with RedisServer(address[1], address[0], acl=[user, "default off"]) as server:
        yield server


def _check(kind: str) -> None:
    missing: Callable[[], str | None] = missing_postgres if kind == "postgres" else missing_redis
    why = missing()
    if why is not None:
        raise ServerUnavailable(why if why.startswith(_NAMES[kind]) else f"{_NAMES[kind]}: {why}")
