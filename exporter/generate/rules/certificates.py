"""The certificate expiry alert: a TLS target's server presents a certificate that expires soon.

The exporter exposes, per target that speaks HTTPS, when the first of the certificates its
server presented expires (`business_probe_tls_earliest_cert_expiry_timestamp_seconds`, as
blackbox_exporter's `probe_ssl_earliest_cert_expiry`). One rule compares it with the config's
`certificate_expiry.warn_before` (14 days by default) and keeps firing once the certificate has
expired, until a renewed one is seen. It keeps the target's `context` and `tenant`, so it goes
where that target's alerts go, at the severity the config gives it (medium by default): a
certificate that expires in two weeks is work to plan, not a page.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.config import Config, Target
from exporter.generate.model import (
    AlertingRule,
    AlertTest,
    ExpectedAlert,
    RuleFile,
    RuleGroup,
    RuleTestFile,
    Series,
    TestCase,
)
from exporter.generate.rules import messages as m
from exporter.generate.ruletests.series import scraped_labels, series

CERTIFICATES_FILE = "certificates"
OTHER_JOB = "some_other_job"

SUMMARY = "TLS certificate of {probe} expires within {warn_before}"
DESCRIPTION = (
    "A certificate that the server of probe {probe} (service {service}, tenant {tenant}) "
    "presents {state}. Renew it and install the whole chain: the probe reads the earliest "
    "expiry among the certificates the server sends."
)
STATE = (
    "{{ if le $value 0.0 }}has expired{{ else }}expires in {{ $value | humanizeDuration }}{{ end }}"
)


def tls_targets(config: Config) -> list[Target]:
    """The targets whose probe speaks HTTPS: the only ones with the expiry series."""
    return [t for t in config.targets if any(u.startswith("https:") for u in _urls(t))]


def _urls(target: Target) -> list[str]:
    if target.http is not None:
        return [target.http.url]
    if target.openapi is not None:
        return [target.openapi.url]
    if target.steps is not None:
        return [step.url for step in target.steps.steps]
    return []


def certificate_rule_files(config: Config) -> list[RuleFile]:
    """rules/certificates, when some target speaks HTTPS."""
    if not tls_targets(config):
        return []
    group = RuleGroup(c.GROUP_CERTIFICATE_EXPIRY, (certificate_rule(config),))
    return [RuleFile(CERTIFICATES_FILE, (group,))]


def certificate_rule(config: Config) -> AlertingRule:
    warn_before = config.certificate_expiry.warn_before
    expiry = m.job_selector(c.PROBE_TLS_EARLIEST_CERT_EXPIRY)
    return AlertingRule(
        alert=c.ALERT_CERTIFICATE_EXPIRY,
        expr=f"{expiry} - time() < {_seconds(warn_before)}",
        labels=rule_labels(config),
        annotations=alert_annotations(
            config, {n: m.label(n) for n in ("probe", "service", "tenant")}
        ),
    )


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def rule_labels(config: Config) -> dict[str, str]:
    severity = config.certificate_expiry.severity
    return {
        c.LABEL_SEVERITY: severity,
        c.LABEL_PRIORITY: c.PRIORITIES[severity],
        c.LABEL_ESCALATION_LEVEL: "0",
    }


def alert_annotations(config: Config, fill: dict[str, str], state: str = STATE) -> dict[str, str]:
    values = {**fill, "warn_before": m.spoken_duration(config.certificate_expiry.warn_before)}
    return {
        c.ANNOTATION_SUMMARY: m.substitute(SUMMARY, values),
        c.ANNOTATION_DESCRIPTION: m.substitute(DESCRIPTION, {**values, "state": state}),
    }


# promtool tests


def certificate_test_files(config: Config) -> list[RuleTestFile]:
    """rules/tests/certificates, on the first target that speaks HTTPS."""
    targets = tls_targets(config)
    if not targets:
        return []
    cases = (_expiring(config, targets[0]), _expired(config, targets[0]))
    path = f"../{CERTIFICATES_FILE}.rules.yml"
    return [RuleTestFile(CERTIFICATES_FILE, (path,), cases)]


def _expect(config: Config, target: Target, state: str) -> ExpectedAlert:
    labels = scraped_labels(target)
    fill = {"probe": target.name, "service": target.service, "tenant": target.tenant}
    return ExpectedAlert({**labels, **rule_labels(config)}, alert_annotations(config, fill, state))


def _other_job(target: Target, values: list[float]) -> Series:
    labels = {**scraped_labels(target), "job": OTHER_JOB}
    return series(c.PROBE_TLS_EARLIEST_CERT_EXPIRY, labels, values)


def _expiring(config: Config, target: Target) -> TestCase:
    """Expires warn_before + 2m after the start: silent until then, firing a minute later,
    silent again once a renewed certificate is seen."""
    warn_before = config.certificate_expiry.warn_before
    expires, renewed = warn_before + 120, warn_before * 3
    values = [expires] * 5 + [renewed] * 2
    alertname = c.ALERT_CERTIFICATE_EXPIRY
    left = humanized_duration(warn_before - 60)
    return TestCase(
        name="a certificate alerts once it expires within warn_before, until it is renewed",
        input_series=(
            series(c.PROBE_TLS_EARLIEST_CERT_EXPIRY, scraped_labels(target), values),
            _other_job(target, [60.0] * 7),
        ),
        alert_rule_test=(
            AlertTest("2m", alertname),
            AlertTest("3m", alertname, (_expect(config, target, f"expires in {left}"),)),
            AlertTest("5m", alertname),
        ),
    )


def _expired(config: Config, target: Target) -> TestCase:
    values = [60.0] * 4
    return TestCase(
        name="an expired certificate still alerts, saying it has expired",
        input_series=(series(c.PROBE_TLS_EARLIEST_CERT_EXPIRY, scraped_labels(target), values),),
        alert_rule_test=(
            AlertTest("2m", c.ALERT_CERTIFICATE_EXPIRY, (_expect(config, target, "has expired"),)),
        ),
    )


def humanized_duration(seconds: float) -> str:
    """What Prometheus' humanizeDuration prints for a whole number of seconds over a minute."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"
