"""The seeds' incident, start to end: a router that fails to import, swallowed by the app.

The unprotected app serves on with /health 200. With the integration, `fail_fast` keeps the
release from starting at all, and `degrade` starts it not ready, naming the lost routes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.apps import (
    APP_ONLY_ROUTE,
    IMPORT_ERROR,
    LOGGED,
    ROUTERS,
    ROUTES,
    config_file,
    imported,
    release,
    running,
)


def test_the_unprotected_release_says_healthy_with_its_routers_gone(tmp_path: Path) -> None:
    broken = release(tmp_path, broken=True)
    with imported(broken, "main", config_file(tmp_path)) as module, running(module.app) as app:
        assert httpx.get(f"{app.url}/health").json() == {"status": "healthy"}
        assert httpx.post(f"{app.url}/api/v1/auth/login").status_code == 404
        assert httpx.get(f"{app.url}/api/v1/admin/feature-flags").status_code == 404


def test_fail_fast_keeps_the_broken_release_from_starting(tmp_path: Path) -> None:
    broken = release(tmp_path, broken=True)
    command = [sys.executable, "-m", "uvicorn", broken.target("protected"), "--port", "0"]
    env = {**os.environ, "BUSINESS_EXPORTER_CONFIG": str(config_file(tmp_path))}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr  # uvicorn's "startup failed" status
    assert "Uvicorn running" not in done.stderr
    assert "refusing to start: 7 fail_fast check(s) failed:" in done.stderr
    for route in [*ROUTES, APP_ONLY_ROUTE]:
        assert f"  route {route}: not registered" in done.stderr
    assert "errors logged while the app loaded:" in done.stderr
    assert f"{LOGGED}: {IMPORT_ERROR}" in done.stderr
    assert "Application startup failed. Exiting." in done.stderr


def test_fail_fast_lets_the_fixed_release_start(tmp_path: Path) -> None:
    fixed = release(tmp_path, broken=False)
    config = config_file(tmp_path)
    with imported(fixed, "protected", config) as module, running(module.app) as app:
        assert app.url, "the fixed release did not start"
        ready = httpx.get(f"{app.url}/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "reasons": []}


def test_degrade_starts_the_broken_release_not_ready_naming_the_lost_routes(
    tmp_path: Path,
) -> None:
    broken = release(tmp_path, broken=True)
    every = [*ROUTES, APP_ONLY_ROUTE]
    config = config_file(tmp_path, degrade=every)
    with imported(broken, "protected", config) as module, running(module.app) as app:
        assert app.url, "a degrade policy must let the app start"
        assert httpx.get(f"{app.url}/health").status_code == 200  # the app's own, unchanged
        assert httpx.get(f"{app.url}/health/live").status_code == 200
        ready = httpx.get(f"{app.url}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["reasons"] == [f"route {r} is not registered" for r in every]
        detailed = httpx.get(f"{app.url}/health/detailed")
        assert detailed.status_code == 503
        report = detailed.json()
        assert (report["startup"]["outcome"], report["startup"]["failed"]) == ("degraded", every)
        admin = [c for c in report["components"] if c["name"] in ROUTERS["admin"]]
        assert [(c["kind"], c["status"], c["reason"], c["startup"]) for c in admin] == [
            ("route", "failing", "route_missing", "failed")
        ] * 2


def test_degrade_on_some_routes_still_refuses_when_a_fail_fast_route_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The seeds' matrix: the admin router may degrade, the auth router may not."""
    broken = release(tmp_path, broken=True)
    config = config_file(
        tmp_path,
        routes=[*ROUTERS["auth"], *ROUTERS["admin"]],
        app_routes=[],
        degrade=ROUTERS["admin"],
    )
    with imported(broken, "protected", config) as module, running(module.app) as app:
        assert not app.url
        assert app.exit_status == 3
    refusal = next(r.getMessage() for r in caplog.records if r.levelname == "CRITICAL")
    assert refusal.splitlines()[:3] == [
        "refusing to start: 2 fail_fast check(s) failed:",
        "  route POST /api/v1/auth/login: not registered",
        "  route POST /api/v1/auth/refresh: not registered",
    ]
