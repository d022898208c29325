"""The tcp probe against real listeners: plain, TLS with a throwaway CA, and none at all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from exporter.config import ConfigError, parse_config
from exporter.config.tcp import TCPSpec
from exporter.conventions import (
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_TLS_ERROR,
    RESULT_SUCCESS,
)
from exporter.probes import ProbeResult, Trace
from exporter.probes.tcp import probe
from tests.probes.conftest import TLS_NAME, AppServer, Handler, TLSServer

RawServer = Callable[[Handler], Awaitable[str]]


def address(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"host": parts.hostname, "port": parts.port}


async def run(url: str, trace: Trace | None = None, **fields: Any) -> ProbeResult:
    return await probe(TCPSpec.model_validate({**address(url), **fields}), trace)


async def test_a_listening_port_succeeds_and_is_hung_up_on(raw_server: RawServer) -> None:
    closed = asyncio.Event()

    async def wait_for_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionResetError):
            await reader.read()  # b"" once the probe closes its end
        closed.set()

    result = await run(await raw_server(wait_for_close))
    assert (result.success, result.reason, result.detail) == (True, RESULT_SUCCESS, "")
    async with asyncio.timeout(5):
        await closed.wait()


async def test_a_refused_connection(closed_port: int) -> None:
    result = await run(f"tcp://127.0.0.1:{closed_port}")
    assert (result.reason, result.detail) == (
        REASON_CONNECT_ERROR,
        f"connection refused by 127.0.0.1:{closed_port}",
    )


async def test_a_name_that_does_not_resolve() -> None:
    result = await probe(TCPSpec(host="nonexistent.invalid", port=5672))
    assert result.reason == REASON_DNS_ERROR
    assert result.detail.startswith("cannot resolve nonexistent.invalid")


async def test_tls_with_ca_file_and_server_name(tls_server: TLSServer) -> None:
    trace = Trace()
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    result = await run(tls_server.url, trace, tls=tls)
    assert result.success
    handshake = next(line for line in trace.lines if line.startswith("TLS handshake"))
    assert f"server name {TLS_NAME}" in handshake
    assert f"certificate for {TLS_NAME}" in handshake
    assert trace.lines[-1].startswith("verdict: success")


@pytest.mark.parametrize(
    ("tls", "detail"),
    [
        ({}, "not accepted: unable to get local issuer certificate"),  # system CAs only
        ({"ca_file": "CA"}, "not accepted: IP address mismatch"),  # the certificate is for a name
    ],
)
async def test_tls_verification_failures(
    tls_server: TLSServer, tls: dict[str, str], detail: str
) -> None:
    tls = {k: str(tls_server.ca_file) if v == "CA" else v for k, v in tls.items()}
    result = await run(tls_server.url, tls=tls)
    assert result.reason == REASON_TLS_ERROR
    assert detail in result.detail


async def test_without_a_tls_block_no_handshake_happens(tls_server: TLSServer) -> None:
    trace = Trace()
    assert (await run(tls_server.url, trace)).success
    assert not any(line.startswith("TLS handshake") for line in trace.lines)


async def test_insecure_skip_verify(tls_server: TLSServer) -> None:
    assert (await run(tls_server.url, tls={"insecure_skip_verify": True})).success


async def test_tls_to_a_plain_listener_is_a_tls_error(app_server: AppServer) -> None:
    assert (await run(app_server.url, tls={})).reason == REASON_TLS_ERROR


async def test_a_ca_file_removed_after_the_config_loaded_is_an_error(
    tls_server: TLSServer, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(tls_server.ca_file.read_bytes())
    spec = TCPSpec.model_validate({**address(tls_server.url), "tls": {"ca_file": str(ca_file)}})
    ca_file.unlink()
    result = await probe(spec)
    assert (result.reason, result.detail.split(":")[0]) == (
        REASON_ERROR,
        f"cannot load tls.ca_file {ca_file}",
    )


def test_an_ipv6_address_is_a_host() -> None:
    assert TCPSpec(host="::1", port=5432).host == "::1"


def test_a_tcp_target_needs_host_and_port() -> None:
    text = (
        "targets:\n  - name: broker\n    severity: medium\n    context: operational\n"
        "    service: broker\n    tcp: {host: broker.internal}\n"
    )
    with pytest.raises(ConfigError, match=r"targets\[0\]\.tcp\.port: is required"):
        parse_config(text)
