"""`check --bundle DIR`: run the real promtool and amtool over a generated bundle, step by step."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from exporter.check.alertmanager import check_alertmanager
from exporter.config import Config
from exporter.generate.bundle import PROMETHEUS_FILE, RULE_TESTS_DIR, RULES_DIR
from exporter.generate.kubernetes.check import check_kubernetes
from exporter.generate.kubernetes.kit import DIR as KUBERNETES_DIR

PROMTOOL_MISSING = (
    "promtool not found on PATH: install the Debian package prometheus "
    "(`make system-deps` does) or put promtool on PATH"
)


@dataclass(frozen=True, slots=True)
class Step:
    """One promtool run: its name for the report, and the files it takes."""

    name: str
    args: tuple[str, ...]
    files: tuple[Path, ...]


def bundle_steps(bundle: Path) -> list[Step]:
    rules = tuple(sorted((bundle / RULES_DIR).glob("*.rules.yml")))
    tests = tuple(sorted((bundle / RULE_TESTS_DIR).glob("*.test.yml")))
    return [
        # --lint-fatal: two rules with the same name and labels are a generator bug.
        Step(
            "promtool check config",
            ("check", "config", "--lint-fatal"),
            (bundle / PROMETHEUS_FILE,),
        ),
        Step("promtool check rules", ("check", "rules", "--lint-fatal"), rules),
        Step("promtool test rules", ("test", "rules"), tests),
    ]


def check_bundle(bundle: Path, out: TextIO | None = None, config: Config | None = None) -> bool:
    """Run every step, print each outcome; True when all of them passed. With the config the
    bundle was generated from, a route no alert of it reaches fails the check too."""
    out = out or sys.stdout
    promtool = shutil.which("promtool")
    if promtool is None:
        print(PROMTOOL_MISSING, file=out)
        return False
    failed = [step.name for step in bundle_steps(bundle) if not _run(promtool, step, out)]
    failed += check_alertmanager(bundle, out, config)
    if (bundle / KUBERNETES_DIR).is_dir():  # written by `generate --kubernetes`
        failed += check_kubernetes(bundle / KUBERNETES_DIR, out)
    if failed:
        print(f"{bundle}: bundle check failed: {', '.join(failed)}", file=out)
        return False
    print(f"{bundle}: bundle OK", file=out)
    return True


def _run(promtool: str, step: Step, out: TextIO) -> bool:
    if not step.files:
        print(f"{step.name}: FAILED: no files to check in the bundle", file=out)
        return False
    done = subprocess.run(
        [promtool, *step.args, *map(str, step.files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        print(f"{step.name}: OK ({len(step.files)} files)", file=out)
        return True
    print(f"{step.name}: FAILED (exit {done.returncode})", file=out)
    for line in (done.stdout + done.stderr).rstrip().splitlines():
        print(f"    {line}", file=out)
    return False
