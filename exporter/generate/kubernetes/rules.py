"""A PrometheusRule per rule file of the bundle, its groups unchanged, and the promtool tests
of those files kept beside them as they are (`check --bundle` runs them against the groups of
the PrometheusRules).
"""

from __future__ import annotations

from typing import Any

import yaml

from exporter.generate.bundle import RULE_TESTS_DIR, RULES_DIR
from exporter.generate.kubernetes.meta import manifest, metadata, object_name
from exporter.generate.kubernetes.options import KubernetesOptions

RULE_SUFFIX = ".rules.yml"
RULE_FILE_ANNOTATION = "business-exporter/rule-file"
TEST_SUFFIX = ".test.yml"


def rule_files(bundle: dict[str, str]) -> dict[str, str]:
    """The bundle's rules/*.rules.yml by name (`alerts` for rules/alerts.rules.yml)."""
    return {
        path.removeprefix(f"{RULES_DIR}/").removesuffix(RULE_SUFFIX): text
        for path, text in bundle.items()
        if path.startswith(f"{RULES_DIR}/") and path.endswith(RULE_SUFFIX) and path.count("/") == 1
    }


def rule_tests(bundle: dict[str, str]) -> dict[str, str]:
    """The bundle's promtool tests by file name (`alerts.test.yml`)."""
    return {
        path.removeprefix(f"{RULE_TESTS_DIR}/"): text
        for path, text in bundle.items()
        if path.startswith(f"{RULE_TESTS_DIR}/") and path.endswith(TEST_SUFFIX)
    }


def prometheus_rule(name: str, text: str, options: KubernetesOptions) -> dict[str, Any]:
    """rules/<name>.rules.yml as a PrometheusRule; the file name stays as an annotation, for
    the tests that name it."""
    groups = yaml.safe_load(text)["groups"]
    annotations = {RULE_FILE_ANNOTATION: f"{name}{RULE_SUFFIX}"}
    meta = metadata(object_name(name), options.namespace, options.rule_labels, annotations)
    return manifest("monitoring.coreos.com/v1", "PrometheusRule", meta, spec={"groups": groups})
