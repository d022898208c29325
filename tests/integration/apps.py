"""Releases of the sample app (tests/integration/sample/), healthy or with the seeds' bug, their
configs, and ways to run them: imported in-process under uvicorn, or as a process of their own.

Each release is a copy of the sample package under a fresh name in a temporary folder, so that
tests can import several releases in one process, and give `--app-dir` as a deploy would.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import uvicorn

from tests.servers import wait_for

SAMPLE = Path(__file__).parent / "sample"
ROOT = Path(__file__).parents[2]

# The seeds' incident: a renamed class breaks one router's import, which loses the whole
# API router, which the app's try/except logs and swallows.
BROKEN_USER_MANAGEMENT = """
from fastapi import APIRouter

from ..roles import UserRole  # renamed in this release; roles.py still says Role

router = APIRouter(prefix="/user-management")
"""
IMPORT_ERROR = "cannot import name 'UserRole'"
LOGGED = "Failed to import API router"

ROUTERS = {
    "auth": ["POST /api/v1/auth/login", "POST /api/v1/auth/refresh"],
    "admin": ["GET /api/v1/admin/feature-flags", "GET /api/v1/admin/dashboard/stats"],
    "users": ["GET /api/v1/users"],
    "user_management": ["GET /api/v1/user-management"],
}
ROUTES = [route for routes in ROUTERS.values() for route in routes]
# Listed in app.routes only: the gate and the integration check it, the openapi probe not.
APP_ONLY_ROUTE = "GET /api/v1/users/{id}"


@dataclass(frozen=True)
class Release:
    app_dir: Path
    package: str

    def target(self, module: str = "main") -> str:
        return f"{self.package}.{module}:app"


def release(folder: Path, *, broken: bool) -> Release:
    """A copy of the sample app in `folder`; `broken`, it has the seeds' failed import."""
    package = f"release_{uuid.uuid4().hex[:10]}"
    shutil.copytree(SAMPLE, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    if broken:
        (folder / package / "routers" / "user_management.py").write_text(BROKEN_USER_MANAGEMENT)
    return Release(folder, package)


def config_file(
    folder: Path,
    *,
    routes: Sequence[str] = ROUTES,
    app_routes: Sequence[str] = (APP_ONLY_ROUTE,),
    degrade: Sequence[str] = (),
) -> Path:
    """A config whose openapi target requires `routes`, with an `app:` block."""
    target = {
        "name": "api_route_registration",
        "severity": "critical",
        "context": "revenue_critical",
        "service": "api",
        "openapi": {"url": "http://127.0.0.1:8000/openapi.json", "routes": list(routes)},
    }
    app = {"routes": list(app_routes), "degrade": list(degrade)}
    path = folder / f"config-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(json.dumps({"targets": [target], "app": app}))  # JSON is YAML
    return path


@contextlib.contextmanager
def imported(release: Release, module: str, config: Path) -> Iterator[ModuleType]:
    """Import a module of `release` with BUSINESS_EXPORTER_CONFIG set to `config`."""
    sys.path.insert(0, str(release.app_dir))
    previous = os.environ.get("BUSINESS_EXPORTER_CONFIG")
    os.environ["BUSINESS_EXPORTER_CONFIG"] = str(config)
    try:
        yield importlib.import_module(f"{release.package}.{module}")
    finally:
        if previous is None:
            del os.environ["BUSINESS_EXPORTER_CONFIG"]
        else:
            os.environ["BUSINESS_EXPORTER_CONFIG"] = previous
        sys.path.remove(str(release.app_dir))
        for name in [n for n in sys.modules if n.split(".")[0] == release.package]:
            del sys.modules[name]


@dataclass
class Started:
    url: str  # "" when the app did not start
    server: uvicorn.Server
    exit_status: int | None = None  # uvicorn's, when it gave up (3: startup failed)


@contextlib.contextmanager
def running(app: Any, lifespan: Literal["on", "off"] = "on") -> Iterator[Started]:
    """Serve `app` with uvicorn on 127.0.0.1:0 in a thread. Yields once it is serving, or
    once uvicorn gave up because the app's startup failed."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", lifespan=lifespan)
    started = Started("", uvicorn.Server(config))

    def run() -> None:
        try:
            started.server.run()
        except SystemExit as status:  # what uvicorn does when the app's startup fails
            started.exit_status = int(status.code or 0)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    server = started.server
    wait_for(lambda: server.started or not thread.is_alive(), what="uvicorn to start or give up")
    if server.started:
        started.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        yield started
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def business_exporter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, as a CI job runs it."""
    command = [sys.executable, "-m", "exporter", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
