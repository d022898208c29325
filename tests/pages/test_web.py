"""The pages sit behind the web config like every endpoint: HTTPS only, basic auth first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import (  # noqa: F401 (pki: the fixture, for this module's tests)
    HASH,
    PASSWORD,
    PKI,
    USER,
    exporter,
    pki,
    tls_config,
    web_config,
)

PAGES = ["/", "/api/v1/status", "/status/acme", "/api/v1/status/acme"]


@pytest.fixture(scope="module")
def guarded(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    folder = tmp_path_factory.mktemp("guarded")
    config = folder / "config.yaml"
    config.write_text(
        "tenants: {acme: {tier: gold, status_page: true}}\n"
        "targets:\n"
        "  - {name: shop, severity: high, context: revenue, service: shop, tenant: acme,\n"
        '     interval: 12h, timeout: 2s, http: {url: "http://127.0.0.1:1/"}}\n'
    )
    text = tls_config(pki) + f"basic_auth_users:\n  {USER}: {HASH}\n"
    with exporter(Path(config), web_config(text, pki)) as (base, _):
        yield base


@pytest.mark.parametrize("path", PAGES)
def test_each_page_needs_credentials_over_https(
    pki: PKI,  # noqa: F811
    guarded: str,
    path: str,
) -> None:
    assert guarded.startswith("https://")
    verify = pki.client_context()
    refused = httpx.get(guarded + path, verify=verify)
    assert refused.status_code == 401
    assert "shop" not in refused.text
    wrong = httpx.get(guarded + path, verify=verify, auth=(USER, PASSWORD + "x"))
    assert wrong.status_code == 401
    served = httpx.get(guarded + path, verify=verify, auth=(USER, PASSWORD))
    assert served.status_code == 200
    assert "shop" in served.text
    with pytest.raises(httpx.TransportError):
        httpx.get(guarded.replace("https://", "http://") + path, auth=(USER, PASSWORD))
