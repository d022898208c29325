"""The exporter on Kubernetes, but its pods: its config as a ConfigMap, the headless Service
its StatefulSet needs, a PodDisruptionBudget, and the ServiceMonitor that has it scraped.

Every replica is scraped, ready or not (publishNotReadyAddresses): a shard that stops being
ready shows as its own failing `up`, and its targets' series do not silently vanish.
"""

from __future__ import annotations

from typing import Any

from exporter import conventions as c
from exporter.generate.kubernetes.meta import NAME, SELECTOR, manifest, metadata, object_name
from exporter.generate.kubernetes.options import KubernetesOptions

PORT_NAME, PORT = "http", 9117
CONFIG_MAP = object_name("config")
CONFIG_KEY = "config.yaml"
# Target labels the operator adds that the plain bundle's scrape has not: dropped, so that
# every series and alert carries the labels the rules and their tests expect. `service` would
# otherwise collide with the probes' own `service` label and rename it to exported_service.
_DROPPED = "namespace|pod|service|endpoint|container"


def config_map(options: KubernetesOptions, config_text: str) -> dict[str, Any]:
    """The config file as written (it holds no secret: those come from env vars or files)."""
    meta = metadata(CONFIG_MAP, options.namespace, component="exporter")
    return manifest("v1", "ConfigMap", meta, data={CONFIG_KEY: config_text})


def service(options: KubernetesOptions) -> dict[str, Any]:
    spec = {
        "clusterIP": "None",
        "publishNotReadyAddresses": True,
        "selector": dict(SELECTOR),
        "ports": [{"name": PORT_NAME, "port": PORT, "targetPort": PORT_NAME, "protocol": "TCP"}],
    }
    meta = metadata(NAME, options.namespace, component="exporter")
    return manifest("v1", "Service", meta, spec=spec)


def disruption_budget(options: KubernetesOptions) -> dict[str, Any]:
    """Every replica is the only prober of its shard: a drain takes them one at a time."""
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": dict(SELECTOR)}}
    meta = metadata(NAME, options.namespace, component="exporter")
    return manifest("policy/v1", "PodDisruptionBudget", meta, spec=spec)


def service_monitor(options: KubernetesOptions, scrape_interval: str) -> dict[str, Any]:
    """Scrape every replica as the plain bundle's job does: job `business_exporter`, instance
    `<pod>:<port>` (stable across restarts, as a StatefulSet pod's name is)."""
    relabelings = [
        {"action": "replace", "targetLabel": "job", "replacement": c.EXPORTER_JOB},
        {
            "action": "replace",
            "sourceLabels": [
                "__meta_kubernetes_pod_name",
                "__meta_kubernetes_pod_container_port_number",
            ],
            "separator": ":",
            "targetLabel": "instance",
        },
        {"action": "labeldrop", "regex": _DROPPED},
    ]
    endpoint = {
        "port": PORT_NAME,
        "path": "/metrics",
        "interval": scrape_interval,
        "relabelings": relabelings,
    }
    spec = {
        "selector": {"matchLabels": dict(SELECTOR)},
        "namespaceSelector": {"matchNames": [options.namespace]},
        "endpoints": [endpoint],
    }
    meta = metadata(NAME, options.namespace, options.monitor_labels, component="exporter")
    return manifest("monitoring.coreos.com/v1", "ServiceMonitor", meta, spec=spec)
