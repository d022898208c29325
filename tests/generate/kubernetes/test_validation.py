"""The offline validation refuses what the API server or kubectl would: each case breaks one
field of one valid object of a generated kit and names where the problem must be found."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from exporter.generate.kubernetes.check import load_objects
from tests.generate.kubernetes.validation import go_regexp, kubectl_decoded, lost_in, problems

ROOT = Path(__file__).parents[3]
DOTMAC = ROOT / "examples" / "dotmac.yaml"
Objects = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> Objects:
    out = tmp_path_factory.mktemp("kit")
    assert main(["generate", "--config", str(DOTMAC), "--out", str(out), "--kubernetes"]) == 0
    return {
        o["kind"] if o["kind"] != "ConfigMap" else o["metadata"]["name"]: o
        for o in load_objects(out / "kubernetes")
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(":")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return mutate


CASES: list[tuple[str, str, str, Any, str]] = [
    (
        "a rule group has a field the CRD does not know",
        "PrometheusRule",
        "spec:groups:0:evaluation",
        "30s",
        "spec.groups.0",
    ),
    (
        "a rule's for is not a duration",
        "PrometheusRule",
        "spec:groups:0:rules:0:for",
        "5 minutes",
        "spec.groups.0.rules.0.for",
    ),
    (
        "a rule group has no name",
        "PrometheusRule",
        "spec:groups:0:name",
        None,
        "spec.groups.0.name",
    ),
    (
        "an endpoint names its port by number",
        "ServiceMonitor",
        "spec:endpoints:0:port",
        9117,
        "spec.endpoints.0.port",
    ),
    (
        "a relabeling has an unknown action",
        "ServiceMonitor",
        "spec:endpoints:0:relabelings:0:action",
        "rename",
        "spec.endpoints.0.relabelings.0.action",
    ),
    (
        "a matcher has an operator Alertmanager lacks",
        "AlertmanagerConfig",
        "spec:route:routes:0:matchers:0:matchType",
        "~=",
        "spec.route.routes.0.matchers.0.matchType",
    ),
    (
        "a child route has a field no route has",
        "AlertmanagerConfig",
        "spec:route:routes:0:muteTimes",
        ["x"],
        "spec.route.routes.0",
    ),
    (
        "a receiver's Slack config has an unknown field",
        "AlertmanagerConfig",
        "spec:receivers:0:slackConfigs:0:webhook",
        "x",
        "spec.receivers.0.slackConfigs.0",
    ),
    (
        "two receivers have one name",
        "AlertmanagerConfig",
        "spec:receivers:1:name",
        "__receiver_0__",
        "spec.receivers",
    ),
    (
        "the group_by list repeats a label",
        "AlertmanagerConfig",
        "spec:route:groupBy",
        ["tenant", "tenant"],
        "spec.route.groupBy",
    ),
    (
        "the StatefulSet's replicas are a string",
        "StatefulSet",
        "spec:replicas",
        "3",
        "spec.replicas",
    ),
    (
        "a container has a field Kubernetes does not know",
        "StatefulSet",
        "spec:template:spec:containers:0:healthCheck",
        {},
        "spec.template.spec.containers.0",
    ),
    (
        "the budget's maxUnavailable is a list",
        "PodDisruptionBudget",
        "spec:maxUnavailable",
        [1],
        "spec.maxUnavailable",
    ),
    (
        "a Service port is out of its type",
        "Service",
        "spec:ports:0:port",
        "http",
        "spec.ports.0.port",
    ),
    (
        "a label value has a space",
        "StatefulSet",
        "metadata:labels:team",
        "platform team",
        "metadata.labels.team",
    ),
    (
        "a label key has two slashes",
        "PrometheusRule",
        "metadata:labels:a/b/c",
        "x",
        "metadata.labels",
    ),
    (
        "an object name has capitals",
        "ServiceMonitor",
        "metadata:name",
        "Business-Exporter",
        "metadata.name",
    ),
    (
        "a ConfigMap key has a slash",
        "business-exporter-config",
        "data:conf/config.yaml",
        "x",
        "data",
    ),
    (
        "a ConfigMap holds more than 1 MiB",
        "business-exporter-config",
        "data:big",
        "x" * (1024 * 1024),
        "bytes",
    ),
]


@pytest.mark.parametrize(
    ("sentence", "name", "path", "value", "where"), CASES, ids=[c[0] for c in CASES]
)
def test_a_broken_field_is_refused_where_it_is(
    objects: Objects, sentence: str, name: str, path: str, value: Any, where: str
) -> None:
    assert problems(objects[name]) == []
    broken = copy.deepcopy(objects[name])
    if value == "__receiver_0__":
        value = broken["spec"]["receivers"][0]["name"]
    _set(path, value)(broken)
    found = problems(broken)
    assert found, sentence
    assert any(where in line for line in found), found


def test_a_cel_rule_the_objects_reach_is_reported_not_passed(objects: Objects) -> None:
    broken = copy.deepcopy(objects["AlertmanagerConfig"])
    sigv4 = {"region": "eu-west-1", "externalId": "x"}
    broken["spec"]["receivers"][0]["snsConfigs"] = [{"topicARN": "arn:x", "sigv4": sigv4}]
    assert any("CEL rules not evaluated offline" in line for line in problems(broken))


def test_go_regexps_are_read_as_go_reads_them() -> None:
    months = r"^((?i)january|february|1[0-2]|[1-9])(?:((:((?i)january|february|1[0-2]|[1-9]))$)|$)"
    assert re.search(go_regexp(months), "January:FEBRUARY")
    assert not re.search(go_regexp(months), "janvier")


def test_a_field_kubectl_drops_when_it_decodes_the_statefulset_is_found(
    tmp_path: Path, objects: Objects
) -> None:
    broken = copy.deepcopy(objects["StatefulSet"])
    broken["spec"]["template"]["spec"]["containers"][0]["healthCheck"] = {"path": "/"}
    path = tmp_path / "statefulset.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert lost_in(broken, kubectl_decoded(path)) == [
        ".spec.template.spec.containers[0].healthCheck: dropped"
    ]
