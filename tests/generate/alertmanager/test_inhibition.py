"""Declared dependencies, generated: inhibit rules, the could-not-check hold, the README graph."""

from __future__ import annotations

from pathlib import Path

from exporter.config import Config, load_config, parse_config
from exporter.generate.alertmanager.inhibition import dependency_graph, hold_seconds, inhibit_rules
from exporter.generate.alertmanager.inhibition_cases import muted_by
from tests.generate.test_bundle import REFERENCE

CONFIG = """
alerts:
  db_down: {severity: emergency, context: c, business_impact: DB, recovery_sla: 5m}
  slow: {severity: medium, context: c, business_impact: Slow, recovery_sla: 1h}
  endpoint: {severity: critical, context: c, business_impact: Endpoint, recovery_sla: 5m}
  api_down:
    {covers: endpoint, severity: emergency, context: c, business_impact: API, recovery_sla: 5m}
  breach:
    {severity: emergency, context: c, fires_on: violation, business_impact: B, recovery_sla: 5m}
defaults: {tenant: acme, interval: 30s, timeout: 10s}
services:
  users: {depends_on: [database]}
targets:
  - {name: db, context: c, service: database, alert: db_down, failure_threshold: 3,
     tcp: {host: 127.0.0.1, port: 5432}}
  - {name: db_slow, context: c, service: database_latency, alert: slow,
     tcp: {host: 127.0.0.1, port: 5432}}
  - {name: users, context: c, service: users, alert: endpoint,
     tcp: {host: 127.0.0.1, port: 1}}
  - {name: users_list, context: c, service: users, alert: endpoint, depends_on: [db_slow],
     tcp: {host: 127.0.0.1, port: 2}}
  - {name: isolation, context: c, service: isolation, alert: breach, depends_on: [db],
     failure_threshold: 1, interval: 5m, tcp: {host: 127.0.0.1, port: 3}}
  - {name: other_tenant, context: c, service: users, tenant: globex, alert: endpoint,
     tcp: {host: 127.0.0.1, port: 4}}
  - {name: db_globex, context: c, service: database, tenant: globex, alert: db_down,
     tcp: {host: 127.0.0.1, port: 5433}}
"""


def alert(name: str, probe: str, severity: str, **more: str) -> dict[str, str]:
    return {"alertname": name, "probe": probe, "severity": severity, "tenant": "acme", **more}


def mutes(config: Config, source: dict[str, str], target: dict[str, str]) -> bool:
    return muted_by(inhibit_rules(config), source, target)


def test_a_dependency_mutes_what_needs_it_in_its_tenant_and_nothing_else() -> None:
    config = parse_config(CONFIG)
    db = alert("DbDown", "db", "emergency")
    assert mutes(config, db, alert("Endpoint", "users", "critical"))
    assert mutes(config, db, alert("Breach", "isolation", "emergency"))
    assert mutes(config, db, alert("BusinessCannotVerify", "isolation", "emergency"))
    # globex's users service needs globex's database, not acme's.
    assert not mutes(config, db, alert("Endpoint", "other_tenant", "critical", tenant="globex"))
    assert not mutes(config, alert("DbDown", "users", "emergency"), db)
    # The dependency's own staleness says nothing of it: it mutes nothing.
    assert not mutes(
        config,
        alert("BusinessProbeStale", "db", "emergency"),
        alert("Endpoint", "users", "critical"),
    )


def test_a_quieter_dependency_does_not_mute_a_louder_symptom() -> None:
    config = parse_config(CONFIG)
    slow = alert("Slow", "db_slow", "medium")
    assert not mutes(config, slow, alert("Endpoint", "users_list", "critical"))
    louder = parse_config(CONFIG.replace("severity: medium", "severity: critical"))
    assert mutes(
        louder, alert("Slow", "db_slow", "critical"), alert("Endpoint", "users_list", "critical")
    )


def test_the_outage_and_whole_of_alerts_of_dependents_only_are_muted_too() -> None:
    config = parse_config(CONFIG.replace("depends_on: [db_slow]", "depends_on: [db]"))
    db = alert("DbDown", "db", "emergency")
    outage = {
        "alertname": "BusinessServiceOutage",
        "service": "users",
        "tenant": "acme",
        "severity": "critical",
    }
    whole = {"alertname": "ApiDown", "tenant": "acme", "severity": "emergency"}
    assert mutes(config, db, outage)
    assert mutes(config, db, whole)
    assert not mutes(
        config, db, {**whole, "tenant": "globex"}
    )  # globex's endpoint is not a dependent


def test_a_check_that_cannot_run_waits_for_its_dependencies_to_be_detected() -> None:
    config = parse_config(CONFIG)
    isolation = [t for t in config.targets if t.name == "isolation"]
    # db: 3 failed runs 30s apart, the last one timing out after 10s; isolation may fail at once.
    assert hold_seconds(config, isolation) == 100
    patient = parse_config(
        CONFIG.replace("failure_threshold: 1, interval: 5m", "failure_threshold: 2, interval: 5m")
    )
    assert hold_seconds(patient, [t for t in patient.targets if t.name == "isolation"]) == 0
    assert hold_seconds(config, [t for t in config.targets if t.name == "db"]) == 0
    # A quieter dependency cannot mute it: nothing to wait for.
    quiet = parse_config(CONFIG.replace("db_down: {severity: emergency", "db_down: {severity: low"))
    assert hold_seconds(quiet, [t for t in quiet.targets if t.name == "isolation"]) == 0


def test_the_readme_shows_the_reference_dependency_graph() -> None:
    graph = dependency_graph(load_config(REFERENCE, offline=True))
    assert "  tenant_isolation --> database_connectivity\n" in graph
    assert "  zebra_admin_login_flow --> service_auth\n" in graph
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    assert graph in readme
