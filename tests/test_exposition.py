from __future__ import annotations

from prometheus_client import generate_latest

from exporter.collector import build_registry
from exporter.config import parse_config
from exporter.exposition import MetricsRenderer
from exporter.probes import ProbeResult, StepResult
from exporter.runtime import Runtime
from exporter.state import TargetState

CONFIG = """
defaults: {tenant: acme, tier: enterprise, labels: {team: identity}}
targets:
  - name: login
    severity: critical
    context: revenue_critical
    service: 'auth "v2" \\ edge'
    revenue_at_risk: {amount: 925000, currency: GBP}
    labels: {note: "line one\\nline two", region: eu}
    http: {url: "http://127.0.0.1:1/login"}
  - name: flow
    severity: high
    context: zebra_opportunity
    service: admin
    tenant: zebra_associates
    http: {url: "http://127.0.0.1:1/admin"}
  - name: never_run
    severity: low
    context: ops
    service: api
    http: {url: "http://127.0.0.1:1/"}
"""


def runtime_with_history(text: str = CONFIG) -> Runtime:
    config = parse_config(text)
    runtime = Runtime(config, None)
    states = {t.name: TargetState(t) for t in config.targets}
    runtime.scheduler.states = states
    login, flow = states["login"], states["flow"]
    login.record(ProbeResult.ok(http_status_code=401), 0.0042, 1763800000.123)
    login.record(ProbeResult.failed("unexpected_status", "404", http_status_code=404), 3.7, 1.8e9)
    login.record(ProbeResult.failed("timeout", "slow"), 31.0, 1763800060.5)
    steps = [StepResult('login "ok"', True, 0.012), StepResult("admin\\flags", False, 1e-7)]
    flow.record(
        ProbeResult.failed("body_mismatch", "x", steps=steps, http_status_code=200), 0.5, 1.0
    )
    runtime.scheduler.lag.observe(0.0123)
    runtime.scheduler.missed_runs = 12345678
    return runtime


async def test_metrics_are_byte_identical_to_prometheus_clients_rendering() -> None:
    runtime = runtime_with_history()
    ours = await MetricsRenderer().render(runtime)
    assert ours == generate_latest(build_registry(runtime))
    assert b'service="auth \\"v2\\" \\\\ edge"' in ours
    assert b'note="line one\\nline two"' in ours
    assert b'step="admin\\\\flags"' in ours


async def test_a_reload_that_changes_labels_changes_the_rendered_labels() -> None:
    renderer = MetricsRenderer()
    await renderer.render(runtime_with_history())
    reloaded = runtime_with_history(CONFIG.replace("tenant: acme", "tenant: globex"))
    del reloaded.scheduler.states["never_run"]
    ours = await renderer.render(reloaded)
    assert ours == generate_latest(build_registry(reloaded))
    assert b'tenant="acme"' not in ours
    assert b"never_run" not in ours
