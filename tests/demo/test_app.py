"""The demo API, served by a real uvicorn on 127.0.0.1:0."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from exporter.config import Config, parse_config
from exporter.demo.app import DEMO_EMAIL, DEMO_PASSWORD, create_demo_app
from exporter.demo.faults import Faults
from exporter.probes import PROBES
from tests.servers import serve_app

ADMIN_PATHS = ["/api/v1/admin/feature-flags", "/api/v1/admin/dashboard/stats"]
PRIVATE_PATHS = [
    "/api/v1/users",
    "/api/v1/user-management",
    "/api/v1/organisations",
    *ADMIN_PATHS,
]


@dataclass
class Demo:
    url: str
    faults: Faults


@pytest.fixture
def demo() -> Iterator[Demo]:
    app = create_demo_app()
    with serve_app(app) as url:
        yield Demo(url, app.state.faults)


@pytest.fixture
def client(demo: Demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url) as client:
        yield client


def login(client: httpx.Client) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def openapi_paths(client: httpx.Client) -> dict[str, list[str]]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return {path: sorted(ops) for path, ops in response.json()["paths"].items()}


def test_health_answers_healthy(client: httpx.Client) -> None:
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "healthy"})


def test_login_with_demo_credentials_returns_a_bearer_token(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert response.json()["access_token"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "health@monitor.test", "password": "invalid"},
        {"email": DEMO_EMAIL, "password": "x"},
    ],
)
def test_login_with_wrong_credentials_is_401(client: httpx.Client, body: dict[str, str]) -> None:
    assert client.post("/api/v1/auth/login", json=body).status_code == 401


@pytest.mark.parametrize(
    "content", [b"{}", b"not json", b"[]", b'{"email": "a@b.c", "password": 1}', b""]
)
def test_login_with_malformed_body_is_422(client: httpx.Client, content: bytes) -> None:
    response = client.post("/api/v1/auth/login", content=content)
    assert response.status_code == 422


def test_refresh_swaps_a_valid_token_for_a_new_one(client: httpx.Client) -> None:
    token = login(client)
    response = client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert response.status_code == 200
    new = response.json()["access_token"]
    assert new != token
    assert client.get("/api/v1/users", headers=bearer(new)).status_code == 200
    assert client.post("/api/v1/auth/refresh", headers=bearer(token)).status_code == 401
    assert client.post("/api/v1/auth/refresh").status_code == 401


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_private_endpoints_need_a_token(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer("health_check_token")).status_code == 401
    assert client.get(path, headers=bearer(login(client))).status_code == 200


def test_admin_and_organisations_know_zebra(client: httpx.Client) -> None:
    headers = bearer(login(client))
    flags = client.get("/api/v1/admin/feature-flags", headers=headers).json()["flags"]
    orgs = client.get("/api/v1/organisations", headers=headers).json()["organisations"]
    assert any(flag["organisation"] == "Zebra Associates" for flag in flags)
    assert "Zebra Associates" in [org["name"] for org in orgs]


def test_features_are_public(client: httpx.Client) -> None:
    response = client.get("/api/v1/features")
    assert response.status_code == 200
    assert response.json()["features"]


def test_openapi_lists_every_route(client: httpx.Client) -> None:
    assert openapi_paths(client) == {
        "/health": ["get"],
        "/api/v1/auth/login": ["post"],
        "/api/v1/auth/refresh": ["post"],
        "/api/v1/users": ["get"],
        "/api/v1/user-management": ["get"],
        "/api/v1/admin/feature-flags": ["get"],
        "/api/v1/admin/dashboard/stats": ["get"],
        "/api/v1/organisations": ["get"],
        "/api/v1/features": ["get"],
    }


def test_dropped_router_is_gone_while_health_stays_green(client: httpx.Client) -> None:
    token = login(client)
    response = client.post("/_faults/routers/admin/drop")
    assert response.status_code == 200
    assert response.json()["routers"]["admin"]["dropped"] is True

    for path in ADMIN_PATHS:
        response = client.get(path, headers=bearer(token))
        assert (response.status_code, response.text) == (404, "Not Found")
    assert not set(ADMIN_PATHS) & set(openapi_paths(client))
    assert client.get("/health").status_code == 200
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200

    assert client.post("/_faults/routers/admin/restore").status_code == 200
    assert client.get(ADMIN_PATHS[0], headers=bearer(token)).status_code == 200
    assert set(ADMIN_PATHS) <= set(openapi_paths(client))


def test_dropped_auth_router_takes_login_away(demo: Demo, client: httpx.Client) -> None:
    demo.faults.drop("auth")
    response = client.post("/api/v1/auth/login", json={})
    assert response.status_code == 404
    assert "/api/v1/auth/login" not in openapi_paths(client)


def test_unknown_router_is_404_naming_the_routers(client: httpx.Client) -> None:
    response = client.post("/_faults/routers/billing/drop")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "'billing'" in detail
    for name in ("auth", "users", "user_management", "admin", "organisations", "features"):
        assert name in detail


def test_unknown_fault_path_is_404(client: httpx.Client) -> None:
    response = client.post("/_faults/error", params={"path": "/health"})
    assert response.status_code == 404
    assert "/api/v1/users" in response.json()["detail"]


@pytest.mark.parametrize("seconds", ["", "soon", "-1", "nan", "inf", "601"])
def test_bad_delay_is_400(client: httpx.Client, seconds: str) -> None:
    params = {"path": "/api/v1/features", "seconds": seconds}
    assert client.post("/_faults/slow", params=params).status_code == 400


def test_slow_fault_delays_the_answer(demo: Demo, client: httpx.Client) -> None:
    params = {"path": "/api/v1/features", "seconds": "0.5"}
    response = client.post("/_faults/slow", params=params)
    assert response.json()["slow"] == {"/api/v1/features": 0.5}

    start = time.monotonic()
    assert client.get("/api/v1/features").status_code == 200
    assert time.monotonic() - start >= 0.49  # timers may fire a clock tick early

    response = client.delete("/_faults/slow", params={"path": "/api/v1/features"})
    assert response.json()["slow"] == {}
    assert demo.faults.delays == {}


def test_error_fault_answers_500_and_clears(client: httpx.Client) -> None:
    token = login(client)
    client.post("/_faults/error", params={"path": "/api/v1/users"})
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 500
    assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 200
    assert client.get("/health").status_code == 200

    client.delete("/_faults/error", params={"path": "/api/v1/users"})
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200


def test_faults_set_in_process_show_over_http(demo: Demo, client: httpx.Client) -> None:
    demo.faults.drop("users")
    demo.faults.slow("/api/v1/organisations", 2)
    demo.faults.error("/api/v1/features")
    state = client.get("/_faults").json()
    assert state["routers"]["users"]["dropped"] is True
    assert state["slow"] == {"/api/v1/organisations": 2}
    assert state["error"] == ["/api/v1/features"]
    assert client.get("/api/v1/features").status_code == 500


def test_reset_clears_every_fault(demo: Demo, client: httpx.Client) -> None:
    demo.faults.drop("admin")
    demo.faults.drop("auth")
    demo.faults.slow("/api/v1/users", 30)
    demo.faults.error("/api/v1/features")

    state = client.post("/_faults/reset").json()
    assert not any(router["dropped"] for router in state["routers"].values())
    assert (state["slow"], state["error"]) == ({}, [])
    assert client.get("/api/v1/features").status_code == 200
    assert client.get("/api/v1/admin/feature-flags").status_code == 401


def reference_config(url: str) -> Config:
    text = (Path(__file__).parents[2] / "examples" / "marketedge.yaml").read_text()
    assert "http://127.0.0.1:8000/" in text
    config = parse_config(text.replace("http://127.0.0.1:8000/", f"{url}/"))
    # Its database targets probe the demo's PostgreSQL and Redis (tests/probes), not the API.
    config.targets = [t for t in config.targets if t.kind not in ("postgres", "redis")]
    return config


async def failures(config: Config) -> dict[str, str]:
    reasons = {}
    for target in config.targets:
        result = await PROBES[target.kind](target.spec, None)
        if not result.success:
            reasons[target.name] = result.reason
    return reasons


async def test_reference_config_fails_exactly_the_admin_targets_when_admin_drops(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEBRA_DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("MARKETEDGE_DB_PASSWORD", "demo-password")
    monkeypatch.setenv("MARKETEDGE_REDIS_PASSWORD", "demo-password")
    config = reference_config(demo.url)
    assert len(config.targets) == 12
    assert await failures(config) == {}

    demo.faults.drop("admin")
    assert await failures(config) == {
        "zebra_admin_access": "unexpected_status",
        "critical_endpoints_admin_feature_flags": "unexpected_status",
        "api_route_registration": "route_missing",
        "zebra_admin_login_flow": "unexpected_status",
    }
