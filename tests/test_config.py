from __future__ import annotations

from pathlib import Path

import pytest

from exporter.cli import main
from exporter.config import ConfigError, format_duration, load_config, parse_config, parse_duration
from exporter.config.isolated import load_config_bounded
from exporter.config.limits import ConfigLimits

TESTDATA = Path(__file__).parent / "testdata" / "config"
INVALID = sorted(TESTDATA.glob("invalid-*.yaml"))
EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))

TARGET = """
  - name: login
    severity: critical
    context: revenue_critical
    service: auth
    http: {url: "http://127.0.0.1:8000/login"}
"""


def expected_messages(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ")
        for line in path.read_bytes().decode(errors="replace").splitlines()
        if line.startswith("# expect: ")
    ]


# Should a limit be lost, the case that tests it stops here rather than take the machine.
BOUNDED = ConfigLimits(parse_timeout=60, parse_memory=1 << 30)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_each_invalid_config_reports_every_problem_with_path_and_line(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(path.parent)  # messages name the file as given: here, its name alone
    with pytest.raises(ConfigError) as raised:
        load_config_bounded(path.name, BOUNDED)
    assert str(raised.value).splitlines() == expected_messages(path)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_check_exits_2_on_an_invalid_config(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(path)]) == 2
    assert expected_messages(path)[0].split(" (")[0] in capsys.readouterr().err


@pytest.mark.parametrize("path", [TESTDATA / "valid-minimal.yaml", *EXAMPLES], ids=lambda p: p.stem)
def test_check_accepts_a_valid_config(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", "demo-password")  # marketedge.yaml's zebra flow
    monkeypatch.setenv("MARKETEDGE_DB_PASSWORD", "demo-password")  # and its databases
    monkeypatch.setenv("MARKETEDGE_REDIS_PASSWORD", "demo-password")
    assert main(["check", "--config", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_reports_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config: No such file or directory"):
        load_config(tmp_path / "missing.yaml")


def test_targets_inherit_defaults_they_do_not_set() -> None:
    config = parse_config(
        "defaults: {interval: 1m, timeout: 5s, failure_threshold: 4, tenant: acme, "
        "labels: {team: identity, region: eu}}\ntargets:"
        + TARGET
        + "    interval: 10s\n    labels: {region: us}\n"
    )
    target = config.targets[0]
    assert (target.interval, target.timeout, target.failure_threshold) == (10.0, 5.0, 4)
    assert (target.success_threshold, target.tenant, target.tier) == (2, "acme", "")
    assert target.static_labels() == {
        "probe": "login",
        "kind": "http",
        "severity": "critical",
        "context": "revenue_critical",
        "tenant": "acme",
        "tier": "",
        "service": "auth",
        "region": "us",
        "team": "identity",
    }


def with_headers(headers: str) -> str:
    return "targets:" + TARGET.replace(
        'http: {url: "http://127.0.0.1:8000/login"}',
        f'http: {{url: "http://127.0.0.1:8000/", headers: {headers}}}',
    )


def test_a_secret_header_resolves_from_the_environment_and_never_shows_in_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZEBRA_TOKEN", "s3cr3t-token")
    config = parse_config(with_headers("{Authorization: {env: ZEBRA_TOKEN, prefix: 'Bearer '}}"))
    secret = config.targets[0].http.headers["Authorization"]  # type: ignore[union-attr]
    assert not isinstance(secret, str)
    assert secret.reveal() == "Bearer s3cr3t-token"
    assert "s3cr3t" not in repr(config)


def test_a_secret_header_resolves_from_a_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    config = parse_config(with_headers(f'{{X-Api-Key: {{file: "{token}"}}}}'))
    secret = config.targets[0].http.headers["X-Api-Key"]  # type: ignore[union-attr]
    assert not isinstance(secret, str)
    assert secret.reveal() == "from-file"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1d", 86400), ("1w", 604800)],
)
def test_durations_read_the_prometheus_way(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == {"1w": "7d"}.get(text, text)


@pytest.mark.parametrize("text", ["", "30", "5 m", "1.5s", "-1s", "s", "1m1h"])
def test_durations_reject_what_prometheus_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(text)


BUSINESS = """
contexts:
  revenue_critical:
    display_name: Revenue critical
    revenue_at_risk: {amount: 925000, currency: GBP}
tiers:
  basic: {availability: 99.0, latency: 1s, error_rate: 2.0}
  enterprise: {availability: 99.9, latency: 500ms, error_rate: 0.5}
tenants:
  acme: {tier: basic}
  zebra_associates: {tier: enterprise, display_name: Zebra Associates}
targets:
  - name: "{tenant}_login"
    per_tenant: true
    severity: critical
    context: revenue_critical
    service: auth
    labels: {plan: "{tier}"}
    http: {url: "https://{tenant}.example.com/login"}
  - name: platform_health
    severity: info
    context: revenue_critical
    service: api
    revenue_at_risk: {amount: 10, currency: EUR}
    http: {url: "https://api.example.com/health"}
"""


def test_a_per_tenant_target_becomes_one_target_per_tenant_with_its_tier() -> None:
    targets = parse_config(BUSINESS).targets
    assert [(t.name, t.tenant, t.tier) for t in targets] == [
        ("acme_login", "acme", "basic"),
        ("zebra_associates_login", "zebra_associates", "enterprise"),
        ("platform_health", "", ""),
    ]
    assert targets[1].http is not None
    assert targets[1].http.url == "https://zebra_associates.example.com/login"
    assert targets[0].labels == {"plan": "basic"}


def test_a_per_tenant_flow_keeps_its_own_tenant_variable() -> None:
    flow = """
  - name: "{tenant}_flow"
    per_tenant: true
    severity: high
    context: revenue_critical
    service: auth
    steps:
      variables: {tenant: "t-{tenant}"}
      steps:
        - {name: home, url: "https://{tenant}.example.com/${tenant}/{tier}"}
"""
    targets = parse_config(BUSINESS + flow).targets
    zebra = next(t for t in targets if t.name == "zebra_associates_flow")
    assert zebra.steps is not None
    assert zebra.steps.variables == {"tenant": "t-zebra_associates"}
    assert zebra.steps.steps[0].url == "https://zebra_associates.example.com/${tenant}/enterprise"


def test_a_target_takes_its_contexts_revenue_at_risk_unless_it_sets_its_own() -> None:
    targets = parse_config(BUSINESS).targets
    assert targets[0].revenue_at_risk is not None
    assert (targets[0].revenue_at_risk.amount, targets[0].revenue_at_risk.currency) == (
        925000,
        "GBP",
    )
    assert targets[2].revenue_at_risk is not None
    assert targets[2].revenue_at_risk.currency == "EUR"


def test_offline_loading_checks_secret_references_without_reading_them() -> None:
    unset = TESTDATA / "invalid-secret-env-missing.yaml"
    missing_ca = TESTDATA / "invalid-ca-file.yaml"
    assert load_config(unset, offline=True).targets[0].name == "zebra_admin"
    assert load_config(missing_ca, offline=True).targets[0].name == "login"
    both = with_headers("{X-Api-Key: {env: A, file: /b}}")
    with pytest.raises(ConfigError, match="needs exactly one of env or file"):
        parse_config(both, offline=True)


def test_generate_needs_no_secret_but_check_alone_does(tmp_path: Path) -> None:
    config = str(TESTDATA / "invalid-secret-env-missing.yaml")
    assert main(["generate", "--config", config, "--out", str(tmp_path)]) == 0
    assert main(["check", "--config", config]) == 2
