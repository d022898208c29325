"""The on-call page says plainly when it cannot show Alertmanager's state, and never waits on a
slow Alertmanager."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.pages.browser import Browser
from tests.pages.conftest import exporter_for, settled
from tests.servers import free_port, hung_server, wait_for

STILL = "/?refresh=0"


def test_without_alertmanager_the_page_says_how_to_show_alerts(
    scene: tuple[Path, str], browser: Browser
) -> None:
    config, _ = scene
    with exporter_for(config) as (base, _):
        wait_for(lambda: settled(base), timeout=20, what="the targets to fail")
        browser.open(base + STILL)
        card = browser.one("#alertmanager").text
        assert "Not configured" in card
        assert "--alertmanager-url URL" in card
        cell = browser.one('tr[data-target="acme_checkout"] td[data-label="Alerts"]').text
        assert cell == "unknown"  # not "none": nobody asked
        assert httpx.get(f"{base}/api/v1/status").json()["alertmanager"] == {
            "status": "not_configured",
            "url": None,
            "fetched_at": None,
            "error": None,
        }


def test_an_alertmanager_that_refuses_is_reported_unreachable(
    scene: tuple[Path, str], browser: Browser
) -> None:
    config, _ = scene
    nobody = f"http://127.0.0.1:{free_port()}"
    with exporter_for(config, nobody) as (base, _):
        wait_for(
            lambda: (
                httpx.get(f"{base}/api/v1/status").json()["alertmanager"]["status"] == "unreachable"
            ),
            what="the fetch to fail",
        )
        browser.open(base + STILL)
        assert "Unreachable: connection failed" in browser.one("#alertmanager").text


def test_a_hung_alertmanager_never_holds_the_page(scene: tuple[Path, str]) -> None:
    config, _ = scene
    with hung_server() as (url, accepted), exporter_for(config, url) as (base, _):
        # The fetch takes up to 5 s to give up; the page waits 0.3 s for it at most.
        for _ in range(3):
            page = httpx.get(base + STILL, timeout=2)
            assert page.status_code == 200
        assert accepted  # it was asked, once: the fetch in flight is shared
        assert len(accepted) == 1
        assert "Waiting for the first answer of" in page.text
