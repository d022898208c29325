"""The Kubernetes kit validated offline, the way the API server and kubectl would.

- custom resources against the openAPIV3Schema of their CRD (tests/testdata/kubernetes/crds/),
  read as the API server reads a structural schema: unknown fields are errors (strict field
  validation, kubectl's default) unless the schema preserves them, `x-kubernetes-int-or-string`,
  `nullable`, list types `set` and `map` (unique items, unique keys), patterns in Go's regexp
  syntax. An AlertmanagerConfig's child routes, which the CRD leaves unchecked, are held to the
  route schema as the operator holds them. CEL rules (`x-kubernetes-validations`) cannot be run
  here: an object that reaches one is reported, so that nobody believes it checked;
- core objects against the published schemas of Kubernetes (kubernetes-validate's strict ones,
  the oldest and newest versions it has);
- for all: object metadata as the API server checks it (names, label and annotation syntax) and
  the size limit of a ConfigMap or Secret.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

CRDS = Path(__file__).parents[2] / "testdata" / "kubernetes" / "crds"
KUBERNETES_VERSIONS = ("1.25", "1.37")  # the oldest and newest schemas kubernetes-validate has
MAX_OBJECT_BYTES = 1024 * 1024  # a ConfigMap's or Secret's data; etcd's request limit is 1.5 MiB

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class _CrdLoader(yaml.SafeLoader):
    """PyYAML reads a bare `=` (a matcher's enum value) as its value tag; Go reads a string."""


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_CrdLoader.add_constructor("tag:yaml.org,2002:value", _scalar)


def problems(obj: dict[str, Any]) -> list[str]:
    """Everything the API server would refuse in `obj`, one line each; [] when it is valid."""
    found = list(_metadata_problems(obj))
    size = len(json.dumps(obj).encode())
    if size > MAX_OBJECT_BYTES:
        found.append(f"{size} bytes: more than a ConfigMap or Secret may hold")
    schema = crd_schemas().get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if schema is not None:
        found += [_describe(err) for err in _validator(schema).iter_errors(obj)]
    elif obj.get("apiVersion", "").startswith("monitoring.coreos.com"):
        found.append(f"no CRD for {obj.get('apiVersion')} {obj.get('kind')}")
    else:
        found += list(_core_problems(obj))
    return found


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the JSON Schema of every version the vendored CRDs serve."""
    out = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.load(path.read_text(encoding="utf-8"), Loader=_CrdLoader)
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = _json_schema(version["schema"]["openAPIV3Schema"])
            # The API server validates metadata as the ObjectMeta of every object, not with the
            # CRD's schema (`type: object`): _metadata_problems does.
            schema["properties"]["metadata"] = {"type": "object"}
            if spec["names"]["kind"] == "AlertmanagerConfig":
                route = schema["properties"]["spec"]["properties"]["route"]
                route["properties"]["routes"]["items"] = route  # the operator's own check
            out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return out


def _json_schema(node: Any) -> Any:
    """A structural schema as JSON Schema, with the API server's reading of its extensions."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "properties"}
    out.pop("description", None)
    if "properties" in node:  # names of fields, one of which may be `description`
        out["properties"] = {
            name: _json_schema(field) for name, field in node["properties"].items()
        }
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    closed = not out.get("x-kubernetes-preserve-unknown-fields")
    if out.get("type") == "object" and "additionalProperties" not in out and closed:
        out["additionalProperties"] = False
    if out.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    return out


def _go_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, str) and not re.search(go_regexp(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def go_regexp(pattern: str) -> str:
    """Go's `(?i)` inside a group turns case-insensitivity on to the group's end; Python allows
    flags at the start only, or scoped: `(?i:...)`."""
    while (start := pattern.find("(?i)", 1)) > 0:
        end, depth, i = len(pattern), 0, start + 4
        while i < len(pattern):
            char = pattern[i]
            if char == "\\":
                i += 1
            elif char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    end = i
                    break
                depth -= 1
            i += 1
        pattern = f"{pattern[:start]}(?i:{pattern[start + 4 : end]}){pattern[end:]}"
    return pattern


def _list_map_keys(validator: Any, keys: list[str], instance: Any, schema: Any) -> Iterator[Any]:
    if isinstance(instance, list):
        seen = [tuple(item.get(k) for k in keys) for item in instance if isinstance(item, dict)]
        for key in {k for k in seen if seen.count(k) > 1}:
            yield jsonschema.ValidationError(
                f"two items have the same keys {dict(zip(keys, key, strict=True))}"
            )


def _cel(validator: Any, rules: list[dict[str, str]], instance: Any, schema: Any) -> Iterator[Any]:
    yield jsonschema.ValidationError(
        f"CEL rules not evaluated offline: {[r['rule'] for r in rules]}"
    )


_KitValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft7Validator,
    {
        "pattern": _go_pattern,
        "x-kubernetes-list-map-keys": _list_map_keys,
        "x-kubernetes-validations": _cel,
    },
)


def _validator(schema: dict[str, Any]) -> Any:
    return _KitValidator(schema)


def _describe(err: jsonschema.ValidationError) -> str:
    return f"{'.'.join(map(str, err.absolute_path)) or '(object)'}: {err.message}"


def _core_problems(obj: dict[str, Any]) -> Iterator[str]:
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            yield f"Kubernetes {version}: {_describe(err)}"
        except kubernetes_validate.SchemaNotFoundError as err:
            yield f"Kubernetes {version}: {err.message}"


def _metadata_problems(obj: dict[str, Any]) -> Iterator[str]:
    meta = obj.get("metadata", {})
    name, namespace = meta.get("name", ""), meta.get("namespace", "")
    if not (_DNS_SUBDOMAIN.match(name) and len(name) <= 253):
        yield f"metadata.name: {name!r} is not a DNS subdomain"
    if obj.get("kind") in ("Service", "StatefulSet") and len(name) > 63 - len("-99"):
        yield f"metadata.name: {name!r} is too long for a DNS label (Service, pod host names)"
    if not (re.match(rf"^{_DNS_LABEL}$", namespace) and len(namespace) <= 63):
        yield f"metadata.namespace: {namespace!r} is not a DNS label"
    for where, labels in _label_sets(obj):
        for key, value in labels.items():
            if not _qualified_name(key):
                yield f"{where}: {key!r} is not a label key"
            if not (
                isinstance(value, str)
                and (value == "" or (_NAME_PART.match(value) and len(value) <= 63))
            ):
                yield f"{where}.{key}: {value!r} is not a label value"
    for key in meta.get("annotations", {}):
        if not _qualified_name(key):
            yield f"metadata.annotations: {key!r} is not an annotation key"
    for field in ("data", "stringData"):
        for key in obj.get(field, {}) if obj.get("kind") in ("ConfigMap", "Secret") else {}:
            if not (_DATA_KEY.match(key) and len(key) <= 253):
                yield f"{field}: {key!r} is not a ConfigMap or Secret key"


def _label_sets(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "metadata.labels", obj.get("metadata", {}).get("labels", {})
    template = obj.get("spec", {}).get("template", {}) if isinstance(obj.get("spec"), dict) else {}
    if isinstance(template, dict) and "metadata" in template:
        yield "spec.template.metadata.labels", template["metadata"].get("labels", {})


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not (_DNS_SUBDOMAIN.match(prefix) and len(prefix) <= 253):
        return False
    return bool(_NAME_PART.match(name)) and len(name) <= 63


def kubectl_kustomize(kit: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize` builds from the kit, offline."""
    done = _kubectl("kustomize", str(kit))
    return [doc for doc in yaml.load_all(done, Loader=_CrdLoader) if doc]


def kubectl_decoded(path: Path) -> dict[str, Any]:
    """A workload as kubectl decodes it into its Go types and prints it back (`set env --local`
    decodes the object to change its pod template; the variable it sets is left out)."""
    printed = json.loads(
        _kubectl("set", "env", "--local", "-f", str(path), "-o", "json", "KUBECTL_DECODE_CHECK=1")
    )
    for container in printed["spec"]["template"]["spec"]["containers"]:
        container["env"] = [
            e for e in container.get("env", []) if e["name"] != "KUBECTL_DECODE_CHECK"
        ]
    decoded: dict[str, Any] = printed
    return decoded


def lost_in(ours: Any, theirs: Any, at: str = "") -> list[str]:
    """Where `theirs` lacks or changed a value `ours` has: a field kubectl dropped or retyped."""
    if theirs is _MISSING:
        return [f"{at}: dropped"]
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [f"{at}: not an object"]
        return [
            p for k, v in ours.items() for p in lost_in(v, theirs.get(k, _MISSING), f"{at}.{k}")
        ]
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(theirs) != len(ours):
            return [f"{at}: not the same list"]
        return [
            p
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for p in lost_in(a, b, f"{at}[{i}]")
        ]
    if theirs is _MISSING:
        return [f"{at}: dropped"]
    return (
        []
        if theirs == ours and type(theirs) is type(ours)
        else [f"{at}: {ours!r} became {theirs!r}"]
    )


_MISSING = object()


def _kubectl(*args: str) -> str:
    done = subprocess.run(
        ["kubectl", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
