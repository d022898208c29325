"""The exporter's pods: a StatefulSet of N replicas, each probing the shard of its ordinal.

Pod `business-exporter-K` runs `serve --shard-from-hostname N`, that is `--shard K+1/N`. Its
config comes from the ConfigMap; every secret the config names from the exporter's Secret, as
an environment variable (secretKeyRef) or as a file mounted where the config reads it. The pod
runs as nobody on a read-only root filesystem, with no capability and the runtime's seccomp
profile, and never talks to the Kubernetes API.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import PurePosixPath
from typing import Any

from exporter.config import Config
from exporter.generate.kubernetes.meta import (
    EXPORTER_SECRET,
    NAME,
    SELECTOR,
    KubernetesError,
    manifest,
    metadata,
)
from exporter.generate.kubernetes.options import KubernetesOptions
from exporter.generate.kubernetes.secrets import Inputs, inputs, secret_key
from exporter.generate.kubernetes.workload import CONFIG_KEY, CONFIG_MAP, PORT, PORT_NAME

CONFIG_DIR = PurePosixPath("/etc/business-exporter/config")
NOBODY = 65534  # the image's user, by number: the kubelet cannot check a name is not root
# Memory: the running exporter (bench/memory.py: about 56 MB, plus 3-4 MiB per 1,000 targets)
# and, at start and on reload, the child process that parses the whole config (its peak is some
# three times what the config keeps). CPU: 10,000 targets every 10 s took 17% of a core
# (bench/scheduling.py); no CPU limit, whose throttling would make probes late.
MEMORY_REQUEST_MIB, MEMORY_LIMIT_MIB, MEMORY_PER_1000_TARGETS_MIB = 128, 256, 16
CPU_REQUEST = "100m"


def statefulset(config: Config, config_text: str, options: KubernetesOptions) -> dict[str, Any]:
    found = inputs(config)
    checksum = hashlib.sha256(config_text.encode()).hexdigest()
    template = {
        # A new config rolls the pods: each starts on it, one shard after another.
        "metadata": {
            "labels": metadata(NAME, options.namespace, component="exporter")["labels"],
            "annotations": {"business-exporter/config-sha256": checksum},
        },
        "spec": _pod(config, found, options),
    }
    spec = {
        "serviceName": NAME,
        "replicas": options.replicas,
        # Shards do not depend on one another: start and replace them all at once.
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": dict(SELECTOR)},
        "template": template,
    }
    meta = metadata(NAME, options.namespace, component="exporter")
    return manifest("apps/v1", "StatefulSet", meta, spec=spec)


def _pod(config: Config, found: Inputs, options: KubernetesOptions) -> dict[str, Any]:
    mounts = _mounts(found)
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NOBODY,
            "runAsGroup": NOBODY,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # Spread the shards over nodes, so that losing one node loses one shard's probes.
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(SELECTOR)},
            }
        ],
        "containers": [_container(config, found, mounts, options)],
        "volumes": [_volume(name, directory, found) for name, directory in mounts.items()]
        + [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}],
    }


def _container(
    config: Config, found: Inputs, mounts: dict[str, PurePosixPath], options: KubernetesOptions
) -> dict[str, Any]:
    command = ["business-exporter", "serve", "--config", str(CONFIG_DIR / CONFIG_KEY)]
    command += ["--listen", f"0.0.0.0:{PORT}", "--shard-from-hostname", str(options.replicas)]
    container: dict[str, Any] = {
        "name": "exporter",
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
    }
    if found.env:
        container["env"] = [_env(name) for name in found.env]
    container |= {
        # The config is parsed before the server answers: a large one may take a while.
        "startupProbe": _probe("/-/healthy", period=2, failures=60),
        "livenessProbe": _probe("/-/healthy", period=10, failures=3),
        "readinessProbe": _probe("/-/ready", period=5, failures=2),
        "resources": _resources(len(config.targets)),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": name, "mountPath": str(directory), "readOnly": True}
            for name, directory in mounts.items()
        ]
        + [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return container


def _env(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "valueFrom": {"secretKeyRef": {"name": EXPORTER_SECRET, "key": name}},
    }


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _resources(targets: int) -> dict[str, Any]:
    limit = MEMORY_LIMIT_MIB + MEMORY_PER_1000_TARGETS_MIB * math.ceil(targets / 1000)
    return {
        "requests": {"cpu": CPU_REQUEST, "memory": f"{MEMORY_REQUEST_MIB}Mi"},
        "limits": {"memory": f"{limit}Mi"},
    }


def _mounts(found: Inputs) -> dict[str, PurePosixPath]:
    """Volume name -> directory: the config's, then one per directory of secret files."""
    directories = sorted({CONFIG_DIR, *found.directories()})
    nested = [(a, b) for a in directories for b in directories if a in b.parents]
    if nested:
        outer, inner = nested[0]
        raise KubernetesError(
            f"files the config reads in {inner} and in {outer} would need one mount inside "
            "another: keep them in sibling directories"
        )
    others = [directory for directory in directories if directory != CONFIG_DIR]
    return {"config": CONFIG_DIR} | {f"files-{i}": d for i, d in enumerate(others, start=1)}


def _volume(name: str, directory: PurePosixPath, found: Inputs) -> dict[str, Any]:
    """A projected volume: the config file and the secret files that share a directory."""
    sources: list[dict[str, Any]] = []
    if directory == CONFIG_DIR:
        items = [{"key": CONFIG_KEY, "path": CONFIG_KEY}]
        sources.append({"configMap": {"name": CONFIG_MAP, "items": items}})
    files = found.directories().get(directory, ())
    if files:
        items = [{"key": secret_key(path), "path": path.name} for path in files]
        sources.append({"secret": {"name": EXPORTER_SECRET, "items": items}})
    return {"name": name, "projected": {"sources": sources}}
