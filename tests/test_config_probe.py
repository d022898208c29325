"""`probe --config FILE NAME` needs the secrets of target NAME only, as an engineer on a laptop
has them; the others' secret references are still checked for shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter.cli import main
from tests.servers import serve_app

TOKEN = "probe-token-5c1e"

CONFIG = """
tenants:
  acme: {tier: basic}
targets:
  - name: admin
    severity: high
    context: ops
    service: admin
    http:
      url: API/admin
      headers: {Authorization: {env: PROBE_TEST_TOKEN, prefix: "Bearer "}}
  - name: orders_db
    severity: high
    context: ops
    service: orders
    postgres:
      host: 127.0.0.1
      user: orders
      password: {env: PROBE_TEST_UNSET_DB_PASSWORD}
  - name: "{tenant}_cache"
    per_tenant: true
    severity: high
    context: ops
    service: cache
    redis:
      host: 127.0.0.1
      password: {env: PROBE_TEST_UNSET_REDIS_PASSWORD}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    async def admin(request: Request) -> PlainTextResponse:
        ok = request.headers.get("authorization") == f"Bearer {TOKEN}"
        return PlainTextResponse("flags" if ok else "no", 200 if ok else 401)

    monkeypatch.setenv("PROBE_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("PROBE_TEST_UNSET_DB_PASSWORD", raising=False)
    monkeypatch.delenv("PROBE_TEST_UNSET_REDIS_PASSWORD", raising=False)
    with serve_app(Starlette(routes=[Route("/admin", admin)])) as base:
        path = tmp_path / "config.yaml"
        path.write_text(CONFIG.replace("API", base))
        yield path


def test_probe_reads_the_secrets_of_its_target_alone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", "--config", str(config), "admin"])
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.splitlines()[-1].endswith(": success")  # the server saw the token
    assert code == 0


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "orders_db",
            "targets[1].postgres.password: environment variable PROBE_TEST_UNSET_DB_PASSWORD "
            "is not set ({config}:19)",
        ),
        (
            "acme_cache",
            "targets[2].redis.password: environment variable PROBE_TEST_UNSET_REDIS_PASSWORD "
            "is not set ({config}:27)",
        ),
    ],
)
def test_probe_still_needs_the_secrets_of_the_target_it_runs(
    config: Path, capsys: pytest.CaptureFixture[str], name: str, problem: str
) -> None:
    assert main(["probe", "--config", str(config), name]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{config}: invalid config:",
        problem.format(config=config),
    ]


def test_probe_checks_the_shape_of_every_secret_reference(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config.read_text().replace(
        "{env: PROBE_TEST_UNSET_DB_PASSWORD}", "{env: PROBE_TEST_UNSET_DB_PASSWORD, file: /x}"
    )
    config.write_text(text)
    assert main(["probe", "--config", str(config), "admin"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{config}: invalid config:",
        f"targets[1].postgres.password: needs exactly one of env or file ({config}:19)",
    ]
