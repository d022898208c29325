"""The README's FastAPI example, as a user would copy it, against real PostgreSQL and Redis."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.databases import Postgres, Redis
from tests.integration.apps import BROKEN_USER_MANAGEMENT, ROOT, business_exporter
from tests.integration.test_dependencies import dsn, redis_url
from tests.servers import free_port, serve_app, wait_for

AUTH0 = "https://marketedge.eu.auth0.com/.well-known/jwks.json"
API = """
from fastapi import APIRouter

from . import user_management

api_router = APIRouter()


@api_router.post("/auth/login")
async def login() -> dict[str, str]:
    return {}


api_router.include_router(user_management.router)
"""
USER_MANAGEMENT = """
from fastapi import APIRouter

router = APIRouter(prefix="/user-management")


@router.get("")
async def roles() -> list[str]:
    return []
"""
CONFIG = """
targets:
  - name: api_route_registration
    severity: critical
    context: revenue_critical
    service: api
    openapi:
      url: http://127.0.0.1:8000/openapi.json
      routes: [POST /api/v1/auth/login, GET /api/v1/user-management]
"""


def readme_app(folder: Path, auth0: str) -> Path:
    """The README's example as app/main.py, its Auth0 URL pointed at a local server and its
    database timeout raised (a PostgreSQL login on a loaded test machine has taken over 5 s),
    the package layout it imports around it; returns the config path."""
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"A complete FastAPI app:\n```python\n(.*?)```", readme, re.DOTALL)
    assert example, "the README lost its FastAPI example"
    assert AUTH0 in example.group(1)
    api = folder / "app" / "api" / "api_v1"
    api.mkdir(parents=True)
    for package in (folder / "app", folder / "app" / "api", api):
        (package / "__init__.py").write_text("")
    code = example.group(1).replace(AUTH0, auth0)
    assert 'policy="fail_fast", timeout=5)' in code
    code = code.replace('policy="fail_fast", timeout=5)', 'policy="fail_fast", timeout=60)')
    (folder / "app" / "main.py").write_text(code)
    (api / "api.py").write_text(API)
    (api / "user_management.py").write_text(USER_MANAGEMENT)
    (folder / "roles.py").write_text("")
    config = folder / "deploy" / "business-exporter.yaml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    return config


def test_the_readme_example_passes_the_gate_and_starts_ready(
    tmp_path: Path, postgres: Postgres, redis: Redis
) -> None:
    async def keys(request: object) -> JSONResponse:
        return JSONResponse({"keys": []})

    with serve_app(Starlette(routes=[Route("/jwks.json", keys)])) as upstream:
        readme_app(tmp_path, f"{upstream}/jwks.json")
        env = {
            **os.environ,
            "DATABASE_URL": dsn(postgres),
            "REDIS_URL": redis_url(redis),
            "PYTHONPATH": str(ROOT),
        }
        # No secret in the gate's environment, as in CI.
        config = "deploy/business-exporter.yaml"
        gate = business_exporter("validate-app", "app.main:app", "--config", config, cwd=tmp_path)
        assert gate.returncode == 0, gate.stdout + gate.stderr
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
        log = tmp_path / "uvicorn.log"
        with (
            log.open("wb") as out,
            subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
            ) as server,
        ):
            try:
                base = f"http://127.0.0.1:{port}"
                # A process start: slow on a loaded machine, so a generous wait.
                wait_for(
                    lambda: _answers(f"{base}/health/live") or server.poll() is not None,
                    timeout=90,
                    what="the app",
                )
                assert server.poll() is None, log.read_text()
                report = httpx.get(f"{base}/health/detailed").json()
                assert report["status"] == "ready", report
                statuses = {c["name"]: c["status"] for c in report["components"]}
                assert statuses == {
                    "POST /api/v1/auth/login": "ok",
                    "GET /api/v1/user-management": "ok",
                    "database": "ok",
                    "sessions": "ok",
                    "auth0": "ok",
                }
            finally:
                server.terminate()


def test_the_readme_example_stops_the_seeds_release_at_the_gate_and_at_startup(
    tmp_path: Path, postgres: Postgres, redis: Redis
) -> None:
    config = readme_app(tmp_path, "http://127.0.0.1:9/jwks.json")
    broken = BROKEN_USER_MANAGEMENT.replace("from ..roles", "from roles")
    (tmp_path / "app" / "api" / "api_v1" / "user_management.py").write_text(broken)
    gate = business_exporter("validate-app", "app.main:app", "--config", str(config), cwd=tmp_path)
    assert gate.returncode == 1
    assert "MISSING POST /api/v1/auth/login" in gate.stdout
    env = {**os.environ, "DATABASE_URL": dsn(postgres), "REDIS_URL": redis_url(redis)}
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(free_port())]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert "route POST /api/v1/auth/login: not registered" in done.stderr


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False
