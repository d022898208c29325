"""A server that moved takes the targets that named its usual address along."""

from __future__ import annotations

from exporter.config import Config
from exporter.demo.relocate import relocated


def test_urls_and_host_ports_of_a_moved_address_follow_it_and_nothing_else(
    reference: Config,
) -> None:
    moves = {("127.0.0.1", 8000): ("127.0.0.1", 41000), ("127.0.0.1", 55432): ("127.0.0.1", 42000)}
    moved = {t.name: t for t in relocated(reference, moves).targets}
    assert moved["auth_login_endpoint"].http is not None
    assert moved["auth_login_endpoint"].http.url == "http://127.0.0.1:41000/api/v1/auth/login"
    assert moved["api_route_registration"].openapi is not None
    assert moved["api_route_registration"].openapi.url == "http://127.0.0.1:41000/openapi.json"
    assert moved["zebra_admin_login_flow"].steps is not None
    assert [s.url for s in moved["zebra_admin_login_flow"].steps.steps] == [
        "http://127.0.0.1:41000/api/v1/auth/login",
        "http://127.0.0.1:41000/api/v1/admin/feature-flags",
    ]
    assert moved["tenant_isolation"].postgres is not None
    assert moved["tenant_isolation"].postgres.port == 42000
    assert moved["redis_session_storage"] == reference.target("redis_session_storage")
    assert relocated(reference, {}) is reference
