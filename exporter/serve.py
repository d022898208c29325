"""Run the exporter under uvicorn, on uvloop when it is installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from exporter.config import Config
from exporter.config.limits import DEFAULT_LIMITS, ConfigLimits
from exporter.runtime import Runtime
from exporter.server import create_app
from exporter.sharding import Shard


def serve(
    config: Config,
    config_path: Path | None,
    host: str,
    port: int,
    max_concurrency: int | None = None,
    shard: Shard | None = None,
    limits: ConfigLimits = DEFAULT_LIMITS,
) -> None:
    """Serve until interrupted. SIGHUP and POST /-/reload reload the config file."""
    runtime = Runtime(config, config_path, max_concurrency, shard, limits=limits)
    server = uvicorn.Server(uvicorn_config(create_app(runtime), host, port))
    server.run()


def uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return uvicorn.Config(
        app, host=host, port=port, loop=loop, access_log=False, log_level="warning", lifespan="on"
    )
