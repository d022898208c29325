from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from exporter.config import load_config
from exporter.runtime import Runtime
from exporter.server import create_app, gzip_stream
from tests.servers import serve_app, wait_for

SECRET = "tok-3f9a-very-secret"
SESSION = "sess-77d1-issued-by-the-server"


def target(name: str, url: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    severity: high\n    context: zebra_opportunity\n"
        f"    service: admin\n    tenant: zebra_associates\n    interval: 100ms\n"
        f"    timeout: 100ms\n    revenue_at_risk: {{amount: 925000, currency: GBP}}\n"
        f"    http:\n      url: {url}\n{extra}"
    )


SECRET_HEADER = "      headers: {Authorization: {env: ZEBRA_TOKEN, prefix: 'Bearer '}}\n"


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    async def admin(request: Request) -> PlainTextResponse:
        ok = request.headers.get("authorization") == f"Bearer {SECRET}"
        response = PlainTextResponse("flags" if ok else "no", 200 if ok else 401)
        response.set_cookie("session", SESSION)
        response.headers["Cookie"] = f"session={SESSION}"  # as a misbehaving proxy might echo
        return response

    with serve_app(Starlette(routes=[Route("/admin", admin)])) as base:
        yield base


@pytest.fixture
def exporter(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    monkeypatch.setenv("ZEBRA_TOKEN", SECRET)
    path = tmp_path / "config.yaml"
    path.write_text(
        "targets:\n"
        + target("zebra_admin", f"{api}/admin", SECRET_HEADER)
        + target("zebra_missing", f"{api}/missing")
    )
    runtime = Runtime(load_config(path), path)
    with serve_app(create_app(runtime, enable_lifecycle=True)) as base:
        yield base, path


def samples(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{base}/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(base: str, name: str, **labels: str) -> float | None:
    for (sample, sample_labels), v in samples(base).items():
        if sample == name and set(labels.items()) <= sample_labels:
            return v
    return None


def test_metrics_carry_business_labels_and_the_failing_state(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    wait_for(lambda: value(base, "business_probe_failing", probe="zebra_missing") == 1)
    labels = {
        "probe": "zebra_admin",
        "kind": "http",
        "severity": "high",
        "context": "zebra_opportunity",
        "tenant": "zebra_associates",
        "tier": "",
        "service": "admin",
    }
    assert value(base, "business_probe_success", **labels) == 1
    assert value(base, "business_probe_http_status_code", probe="zebra_missing") == 404
    assert value(
        base, "business_probe_runs_total", probe="zebra_missing", result="unexpected_status"
    )
    assert (
        value(base, "business_probe_revenue_at_risk", probe="zebra_admin", currency="GBP") == 925000
    )
    assert value(base, "business_exporter_targets") == 2


def test_promtool_accepts_the_metrics_output(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    wait_for(lambda: value(base, "business_probe_last_run_timestamp_seconds", probe="zebra_admin"))
    text = httpx.get(f"{base}/metrics").text
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make test` (Debian package prometheus)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_probe_runs_a_configured_target_now(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    response = httpx.get(f"{base}/probe", params={"target": "zebra_admin"})
    assert response.status_code == 200
    assert 'business_probe_success{context="zebra_opportunity"' in response.text
    assert "business_probe_http_status_code" in response.text


@pytest.mark.parametrize("name", ["nope", "http://127.0.0.1:1/", ""])
def test_probe_refuses_anything_but_a_configured_name(
    exporter: tuple[str, Path], name: str
) -> None:
    base, _ = exporter
    response = httpx.get(f"{base}/probe", params={"target": name})
    assert response.status_code == 404
    assert (
        response.text == f"Unknown target {name!r}: /probe only runs targets named in the config.\n"
    )


def test_probe_debug_shows_the_request_and_the_reason_but_masks_secrets(
    exporter: tuple[str, Path],
) -> None:
    base, _ = exporter
    ok = httpx.get(f"{base}/probe", params={"target": "zebra_admin", "debug": "true"}).text
    failed = httpx.get(f"{base}/probe", params={"target": "zebra_missing", "debug": "true"}).text
    assert "GET /admin HTTP/1.1" in ok
    assert "Authorization: <secret>" in ok
    assert SECRET not in ok
    # A session the server hands out is as good as a password to whoever reads the trace.
    assert "< set-cookie: <secret>" in ok
    assert "< cookie: <secret>" in ok
    assert SESSION not in ok
    assert ok.rstrip().endswith(": success")
    assert "failure: unexpected_status" in failed


def test_the_index_page_lists_targets_with_state_and_reason(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    wait_for(lambda: value(base, "business_probe_failing", probe="zebra_missing") == 1)
    page = httpx.get(base).text  # read in a real browser by tests/pages/
    assert "<b>zebra_admin</b>" in page
    assert "FAILING" in page
    assert "<b>violation</b>" in page  # a 404 is the problem itself, found by the check
    assert "status 404, expected" in page
    assert SECRET not in page


def test_health_and_readiness(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    assert httpx.get(f"{base}/-/healthy").status_code == 200
    assert httpx.get(f"{base}/-/ready").status_code == 200


async def test_not_ready_until_the_scheduler_runs(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("targets:\n" + target("login", "http://127.0.0.1:1/"))
    app = create_app(Runtime(load_config(path), path))
    transport = httpx.ASGITransport(app=app)  # no lifespan: the scheduler never starts
    async with httpx.AsyncClient(transport=transport, base_url="http://exporter") as client:
        response = await client.get("/-/ready")
    assert response.status_code == 503


def test_reload_applies_a_good_config_and_removed_targets_vanish(
    exporter: tuple[str, Path], api: str
) -> None:
    base, path = exporter
    wait_for(lambda: value(base, "business_probe_success", probe="zebra_missing") is not None)
    path.write_text("targets:\n" + target("zebra_admin", f"{api}/admin", SECRET_HEADER))
    response = httpx.post(f"{base}/-/reload")
    assert response.status_code == 200
    names = {dict(labels).get("probe") for _, labels in samples(base)}
    assert "zebra_missing" not in names
    assert "zebra_admin" in names
    assert value(base, "business_exporter_config_reloads_total", result="success") == 1


def test_a_bad_reload_keeps_the_old_config_and_says_so(exporter: tuple[str, Path]) -> None:
    base, path = exporter
    path.write_text("targets:\n  - name: broken\n    severity: urgent\n")
    response = httpx.post(f"{base}/-/reload")
    assert response.status_code == 500
    assert "targets[0].severity: must be one of" in response.text
    assert value(base, "business_exporter_config_last_reload_successful") == 0
    assert value(base, "business_exporter_targets") == 2
    wait_for(lambda: value(base, "business_probe_success", probe="zebra_admin") == 1)
    assert "The last config reload failed" in httpx.get(base).text


def test_metrics_are_gzipped_only_for_clients_that_ask(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    wait_for(lambda: value(base, "business_probe_success", probe="zebra_admin") is not None)
    plain = httpx.get(f"{base}/metrics", headers={"Accept-Encoding": "identity"})
    with httpx.stream("GET", f"{base}/metrics", headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join(zipped.iter_raw())
        encoding = zipped.headers.get("content-encoding")
    assert "content-encoding" not in plain.headers
    assert encoding == "gzip"
    assert gzip.decompress(raw).startswith(b"# HELP business_probe_success")
    assert plain.content.startswith(b"# HELP business_probe_success")


def test_metrics_are_streamed_as_rendered_never_held_whole(exporter: tuple[str, Path]) -> None:
    base, _ = exporter
    for encoding in ("identity", "gzip"):
        response = httpx.get(f"{base}/metrics", headers={"Accept-Encoding": encoding})
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers


async def test_the_gzip_stream_inflates_to_the_pieces_it_was_given() -> None:
    pieces = [b"# HELP a x\n", b"a 1.0\n" * 5000, b"", b"b 2.0\n"]

    async def chunks() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    compressed = [c async for c in gzip_stream(chunks())]
    assert gzip.decompress(b"".join(compressed)) == b"".join(pieces)
