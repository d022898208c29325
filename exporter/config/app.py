"""The `app:` block: what the application itself must have, checked inside it (seed layers 1-2).

The routes an app must register are the routes of the config's `openapi` targets, plus those
`app.routes` and `app.degrade` list for the app alone: `validate-app` checks them before a
deploy, the in-app integration (exporter/integration/) at startup and on readiness, the
exporter from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from exporter.config.openapi import Route
from exporter.config.types import Name, StrictModel

if TYPE_CHECKING:
    from exporter.config.model import Config

Report = Callable[[tuple[str | int, ...], str], None]
FAIL_FAST, DEGRADE = "fail_fast", "degrade"


class AppSpec(StrictModel):
    """Routes for the app alone, which missing routes only degrade it, and its alerts' context."""

    routes: list[Route] = Field(default_factory=list)
    # Required routes whose absence starts the app degraded (not ready, and saying why); any
    # other missing route makes it refuse to start. The seeds' admin router against its auth
    # router. Listed here alone, a route is required too: a config whose openapi target is
    # left out (a test, a shard) keeps its meaning.
    degrade: list[Route] = Field(default_factory=list)
    context: Name | None = None
    runbook_url: str = ""

    @field_validator("routes", "degrade")
    @classmethod
    def _unique(cls, routes: list[str]) -> list[str]:
        seen: set[str] = set()
        for route in routes:
            if route in seen:
                raise ValueError(f"lists {route} twice")
            seen.add(route)
        return routes


def required_routes(config: Config) -> list[str]:
    """Every route the app must register, in config order: the openapi targets' then app's."""
    routes: dict[str, None] = {}
    for target in config.targets:
        if target.openapi is not None:
            routes.update(dict.fromkeys(target.openapi.routes))
    if config.app is not None:
        routes.update(dict.fromkeys([*config.app.routes, *config.app.degrade]))
    return list(routes)


def degrade_routes(config: Config) -> list[str]:
    """The required routes whose absence only degrades the app."""
    return list(config.app.degrade) if config.app is not None else []


def check_app(config: Config, report: Report) -> None:
    """The context of the app's alerts must be defined."""
    app = config.app
    if app is None:
        return
    if app.context is not None and config.contexts and app.context not in config.contexts:
        from exporter.config.references import undefined  # it imports model.py, which imports us

        report(("app", "context"), undefined(app.context, "contexts", config.contexts))
