"""The certificate expiry alert: generated rules and tests through promtool, and the alert
firing on what the exporter reports for a real server whose certificate expires soon."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import time
from pathlib import Path

import trustme
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter import conventions as c
from exporter.config import Config, parse_config
from exporter.exposition import MetricsRenderer
from exporter.generate.bundle import build, write
from exporter.generate.rules.certificates import (
    alert_annotations,
    certificate_rule_files,
    humanized_duration,
    rule_labels,
)
from exporter.generate.ruletests.series import TEST_INSTANCE
from exporter.plan import compile_plan
from exporter.runtime import Runtime
from exporter.scheduler import run_once
from exporter.state import TargetState
from tests.probes.conftest import TLS_NAME
from tests.probes.test_http_tls import tls_peer

DAY = 86400


def config(targets: str, extra: str = "") -> Config:
    return parse_config(f"{extra}\ntargets:\n{targets}")


def target(name: str, url: str, tls: str = "{}") -> str:
    return (
        f"  - {{name: {name}, severity: critical, context: revenue_critical, service: api,\n"
        f"     tenant: acme, http: {{url: '{url}', tls: {tls}}}}}\n"
    )


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is installed by `make test` (Debian package prometheus)"
    return subprocess.run([binary, *args], capture_output=True, text=True)


def the_rule(cfg: Config) -> dict[str, object]:
    (rule_file,) = certificate_rule_files(cfg)
    (group,) = rule_file.groups
    (rule,) = group.rules
    return {"expr": rule.expr, **getattr(rule, "labels", {})}


def test_a_config_with_https_targets_gets_rules_and_tests_that_promtool_passes(
    tmp_path: Path,
) -> None:
    cfg = config(target("plain", "http://127.0.0.1:1/") + target("secure", "https://a.test/"))
    write(build(cfg), tmp_path)
    rules = tmp_path / "rules" / "certificates.rules.yml"
    tests = tmp_path / "rules" / "tests" / "certificates.test.yml"
    checked = promtool("check", "rules", "--lint-fatal", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(tests))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert 'probe="secure"' in tests.read_text()


def test_a_config_without_https_targets_gets_no_certificate_rules() -> None:
    files = build(config(target("plain", "http://127.0.0.1:1/")))
    assert not [path for path in files if "certificates" in path]


def test_threshold_and_severity_come_from_the_config() -> None:
    secure = target("secure", "https://a.test/")
    assert the_rule(config(secure)) == {
        "expr": f'{c.PROBE_TLS_EARLIEST_CERT_EXPIRY}{{job="business_exporter"}} - time() < 1209600',
        "severity": "medium",
        "priority": "P3",
        "escalation_level": "0",
    }
    tuned = config(secure, "certificate_expiry: {warn_before: 30d, severity: low}")
    assert the_rule(tuned) == {
        "expr": f'{c.PROBE_TLS_EARLIEST_CERT_EXPIRY}{{job="business_exporter"}} - time() < 2592000',
        "severity": "low",
        "priority": "P4",
        "escalation_level": "0",
    }


def test_a_flow_with_one_https_step_has_the_rule() -> None:
    flow = (
        "  - {name: flow, severity: high, context: c, service: s, steps: {steps: [\n"
        "      {name: a, url: 'http://127.0.0.1:1/'}, {name: b, url: 'https://b.test/'}]}}\n"
    )
    assert certificate_rule_files(config(flow))


# From a real server to a firing alert


async def test_a_certificate_that_expires_in_three_days_fires_the_alert_and_one_in_thirty_not(
    tmp_path: Path,
) -> None:
    """The exporter probes two real servers and reports their expiry; promtool evaluates the
    generated rule on those values at today's date (its clock starts at 0, the Unix epoch:
    the series run daily from there to today)."""
    now = time.time()
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    soon = ca.issue_cert(TLS_NAME, not_after=_utc(now + 3 * DAY))
    later = ca.issue_cert(TLS_NAME, not_after=_utc(now + 30 * DAY))
    tls = f"{{ca_file: '{ca_file}', server_name: {TLS_NAME}}}"
    async with tls_peer(ca, soon) as soon_peer, tls_peer(ca, later) as later_peer:
        cfg = config(target("soon", soon_peer.url, tls) + target("later", later_peer.url, tls))
        exposed = await _exposed_expiries(cfg)
    assert set(exposed) == {"soon", "later"}
    write(build(cfg), tmp_path / "bundle")
    today = int(now // DAY)
    test_file = tmp_path / "real.test.yml"
    test_file.write_text(yaml.safe_dump(_promtool_test(cfg, tmp_path, exposed, today)))
    tested = promtool("test", "rules", str(test_file))
    assert tested.returncode == 0, tested.stdout + tested.stderr


async def _exposed_expiries(cfg: Config) -> dict[str, tuple[dict[str, str], float]]:
    """Each target's expiry series as /metrics shows it after one run: (labels, value)."""
    runtime = Runtime(cfg, None)
    runtime.scheduler.states = {t.name: TargetState(compile_plan(t)) for t in cfg.targets}
    for state in runtime.scheduler.states.values():
        result, duration = await run_once(state.plan)
        assert result.success, result.detail
        state.record(result, duration, time.time())
    text = (await MetricsRenderer().render(runtime)).decode()
    (family,) = [
        f
        for f in text_string_to_metric_families(text)
        if f.name == c.PROBE_TLS_EARLIEST_CERT_EXPIRY
    ]
    return {s.labels["probe"]: (s.labels, s.value) for s in family.samples}


def _promtool_test(
    cfg: Config, folder: Path, exposed: dict[str, tuple[dict[str, str], float]], today: int
) -> dict[str, object]:
    scraped = {
        name: {**labels, "job": c.EXPORTER_JOB, "instance": TEST_INSTANCE}
        for name, (labels, _) in exposed.items()
    }
    series = [
        {"series": _selector(scraped[name]), "values": f"{value:.0f}x{today}"}
        for name, (_, value) in exposed.items()
    ]
    labels, value = exposed["soon"]
    left = value - today * DAY
    fill = {"probe": "soon", "service": labels["service"], "tenant": labels["tenant"]}
    expected = {
        "exp_labels": {**{k: v for k, v in scraped["soon"].items() if v}, **rule_labels(cfg)},
        "exp_annotations": alert_annotations(cfg, fill, f"expires in {humanized_duration(left)}"),
    }
    return {
        "rule_files": [str(folder / "bundle" / "rules" / "certificates.rules.yml")],
        "evaluation_interval": "1d",
        "tests": [
            {
                "interval": "1d",
                "input_series": series,
                "alert_rule_test": [
                    {
                        "eval_time": f"{today}d",
                        "alertname": c.ALERT_CERTIFICATE_EXPIRY,
                        "exp_alerts": [expected],
                    }
                ],
            }
        ],
    }


def _selector(labels: dict[str, str]) -> str:
    pairs = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if v)
    return f"{c.PROBE_TLS_EARLIEST_CERT_EXPIRY}{{{pairs}}}"


def _utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC).replace(tzinfo=None)
