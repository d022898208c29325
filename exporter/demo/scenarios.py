"""The demo's faults: how to switch each on and off, and which targets of a config it breaks.

Which targets a fault breaks is read from the config, as the probe would meet the fault: a
request to the path that now answers 500 or 404 where the target does not accept it, a request
slower than its timeout or max_duration, a database check against the server that hangs. The
banner, the tests and the time-to-detection bench share these.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from exporter.config import Config, HTTPSpec, Target
from exporter.demo.backends import DATABASE, Backends
from exporter.demo.faults import Faults
from exporter.demo.ports import Address
from exporter.demo.relocate import url_address
from exporter.demo.servers import PostgresServer, RedisServer

LOGIN = "/api/v1/auth/login"
SLOW_PATH, SLOW_SECONDS = "/api/v1/users", 6.0
RLS_TABLE = "users"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of the demo: shell commands for a person, callables for a program."""

    name: str
    title: str
    switch_on: str
    switch_off: str
    breaks: Callable[[Target], bool]
    apply: Callable[[], None]
    undo: Callable[[], None]

    def broken(self, config: Config) -> list[Target]:
        """The targets of `config` this fault makes fail, in config order."""
        return [target for target in config.targets if self.breaks(target)]


def demo_faults(api: Address, faults: Faults, databases: Backends | None = None) -> list[Fault]:
    """The faults of the demo API on `api`, and of the demo's databases when they run."""
    found = [_error(api, faults, LOGIN), _drop(api, faults, "admin"), _slow(api, faults)]
    if databases is not None and databases.postgres is not None:
        found += [_rls_off(databases), _paused("database", databases.postgres, "postgres")]
    if databases is not None and databases.redis is not None:
        found.append(_paused("Redis", databases.redis, "redis"))
    return found


def _error(api: Address, faults: Faults, path: str) -> Fault:
    url = f"'http://{api[0]}:{api[1]}/_faults/error?path={path}'"
    return Fault(
        name="login_500" if path == LOGIN else f"error {path}",
        title=f"{path} answers 500",
        switch_on=f"curl -X POST {url}",
        switch_off=f"curl -X DELETE {url}",
        breaks=lambda t: any(not spec.status_ok(500) for spec in _requests(t, api, path)),
        apply=lambda: faults.error(path),
        undo=lambda: faults.clear_error(path),
    )


def _drop(api: Address, faults: Faults, router: str) -> Fault:
    base = f"http://{api[0]}:{api[1]}/_faults/routers/{router}"
    paths = set(faults.routers[router])

    def breaks(target: Target) -> bool:
        specs = [s for path in paths for s in _requests(target, api, path)]
        return any(not s.status_ok(404) for s in specs) or _lists_a_route(target, api, paths)

    return Fault(
        name=f"{router}_router_dropped",
        title=f"the {router} router is dropped (as by a failed import)",
        switch_on=f"curl -X POST {base}/drop",
        switch_off=f"curl -X POST {base}/restore",
        breaks=breaks,
        apply=lambda: faults.drop(router),
        undo=lambda: faults.restore(router),
    )


def _slow(api: Address, faults: Faults) -> Fault:
    url = f"'http://{api[0]}:{api[1]}/_faults/slow?path={SLOW_PATH}"

    def breaks(target: Target) -> bool:
        specs = list(_requests(target, api, SLOW_PATH))
        too_slow = [
            s for s in specs if s.max_duration is not None and s.max_duration < SLOW_SECONDS
        ]
        return bool(specs) and (target.timeout <= SLOW_SECONDS or bool(too_slow))

    return Fault(
        name="slow_users",
        title=f"{SLOW_PATH} takes {SLOW_SECONDS:g} s to answer",
        switch_on=f"curl -X POST {url}&seconds={SLOW_SECONDS:g}'",
        switch_off=f"curl -X DELETE {url}'",
        breaks=breaks,
        apply=lambda: faults.slow(SLOW_PATH, SLOW_SECONDS),
        undo=lambda: faults.clear_slow(SLOW_PATH),
    )


def _rls_off(databases: Backends) -> Fault:
    server = databases.postgres
    assert server is not None
    address = (server.host, server.port)

    def sql(force: str) -> str:
        return f"ALTER TABLE {RLS_TABLE} {force} ROW LEVEL SECURITY"

    def run(force: str) -> Callable[[], None]:
        def alter() -> None:
            server.psql(sql(force), database=DATABASE)

        return alter

    def breaks(target: Target) -> bool:
        spec = target.postgres
        if spec is None or (spec.host, spec.port) != address or spec.rls is None:
            return False
        return any(table.rpartition(".")[2] == RLS_TABLE for table in spec.rls.tables)

    return Fault(
        name="rls_off",
        title=f"row-level security is no longer forced on {RLS_TABLE}",
        switch_on=f"{databases.psql()} -c '{sql('NO FORCE')}'",
        switch_off=f"{databases.psql()} -c '{sql('FORCE')}'",
        breaks=breaks,
        apply=run("NO FORCE"),
        undo=run("FORCE"),
    )


def _paused(what: str, server: PostgresServer | RedisServer, kind: str) -> Fault:
    address = (server.host, server.port)

    def breaks(target: Target) -> bool:
        spec = getattr(target, kind)
        return spec is not None and (spec.host, spec.port) == address

    def send(signum: signal.Signals) -> Callable[[], None]:
        return lambda: os.kill(server.pid or 0, signum) if server.pid else None

    return Fault(
        name=f"{kind}_paused",
        title=f"the {what} hangs (its process is stopped)",
        switch_on=f"kill -STOP {server.pid}",
        switch_off=f"kill -CONT {server.pid}",
        breaks=breaks,
        apply=send(signal.SIGSTOP),
        undo=send(signal.SIGCONT),
    )


def _requests(target: Target, api: Address, path: str) -> Iterator[HTTPSpec]:
    """The HTTP requests of `target` that go to `path` of the API at `api`."""
    specs: list[HTTPSpec] = []
    if target.http is not None:
        specs.append(target.http)
    if target.steps is not None:
        specs += target.steps.steps
    for spec in specs:
        if url_address(spec.url) == api and urlsplit(spec.url).path == path:
            yield spec


def _lists_a_route(target: Target, api: Address, paths: set[str]) -> bool:
    """An openapi target of the API that requires a route on one of `paths`."""
    spec = target.openapi
    if spec is None or url_address(spec.url) != api:
        return False
    return any(route.split(" ", 1)[-1] in paths for route in spec.routes)
