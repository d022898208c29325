"""Basic auth before every endpoint, on a real exporter; bcrypt checks cached, never weakened."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter.web.auth import BasicAuth
from tests.servers import serve_app
from tests.web.conftest import HASH, PASSWORD, PKI, USER, exporter, exporter_config, web_config

# Every endpoint, and what it answers once let in (lifecycle enabled for /-/reload).
ENDPOINTS = [
    ("GET", "/", 200),
    ("GET", "/metrics", 200),
    ("GET", "/probe?target=ok", 200),
    ("GET", "/probe?target=ok&debug=true", 200),
    ("GET", "/-/healthy", 200),
    ("HEAD", "/-/healthy", 200),
    ("GET", "/-/ready", 200),
    ("POST", "/-/reload", 200),
    ("GET", "/no-such-page", 404),
]
WRONG = {
    "no credentials": None,
    "a wrong password": (USER, "scrape-3f9a-correct-hors"),
    "an unknown user": ("alice", PASSWORD),
}


@pytest.fixture(scope="module")
def base(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_app(_ok_app()) as target:
        config = exporter_config(tmp_path_factory.mktemp("auth"), f"ok={target}/")
        text = (
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
            f"basic_auth_users:\n  {USER}: {HASH}\n"
        )
        with exporter(config, web_config(text, pki), enable_lifecycle=True) as (url, _):
            yield url


def _ok_app() -> Starlette:
    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", ok)])


@pytest.mark.parametrize(("method", "path", "status"), ENDPOINTS)
@pytest.mark.parametrize("wrong", WRONG.keys())
def test_every_endpoint_refuses_wrong_credentials_with_401(
    base: str, method: str, path: str, status: int, wrong: str
) -> None:
    response = httpx.request(method, base + path, auth=WRONG[wrong])
    assert response.status_code == 401
    assert (
        response.headers["www-authenticate"] == 'Basic realm="business_exporter", charset="UTF-8"'
    )
    assert response.headers["x-frame-options"] == "deny"
    if method != "HEAD":
        assert "business_probe" not in response.text


@pytest.mark.parametrize(("method", "path", "status"), ENDPOINTS)
def test_every_endpoint_serves_the_right_credentials(
    base: str, method: str, path: str, status: int
) -> None:
    response = httpx.request(method, base + path, auth=(USER, PASSWORD))
    assert response.status_code == status
    assert response.headers["x-frame-options"] == "deny"


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        f"Bearer {PASSWORD}",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(USER.encode() + b":" + b"x" * 100).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:" + PASSWORD.encode()).decode(),
    ],
)
def test_malformed_credentials_are_refused_not_a_crash(base: str, header: str) -> None:
    response = httpx.get(f"{base}/metrics", headers={"Authorization": header})
    assert response.status_code == 401


async def test_a_verified_password_is_not_checked_by_bcrypt_again() -> None:
    auth = BasicAuth({USER: HASH.encode()})
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert await auth.allows(good)
    assert await auth.allows(good)
    assert await auth.allows(good)
    assert auth.bcrypt_checks == 1


async def test_the_cache_never_lets_a_wrong_password_in() -> None:
    auth = BasicAuth({USER: HASH.encode()})

    def header(password: str) -> str:
        return "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()

    assert await auth.allows(header(PASSWORD))
    for wrong in ("", PASSWORD[:-1], PASSWORD + "x", PASSWORD.upper()):
        assert not await auth.allows(header(wrong))
    assert auth.bcrypt_checks == 5  # each wrong guess costs a full check


async def test_an_unknown_user_costs_a_bcrypt_check_like_a_known_one() -> None:
    """Timing must not tell which users exist: an unknown user is checked against a decoy."""
    auth = BasicAuth({USER: HASH.encode()})
    unknown = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert not await auth.allows(unknown)
    assert auth.bcrypt_checks == 1
    # and at the configured cost: the decoy is as slow as the users' hashes
    assert auth._decoy.split(b"$")[2] == HASH.encode().split(b"$")[2]


async def test_a_new_hash_for_a_user_is_checked_again(tmp_path: Path) -> None:
    auth = BasicAuth({USER: HASH.encode()})
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert await auth.allows(good)
    auth.users = {USER: bcrypt.hashpw(b"another", bcrypt.gensalt(4))}
    assert not await auth.allows(good)
