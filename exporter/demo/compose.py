"""What docker-compose.yml mounts, generated under deploy/compose/ from the reference config.

- config.yaml: examples/marketedge.yaml with its targets pointed at the compose services instead
  of the demo's loopback ports, and every receiver a webhook to the sink service, at
  /<receiver name> (no Slack, PagerDuty or SMTP is reachable from a demo stack);
- bundle/: what of that config's bundle depends on where things run: Prometheus scraping
  `exporter` and alerting `alertmanager`, Alertmanager notifying the sink, Grafana reading
  `prometheus`. The rules and dashboards are the reference bundle's (the top-level rules/ and
  grafana/dashboards/, which docker-compose.yml mounts): generating fails if they would differ;
- postgres-init.sh: the demo's tenant schema and roles, for the postgres image's initdb hook.

`make bundle` (`python -m exporter.demo.compose`) writes them; a test fails when stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from exporter.config import parse_config
from exporter.demo import database
from exporter.demo.backends import DATABASE, POSTGRES, POSTGRES_PASSWORD_ENV, REDIS
from exporter.generate import render
from exporter.generate.bundle import BundleOptions, build, write
from exporter.generate.grafana.provisioning import GrafanaOptions
from exporter.generate.model import ScrapeSecurity
from exporter.generate.prometheus import PrometheusOptions

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "marketedge.yaml"
OUT = ROOT / "deploy" / "compose"
CONFIG_FILE = "config.yaml"
BUNDLE_DIR = "bundle"
POSTGRES_INIT = "postgres-init.sh"
# The demo's loopback addresses in the reference config, and the compose services they become.
DEMO_API = ("127.0.0.1", 8000)
SERVICES = {
    DEMO_API: ("demo-api", 8000),
    POSTGRES: ("postgres", 5432),
    REDIS: ("redis", 6379),
}
# Prefixes of the bundle's files that are the same as the reference bundle's, mounted from it.
SHARED = ("rules/", "grafana/dashboards/")
SINK = "http://sink:9000"
# Where the prometheus service mounts what deploy/web/init.sh made for the exporter: the CA
# that signed its certificate, and the password whose bcrypt hash its web config holds.
EXPORTER_WEB = "/etc/prometheus/exporter-web"
SCRAPE_USER = "prometheus"
OPTIONS = BundleOptions(
    PrometheusOptions(
        exporters=("exporter:9117",),
        alertmanager="alertmanager:9093",
        exporter_security=ScrapeSecurity(
            f"{EXPORTER_WEB}/ca.pem", SCRAPE_USER, f"{EXPORTER_WEB}/scrape-password"
        ),
    ),
    GrafanaOptions(prometheus_url="http://prometheus:9090"),
)
_ORIGIN = (
    "# examples/marketedge.yaml for docker-compose.yml: targets at the compose services, every\n"
    "# receiver a webhook to the sink. `make bundle` writes it.\n"
)


def compose_config(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference config's data with compose addresses and the sink as every receiver."""
    data = dict(reference)
    data["targets"] = [_at_services(target) for target in reference.get("targets", [])]
    left = re.findall(r"127\.0\.0\.1:\d+|localhost:\d+", repr(data["targets"]))
    if left:
        raise ValueError(f"no compose service for {', '.join(sorted(set(left)))}")
    if "receivers" in data:
        data["receivers"] = {
            name: {"webhook": {"url": f"{SINK}/{name}"}} for name in data["receivers"]
        }
    data.pop("smtp", None)
    return data


def _at_services(node: Any) -> Any:
    if isinstance(node, list):
        return [_at_services(item) for item in node]
    if isinstance(node, str):
        for (host, port), (service, inside) in SERVICES.items():
            node = node.replace(f"//{host}:{port}/", f"//{service}:{inside}/")
        return node
    if not isinstance(node, dict):
        return node
    out = {key: _at_services(value) for key, value in node.items()}
    address = (out.get("host"), out.get("port"))
    if address in SERVICES:
        out["host"], out["port"] = SERVICES[address]
    return out


def postgres_init() -> str:
    """The postgres image sources /docker-entrypoint-initdb.d/*.sh once, on an empty volume."""
    roles = (
        f"CREATE ROLE {database.APP_ROLE} NOLOGIN;\n"
        f"CREATE ROLE {database.MONITOR_USER} LOGIN IN ROLE {database.APP_ROLE} "
        "PASSWORD :'password';\n"
        f'CREATE DATABASE "{DATABASE}";\n'
    )
    psql = 'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER"'
    return (
        f"#!/bin/sh\n{render.HEADER}set -e\n"
        f"{psql} -v password=\"${POSTGRES_PASSWORD_ENV}\" --dbname postgres <<'SQL'\n"
        f"{roles}SQL\n"
        f"{psql} --dbname {DATABASE} <<'SQL'\n{database.SCHEMA.strip()}\nSQL\n"
    )


def compose_files(reference_text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(config.yaml and postgres-init.sh, the bundle's files), by path relative to their dir."""
    text = render.to_yaml(compose_config(yaml.safe_load(reference_text)))
    text = text.replace(render.HEADER, render.HEADER + _ORIGIN, 1)
    bundle = build(parse_config(text, CONFIG_FILE, offline=True), OPTIONS)
    reference = build(parse_config(reference_text, offline=True))
    shared = [path for path in bundle if path.startswith(SHARED)]
    differ = [path for path in shared if bundle[path] != reference.get(path)]
    if differ:
        raise ValueError(f"the compose bundle would not share {', '.join(differ)}")
    own = {path: text for path, text in bundle.items() if path not in shared}
    return {CONFIG_FILE: text, POSTGRES_INIT: postgres_init()}, own


def main() -> int:
    top, bundle = compose_files(REFERENCE.read_text(encoding="utf-8"))
    for files, out in ((top, OUT), (bundle, OUT / BUNDLE_DIR)):
        done = write(files, out)
        print(f"{out}: {len(done.written)} files written, {len(done.removed)} stale files removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
