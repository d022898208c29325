"""DIR/kubernetes/: the bundle for a cluster that runs prometheus-operator, by path.

Usage: `kubernetes_files(config, text, KubernetesOptions(), BundleOptions())`. Built from the
same config as the plain bundle and from that bundle's own files (rules, promtool tests,
alertmanager.yml, templates, dashboards), so both say the same; deterministic, one object per
file, every file with the generated header. `kubectl apply -k DIR/kubernetes` applies them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from exporter.config import Config
from exporter.generate import render
from exporter.generate.alertmanager.files import ROUTING_TESTS_FILE
from exporter.generate.bundle import BundleOptions, build
from exporter.generate.kubernetes import grafana, rules, workload
from exporter.generate.kubernetes.alertmanager import alertmanager_objects
from exporter.generate.kubernetes.options import KubernetesOptions
from exporter.generate.kubernetes.statefulset import statefulset

DIR = "kubernetes"
# The kit of the reference config is committed at deploy/kubernetes/; a test fails when stale.
REFERENCE_OUT = "deploy"
KUSTOMIZATION = f"{DIR}/kustomization.yaml"
RULES_DIR = f"{DIR}/rules"
RULE_TESTS_DIR = f"{RULES_DIR}/tests"
ALERTMANAGER_DIR = f"{DIR}/alertmanager"
ALERTMANAGER_TESTS_DIR = f"{ALERTMANAGER_DIR}/tests"
ROUTING_TESTS = f"{ALERTMANAGER_TESTS_DIR}/routing.yml"
SPEC_FRAGMENT = f"{ALERTMANAGER_DIR}/alertmanager-spec.yaml"
OWNED_DIRS = (
    DIR,
    f"{DIR}/exporter",
    RULES_DIR,
    RULE_TESTS_DIR,
    ALERTMANAGER_DIR,
    ALERTMANAGER_TESTS_DIR,
    f"{DIR}/grafana",
)
# Files beside the objects that are not objects: the tests `check --bundle` runs, the fragment.
_NOT_RESOURCES = (f"{RULE_TESTS_DIR}/", f"{ALERTMANAGER_TESTS_DIR}/", SPEC_FRAGMENT, KUSTOMIZATION)


@dataclass(frozen=True, slots=True)
class Kit:
    files: dict[str, str]  # path under the output directory -> text, in path order
    warnings: tuple[str, ...]


def kubernetes_files(
    config: Config, config_text: str, options: KubernetesOptions, bundle_options: BundleOptions
) -> Kit:
    """Every file of DIR/kubernetes/. Raises KubernetesError when the config cannot be
    deployed so (two secrets sharing a key, nested mounts)."""
    grafana_options = replace(bundle_options.grafana, prometheus_url=options.prometheus_url)
    bundle = build(config, replace(bundle_options, grafana=grafana_options))
    objects: dict[str, dict[str, Any]] = {
        f"{DIR}/exporter/configmap.yaml": workload.config_map(options, config_text),
        f"{DIR}/exporter/service.yaml": workload.service(options),
        f"{DIR}/exporter/statefulset.yaml": statefulset(config, config_text, options),
        f"{DIR}/exporter/poddisruptionbudget.yaml": workload.disruption_budget(options),
        f"{DIR}/exporter/servicemonitor.yaml": workload.service_monitor(
            options, bundle_options.prometheus.scrape_interval
        ),
        f"{DIR}/grafana/datasource.yaml": grafana.datasource(bundle, options),
    }
    for name, text in rules.rule_files(bundle).items():
        objects[f"{RULES_DIR}/{name}.yaml"] = rules.prometheus_rule(name, text, options)
    for name, board in grafana.dashboards(bundle, options).items():
        objects[f"{DIR}/grafana/dashboard-{name}.yaml"] = board
    am = alertmanager_objects(bundle, options)
    objects[f"{ALERTMANAGER_DIR}/config-secret.yaml"] = am.config_secret
    warnings = []
    if am.custom_resource is not None:
        objects[f"{ALERTMANAGER_DIR}/alertmanagerconfig.yaml"] = am.custom_resource
        objects[f"{ALERTMANAGER_DIR}/templates.yaml"] = am.templates
    else:
        warnings.append(
            "no AlertmanagerConfig: the CRD cannot hold " + am.refused + "; "
            "use the plain config in alertmanager/config-secret.yaml (spec.configSecret)"
        )
    files = {path: render.to_yaml(obj) for path, obj in objects.items()}
    for name, text in rules.rule_tests(bundle).items():
        files[f"{RULE_TESTS_DIR}/{name}"] = text
    files[ROUTING_TESTS] = bundle[ROUTING_TESTS_FILE]
    files[SPEC_FRAGMENT] = _spec_fragment_file(am.spec_fragment)
    files[KUSTOMIZATION] = render.to_yaml(_kustomization(files))
    return Kit(dict(sorted(files.items())), tuple(warnings))


def _kustomization(files: dict[str, str]) -> dict[str, Any]:
    resources = sorted(
        path.removeprefix(f"{DIR}/") for path in files if not path.startswith(_NOT_RESOURCES)
    )
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }


def _spec_fragment_file(fragment: dict[str, Any]) -> str:
    why = (
        "# Not an object: the fields of your Alertmanager resource's spec (prometheus-operator)\n"
        "# that make it run this config. kubectl apply -k leaves this file out.\n"
    )
    text = render.to_yaml(fragment)
    return text.replace(render.HEADER, render.HEADER + why, 1)


def main() -> int:
    """deploy/kubernetes/ from the reference config, with the default options (`make bundle`)."""
    from exporter.config import load_config
    from exporter.generate.bundle import write

    root = Path(__file__).resolve().parents[3]
    reference = root / "examples" / "marketedge.yaml"
    text = reference.read_text(encoding="utf-8")
    kit = kubernetes_files(
        load_config(reference, offline=True), text, KubernetesOptions(), BundleOptions()
    )
    done = write(kit.files, root / REFERENCE_OUT, OWNED_DIRS)
    out = root / REFERENCE_OUT / DIR
    print(f"{out}: {len(done.written)} files written, {len(done.removed)} stale files removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
