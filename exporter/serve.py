"""Run the exporter under uvicorn, on uvloop when it is installed."""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from exporter.config import Config
from exporter.config.inputs import Inputs
from exporter.config.limits import DEFAULT_LIMITS, ConfigLimits
from exporter.config.parsed import Parsed
from exporter.runtime import Runtime
from exporter.server import create_app
from exporter.sharding import Shard
from exporter.web import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_PROBES
from exporter.web.config import WebSecurity
from exporter.web.listener import BoundedHttpProtocol, limit_concurrency

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebOptions:
    """How the exporter faces the network: --web.* flags, --max-pending-probes, and the
    Alertmanager whose alerts the pages show (--alertmanager-url)."""

    security: WebSecurity | None = None
    enable_lifecycle: bool = False
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_pending_probes: int = DEFAULT_MAX_PENDING_PROBES
    alertmanager_url: str | None = None


def serve(
    config: Config | Parsed,
    config_path: Path | None,
    host: str,
    port: int,
    max_concurrency: int | None = None,
    shard: Shard | None = None,
    web: WebOptions | None = None,
    limits: ConfigLimits = DEFAULT_LIMITS,
    inputs: Inputs | None = None,
) -> None:
    """Serve until interrupted. SIGHUP (and POST /-/reload if enabled) reload the config.

    `inputs`: what `config` was parsed from, for a reload to tell whether anything changed.
    """
    web = web or WebOptions()
    runtime = Runtime(
        config,
        config_path,
        max_concurrency,
        shard,
        limits=limits,
        max_pending_probes=web.max_pending_probes,
        inputs=inputs,
    )
    app = create_app(
        runtime,
        security=web.security,
        enable_lifecycle=web.enable_lifecycle,
        alertmanager_url=web.alertmanager_url,
    )
    ssl_context = web.security.ssl_context if web.security else None
    _warn_if_exposed(host, web)
    server = uvicorn.Server(
        uvicorn_config(
            app, host, port, ssl_context=ssl_context, max_connections=web.max_connections
        )
    )
    server.run()


def uvicorn_config(
    app: Starlette,
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> uvicorn.Config:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        http=BoundedHttpProtocol,
        ws="none",
        limit_concurrency=limit_concurrency(max_connections),
        ssl_context_factory=None if ssl_context is None else (lambda *_: ssl_context),
        server_header=False,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


def _warn_if_exposed(host: str, web: WebOptions) -> None:
    security = web.security or WebSecurity()
    tls = security.ssl_context
    if security.users and tls is None:
        log.warning("basic auth without TLS: passwords cross the network in clear text")
    client_certs = tls is not None and tls.verify_mode == ssl.CERT_REQUIRED
    if not (security.users or client_certs or _loopback(host)):
        log.warning(
            "listening on %s without authentication (basic auth or required client "
            "certificates): whoever reaches the port can read every page and run probes; "
            "see --web.config.file",
            host,
        )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
