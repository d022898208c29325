"""depends_on: names resolved to targets, per tenant for services, transitively."""

from __future__ import annotations

from exporter.config import parse_config
from exporter.config.dependencies import all_dependencies, direct_dependencies

CONFIG = """
alerts:
  down: {severity: critical, context: c, business_impact: Down, recovery_sla: 5m}
tenants:
  acme: {tier: gold}
  zebra: {tier: gold}
services:
  api: {depends_on: [database]}
targets:
  - name: "{tenant}_database"
    per_tenant: true
    context: c
    service: database
    alert: down
    tcp: {host: 127.0.0.1, port: 5432}
  - name: "{tenant}_api"
    per_tenant: true
    context: c
    service: api
    alert: down
    tcp: {host: 127.0.0.1, port: 8000}
  - name: auth
    context: c
    service: auth
    alert: down
    depends_on: [acme_database]
    tcp: {host: 127.0.0.1, port: 8001}
  - name: zebra_admin
    context: c
    service: admin
    tenant: zebra
    alert: down
    depends_on: [auth]
    tcp: {host: 127.0.0.1, port: 8002}
"""


def test_a_service_is_its_targets_in_the_same_tenant() -> None:
    direct = direct_dependencies(parse_config(CONFIG))
    assert direct["acme_api"] == ("acme_database",)
    assert direct["zebra_api"] == ("zebra_database",)


def test_a_service_with_no_target_in_the_tenant_is_all_of_its_targets() -> None:
    # auth has no tenant: it has no api of its own tenant, and needs every tenant's.
    text = CONFIG.replace("depends_on: [acme_database]", "depends_on: [api]")
    assert direct_dependencies(parse_config(text))["auth"] == ("acme_api", "zebra_api")


def test_a_target_name_is_that_target_whatever_its_tenant() -> None:
    closure = all_dependencies(parse_config(CONFIG))
    assert closure["zebra_admin"] == ("acme_database", "auth")
    assert "acme_database" not in closure  # nothing it needs


def test_a_target_is_never_its_own_dependency_through_its_service() -> None:
    text = CONFIG.replace("api: {depends_on: [database]}", "api: {depends_on: [api, database]}")
    direct = direct_dependencies(parse_config(text))
    assert direct["acme_api"] == ("acme_database",)  # zebra_api is another tenant's
