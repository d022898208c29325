from __future__ import annotations

import shutil
import subprocess

from prometheus_client import generate_latest

from exporter.collector import build_registry
from exporter.config import parse_config
from exporter.exposition import MetricsRenderer
from exporter.plan import compile_plan
from exporter.probes import ProbeResult, Seen, StepResult
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
    labels: {note: "line one\\nline two", region: eu, zone: "b"}
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
    states = {t.name: TargetState(compile_plan(t)) for t in config.targets}
    runtime.scheduler.states = states
    login, flow = states["login"], states["flow"]
    seen = Seen("HTTP/1.1", "TLS 1.3", 1893456000.0)
    login.record(ProbeResult.ok(http_status_code=401, seen=seen), 0.0042, 1763800000.123)
    login.record(ProbeResult.failed("unexpected_status", "404", http_status_code=404), 3.7, 1.8e9)
    login.record(ProbeResult.failed("timeout", "slow"), 31.0, 1763800060.5)
    steps = [StepResult('login "ok"', True, 0.012), StepResult("admin\\flags", False, 1e-7)]
    flow.record(
        ProbeResult.failed(
            "body_mismatch", "x", steps=steps, http_status_code=200, seen=Seen("HTTP/1.0")
        ),
        0.5,
        1.0,
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


async def test_the_versions_and_the_certificate_expiry_of_the_last_response_are_kept() -> None:
    runtime = runtime_with_history()
    ours = (await MetricsRenderer().render(runtime)).decode()
    assert ours == generate_latest(build_registry(runtime)).decode()
    info = [line for line in ours.splitlines() if line.startswith("business_probe_http_info{")]
    assert info == [
        'business_probe_http_info{context="revenue_critical",http_version="HTTP/1.1",'
        'kind="http",note="line one\\nline two",probe="login",region="eu",'
        'service="auth \\"v2\\" \\\\ edge",severity="critical",team="identity",'
        'tenant="acme",tier="enterprise",tls_version="TLS 1.3",zone="b"} 1.0',
        'business_probe_http_info{context="zebra_opportunity",http_version="HTTP/1.0",'
        'kind="http",probe="flow",service="admin",severity="high",team="identity",'
        'tenant="zebra_associates",tier="enterprise",tls_version=""} 1.0',
    ]
    expiry = [line for line in ours.splitlines() if "cert_expiry_timestamp_seconds{" in line]
    # Kept through the run that timed out after it; none for a target without TLS.
    assert len(expiry) == 1
    assert 'probe="login"' in expiry[0]
    assert expiry[0].endswith(" 1.893456e+09")


async def test_promtool_accepts_the_rendered_metrics() -> None:
    ours = await MetricsRenderer().render(runtime_with_history())
    assert b"business_probe_tls_earliest_cert_expiry_timestamp_seconds{" in ours
    assert b"business_probe_http_info{" in ours
    checked = promtool_check_metrics(ours)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def promtool_check_metrics(text: bytes) -> subprocess.CompletedProcess[bytes]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make test` (Debian package prometheus)"
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)


async def test_a_reload_that_changes_labels_changes_the_rendered_labels() -> None:
    renderer = MetricsRenderer()
    await renderer.render(runtime_with_history())
    reloaded = runtime_with_history(CONFIG.replace("tenant: acme", "tenant: globex"))
    del reloaded.scheduler.states["never_run"]
    ours = await renderer.render(reloaded)
    assert ours == generate_latest(build_registry(reloaded))
    assert b'tenant="acme"' not in ours
    assert b"never_run" not in ours
