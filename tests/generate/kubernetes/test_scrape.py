"""The ServiceMonitor's relabelings in a real Prometheus scraping a real exporter: the series
carry the plain bundle's labels (job `business_exporter`, the probes' own `service`), whatever
target labels prometheus-operator adds before them.

Without a cluster, the endpoints a Kubernetes service discovery would find are a static target
carrying the same `__meta_kubernetes_*` labels, and the operator's own relabelings for a
ServiceMonitor endpoint come first, in its order (its generated configs, pkg/prometheus).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from exporter.cli import main
from exporter.demo.stack import answers, process
from exporter.generate.kubernetes.check import load_objects
from tests.generate.kubernetes.test_pods import small_config
from tests.servers import free_port, wait_for

POD = "business-exporter-0"


def operator_relabelings(port_name: str) -> list[dict[str, Any]]:
    """What prometheus-operator puts before a ServiceMonitor endpoint's own relabelings."""
    job = {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"}
    return [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {**job, "replacement": "${1}"},
        {"target_label": "endpoint", "replacement": port_name},
    ]  # fmt: skip


def as_prometheus(relabeling: dict[str, Any]) -> dict[str, Any]:
    """A ServiceMonitor relabeling in Prometheus' own spelling."""
    names = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    return {names.get(key, key): value for key, value in relabeling.items()}


def test_the_series_carry_the_plain_bundle_labels(tmp_path: Path) -> None:
    config = small_config(tmp_path)
    assert main(["generate", "--config", str(config), "--out", str(tmp_path), "--kubernetes"]) == 0
    objects = load_objects(tmp_path / "kubernetes")
    [monitor] = [o for o in objects if o["kind"] == "ServiceMonitor"]
    [service] = [o for o in objects if o["kind"] == "Service"]
    [endpoint] = monitor["spec"]["endpoints"]
    [port] = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
    exporter_port, prometheus_port = free_port(), free_port()
    meta = {
        "__meta_kubernetes_namespace": service["metadata"]["namespace"],
        "__meta_kubernetes_service_name": service["metadata"]["name"],
        "__meta_kubernetes_pod_name": POD,
        "__meta_kubernetes_pod_container_name": "exporter",
        "__meta_kubernetes_pod_container_port_number": str(port["port"]),
    }
    relabelings = operator_relabelings(endpoint["port"])
    relabelings += [as_prometheus(r) for r in endpoint["relabelings"]]
    job = {
        "job_name": "serviceMonitor/monitoring/business-exporter/0",
        "scrape_interval": "1s",
        "metrics_path": endpoint["path"],
        "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"], "labels": meta}],
        "relabel_configs": relabelings,
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({"scrape_configs": [job]}))
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not on PATH: `make system-deps` installs the Debian package"
    server = [binary, f"--config.file={tmp_path / 'prometheus.yml'}"]
    server += [f"--storage.tsdb.path={tmp_path / 'data'}"]
    server += [f"--web.listen-address=127.0.0.1:{prometheus_port}"]
    exporter = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    exporter += ["--listen", f"127.0.0.1:{exporter_port}"]
    base = f"http://127.0.0.1:{prometheus_port}"
    with (
        process(exporter, tmp_path / "exporter.log"),
        process(server, tmp_path / "prom.log") as running,
    ):
        wait_for(lambda: answers(f"{base}/-/ready") or running.poll() is not None, timeout=30)
        assert running.poll() is None, (tmp_path / "prom.log").read_text()[-3000:]
        query = "business_probe_last_run_timestamp_seconds"
        wait_for(lambda: series(base, query), timeout=30, what="a scrape of the exporter")
        [up] = series(base, "up")
        labels = series(base, query)[0]
    assert up == {"__name__": "up", "job": "business_exporter", "instance": f"{POD}:{port['port']}"}
    assert labels.items() >= {"job": "business_exporter", "service": "svc"}.items()
    assert not labels.keys() & {"namespace", "pod", "container", "endpoint", "exported_service"}


def series(base: str, query: str) -> list[dict[str, str]]:
    result = httpx.get(f"{base}/api/v1/query", params={"query": query}).json()["data"]["result"]
    return [sample["metric"] for sample in result]
