"""What the in-app integration costs an app as its routes grow.

Readiness and every scrape of the app's /metrics read the app's routes live (a router can only
be trusted as it is now). For FastAPI and Starlette apps of 10 to 5,000 routes, all of them
required, this times, best of five: reading the registered routes once, a readiness verdict,
and a render of the integration's series (prometheus_client's generate_latest). Then the deploy
gate's wall time on a FastAPI app of 1,000 routes, a process start included (the seeds ask for
a startup validation under 10 s).
Run: .venv/bin/python bench/app_health.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from exporter.integration import AppHealth
from exporter.integration.routes import registered_routes

SIZES = (10, 100, 1000, 5000)
ROOT = Path(__file__).resolve().parents[1]


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def routes(count: int) -> list[str]:
    """`count` routes over 10 routers, half of them with a path parameter."""
    return [
        f"GET /api/v1/r{i % 10}/items{i}" + ("/{item_id}" if i % 2 else "") for i in range(count)
    ]


def fastapi_app(count: int) -> FastAPI:
    app = FastAPI()
    routers = [APIRouter(prefix=f"/r{n}") for n in range(10)]
    for route in routes(count):
        path = route.split(" ", 1)[1].removeprefix("/api/v1")
        n = int(path.split("/")[1][1:])
        routers[n].add_api_route(path.removeprefix(f"/r{n}"), _ok, methods=["GET"])
    api = APIRouter(prefix="/api/v1")
    for router in routers:
        api.include_router(router)
    app.include_router(api)
    return app


def starlette_app(count: int) -> Starlette:
    by_router: dict[int, list[Route]] = {n: [] for n in range(10)}
    for route in routes(count):
        path = route.split(" ", 1)[1].removeprefix("/api/v1")
        n = int(path.split("/")[1][1:])
        by_router[n].append(Route(path.removeprefix(f"/r{n}"), _ok))
    mounts = [Mount(f"/r{n}", routes=rs) for n, rs in by_router.items()]
    return Starlette(routes=[Mount("/api/v1", routes=mounts)])


def best(function: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(kind: str, count: int) -> str:
    app = fastapi_app(count) if kind == "FastAPI" else starlette_app(count)
    registry = CollectorRegistry()
    health = AppHealth(routes(count), registry=registry)
    health.install(app)
    assert health.readiness().reasons == (
        "startup validation has not run: the server must run the lifespan",
    )  # every route found: the only reason left
    read = best(lambda: registered_routes(app))
    ready = best(health.readiness)
    scrape = best(lambda: generate_latest(registry))
    return f"| {kind} | {count:,} | {read * 1000:.2f} | {ready * 1000:.2f} | {scrape * 1000:.2f} |"


def gate_seconds() -> float:
    with tempfile.TemporaryDirectory() as folder:
        app_file = Path(folder) / "big_app.py"
        app_file.write_text(
            "import sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from bench.app_health import fastapi_app\n"
            "app = fastapi_app(1000)\n"
        )
        config = Path(folder) / "config.yaml"
        config.write_text("app:\n  routes:\n" + "".join(f"    - {r}\n" for r in routes(1000)))
        command = [sys.executable, "-m", "exporter", "validate-app", "big_app:app"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--config", str(config)], cwd=folder, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, done.stdout + done.stderr
        return elapsed


def main() -> None:
    print("| app | required routes | read routes ms | readiness ms | /metrics render ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind in ("Starlette", "FastAPI"):
        for count in SIZES:
            print(measure(kind, count), flush=True)
    print(f"\nvalidate-app, FastAPI app of 1,000 routes, process included: {gate_seconds():.2f} s")


if __name__ == "__main__":
    main()
