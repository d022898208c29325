"""The demo's faults: how to switch each on and off, which targets of a config it breaks, and
how their runs fail.

Which targets a fault breaks is read from the config, as the probe would meet the fault: a
request to the path that now answers 500 or 404 where the target does not accept it
(`unexpected_status`), a route gone from the OpenAPI document (`route_missing`), a request
slower than its timeout (`timeout`) or its max_duration (`slow`), row-level security off
(`rls_disabled`), a database check against a server that hangs (`timeout`). The reason says
whether the check ran and found the problem or could not run (conventions.REASON_OUTCOMES),
which decides the alerts. The banner, the tests and the time-to-detection bench share these.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from exporter import conventions as c
from exporter.config import Config, HTTPSpec, Target
from exporter.demo.backends import DATABASE, Backends
from exporter.demo.expect import Failure
from exporter.demo.faults import Faults
from exporter.demo.ports import Address
from exporter.demo.relocate import url_address
from exporter.demo.servers import PostgresServer, RedisServer

LOGIN = "/api/v1/auth/login"
SLOW_PATH, SLOW_SECONDS = "/api/v1/users", 6.0
RLS_TABLE = "users"


Reason = Callable[[Target], str | None]


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of the demo: shell commands for a person, callables for a program."""

    name: str
    title: str
    switch_on: str
    switch_off: str
    # The failure reason the fault gives a target's runs, None for a target it leaves alone.
    fails: Reason
    apply: Callable[[], None]
    undo: Callable[[], None]

    def broken(self, config: Config) -> list[Target]:
        """The targets of `config` this fault makes fail, in config order."""
        return [failure.target for failure in self.failures(config)]

    def failures(self, config: Config) -> list[Failure]:
        """Each target of `config` this fault makes fail, with why, in config order."""
        found = ((target, self.fails(target)) for target in config.targets)
        return [Failure(target, reason) for target, reason in found if reason is not None]


def _when(test: Callable[[Target], bool], reason: str) -> Reason:
    return lambda target: reason if test(target) else None


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
        fails=_when(
            lambda t: any(not spec.status_ok(500) for spec in _requests(t, api, path)),
            c.REASON_UNEXPECTED_STATUS,
        ),
        apply=lambda: faults.error(path),
        undo=lambda: faults.clear_error(path),
    )


def _drop(api: Address, faults: Faults, router: str) -> Fault:
    base = f"http://{api[0]}:{api[1]}/_faults/routers/{router}"
    paths = set(faults.routers[router])

    def fails(target: Target) -> str | None:
        specs = [s for path in paths for s in _requests(target, api, path)]
        if any(not s.status_ok(404) for s in specs):
            return c.REASON_UNEXPECTED_STATUS
        return c.REASON_ROUTE_MISSING if _lists_a_route(target, api, paths) else None

    return Fault(
        name=f"{router}_router_dropped",
        title=f"the {router} router is dropped (as by a failed import)",
        switch_on=f"curl -X POST {base}/drop",
        switch_off=f"curl -X POST {base}/restore",
        fails=fails,
        apply=lambda: faults.drop(router),
        undo=lambda: faults.restore(router),
    )


def _slow(api: Address, faults: Faults) -> Fault:
    url = f"'http://{api[0]}:{api[1]}/_faults/slow?path={SLOW_PATH}"

    def fails(target: Target) -> str | None:
        specs = list(_requests(target, api, SLOW_PATH))
        if specs and target.timeout <= SLOW_SECONDS:
            return c.REASON_TIMEOUT
        bounds = [s.max_duration for s in specs if s.max_duration is not None]
        return c.REASON_SLOW if any(bound < SLOW_SECONDS for bound in bounds) else None

    return Fault(
        name="slow_users",
        title=f"{SLOW_PATH} takes {SLOW_SECONDS:g} s to answer",
        switch_on=f"curl -X POST {url}&seconds={SLOW_SECONDS:g}'",
        switch_off=f"curl -X DELETE {url}'",
        fails=fails,
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
        fails=_when(breaks, c.REASON_RLS_DISABLED),
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
        fails=_when(breaks, c.REASON_TIMEOUT),  # a stopped process accepts, never answers
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
