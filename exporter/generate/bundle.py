"""The bundle: every generated file, by its path relative to the output directory.

Usage: `write(build(load_config("examples/marketedge.yaml")), Path("out"))`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from exporter.config import Config
from exporter.generate import render
from exporter.generate.alertmanager.files import OWNED_DIRS as ALERTMANAGER_DIRS
from exporter.generate.alertmanager.files import alertmanager_files
from exporter.generate.grafana.dashboards import grafana_files
from exporter.generate.grafana.provisioning import OWNED_DIRS as GRAFANA_DIRS
from exporter.generate.grafana.provisioning import GrafanaOptions
from exporter.generate.prometheus import PrometheusOptions, prometheus_config
from exporter.generate.rules.alerts import alert_rule_files
from exporter.generate.rules.app import app_rule_files, app_test_files
from exporter.generate.rules.certificates import certificate_rule_files, certificate_test_files
from exporter.generate.rules.slo import slo_rule_files
from exporter.generate.ruletests.alerts import alert_test_files
from exporter.generate.ruletests.slo import slo_test_files

PROMETHEUS_FILE = "prometheus/prometheus.yml"
RULES_DIR = "rules"
RULE_TESTS_DIR = "rules/tests"
# Directories the bundle owns: a generated file in them that the bundle no longer has is removed.
OWNED_DIRS = ("prometheus", RULES_DIR, RULE_TESTS_DIR, *GRAFANA_DIRS, *ALERTMANAGER_DIRS)


@dataclass(frozen=True, slots=True)
class BundleOptions:
    prometheus: PrometheusOptions = field(default_factory=PrometheusOptions)
    grafana: GrafanaOptions = field(default_factory=GrafanaOptions)
    # A URL: every receiver delivers to a webhook at URL/<config receiver name> instead, with
    # the routing unchanged (staging stacks, the demo, the end-to-end tests).
    notify_to: str = ""


@dataclass(frozen=True, slots=True)
class Written:
    """What write() changed, as paths relative to the output directory."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def build(config: Config, options: BundleOptions | None = None) -> dict[str, str]:
    """Every file of the bundle, path -> text, in path order. Pure: same input, same bytes."""
    options = options or BundleOptions()
    files: dict[str, str] = {}
    _add(files, PROMETHEUS_FILE, render.prometheus_file(prometheus_config(options.prometheus)))
    for rules in [
        *alert_rule_files(config),
        *slo_rule_files(config),
        *app_rule_files(config),
        *certificate_rule_files(config),
    ]:
        _add(files, f"{RULES_DIR}/{rules.name}.rules.yml", render.rule_file(rules))
    for tests in [
        *alert_test_files(config),
        *slo_test_files(config),
        *app_test_files(config),
        *certificate_test_files(config),
    ]:
        _add(files, f"{RULE_TESTS_DIR}/{tests.name}.test.yml", render.rule_test_file(tests))
    for path, text in alertmanager_files(config, options.notify_to).items():
        _add(files, path, text)
    scrape_interval = options.prometheus.scrape_interval
    for path, text in grafana_files(config, options.grafana, scrape_interval).items():
        _add(files, path, text)
    return dict(sorted(files.items()))


def _add(files: dict[str, str], path: str, text: str) -> None:
    if path in files:
        raise ValueError(f"two generators write {path}")
    files[path] = text


def write(files: dict[str, str], out_dir: Path, owned: tuple[str, ...] = OWNED_DIRS) -> Written:
    """Write the bundle under out_dir, touching only files whose text changed, and remove the
    generated files of the `owned` directories that the bundle no longer has."""
    written, unchanged = [], []
    for path, text in files.items():
        target = out_dir / path
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            unchanged.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(path)
    removed = [path for path in _generated(out_dir, owned) if path not in files]
    for path in removed:
        (out_dir / path).unlink()
    return Written(tuple(written), tuple(unchanged), tuple(removed))


def _generated(out_dir: Path, owned: tuple[str, ...]) -> list[str]:
    """Files in the owned directories that carry the generated header, hand-written ones not."""
    found = []
    for directory in owned:
        for path in sorted((out_dir / directory).glob("*")):
            if path.is_file() and _is_generated(path):
                found.append(path.relative_to(out_dir).as_posix())
    return found


def _is_generated(path: Path) -> bool:
    try:
        return render.is_generated(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return False
