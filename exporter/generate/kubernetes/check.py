"""`check --bundle DIR`, the Kubernetes half: the real promtool and amtool over DIR/kubernetes/.

- the groups of every PrometheusRule, written to the rule files their tests name: `promtool
  check rules`, then the promtool tests kept beside them;
- the plain config of the configSecret and, when there is one, the config the operator makes of
  the AlertmanagerConfig (operator_view.py): `amtool check-config` with their templates, then
  every routing case through `amtool config routes test` (receivers compared as sets, under the
  operator's `<namespace>/<name>/` prefix for the AlertmanagerConfig).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from exporter.check.alertmanager import route_receivers
from exporter.generate.kubernetes.alertmanager import CONFIG_SECRET_KEY, TEMPLATES_CONFIG_MAP
from exporter.generate.kubernetes.operator_view import operator_config, prefixed
from exporter.generate.kubernetes.rules import RULE_FILE_ANNOTATION

ROUTING_TESTS = Path("alertmanager/tests/routing.yml")
RULE_TESTS = Path("rules/tests")


@dataclass(frozen=True, slots=True)
class _Runnable:
    """An Alertmanager config the kit makes, written out for amtool."""

    name: str
    config: Path
    receiver: Callable[[str], str]  # a routing case's receiver -> its name in this config


def check_kubernetes(kit: Path, out: TextIO) -> list[str]:
    """Run every step over the kit directory, print each outcome; the names of failed steps."""
    promtool, amtool = shutil.which("promtool"), shutil.which("amtool")
    if promtool is None or amtool is None:
        print("kubernetes: FAILED: promtool and amtool must be on PATH", file=out)
        return ["kubernetes: tools"]
    objects = load_objects(kit)
    cases = yaml.safe_load((kit / ROUTING_TESTS).read_text(encoding="utf-8")) or []
    with tempfile.TemporaryDirectory() as tmp:
        failed = _rules(promtool, kit, objects, Path(tmp) / "rules", out)
        for runnable in _alertmanager_configs(objects, Path(tmp)):
            failed += _alertmanager(amtool, runnable, cases, out)
    return failed


def load_objects(kit: Path) -> list[dict[str, Any]]:
    """Every object of the kit's kustomization, in its order."""
    listing = yaml.safe_load((kit / "kustomization.yaml").read_text(encoding="utf-8"))
    return [_load(kit / path) for path in listing["resources"]]


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _rules(
    promtool: str, kit: Path, objects: list[dict[str, Any]], work: Path, out: TextIO
) -> list[str]:
    (work / "tests").mkdir(parents=True)
    rule_files = []
    for obj in objects:
        if obj["kind"] == "PrometheusRule":
            path = work / obj["metadata"]["annotations"][RULE_FILE_ANNOTATION]
            path.write_text(yaml.safe_dump({"groups": obj["spec"]["groups"]}, sort_keys=False))
            rule_files.append(path)
    tests = []
    for test in sorted((kit / RULE_TESTS).glob("*.test.yml")):
        tests.append(work / "tests" / test.name)
        shutil.copyfile(test, tests[-1])
    steps = (
        ("kubernetes: promtool check rules", ["check", "rules", "--lint-fatal"], rule_files),
        ("kubernetes: promtool test rules", ["test", "rules"], tests),
    )
    return [name for name, args, files in steps if not _tool(name, [promtool, *args], files, out)]


def _alertmanager_configs(objects: list[dict[str, Any]], work: Path) -> list[_Runnable]:
    """The Alertmanager configs of the kit, each written with its templates beside it."""
    [secret] = [o for o in objects if CONFIG_SECRET_KEY in o.get("stringData", {})]
    templates = dict(secret["stringData"])
    plain = yaml.safe_load(templates.pop(CONFIG_SECRET_KEY))
    found = [_Runnable("configSecret", _write(work / "plain", plain, templates), str)]
    for custom in (o for o in objects if o["kind"] == "AlertmanagerConfig"):
        namespace, name = custom["metadata"]["namespace"], custom["metadata"]["name"]
        [config_map] = [o for o in objects if o["metadata"]["name"] == TEMPLATES_CONFIG_MAP]
        view = operator_config(custom["spec"], namespace, name, [])
        found.append(
            _Runnable(
                f"AlertmanagerConfig {name}",
                _write(work / "operator", view, config_map["data"]),
                functools.partial(prefixed, namespace, name),
            )
        )
    return found


def _write(work: Path, config: dict[str, Any], templates: dict[str, str]) -> Path:
    work.mkdir(parents=True)
    for name, text in templates.items():
        (work / name).write_text(text, encoding="utf-8")
    path = work / "alertmanager.yml"
    config = {**config, "templates": [str(work / "*.tmpl")]}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _alertmanager(
    amtool: str, runnable: _Runnable, cases: list[dict[str, Any]], out: TextIO
) -> list[str]:
    check = f"kubernetes: amtool check-config ({runnable.name})"
    routes = f"kubernetes: amtool config routes test ({runnable.name})"
    failed = []
    if not _tool(check, [amtool, "check-config"], [runnable.config], out):
        failed.append(check)
    with ThreadPoolExecutor(max_workers=min(16, 2 * (os.cpu_count() or 1))) as pool:
        wrong = [line for line in pool.map(lambda c: _route(amtool, runnable, c), cases) if line]
    if wrong or not cases:
        print(f"{routes}: FAILED ({len(wrong)} of {len(cases)} cases)", file=out)
        _indent("\n".join(wrong), out)
        failed.append(routes)
    else:
        print(f"{routes}: OK ({len(cases)} cases)", file=out)
    return failed


def _route(amtool: str, runnable: _Runnable, case: dict[str, Any]) -> str:
    """ "" when amtool routes the case to its receivers, else what went wrong."""
    labels = {str(k): str(v) for k, v in case["labels"].items()}
    try:
        got = set(route_receivers(amtool, runnable.config, labels))
    except RuntimeError as err:
        return f"{case['name']}: amtool failed: {err}"
    expected = {runnable.receiver(r) for r in case["receivers"]}
    if got == expected:
        return ""
    return f"{case['name']}: amtool routes to {sorted(got)}; expected {sorted(expected)}"


def _tool(step: str, command: list[str], files: list[Path], out: TextIO) -> bool:
    if not files:
        print(f"{step}: FAILED: nothing to check", file=out)
        return False
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        print(f"{step}: OK ({len(files)} files)", file=out)
        return True
    print(f"{step}: FAILED (exit {done.returncode})", file=out)
    _indent(done.stdout + done.stderr, out)
    return False


def _indent(text: str, out: TextIO) -> None:
    for line in text.rstrip().splitlines():
        print(f"    {line}", file=out)
