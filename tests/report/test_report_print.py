"""The HTML report in a real browser: Debian's headless Chromium prints it to PDF, as an account
manager would with "Save as PDF", and the PDF's pages are read back with poppler's pdftotext."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from exporter.cli import main
from tests.report.history import month_start, prometheus_with_history
from tests.report.test_report import month_args, write_config

CHROMIUM_MISSING = "chromium is not on PATH: `make system-deps` installs the Debian package"
POPPLER_MISSING = "pdftotext is not on PATH: `make system-deps` installs poppler-utils"


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    start: datetime = month_start()
    directory = tmp_path_factory.mktemp("print")
    with prometheus_with_history(directory, start) as url:
        out = directory / "report.html"
        args = month_args(write_config(directory, start), url, start)
        assert main(["report", *args, "--format", "html", "--out", str(out)]) == 0
        yield out


def print_to_pdf(page: Path, pdf: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, CHROMIUM_MISSING
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pages_of(pdf: Path) -> list[str]:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, POPPLER_MISSING
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")


def test_the_printed_report_keeps_each_tenant_whole_on_a_page(
    html_report: Path, tmp_path: Path
) -> None:
    pdf = tmp_path / "report.pdf"
    print_to_pdf(html_report, pdf)
    pages = [p for p in pages_of(pdf) if p.strip()]
    assert len(pages) == 2, pages
    first, second = pages
    assert "SLA report" in first
    assert "Acme Corp (gold)" in first
    assert "acme_shop" in first  # its incident, on its page
    # globex does not fit below Acme on the first page: it moves whole to the second.
    assert "globex (gold)" in second
    assert "MISSED" in second
    assert "globex_shop" in second
    assert "99.896%" in second
