"""Real exporters behind the web config: uvicorn on 127.0.0.1:0, certificates from trustme."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import trustme

from exporter.config import load_config
from exporter.runtime import Runtime
from exporter.serve import uvicorn_config
from exporter.server import create_app
from exporter.web import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_PROBES
from exporter.web.config import WebSecurity, parse_web_config
from tests.servers import serve_config

USER = "prometheus"
PASSWORD = "scrape-3f9a-correct-horse"
# The lowest cost bcrypt allows: the tests check what is compared, not how slowly.
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


@dataclass(frozen=True)
class PKI:
    """A CA, the exporter's certificate for 127.0.0.1, and client certificates."""

    folder: Path
    ca_file: Path
    cert_file: Path
    key_file: Path
    client: Path  # certificate and key of a client the CA issued
    stranger: Path  # the same from another CA

    def client_context(self, cert: Path | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if cert is not None:
            context.load_cert_chain(cert)
        return context


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    folder = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    made = PKI(
        folder,
        folder / "ca.pem",
        folder / "server.crt",
        folder / "server.key",
        folder / "client.pem",
        folder / "stranger.pem",
    )
    ca.cert_pem.write_to_path(str(made.ca_file))
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(str(made.cert_file))
    server.private_key_pem.write_to_path(str(made.key_file))
    ca.issue_cert("scraper@example.test").private_key_and_cert_chain_pem.write_to_path(
        str(made.client)
    )
    other.issue_cert("scraper@example.test").private_key_and_cert_chain_pem.write_to_path(
        str(made.stranger)
    )
    return made


def web_config(text: str, pki: PKI) -> WebSecurity:
    """A web config's text, with its files relative to the PKI folder as they would be."""
    return parse_web_config(text, pki.folder, "web.yml")


def tls_config(pki: PKI, extra: str = "") -> str:
    return f"tls_server_config:\n  cert_file: {pki.cert_file.name}\n  key_file: server.key\n{extra}"


def exporter_config(folder: Path, *targets: str) -> Path:
    """A config file of http targets NAME=URL (interval 12h: the scheduler stays out of the way,
    timeout 2s)."""
    lines = ["targets:"]
    for target in targets:
        name, _, url = target.partition("=")
        lines.append(
            f"  - {{name: {name}, severity: high, context: security, service: web, "
            f'interval: 12h, timeout: 2s, http: {{url: "{url}"}}}}'
        )
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def exporter(
    config: Path,
    security: WebSecurity | None = None,
    *,
    enable_lifecycle: bool = False,
    max_concurrency: int = 500,
    max_pending: int = DEFAULT_MAX_PENDING_PROBES,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> Iterator[tuple[str, Runtime]]:
    """The exporter's app as `serve` runs it (its uvicorn config), on a free port."""
    runtime = Runtime(load_config(config), config, max_concurrency, max_pending_probes=max_pending)
    app = create_app(runtime, security=security, enable_lifecycle=enable_lifecycle)
    context = security.ssl_context if security else None
    served = uvicorn_config(
        app, "127.0.0.1", 0, ssl_context=context, max_connections=max_connections
    )
    with serve_config(served) as base:
        yield base, runtime
