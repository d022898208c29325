"""TLS from the web config, on a real exporter: HTTPS only, client certificates when required."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import PKI, exporter, exporter_config, tls_config, web_config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exporter_config(tmp_path_factory.mktemp("tls"), "down=http://127.0.0.1:1/")


@pytest.fixture(scope="module")
def tls_only(pki: PKI, config: Path) -> Iterator[str]:
    with exporter(config, web_config(tls_config(pki), pki)) as (base, _):
        yield base


@pytest.fixture(scope="module")
def client_certs(pki: PKI, config: Path) -> Iterator[str]:
    extra = "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
    with exporter(config, web_config(tls_config(pki, extra), pki)) as (base, _):
        yield base


@pytest.mark.parametrize("path", ["/metrics", "/-/healthy", "/probe?target=down"])
def test_the_exporter_speaks_https_only(pki: PKI, tls_only: str, path: str) -> None:
    assert tls_only.startswith("https://")
    response = httpx.get(tls_only + path, verify=pki.client_context())
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    plain = tls_only.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(plain + path)


def test_a_client_that_does_not_trust_the_ca_is_refused(tls_only: str) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_only}/metrics", verify=ssl.create_default_context())


def test_min_version_refuses_older_clients(pki: PKI, config: Path) -> None:
    security = web_config(tls_config(pki, "  min_version: TLS13\n"), pki)
    with exporter(config, security) as (base, _):
        old = pki.client_context()
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/metrics", verify=old)
        assert httpx.get(f"{base}/metrics", verify=pki.client_context()).status_code == 200


def test_a_required_client_certificate_lets_in_only_the_cas_clients(
    pki: PKI, client_certs: str
) -> None:
    ok = httpx.get(f"{client_certs}/metrics", verify=pki.client_context(pki.client))
    assert ok.status_code == 200
    assert "business_exporter_targets 1.0" in ok.text
    for refused in (pki.client_context(), pki.client_context(pki.stranger)):
        # TLS 1.3 checks the client's certificate after the handshake: the refusal comes as
        # an alert on the first read, or the connection closes.
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{client_certs}/metrics", verify=refused)
