"""The HTTP probe against real servers: uvicorn apps, a throwaway CA, and misbehaving peers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from exporter import __version__
from exporter.config import HTTPSpec
from exporter.conventions import (
    REASON_BODY_MISMATCH,
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_INVALID_RESPONSE,
    REASON_RESPONSE_TOO_LARGE,
    REASON_SLOW,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_STATUS,
    RESULT_SUCCESS,
)
from exporter.probes import ProbeResult, Trace
from exporter.probes._http_client import _ResponseProtocol
from exporter.probes.http import probe
from tests.probes.conftest import TLS_NAME, AppServer, Handler, TLSServer

RawServer = Callable[[Handler], Awaitable[str]]


def spec(url: str, **fields: Any) -> HTTPSpec:
    return HTTPSpec.model_validate({"url": url, **fields})


async def run(url: str, **fields: Any) -> ProbeResult:
    return await probe(spec(url, **fields))


# Statuses


@pytest.mark.parametrize(
    ("path", "valid", "reason", "detail"),
    [
        ("/status/200", None, RESULT_SUCCESS, ""),
        ("/status/204", None, RESULT_SUCCESS, ""),
        ("/status/404", None, REASON_UNEXPECTED_STATUS, "status 404, expected 2xx"),
        ("/status/404", ["4xx"], RESULT_SUCCESS, ""),
        ("/status/500", ["4xx"], REASON_UNEXPECTED_STATUS, "status 500, expected 4xx"),
        ("/status/401", [400, 401, 422], RESULT_SUCCESS, ""),
        (
            "/status/404",
            [400, 401, 422],
            REASON_UNEXPECTED_STATUS,
            "status 404, expected 400, 401, 422",
        ),
    ],
)
async def test_status_is_checked_against_valid_status_codes(
    app_server: AppServer, path: str, valid: list[Any] | None, reason: str, detail: str
) -> None:
    fields = {} if valid is None else {"valid_status_codes": valid}
    result = await run(app_server.url + path, **fields)
    assert (result.reason, result.detail) == (reason, detail)
    assert result.success is (reason == RESULT_SUCCESS)
    assert result.http_status_code == int(path.rsplit("/", 1)[1])


# What the probe sends


async def test_json_body_is_sent_with_its_content_type_and_length(app_server: AppServer) -> None:
    document = {"basket": [{"sku": "A-1", "qty": 2}], "gift": False, "note": None}
    result = await run(app_server.url + "/echo", method="POST", json=document)
    assert result.success
    got = app_server.last()
    assert (got.method, json.loads(got.body)) == ("POST", document)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["content-length"] == str(len(got.body))
    assert got.headers["user-agent"] == f"business-exporter/{__version__}"
    assert got.headers["connection"] == "close"
    assert got.headers["host"] == app_server.url.removeprefix("http://")


async def test_a_header_overrides_the_json_content_type(app_server: AppServer) -> None:
    headers = {"Content-Type": "application/vnd.api+json"}
    await run(app_server.url + "/echo", method="POST", json=[1], headers=headers)
    assert app_server.last().headers["content-type"] == "application/vnd.api+json"


async def test_raw_body_is_sent_as_is(app_server: AppServer) -> None:
    await run(app_server.url + "/echo", method="PUT", body="a=1&b=2")
    got = app_server.last()
    assert (got.method, got.body, got.headers["content-length"]) == ("PUT", b"a=1&b=2", "7")
    assert "content-type" not in got.headers


async def test_the_probe_frames_the_request_itself(app_server: AppServer) -> None:
    result = await run(app_server.url + "/echo", method="POST", body="abc")
    assert result.success
    got = app_server.last()
    assert (got.body, got.headers["content-length"], got.headers["connection"]) == (
        b"abc",
        "3",
        "close",
    )


async def test_header_values_come_from_env_and_files(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "tok-from-env")
    key_file = tmp_path / "key"
    key_file.write_text("key-from-file\n")
    headers = {
        "Authorization": {"env": "PROBE_TOKEN", "prefix": "Bearer "},
        "X-Api-Key": {"file": str(key_file)},
        "X-Plain": "plain",
    }
    assert (await run(app_server.url + "/echo", headers=headers)).success
    got = app_server.last().headers
    assert got["authorization"] == "Bearer tok-from-env"
    assert got["x-api-key"] == "key-from-file"
    assert got["x-plain"] == "plain"


async def test_basic_auth(app_server: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_PASSWORD", "pa:ss")
    auth = {"username": "probe", "password": {"env": "PROBE_PASSWORD"}}
    await run(app_server.url + "/echo", basic_auth=auth)
    expected = "Basic " + base64.b64encode(b"probe:pa:ss").decode()
    assert app_server.last().headers["authorization"] == expected


# Timing and size


async def test_a_response_slower_than_max_duration_fails_as_slow(app_server: AppServer) -> None:
    result = await run(app_server.url + "/slow?ms=150", max_duration="50ms")
    assert (result.success, result.reason, result.http_status_code) == (False, REASON_SLOW, 200)
    assert "longer than max_duration 50ms" in result.detail
    assert (await run(app_server.url + "/slow?ms=0", max_duration="1s")).success


@pytest.mark.parametrize(
    ("size", "reason"), [(1000, RESULT_SUCCESS), (1001, REASON_RESPONSE_TOO_LARGE)]
)
async def test_body_larger_than_max_response_bytes(
    app_server: AppServer, size: int, reason: str
) -> None:
    result = await run(app_server.url + f"/big/{size}", max_response_bytes=1000)
    assert (result.reason, result.http_status_code) == (reason, 200)


async def test_a_body_announced_larger_than_the_limit_is_not_read_at_all(
    raw_server: RawServer,
) -> None:
    async def announce(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(3600)  # the terabyte never comes: the probe must not wait for it

    url = await raw_server(announce)
    async with asyncio.timeout(5):
        result = await run(url, max_response_bytes=1000)
    assert (result.reason, result.detail.split(": ", 1)[1]) == (
        REASON_RESPONSE_TOO_LARGE,
        "the body's Content-Length 1099511627776 exceeds max_response_bytes (1000)",
    )


async def test_what_a_run_read_of_an_oversized_body_is_freed_with_the_run(
    raw_server: RawServer,
) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")  # ends when closed
        with contextlib.suppress(ConnectionError):
            while True:
                writer.write(bytes(64 << 10))
                await writer.drain()

    url = await raw_server(endless)
    gc.disable()  # what is freed must be freed by reference counting, not by a later collection
    tracemalloc.start()
    try:
        for _ in range(8):
            result = await run(url, max_response_bytes=1 << 20)
            assert result.reason == REASON_RESPONSE_TOO_LARGE
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held < 2 << 20  # not 8 x 1 MiB kept alive by the error's traceback


async def test_a_run_leaves_nothing_for_the_cyclic_collector(app_server: AppServer) -> None:
    gc.collect()
    gc.disable()  # a cycle left by a run would stay in the heap until the next collection
    try:
        for _ in range(5):
            assert (await run(app_server.url + "/status/200")).success
        await asyncio.sleep(0)  # the transport's connection_lost, called soon after close
        left = [o for o in gc.get_objects() if isinstance(o, _ResponseProtocol)]
    finally:
        gc.enable()
    assert left == []


# Body checks


@pytest.mark.parametrize(
    ("path", "check", "detail"),
    [
        ("/text", {"matches": "operational"}, ""),
        ("/text", {"matches": "outage"}, "body_checks[0] matches /outage/: no match in the body"),
        ("/chunked", {"matches": "all systems operational"}, ""),
        ("/text", {"not_matches": "outage"}, ""),
        ("/text", {"not_matches": "oper"}, "body_checks[0] not_matches /oper/: matched the body"),
        ("/json", {"json_path": "$.status"}, ""),
        ("/json", {"json_path": "$.items[0].id", "equals": "a1"}, ""),
        ("/json", {"json_path": "$.count", "equals": 3}, ""),
        ("/json", {"json_path": "$.latency"}, "body_checks[0] json_path $.latency: not found"),
        # Past the end of a list is as missing as an absent key, not a probe error.
        ("/json", {"json_path": "$.items[5]"}, "body_checks[0] json_path $.items[5]: not found"),
        ("/json", {"json_path": "$.items[1].id", "equals": "a1"}, "$.items[1].id equals"),
        # `equals: null` asks for JSON null: present-and-null passes, any other value fails.
        ("/json", {"json_path": "$.retired_at", "equals": None}, ""),
        ("/json", {"json_path": "$.status", "equals": None}, 'equals null: is "ok"'),
        ("/json", {"json_path": "$.retired_at", "equals": "never"}, 'equals "never": is null'),
        ("/json", {"json_path": "$.status", "equals": "down"}, 'equals "down": is "ok"'),
        ("/json", {"json_path": "$.flag", "equals": 1}, "json_path $.flag equals 1: is true"),
        ("/text", {"json_path": "$.status"}, "json_path $.status: the body is not JSON"),
    ],
)
async def test_body_checks(app_server: AppServer, path: str, check: Any, detail: str) -> None:
    result = await run(app_server.url + path, body_checks=[check])
    assert result.success is (detail == "")
    assert detail in result.detail
    assert result.reason == (REASON_BODY_MISMATCH if detail else RESULT_SUCCESS)


async def test_the_first_failing_check_is_named(app_server: AppServer) -> None:
    checks = [{"json_path": "$.status", "equals": "ok"}, {"not_matches": "ok"}]
    result = await run(app_server.url + "/json", body_checks=checks)
    assert result.detail.startswith("body_checks[1] not_matches /ok/")


# Redirects


async def test_redirects_are_followed_up_to_max_redirects(app_server: AppServer) -> None:
    assert (await run(app_server.url + "/hops/3", max_redirects=3)).http_status_code == 200
    result = await run(app_server.url + "/hops/3", max_redirects=2)
    assert (result.reason, result.http_status_code) == (REASON_UNEXPECTED_STATUS, 302)
    assert "after 2 redirect(s)" in result.detail


async def test_without_follow_redirects_the_3xx_is_the_result(app_server: AppServer) -> None:
    result = await run(app_server.url + "/hops/1", follow_redirects=False)
    assert (result.reason, result.http_status_code) == (REASON_UNEXPECTED_STATUS, 302)
    url = app_server.url + "/hops/1"
    assert (await run(url, follow_redirects=False, valid_status_codes=[302])).success


@pytest.mark.parametrize(
    ("code", "method", "body"),
    [
        (303, "GET", b""),
        (302, "GET", b""),
        (301, "GET", b""),
        (307, "POST", b"[1]"),
        (308, "POST", b"[1]"),
    ],
)
async def test_redirected_post(app_server: AppServer, code: int, method: str, body: bytes) -> None:
    await run(app_server.url + f"/redirect/{code}", method="POST", json=[1])
    got = app_server.last()
    assert (got.path, got.method, got.body) == ("/echo", method, body)


@pytest.mark.parametrize(("host", "kept"), [("127.0.0.1", True), ("localhost", False)])
async def test_credentials_do_not_follow_a_redirect_to_another_host(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch, host: str, kept: bool
) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "t0k")
    port = app_server.url.rsplit(":", 1)[1]
    target = f"http://{host}:{port}/echo"
    headers = {"Authorization": {"env": "PROBE_TOKEN"}, "X-Plain": "yes"}
    assert (await run(app_server.url + f"/redirect/302?to={target}", headers=headers)).success
    first, last = app_server.received
    assert first.headers["authorization"] == "t0k"
    assert ("authorization" in last.headers) is kept
    assert last.headers["x-plain"] == "yes"


# TLS


async def test_tls_with_ca_file_and_server_name(tls_server: TLSServer) -> None:
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    assert (await run(tls_server.url + "/text", tls=tls)).success


@pytest.mark.parametrize(
    ("tls", "detail"),
    [
        (
            {},
            "not accepted: unable to get local issuer certificate",
        ),  # the system CAs do not know the throwaway CA
        (
            {"ca_file": "CA"},
            "not accepted: IP address mismatch",
        ),  # the certificate is for probe.test
    ],
)
async def test_tls_verification_failures(
    tls_server: TLSServer, tls: dict[str, str], detail: str
) -> None:
    tls = {k: str(tls_server.ca_file) if v == "CA" else v for k, v in tls.items()}
    result = await run(tls_server.url + "/text", tls=tls)
    assert result.reason == REASON_TLS_ERROR
    assert detail in result.detail


async def test_server_name_holds_across_a_redirect_on_the_same_host(tls_server: TLSServer) -> None:
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    result = await run(tls_server.url + "/redirect/302?to=/text", tls=tls)
    assert (result.reason, result.http_status_code) == (RESULT_SUCCESS, 200)


async def test_insecure_skip_verify(tls_server: TLSServer) -> None:
    result = await run(tls_server.url + "/text", tls={"insecure_skip_verify": True})
    assert result.success


async def test_a_ca_file_removed_after_the_config_loaded_is_an_error(
    tls_server: TLSServer, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(tls_server.ca_file.read_bytes())
    removed_later = spec(tls_server.url, tls={"ca_file": str(ca_file)})
    ca_file.unlink()
    result = await probe(removed_later)
    assert (result.reason, result.detail.split(":")[0]) == (
        REASON_ERROR,
        f"cannot load tls.ca_file {ca_file}",
    )


async def test_https_to_a_plain_http_server_is_a_tls_error(app_server: AppServer) -> None:
    url = app_server.url.replace("http://", "https://") + "/text"
    assert (await run(url)).reason == REASON_TLS_ERROR


# Network trouble and misbehaving peers


async def test_connection_refused(closed_port: int) -> None:
    result = await run(f"http://127.0.0.1:{closed_port}/")
    assert (result.reason, result.detail) == (
        REASON_CONNECT_ERROR,
        f"connection refused by 127.0.0.1:{closed_port}",
    )
    assert result.http_status_code is None


async def test_dns_failure() -> None:
    result = await run("http://nonexistent.invalid/")
    assert result.reason == REASON_DNS_ERROR
    assert result.detail.startswith("cannot resolve nonexistent.invalid")


async def _read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("answer", "detail", "status"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not a valid HTTP response", None),
        (b"", "closed the connection before a complete response", None),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart", "in the middle of the body", 200),
    ],
)
async def test_peers_that_do_not_speak_http(
    raw_server: RawServer, answer: bytes, detail: str, status: int | None
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(answer)
        writer.close()

    result = await run(await raw_server(handler))
    assert (result.reason, result.http_status_code) == (REASON_INVALID_RESPONSE, status)
    assert detail in result.detail


async def test_headers_without_end_are_cut_short(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nX-Endless: " + b"a" * 100_000)
        await reader.read()  # stays open: only the prober's own limit ends this

    async with asyncio.timeout(5):
        result = await run(await raw_server(handler))
    assert result.reason == REASON_INVALID_RESPONSE
    assert "no end of the response headers" in result.detail


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\n\r\nuntil close",  # no length: the body ends with the connection
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\n"
        b"Content-Length: 11\r\n\r\nuntil close",  # interim responses are skipped
    ],
)
async def test_responses_framed_unusually(raw_server: RawServer, answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(answer)
        writer.close()

    url = await raw_server(handler)
    result = await run(url, body_checks=[{"matches": "^until close$"}])
    assert (result.reason, result.http_status_code) == (RESULT_SUCCESS, 200)


async def test_head_does_not_wait_for_the_announced_body(app_server: AppServer) -> None:
    async with asyncio.timeout(5):
        result = await run(app_server.url + "/text", method="HEAD")
    assert (result.reason, result.http_status_code) == (RESULT_SUCCESS, 200)


@pytest.mark.parametrize("scheme", ["http", "https"])  # stuck before the request, or in TLS
async def test_a_cancelled_probe_closes_its_connection(raw_server: RawServer, scheme: str) -> None:
    accepted, closed = asyncio.Event(), asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        with contextlib.suppress(ConnectionResetError):
            await reader.read()  # whatever the prober sends, then b"" once it closes its end
        closed.set()

    url = (await raw_server(hang)).replace("http://", f"{scheme}://")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await run(url)
    assert accepted.is_set()
    async with asyncio.timeout(5):
        await closed.wait()


# Debug trace


async def test_trace_shows_the_exchange_and_masks_secrets(
    app_server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_KEY", "very-secret-key")
    monkeypatch.setenv("PROBE_PASSWORD", "very-secret-password")
    fields = {
        "headers": {"X-Api-Key": {"env": "PROBE_KEY"}, "X-Plain": "shown"},
        "basic_auth": {"username": "probe", "password": {"env": "PROBE_PASSWORD"}},
        "body_checks": [{"matches": "echoed"}],
    }
    trace = Trace()
    result = await probe(spec(app_server.url + "/echo", **fields), trace)
    assert result.success
    assert app_server.last().headers["x-api-key"] == "very-secret-key"
    text = "\n".join(trace.lines)
    assert "very-secret" not in text
    assert base64.b64encode(b"probe:very-secret-password").decode() not in text
    for line in [
        "> GET /echo HTTP/1.1",
        "> X-Api-Key: <secret>",
        "> Authorization: <secret>",
        "> X-Plain: shown",
        "< HTTP/1.1 200 OK",
        "body_checks[0] matches /echoed/: passed",
    ]:
        assert line in trace.lines
    assert trace.lines[-1].startswith("verdict: success")


async def test_trace_of_a_tls_probe_names_the_handshake(tls_server: TLSServer) -> None:
    trace = Trace()
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    await probe(spec(tls_server.url + "/text", tls=tls), trace)
    handshake = next(line for line in trace.lines if line.startswith("TLS handshake"))
    assert f"server name {TLS_NAME}" in handshake
