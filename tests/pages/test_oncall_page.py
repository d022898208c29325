"""The on-call page in a real browser, while real targets fail and a real Alertmanager holds
alerts for them: what a person reads, in the order they read it."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webelement import WebElement

from tests.pages.browser import LAPTOP, PHONE, Browser
from tests.pages.conftest import SECRET, Site, status
from tests.servers import wait_for

STILL = "/?refresh=0"  # no refresh while a test reads: the page would change under it


def rows(browser: Browser) -> list[str]:
    return [row.get_attribute("data-target") or "" for row in browser.all("tr.target")]


def row(browser: Browser, name: str) -> dict[str, str]:
    """A target's row as a person reads it: each cell's text by its column."""
    cells = browser.all(f'tr[data-target="{name}"] td')
    return {cell.get_attribute("data-label") or "": cell.text for cell in cells}


def test_the_failing_rows_come_first_with_tenant_reason_and_violation(
    site: Site, browser: Browser
) -> None:
    browser.open(site.exporter + STILL)
    # Failing outside maintenance first, the most severe first; in maintenance after; ok last.
    assert rows(browser) == [
        "acme_checkout",
        "acme_cart",
        "globex_api",
        "acme_search",
        "acme_login",
    ]
    groups = [g.text for g in browser.all("tr.group th")]
    assert groups[0].startswith("Acme Corp (acme) / shop · 2 of 2 failing")
    assert groups[-1] == "Acme Corp (acme) / auth"
    first = row(browser, "acme_checkout")
    assert "FAILING" in first["State"]
    assert "violation" in first["State"]
    assert first["Last failure"].startswith("unexpected_status violation")
    assert "status 500, expected 2xx" in first["Last failure"]
    failing = browser.one("#failing").text
    assert "4 of 5 targets" in failing
    assert "Acme Corp / shop: 2 of 2 failing (violation)" in failing
    assert row(browser, "acme_login")["State"] == "ok"


def test_a_check_that_could_not_run_and_a_window_say_so(site: Site, browser: Browser) -> None:
    browser.open(site.exporter + STILL)
    search = row(browser, "acme_search")
    assert "could not check" in search["State"]
    assert "maintenance" in search["State"]
    assert search["Last failure"].startswith("connect_error could not check")
    assert "could not check" not in row(browser, "acme_checkout")["State"]
    assert "maintenance" not in row(browser, "acme_checkout")["State"]
    failing = browser.one("#failing").text
    assert "Acme Corp / search: 1 of 1 failing (could not check; in maintenance)" in failing


def test_revenue_at_risk_counts_each_opportunity_once_per_currency(
    site: Site, browser: Browser
) -> None:
    browser.open(site.exporter + STILL)
    revenue = browser.one("#revenue").text.splitlines()
    # Checkout (50,000) and cart (20,000) are one opportunity: 50,000; search adds 5,000.
    assert revenue[1:5] == ["55,000 GBP", "acme: 55,000 GBP", "10,000 USD", "globex: 10,000 USD"]


def test_the_history_strip_draws_the_recent_runs(site: Site, browser: Browser) -> None:
    browser.open(site.exporter + STILL)
    strip = browser.one('tr[data-target="acme_checkout"] .strip')
    label = strip.get_attribute("aria-label") or ""
    failed, _, held = label.removesuffix(" runs failed").partition(" of the last ")
    assert failed == held
    assert int(held) >= 4
    cells = strip.find_elements("css selector", "span")
    titles = [c.get_attribute("title") or "" for c in cells]
    widths = [c.rect["width"] for c in cells]
    # The slots not yet run in grey on the left, then the failed runs in red, in proportion.
    assert titles[0] == f"{60 - int(held)} runs to come"
    assert _colour(browser, cells[0]) == "rgb(232, 234, 237)"
    assert {_colour(browser, c) for c in cells[1:]} <= {RED, ORANGE}
    assert _colour(browser, cells[-1]) == RED  # a 500 is a violation
    assert re.match(r"\d+ runs? unexpected_status: ", titles[-1])
    assert sum(int(t.split()[0]) for t in titles[1:]) == int(held)
    assert sum(widths[1:]) == pytest.approx(sum(widths) * int(held) / 60, abs=3)
    healthy = browser.one('tr[data-target="acme_login"] .strip span:last-child')
    assert _colour(browser, healthy) == "rgb(52, 168, 83)"
    search = browser.one('tr[data-target="acme_search"] .strip span:last-child')
    assert "in maintenance" in (search.get_attribute("title") or "")


RED, ORANGE = "rgb(217, 48, 37)", "rgb(242, 153, 0)"


def _colour(browser: Browser, element: WebElement) -> str:
    return str(browser.js("return getComputedStyle(arguments[0]).backgroundColor", element))


def test_each_row_links_its_runbook_and_its_debug_trace(site: Site, browser: Browser) -> None:
    browser.open(site.exporter + STILL)
    links = browser.all('tr[data-target="acme_checkout"] td[data-label="Links"] a')
    assert [a.text for a in links] == ["runbook", "debug"]
    assert links[0].get_attribute("href") == "https://runbooks.example.com/acme_checkout"
    links[1].click()
    wait_for(lambda: "Probe acme_checkout" in browser.text(), what="the debug trace")
    assert "failure: unexpected_status" in browser.text()


def test_alert_and_escalation_state_comes_from_alertmanager(site: Site, browser: Browser) -> None:
    browser.open(site.exporter + STILL)
    assert row(browser, "acme_checkout")["Alerts"] == (
        "CheckoutFailure firing · escalated to level 1 (cto)"
    )
    assert row(browser, "acme_cart")["Alerts"] == "CartFailure inhibited"
    assert row(browser, "globex_api")["Alerts"] == "none"
    assert "BusinessServiceOutage firing" in browser.one("tr.group th").text
    card = browser.one("#alertmanager").text
    assert "2 firing" in card
    assert "1 suppressed, as of" in card
    assert site.alertmanager in card


@pytest.mark.parametrize("width", [LAPTOP, 1400, PHONE])
def test_nothing_overflows_sideways(site: Site, browser: Browser, width: int) -> None:
    browser.open(site.exporter + STILL, width)
    assert browser.js("return document.documentElement.clientWidth") == width
    assert browser.overflow() == []
    last = browser.one('tr[data-target="acme_checkout"] td[data-label="Links"]').rect
    assert last["x"] + last["width"] <= width
    if width == LAPTOP:
        browser.screenshot("oncall-page.png")


def test_no_secret_shows_even_when_the_target_echoes_it(site: Site, browser: Browser) -> None:
    echoed = httpx.get(f"{site.api}/echo", headers={"Authorization": f"Bearer {SECRET}"})
    assert SECRET in echoed.text  # the target does echo it
    browser.open(site.exporter + STILL)
    assert "<secret>" in row(browser, "globex_api")["Last failure"]
    assert SECRET not in browser.text()
    assert SECRET not in browser.driver.page_source
    assert SECRET not in httpx.get(f"{site.exporter}/api/v1/status").text


def test_the_page_refreshes_itself(site: Site, browser: Browser) -> None:
    browser.open(site.exporter + "/?refresh=2")
    shown = _updated(browser)  # "Updated 12:00:01 UTC · refreshes every 2s · ..."
    assert "refreshes every 2s" in shown
    # No reload from here: the page must fetch itself again.
    wait_for(lambda: _updated(browser) not in ("", shown), timeout=15, what="a refresh")


def _updated(browser: Browser) -> str:
    try:
        return browser.one("p.muted").text
    except WebDriverException:  # caught between two loads
        return ""


def test_the_json_twin_holds_the_same(site: Site) -> None:
    data = status(site.exporter)
    assert data["summary"]["failing"] == 4
    assert data["summary"]["tenants_affected"] == ["acme", "globex"]
    gbp = next(r for r in data["revenue_at_risk"] if r["currency"] == "GBP")
    assert gbp["amount"] == 55000
    assert gbp["opportunities"] == [
        {"tenant": "acme", "context": "revenue_critical", "amount": 50000},
        {"tenant": "acme", "context": "search", "amount": 5000},
    ]
    first = data["groups"][0]
    assert (first["tenant"], first["service"], first["state"]) == ("acme", "shop", "failing")
    checkout = first["targets"][0]
    assert checkout["name"] == "acme_checkout"
    assert checkout["outcome"] == "violation"
    assert checkout["last_failure"]["reason"] == "unexpected_status"
    assert checkout["escalation_level"] == 1
    assert checkout["runbook_url"] == "https://runbooks.example.com/acme_checkout"
    assert checkout["debug_url"] == "/probe?target=acme_checkout&debug=true"
    assert checkout["history"][-1]["result"] == "unexpected_status"
    assert checkout["history"][-1]["outcome"] == "violation"
    assert data["alertmanager"]["status"] == "ok"
