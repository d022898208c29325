"""The bundle as files: golden outputs, determinism, stale files, the committed bundle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from exporter.cli import main
from exporter.config import load_config
from exporter.conventions import EXPORTER_JOB
from exporter.generate.bundle import OWNED_DIRS, PROMETHEUS_FILE, build, write
from exporter.generate.prometheus import APP_JOB
from exporter.generate.render import HEADER, is_generated

ROOT = Path(__file__).parents[2]
TESTDATA = ROOT / "tests" / "testdata" / "generate"
CASES = sorted(TESTDATA.glob("in-*.yaml"))
REFERENCE = ROOT / "examples" / "marketedge.yaml"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def read_tree(root: Path, dirs: tuple[str, ...] = ()) -> dict[str, str]:
    """path -> text of every file under root, or of the generated files in `dirs` of root."""
    if dirs:
        paths = [p for d in dirs for p in (root / d).glob("*") if p.is_file()]
        paths = [p for p in paths if is_generated(p.read_text(encoding="utf-8"))]
    else:
        paths = [p for p in root.rglob("*") if p.is_file()]
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(paths)}


def assert_same_files(actual: dict[str, str], expected: dict[str, str], fix: str) -> None:
    assert sorted(actual) == sorted(expected), f"the bundle's files changed: {fix}"
    for path, text in actual.items():
        assert text == expected[path], f"{path} differs: {fix}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_generate_writes_the_golden_bundle(case: Path) -> None:
    golden = TESTDATA / case.stem.replace("in-", "out-", 1)
    files = build(load_config(case, offline=True))
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        write(files, golden)
    fix = "if the change is intended, run `UPDATE_GOLDEN=1 pytest tests/generate` and review it"
    assert_same_files(files, read_tree(golden), fix)


def test_the_committed_bundle_is_generated_from_the_reference_config() -> None:
    assert_same_files(
        build(load_config(REFERENCE, offline=True)),
        read_tree(ROOT, OWNED_DIRS),
        "run `make bundle`",
    )


@pytest.mark.parametrize("case", [*CASES, REFERENCE], ids=lambda p: p.stem)
def test_generating_twice_writes_the_same_bytes(case: Path, tmp_path: Path) -> None:
    assert build(load_config(case, offline=True)) == build(load_config(case, offline=True))
    for out in ("a", "b"):
        assert main(["generate", "--config", str(case), "--out", str(tmp_path / out)]) == 0
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")
    again = write(build(load_config(case, offline=True)), tmp_path / "a")
    assert (again.written, again.removed) == ((), ())


def test_write_removes_stale_generated_files_and_keeps_hand_written_ones(tmp_path: Path) -> None:
    files = build(load_config(CASES[0], offline=True))
    write(files, tmp_path)
    stale = tmp_path / "rules" / "tests" / "gone.test.yml"
    stale.write_text(HEADER + "tests: []\n")
    mine = tmp_path / "rules" / "mine.rules.yml"
    mine.write_text("groups: []\n")
    done = write(files, tmp_path)
    assert done.removed == ("rules/tests/gone.test.yml",)
    assert not stale.exists()
    assert mine.read_text() == "groups: []\n"
    assert read_tree(tmp_path, OWNED_DIRS) == files


def test_generate_refuses_an_invalid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("targets:\n  - name: x\n    severity: urgent\n")
    assert main(["generate", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "targets[0].severity: must be one of" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_generate_points_prometheus_at_the_given_addresses(tmp_path: Path) -> None:
    argv = ["generate", "--config", str(CASES[0]), "--out", str(tmp_path)]
    argv += ["--exporter", "10.0.0.7:9999", "--alertmanager", "10.0.0.8:9093"]
    argv += ["--scrape-interval", "5s", "--evaluation-interval", "10s"]
    assert main(argv) == 0
    text = (tmp_path / "prometheus" / "prometheus.yml").read_text()
    for expected in (
        "scrape_interval: 5s",
        "evaluation_interval: 10s",
        "- 10.0.0.7:9999",
        "- 10.0.0.8:9093",
        "- ../rules/*.rules.yml",
        "job_name: business_exporter",
    ):
        assert expected in text


def test_generate_scrapes_each_app_given_and_none_by_default(tmp_path: Path) -> None:
    argv = ["generate", "--config", str(REFERENCE), "--out"]
    apps = ["--app", "10.0.0.9:8000", "--app", "api-2:8000"]
    assert main([*argv, str(tmp_path / "apps"), *apps]) == 0
    assert main([*argv, str(tmp_path / "none")]) == 0

    def jobs(out: str) -> dict[str, object]:
        text = (tmp_path / out / PROMETHEUS_FILE).read_text()
        return {j["job_name"]: j["static_configs"] for j in yaml.safe_load(text)["scrape_configs"]}

    assert jobs("apps")[APP_JOB] == [{"targets": ["10.0.0.9:8000", "api-2:8000"]}]
    assert jobs("apps")[EXPORTER_JOB] == jobs("none")[EXPORTER_JOB]
    assert list(jobs("none")) == [EXPORTER_JOB]
