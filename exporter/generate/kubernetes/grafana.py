"""The dashboards as ConfigMaps for Grafana's sidecar (the k8s-sidecar of the Grafana Helm chart
and kube-prometheus-stack loads every ConfigMap labelled `grafana_dashboard: "1"`), and the
Prometheus datasource the panels name by uid, labelled `grafana_datasource: "1"`.
"""

from __future__ import annotations

from typing import Any

from exporter.generate.grafana.provisioning import DASHBOARDS_DIR, DATASOURCES_DIR, FOLDER
from exporter.generate.kubernetes.meta import manifest, metadata, object_name
from exporter.generate.kubernetes.options import KubernetesOptions

DASHBOARD_LABEL = ("grafana_dashboard", "1")
DATASOURCE_LABEL = ("grafana_datasource", "1")
# The sidecar's folderAnnotation (kube-prometheus-stack's default name): the dashboards' folder.
FOLDER_ANNOTATION = "grafana_folder"


def dashboards(bundle: dict[str, str], options: KubernetesOptions) -> dict[str, dict[str, Any]]:
    """A ConfigMap per dashboard, by dashboard name."""
    prefix = f"{DASHBOARDS_DIR}/"
    out = {}
    for path, text in bundle.items():
        if path.startswith(prefix) and path.endswith(".json"):
            file_name = path.removeprefix(prefix)
            name = file_name.removesuffix(".json")
            meta = metadata(
                object_name("dashboard", name),
                options.grafana_ns,
                [DASHBOARD_LABEL],
                {FOLDER_ANNOTATION: FOLDER},
                component="dashboards",
            )
            out[name] = manifest("v1", "ConfigMap", meta, data={file_name: text})
    return out


def datasource(bundle: dict[str, str], options: KubernetesOptions) -> dict[str, Any]:
    """The bundle's datasource provisioning file (at the cluster's Prometheus URL)."""
    [(path, text)] = [(p, t) for p, t in bundle.items() if p.startswith(f"{DATASOURCES_DIR}/")]
    file_name = path.rsplit("/", 1)[1].replace(".yml", ".yaml")
    meta = metadata(
        object_name("datasource"), options.grafana_ns, [DATASOURCE_LABEL], component="dashboards"
    )
    return manifest("v1", "ConfigMap", meta, data={f"business-exporter-{file_name}": text})
