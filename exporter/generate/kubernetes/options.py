"""What `generate --kubernetes` cannot read from the config: where things go in the cluster.

Kept apart from the builders so the command line can read the defaults cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exporter import __version__

DEFAULT_NAMESPACE = "monitoring"
# The Service prometheus-operator creates for every Prometheus it runs, in its namespace.
DEFAULT_PROMETHEUS_URL = f"http://prometheus-operated.{DEFAULT_NAMESPACE}.svc:9090"
DEFAULT_IMAGE = f"business-exporter:{__version__}"
DEFAULT_REPLICAS = 2

# The API server's syntax for label keys (an optional DNS subdomain prefix and a name) and values.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LABEL_KEY = re.compile(rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$")
LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class KubernetesOptions:
    """Namespaces, the labels prometheus-operator selects objects by, and the exporter's pods."""

    namespace: str = DEFAULT_NAMESPACE  # the exporter, its ServiceMonitor and PrometheusRules
    alertmanager_namespace: str = ""  # "" is `namespace`: the Alertmanager's own
    grafana_namespace: str = ""  # "" is `namespace`: where Grafana's sidecar looks
    rule_labels: Labels = ()  # the Prometheus' ruleSelector
    monitor_labels: Labels = ()  # its serviceMonitorSelector
    alertmanager_config_labels: Labels = ()  # the Alertmanager's alertmanagerConfigSelector
    replicas: int = DEFAULT_REPLICAS  # exporter pods, one shard each
    image: str = DEFAULT_IMAGE
    prometheus_url: str = DEFAULT_PROMETHEUS_URL  # as Grafana reaches Prometheus in the cluster

    @property
    def alertmanager_ns(self) -> str:
        return self.alertmanager_namespace or self.namespace

    @property
    def grafana_ns(self) -> str:
        return self.grafana_namespace or self.namespace


def parse_label(text: str) -> tuple[str, str]:
    """'release=kube-prometheus-stack' -> (key, value); ValueError with the reason otherwise."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"must be KEY=VALUE, not {text!r}")
    if not LABEL_KEY.match(key) or len(key.rpartition("/")[0]) > 253:
        raise ValueError(f"{key!r} is not a Kubernetes label key")
    if not LABEL_VALUE.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes label value (63 characters at most)")
    return key, value


def check_namespace(text: str) -> str:
    """A namespace is a DNS label: lower case letters, digits and '-', 63 at most."""
    if not DNS_LABEL.match(text):
        raise ValueError(f"{text!r} is not a Kubernetes namespace name")
    return text
