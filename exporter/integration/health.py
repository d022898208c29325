"""AppHealth: startup validation, readiness and the state behind the health endpoints.

At startup (the ASGI lifespan, after the app's own startup) it checks every required route and
every named dependency. A failed check with policy `fail_fast` stops the start: the lifespan
raises StartupRefused and the server exits, naming what failed and the errors the app logged
while it loaded. A failed `degrade` check lets the app start, not ready, saying why.
Dependencies are checked again every `recheck_interval`; routes are read live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from exporter.conventions import REASON_ROUTE_MISSING, RESULT_SUCCESS
from exporter.integration.capture import LoggedErrors
from exporter.integration.checks import CheckResult, Dependency, run_check
from exporter.integration.routes import (
    RequiredRoute,
    is_registered,
    parse_route,
    registered_routes,
)

log = logging.getLogger("exporter.integration")
ROUTE_KIND = "route"


class StartupRefused(RuntimeError):
    """A fail_fast check failed: the app must not take traffic."""


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: tuple[str, ...]  # why not, one line each; empty when ready


class AppHealth:
    """The in-app checks of one application. Create it early (it records the errors the app
    logs while it loads), then `install(app)` once the app object exists."""

    def __init__(
        self,
        routes: Iterable[str] = (),
        *,
        degrade_routes: Iterable[str] = (),
        checks: Sequence[Dependency] = (),
        recheck_interval: float = 15.0,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.routes = _required(routes, degrade_routes)
        self.checks = tuple(checks)
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"check names must be unique: {', '.join(names)}")
        if not recheck_interval > 0:
            raise ValueError("recheck_interval must be greater than 0")
        self.recheck_interval = recheck_interval
        self._policies = {r.route: r.policy for r in self.routes}
        self._policies |= {c.name: c.policy for c in self.checks}
        self._kinds = {c.name: c.kind for c in self.checks}
        self.registry = registry
        self.app: Any = None
        self.startup: dict[str, CheckResult] | None = None  # by check name, routes included
        self.latest: dict[str, CheckResult] = {}  # by dependency name
        self.runs: Counter[tuple[str, str]] = Counter()  # (dependency, result) -> runs
        self._logged = LoggedErrors().start()

    @classmethod
    def from_config(
        cls, path: str | Path, *, checks: Sequence[Dependency] = (), **options: Any
    ) -> AppHealth:
        """The required routes of a business-exporter config: its openapi targets' routes,
        `app.routes` and `app.degrade` (those degrading). Reads no secret. Raises ConfigError."""
        from exporter.config import load_config
        from exporter.config.app import degrade_routes, required_routes

        config = load_config(path, offline=True, require_targets=False)
        degrade = degrade_routes(config)
        return cls(required_routes(config), degrade_routes=degrade, checks=checks, **options)

    def install(
        self,
        app: Any,
        *,
        live: str | None = "/health/live",
        ready: str | None = "/health/ready",
        detailed: str | None = "/health/detailed",
        metrics: str | None = "/metrics",
    ) -> None:
        """Validate at `app`'s startup and serve the endpoints (None leaves one out: `metrics`
        when the app already serves its registry; the series go to `registry` anyway)."""
        from exporter.integration.endpoints import add_endpoints
        from exporter.integration.metrics import register

        self.app = app
        router = app.router
        router.lifespan_context = self._lifespan(router.lifespan_context)
        add_endpoints(self, app, live=live, ready=ready, detailed=detailed, metrics=metrics)
        register(self, self.registry)

    def _lifespan(self, inner: Any) -> Any:
        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[Any]:
            async with inner(app) as state:
                await self.validate_startup()
                task = asyncio.create_task(self._recheck_forever())
                try:
                    yield state
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

        return lifespan

    async def validate_startup(self) -> None:
        """Check everything once; raise StartupRefused when a fail_fast check failed."""
        self._logged.stop()
        registered = self.registered()
        results = {r.route: _route_result(r, registered) for r in self.routes}
        results |= await self.check_dependencies()
        self.startup = results
        failed = [name for name, result in results.items() if not result.ok]
        refusing = [name for name in failed if self.policy(name) == "fail_fast"]
        if refusing:
            message = self._refusal(refusing)
            log.critical("%s", message)
            raise StartupRefused(message)
        if failed:
            lines = "\n".join(f"  {self._failure(name)}" for name in failed)
            log.error("starting degraded, not ready until these pass:\n%s", lines)
        else:
            log.info(
                "startup validation passed: %d required routes, %d dependencies",
                len(self.routes),
                len(self.checks),
            )

    async def check_dependencies(self) -> dict[str, CheckResult]:
        """Run every dependency check side by side; remember and count the results."""
        results = await asyncio.gather(*(run_check(check) for check in self.checks))
        by_name = {check.name: result for check, result in zip(self.checks, results, strict=True)}
        self.latest.update(by_name)
        self.runs.update((name, result.reason) for name, result in by_name.items())
        return by_name

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_interval)
            await self.check_dependencies()

    def registered(self) -> set[tuple[str, str]]:
        return registered_routes(self.app) if self.app is not None else set()

    def readiness(self, registered: set[tuple[str, str]] | None = None) -> Readiness:
        """Ready once validated, with every required route registered and every critical
        dependency's last check passed. `registered`: the app's routes, when just read."""
        reasons = []
        if self.startup is None:
            reasons.append("startup validation has not run: the server must run the lifespan")
        if registered is None:
            registered = self.registered()
        for route in self.routes:
            if not is_registered(route, registered):
                reasons.append(f"route {route.route} is not registered")
        for check in self.checks:
            result = self.latest.get(check.name)
            if check.critical and result is not None and not result.ok:
                reasons.append(f"{check.kind} {check.name} is failing: {result.reason}")
        return Readiness(not reasons, tuple(reasons))

    def policy(self, name: str) -> str:
        """The policy of a check, by its name (a route's is its text)."""
        return self._policies[name]

    def kind(self, name: str) -> str:
        """`route`, or the kind of a dependency check."""
        return self._kinds.get(name, ROUTE_KIND)

    def _failure(self, name: str) -> str:
        assert self.startup is not None
        result = self.startup[name]
        check = next((c for c in self.checks if c.name == name), None)
        if check is None:
            return f"route {name}: not registered"
        where = f" ({check.where})" if check.where else ""
        return f"{check.kind} {name}{where}: {result.reason}: {result.detail}"

    def _refusal(self, refusing: list[str]) -> str:
        lines = [f"refusing to start: {len(refusing)} fail_fast check(s) failed:"]
        lines += [f"  {self._failure(name)}" for name in refusing]
        logged = self._logged.lines(with_tracebacks=False)
        if logged:
            lines.append("errors logged while the app loaded:")
            lines += [f"  {line}" for line in logged]
        return "\n".join(lines)


def _required(routes: Iterable[str], degrade: Iterable[str]) -> tuple[RequiredRoute, ...]:
    """`routes` then `degrade` (required too), each once, with its policy."""
    degraded = [parse_route(r) for r in degrade]
    parsed = dict.fromkeys([*(parse_route(r) for r in routes), *degraded])
    return tuple(RequiredRoute(r, "degrade" if r in degraded else "fail_fast") for r in parsed)


def _route_result(route: RequiredRoute, registered: set[tuple[str, str]]) -> CheckResult:
    ok = is_registered(route, registered)
    reason = RESULT_SUCCESS if ok else REASON_ROUTE_MISSING
    return CheckResult(ok, reason, "" if ok else "not registered", 0.0, time.time())
