"""Names and metadata shared by every object of the Kubernetes kit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from exporter import __version__

NAME = "business-exporter"
# The exporter's own Secret: one key per environment variable and per file the config reads.
EXPORTER_SECRET = NAME
# The Secret the notification integrations read: one key per *_file of the Alertmanager config.
ALERTMANAGER_SECRET = f"{NAME}-alertmanager"
SELECTOR = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "exporter"}
_COMMON = {
    "app.kubernetes.io/name": NAME,
    "app.kubernetes.io/part-of": NAME,
    "app.kubernetes.io/version": __version__,
}


def object_name(*parts: str) -> str:
    """A DNS subdomain from name parts: `business-exporter-self-monitoring` from self_monitoring."""
    text = "-".join([NAME, *parts]).lower()
    return re.sub(r"[^a-z0-9.-]+", "-", text).strip("-.")[:253]


def metadata(
    name: str,
    namespace: str,
    labels: Iterable[tuple[str, str]] = (),
    annotations: dict[str, str] | None = None,
    component: str = "",
) -> dict[str, Any]:
    """metadata: name, namespace, the kit's labels plus `labels`, and annotations if any."""
    merged = dict(_COMMON)
    if component:
        merged["app.kubernetes.io/component"] = component
    merged.update(labels)
    out: dict[str, Any] = {"name": name, "namespace": namespace, "labels": merged}
    if annotations:
        out["annotations"] = annotations
    return out


def manifest(api_version: str, kind: str, meta: dict[str, Any], **body: Any) -> dict[str, Any]:
    """An object in the order kubectl prints one: apiVersion, kind, metadata, then the rest."""
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}


class KubernetesError(Exception):
    """The config cannot be deployed as the kit would: why, for the command line."""
