"""`business-exporter report` against a real Prometheus holding a month of history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from exporter.cli import main
from exporter.report.render_json import iso
from tests.report.history import at, month_start, prometheus_with_history

CONFIG = """
tiers:
  gold: {availability: 99.9, latency: 500ms, error_rate: 1}
tenants:
  acme: {tier: gold, display_name: Acme Corp}
  globex: {tier: gold}
targets:
  - name: "{tenant}_shop"
    per_tenant: true
    severity: high
    context: sales
    service: shop
    http: {url: "https://shop.example.com/{tenant}"}
  - name: globex_billing
    tenant: globex
    severity: high
    context: sales
    service: billing
    http: {url: "https://billing.example.com/globex"}
"""
WINDOW = """
maintenance:
  billing_migration:
    tenant: globex
    service: billing
    start: START
    end: END
  last_months_migration:
    tenant: globex
    start: BEFORE
    end: MONTH
"""


@pytest.fixture(scope="module")
def start() -> datetime:
    return month_start()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, start: datetime) -> Iterator[str]:
    with prometheus_with_history(tmp_path_factory.mktemp("history"), start) as url:
        yield url


def write_config(directory: Path, start: datetime, window: bool = True) -> Path:
    text = CONFIG
    if window:
        begin, end = at(start, 10, 2), at(start, 10, 4)
        before = iso(start - timedelta(days=3))
        text += WINDOW.replace("START", iso(begin)).replace("END", iso(end))
        text = text.replace("BEFORE", before).replace("MONTH", iso(start))
    path = directory / ("with-window.yaml" if window else "without-window.yaml")
    path.write_text(text)
    return path


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def month_args(config: Path, prometheus: str, start: datetime) -> list[str]:
    end = start + timedelta(days=30)
    return [
        "--config",
        str(config),
        "--prometheus",
        prometheus,
        "--from",
        iso(start),
        "--to",
        iso(end),
    ]


def by_tenant(out: str) -> dict[str, dict[str, Any]]:
    return {t["tenant"]: t for t in json.loads(out)["tenants"]}


def test_a_months_availability_budget_latency_and_incidents_as_worked_out_by_hand(
    tmp_path: Path, prometheus: str, start: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, start)
    code, out, err = report(capsys, *month_args(config, prometheus, start))
    assert code == 0, err
    data = json.loads(out)
    assert (data["from"], data["to"]) == (iso(start), iso(start + timedelta(days=30)))
    acme, globex = by_tenant(out)["acme"], by_tenant(out)["globex"]
    assert acme["availability"] == 0.999005  # 43,157 of 43,200 runs
    assert (acme["runs"], acme["failed_runs"]) == (43_200, 43)
    assert acme["objective"] == 0.999
    assert acme["error_budget_remaining"] == round(1 - (43 / 43_200) / 0.001, 6)
    assert acme["compliant"] is True
    assert acme["incidents"] == [
        {
            "start": iso(at(start, 5, 10)),
            "end": iso(at(start, 5, 10, 40)),
            "seconds": 2400.0,
            "service": "shop",
            "probes": ["acme_shop"],
        }
    ]
    assert acme["latency"]["p95_seconds"] == 0.375
    assert (acme["latency"]["within_objective"], acme["latency"]["compliant"]) == (1.0, True)
    # The 120 runs of the billing migration are left out, and so is its failing stretch.
    assert globex["availability"] == round(1 - 90 / 86_280, 6) == 0.998957
    assert globex["error_budget_remaining"] == round(1 - (90 / 86_280) / 0.001, 6) < 0
    assert globex["compliant"] is False
    assert (globex["runs"], globex["failed_runs"]) == (86_280, 90)
    assert [i["service"] for i in globex["incidents"]] == ["shop"]
    assert globex["incidents"][0]["seconds"] == 5400.0
    assert globex["maintenance_seconds"] == 7200.0
    assert globex["maintenance_windows"] == ["billing_migration"]  # not last month's
    assert "querying Prometheus" in err


def test_without_the_window_the_maintenance_costs_budget_and_is_an_incident(
    tmp_path: Path, prometheus: str, start: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, start, window=False)
    code, out, err = report(capsys, *month_args(config, prometheus, start), "--tenant", "globex")
    assert code == 0, err
    (globex,) = json.loads(out)["tenants"]
    assert globex["availability"] == round(1 - 210 / 86_400, 6)
    assert [i["service"] for i in globex["incidents"]] == ["billing", "shop"]
    assert globex["incidents"][0]["seconds"] == 7200.0


def test_the_daily_chart_of_the_html_report_marks_the_days_below_the_objective(
    tmp_path: Path, prometheus: str, start: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    config, out_file = write_config(tmp_path, start), tmp_path / "report.html"
    args = [*month_args(config, prometheus, start), "--format", "html", "--out", str(out_file)]
    code, out, _err = report(capsys, *args)
    assert (code, out) == (0, "")
    page = Page.parse(out_file.read_text())
    assert page.svgs == 2
    assert page.titles("h2") == ["Acme Corp (gold)", "globex (gold)"]
    acme_bars, globex_bars = page.bars[:30], page.bars[30:]
    assert [i for i, bar in enumerate(acme_bars) if bar == "missed"] == [4]  # day 5
    assert [i for i, bar in enumerate(globex_bars) if bar == "missed"] == [19]  # day 20
    assert page.objective_lines == 2
    assert not page.fetches, page.fetches  # nothing from the network: no CDN, no script
    assert "@media print" in page.style
    assert "break-inside: avoid" in page.style


def test_the_markdown_report_has_a_row_per_tenant_and_the_incidents(
    tmp_path: Path, prometheus: str, start: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, start)
    code, out, _ = report(capsys, *month_args(config, prometheus, start), "--format", "markdown")
    assert code == 0
    assert "| Acme Corp | gold | 99.900% | 99.900% | 0.5% | 375 ms | met |" in out
    assert "| globex | gold | 99.900% | 99.896% | -4.3% | 375 ms | MISSED |" in out
    assert "| shop | acme_shop |" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-01"], "--from '2026-13-01' is not a date"),
        (["--from", "2026-12-01", "--to", "2026-11-01"], "must be before --to"),
        (["--from", "2026-11-01", "--to", "2026-12-01", "--tenant", "initech"], "unknown tenant"),
    ],
)
def test_bad_dates_and_unknown_tenants_exit_2_before_any_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = write_config(tmp_path, month_start())
    nobody = "http://127.0.0.1:9"  # nothing listens: a query would fail with exit 1
    code, out, err = report(capsys, "--config", str(config), "--prometheus", nobody, *args)
    assert (code, out) == (2, "")
    assert message in err


def test_an_unreachable_prometheus_exits_1_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, month_start())
    nobody = "http://user:secret@127.0.0.1:9"
    args = ["--config", str(config), "--prometheus", nobody, "--from", "2026-11-01"]
    code, out, err = report(capsys, *args, "--to", "2026-12-01")
    assert (code, out) == (1, "")
    assert "cannot reach Prometheus at http://127.0.0.1:9" in err
    assert "secret" not in err


class Page(HTMLParser):
    """What a reader of the HTML report sees of its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs = self.objective_lines = 0
        self.bars: list[str] = []
        self.fetches: list[str] = []
        self.style = ""
        self.headings: dict[str, list[str]] = {}
        self._open: list[str] = []

    @classmethod
    def parse(cls, text: str) -> Page:
        page = cls()
        page.feed(text)
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.svgs += tag == "svg"
        self.objective_lines += tag == "line" and found.get("class") == "objective"
        if tag == "rect":
            self.bars.append(found.get("class") or "")
        if tag in ("script", "link", "img", "iframe") or found.get("src"):
            self.fetches.append(tag)
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        tag = self._open[-1] if self._open else ""
        if tag == "style":
            self.style += data
        elif tag in ("h2", "small") and "h2" in self._open:
            texts = self.headings.setdefault("h2", [])
            if tag == "h2":
                texts.append(data)
            else:
                texts[-1] += data

    def titles(self, tag: str) -> list[str]:
        return [" ".join(t.split()) for t in self.headings.get(tag, [])]
