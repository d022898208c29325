"""A tenant's status page in a real browser: what its customers may see, and nothing internal."""

from __future__ import annotations

import httpx
import pytest

from tests.pages.browser import LAPTOP, PHONE, Browser
from tests.pages.conftest import Site

STILL = "?refresh=0"
# What a customer must never read: target names, failure reasons and details, URLs, the
# other tenant, alert names, the window's name, links into the exporter.
INTERNAL = (
    "acme_checkout",
    "acme_cart",
    "acme_search",
    "acme_login",
    "globex",
    "unexpected_status",
    "connect_error",
    "status 500",
    "127.0.0.1",
    "http://",
    "https://",
    "revenue",
    "CheckoutFailure",
    "search_reindex",
    "/probe",
    "/metrics",
)


def services(browser: Browser) -> dict[str, str]:
    out = {}
    for row in browser.all("tr.service"):
        service = row.find_element("css selector", 'td[data-label="Service"]').text
        out[service] = row.find_element("css selector", 'td[data-label="Status"]').text
    return out


def test_a_customer_reads_the_state_of_each_service(site: Site, browser: Browser) -> None:
    browser.open(f"{site.exporter}/status/acme{STILL}")
    assert browser.one("h1").text == "Acme Corp status"
    assert browser.one(".headline").text == "Service disruption: shop"
    assert services(browser) == {
        "auth": "Operational",
        "search": "Maintenance",
        "shop": "Disrupted",
    }
    assert browser.one("ul.maintenance").text.startswith("In progress: search, until ")
    shop = browser.one("tr.service.disrupted")
    strip = shop.find_element("css selector", ".strip")
    last = strip.find_elements("css selector", "span")[-1]
    colour = browser.js("return getComputedStyle(arguments[0]).backgroundColor", last)
    assert colour == "rgb(217, 48, 37)"
    assert "Disrupted" in (last.get_attribute("title") or "")
    passed = shop.find_element("css selector", 'td[data-label="Checks passed"]').text
    assert passed == "0.00%"


def test_nothing_internal_shows(site: Site, browser: Browser) -> None:
    browser.open(f"{site.exporter}/status/acme{STILL}")
    seen = browser.driver.page_source + httpx.get(f"{site.exporter}/api/v1/status/acme").text
    assert [word for word in INTERNAL if word in seen] == []
    assert browser.all("a") == []


@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_it_fits_a_laptop_and_a_phone(site: Site, browser: Browser, width: int) -> None:
    browser.open(f"{site.exporter}/status/acme{STILL}", width)
    assert browser.overflow() == []
    if width == LAPTOP:
        browser.screenshot("status-page.png")


def test_the_json_twin(site: Site) -> None:
    data = httpx.get(f"{site.exporter}/api/v1/status/acme").json()
    assert (data["tenant"], data["name"], data["status"]) == ("acme", "Acme Corp", "disrupted")
    assert [(s["service"], s["status"]) for s in data["services"]] == [
        ("auth", "operational"),
        ("search", "maintenance"),
        ("shop", "disrupted"),
    ]
    shop = data["services"][2]
    assert shop["availability"] == 0.0
    assert len(shop["history"]) == 30
    assert shop["history"][-1]["status"] == "disrupted"
    assert data["maintenance"][0]["services"] == ["search"]
    assert data["maintenance"][0]["in_progress"] is True


@pytest.mark.parametrize(
    "path",
    [
        "/status/globex",  # a tenant with targets, not opted in
        "/status/nobody",  # no such tenant
        "/api/v1/status/globex",
        "/api/v1/status/nobody",
    ],
)
def test_a_tenant_without_a_page_is_not_found_like_any_unknown_path(site: Site, path: str) -> None:
    unknown = httpx.get(f"{site.exporter}/no/such/page")
    response = httpx.get(site.exporter + path)
    assert response.status_code == unknown.status_code == 404
    assert response.content == unknown.content
    assert _without_date(response.headers) == _without_date(unknown.headers)


def _without_date(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "date"}
