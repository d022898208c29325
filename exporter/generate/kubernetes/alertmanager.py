"""The routing tree, receivers and inhibitions for a prometheus-operator Alertmanager, two ways:

- an AlertmanagerConfig (amc.py) for `spec.alertmanagerConfiguration.name`, with the
  notification templates in a ConfigMap that `alertmanagerConfiguration.templates` lists;
  left out, with the reasons, when the config uses what the CRD cannot hold;
- the bundle's alertmanager.yml itself, its templates beside it, in a Secret for
  `spec.configSecret`: always written, the fallback.

Either way the notification secrets (Slack URLs, PagerDuty keys, SMTP password...) come from the
Secret `business-exporter-alertmanager`, one key per *_file of the config, named as the file;
`alertmanager-spec.yaml` is the part of the Alertmanager resource's spec that wires it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from exporter.generate import render
from exporter.generate.alertmanager.files import CONFIG_FILE, TEMPLATES_DIR
from exporter.generate.kubernetes import amc
from exporter.generate.kubernetes.meta import (
    ALERTMANAGER_SECRET,
    NAME,
    KubernetesError,
    manifest,
    metadata,
    object_name,
)
from exporter.generate.kubernetes.operator_view import SECRETS_DIR
from exporter.generate.kubernetes.options import KubernetesOptions

TEMPLATES_CONFIG_MAP = object_name("alertmanager-templates")
CONFIG_SECRET = object_name("alertmanager-config")
CONFIG_SECRET_KEY = "alertmanager.yaml"  # the key the operator reads a configSecret from
# Where the operator mounts a configSecret, and the templates of alertmanagerConfiguration.
CONFIG_SECRET_DIR = "/etc/alertmanager/config"
TEMPLATES_MOUNT_DIR = "/etc/alertmanager/templates"


@dataclass(frozen=True, slots=True)
class AlertmanagerObjects:
    custom_resource: dict[str, Any] | None  # None: the CRD cannot say it, see `refused`
    templates: dict[str, Any]
    config_secret: dict[str, Any]
    spec_fragment: dict[str, Any]
    refused: str  # why there is no AlertmanagerConfig, "" when there is one


def alertmanager_objects(bundle: dict[str, str], options: KubernetesOptions) -> AlertmanagerObjects:
    plain = yaml.safe_load(bundle[CONFIG_FILE])
    templates = _templates(bundle)
    namespace = options.alertmanager_ns
    try:
        spec = amc.amc_spec(plain, ALERTMANAGER_SECRET)
    except KubernetesError as err:
        custom, refused = None, str(err)
    else:
        meta = metadata(NAME, namespace, options.alertmanager_config_labels)
        custom = manifest("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", meta, spec=spec)
        refused = ""
    return AlertmanagerObjects(
        custom_resource=custom,
        templates=manifest(
            "v1", "ConfigMap", metadata(TEMPLATES_CONFIG_MAP, namespace), data=templates
        ),
        config_secret=_config_secret(plain, templates, namespace),
        spec_fragment=_spec_fragment(sorted(templates), with_custom_resource=custom is not None),
        refused=refused,
    )


def _templates(bundle: dict[str, str]) -> dict[str, str]:
    prefix = f"{TEMPLATES_DIR}/"
    return {
        path.removeprefix(prefix): text
        for path, text in sorted(bundle.items())
        if path.startswith(prefix) and path.endswith(".tmpl")
    }


def _config_secret(
    plain: dict[str, Any], templates: dict[str, str], namespace: str
) -> dict[str, Any]:
    """alertmanager.yml with its *_file paths where `spec.secrets` mounts the notification
    Secret, and its templates where the operator mounts the configSecret."""
    paths = amc.secret_files(plain)
    keys = [amc.secret_key(p) for p in paths]
    clash = sorted({k for k in keys if keys.count(k) > 1})
    if clash:
        raise KubernetesError(f"Alertmanager *_file secrets would share the Secret keys {clash}")
    moved = {p: f"{SECRETS_DIR}/{ALERTMANAGER_SECRET}/{amc.secret_key(p)}" for p in paths}
    config = _replace_files(plain, moved)
    config["templates"] = [f"{CONFIG_SECRET_DIR}/*.tmpl"]
    data = {CONFIG_SECRET_KEY: render.to_yaml(config), **templates}
    meta = metadata(CONFIG_SECRET, namespace)
    return manifest("v1", "Secret", meta, type="Opaque", stringData=data)


def _replace_files(node: Any, moved: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: moved.get(value, value)
            if key.endswith("_file") and isinstance(value, str)
            else _replace_files(value, moved)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_replace_files(item, moved) for item in node]
    return node


def _spec_fragment(templates: list[str], *, with_custom_resource: bool) -> dict[str, Any]:
    """The fields of the Alertmanager resource's spec that make it run this config."""
    if with_custom_resource:
        refs = [{"configMap": {"name": TEMPLATES_CONFIG_MAP, "key": key}} for key in templates]
        return {"alertmanagerConfiguration": {"name": NAME, "templates": refs}}
    return {"configSecret": CONFIG_SECRET, "secrets": [ALERTMANAGER_SECRET]}
