"""blackbox_exporter's TLS options for HTTP-speaking kinds, against real TLS servers.

Client certificates (a server that requires one), TLS version bounds, and what a response came
over: the HTTP and TLS versions and the earliest expiry among the certificates presented.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import datetime
import os
import socket
import ssl
import threading
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from exporter.config import HTTPSpec
from exporter.config.openapi import OpenAPISpec
from exporter.config.steps import StepsSpec
from exporter.conventions import REASON_ERROR, REASON_TLS_ERROR, RESULT_SUCCESS
from exporter.probes import ProbeResult, Seen, Trace, openapi, steps
from exporter.probes.http import probe
from tests.probes.conftest import TLS_NAME, AppServer, TLSServer

SOON = datetime.datetime(2031, 5, 17, 12, 30, 45)  # naive: trustme takes it as UTC


@dataclass
class Peer:
    """A TLS server answering every request with 200 and what it learned of its clients."""

    url: str
    ca: trustme.CA
    clients: list[str] = field(default_factory=list)  # the subject of each client certificate

    @property
    def address(self) -> str:
        return self.url.removeprefix("https://").rstrip("/")

    def tls(self, folder: Path, **fields: Any) -> dict[str, Any]:
        ca_file = folder / "peer-ca.pem"
        self.ca.cert_pem.write_to_path(str(ca_file))
        return {"ca_file": str(ca_file), "server_name": TLS_NAME, **fields}


def _server_context(
    ca: trustme.CA, certificate: trustme.LeafCert, **versions: ssl.TLSVersion
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    for name, version in versions.items():
        if version < ssl.TLSVersion.TLSv1_2:  # a server from before TLS 1.2, as some still are
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            setattr(context, name, version)
    return context


_OLD_SERVER = {"minimum_version": ssl.TLSVersion.TLSv1, "maximum_version": ssl.TLSVersion.TLSv1}


@contextlib.asynccontextmanager
async def tls_peer(
    ca: trustme.CA | None = None,
    certificate: trustme.LeafCert | None = None,
    client_ca: trustme.CA | None = None,
    answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    versions: dict[str, ssl.TLSVersion] | None = None,
) -> AsyncIterator[Peer]:
    """Serve HTTPS on 127.0.0.1:0; with `client_ca`, only to clients it issued a certificate.

    A blocking server in a thread, as most servers are: OpenSSL writes its alerts (a missing
    client certificate, no common version) to the socket before it closes, where asyncio's
    server transport drops them.
    """
    ca = ca or trustme.CA()
    certificate = certificate or ca.issue_cert(TLS_NAME)
    context = _server_context(ca, certificate, **(versions or {}))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    peer = Peer(f"https://127.0.0.1:{listener.getsockname()[1]}/", ca)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                with connection, contextlib.suppress(OSError):  # ssl.SSLError included
                    connection.settimeout(5)
                    _serve_one(context.wrap_socket(connection, True, False), peer, answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)
        listener.close()


def _serve_one(tls: ssl.SSLSocket, peer: Peer, answer: bytes) -> None:
    with tls:
        try:
            tls.do_handshake()
        except ssl.SSLError:
            _linger(tls)
            raise
        _answer(tls, peer, answer)


def _linger(connection: socket.socket) -> None:
    """Close as nginx does after an error: the client's unread request would otherwise make
    the kernel reset the connection, and the client might never read the TLS alert."""
    connection.shutdown(socket.SHUT_WR)
    while connection.recv(4096):
        pass


def _answer(tls: ssl.SSLSocket, peer: Peer, answer: bytes) -> None:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = tls.recv(4096)
        if not chunk:
            return
        received += chunk
    client = tls.getpeercert()
    if client:
        peer.clients.append(str(client["subjectAltName"][0][1]))
    tls.sendall(answer)


async def run(url: str, trace: Trace | None = None, **fields: Any) -> ProbeResult:
    return await probe(HTTPSpec.model_validate({"url": url, **fields}), trace)


def client_files(ca: trustme.CA, folder: Path, name: str = "client@probe.test") -> dict[str, str]:
    issued = ca.issue_cert(name)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return {"cert_file": str(cert), "key_file": str(key)}


def unix(moment: datetime.datetime) -> float:
    return float(calendar.timegm(moment.utctimetuple()))


# Client certificates


async def test_a_server_that_requires_a_client_certificate_gets_the_configured_one(
    tmp_path: Path,
) -> None:
    clients = trustme.CA()
    async with tls_peer(client_ca=clients) as peer:
        files = client_files(clients, tmp_path)
        result = await run(peer.url, tls=peer.tls(tmp_path, **files))
        assert (result.reason, result.detail) == (RESULT_SUCCESS, "")
        assert peer.clients == ["client@probe.test"]


async def test_without_a_client_certificate_the_server_refuses_the_probe(tmp_path: Path) -> None:
    async with tls_peer(client_ca=trustme.CA()) as peer:
        result = await run(peer.url, tls=peer.tls(tmp_path))
        assert (result.reason, result.detail) == (
            REASON_TLS_ERROR,
            f"TLS failed with {peer.address}: TLSV13_ALERT_CERTIFICATE_REQUIRED",
        )
        assert peer.clients == []


async def test_a_client_certificate_from_another_ca_is_refused(tmp_path: Path) -> None:
    async with tls_peer(client_ca=trustme.CA()) as peer:
        stranger = client_files(trustme.CA(), tmp_path)
        result = await run(peer.url, tls=peer.tls(tmp_path, **stranger))
        assert (result.reason, result.detail) == (
            REASON_TLS_ERROR,
            f"TLS failed with {peer.address}: TLSV1_ALERT_UNKNOWN_CA",
        )
        assert peer.clients == []


async def test_a_combined_pem_serves_as_cert_file_alone(tmp_path: Path) -> None:
    clients = trustme.CA()
    combined = tmp_path / "client.pem"
    clients.issue_cert("both@probe.test").private_key_and_cert_chain_pem.write_to_path(
        str(combined)
    )
    async with tls_peer(client_ca=clients) as peer:
        result = await run(peer.url, tls=peer.tls(tmp_path, cert_file=str(combined)))
        assert result.success
        assert peer.clients == ["both@probe.test"]


async def test_a_renewed_client_certificate_is_presented_from_the_next_run_on(
    tmp_path: Path,
) -> None:
    clients = trustme.CA()
    async with tls_peer(client_ca=clients) as peer:
        files = client_files(clients, tmp_path, "first@probe.test")
        spec = HTTPSpec.model_validate({"url": peer.url, "tls": peer.tls(tmp_path, **files)})
        assert (await probe(spec)).success
        renewed = clients.issue_cert("renewed@probe.test")
        renewed.cert_chain_pems[0].write_to_path(files["cert_file"])
        renewed.private_key_pem.write_to_path(files["key_file"])
        for name in files.values():
            os.utime(name, ns=(1, 1))  # a new mtime even on a coarse clock
        assert (await probe(spec)).success
        assert peer.clients == ["first@probe.test", "renewed@probe.test"]


async def test_a_client_key_removed_after_the_config_loaded_fails_the_run(tmp_path: Path) -> None:
    async with tls_peer(client_ca=trustme.CA()) as peer:
        files = client_files(trustme.CA(), tmp_path, "gone@probe.test")
        spec = HTTPSpec.model_validate({"url": peer.url, "tls": peer.tls(tmp_path, **files)})
        os.unlink(files["key_file"])
        result = await probe(spec)
        assert (result.reason, result.detail) == (
            REASON_ERROR,
            f"cannot load tls.key_file {files['key_file']}: No such file or directory",
        )


# TLS version bounds


@pytest.mark.parametrize(
    ("server", "client", "reason", "version"),
    [
        ({}, {}, RESULT_SUCCESS, "TLS 1.3"),
        ({}, {"max_version": "TLS12"}, RESULT_SUCCESS, "TLS 1.2"),
        ({"maximum_version": ssl.TLSVersion.TLSv1_2}, {}, RESULT_SUCCESS, "TLS 1.2"),
        (
            {"maximum_version": ssl.TLSVersion.TLSv1_2},
            {"min_version": "TLS13"},
            REASON_TLS_ERROR,
            None,
        ),
        (
            {"minimum_version": ssl.TLSVersion.TLSv1_3},
            {"max_version": "TLS12"},
            REASON_TLS_ERROR,
            None,
        ),
        (_OLD_SERVER, {}, REASON_TLS_ERROR, None),
        (_OLD_SERVER, {"min_version": "TLS10"}, RESULT_SUCCESS, "TLS 1.0"),
        (
            {"minimum_version": ssl.TLSVersion.TLSv1_2, "maximum_version": ssl.TLSVersion.TLSv1_2},
            {"min_version": "TLS12", "max_version": "TLS12"},
            RESULT_SUCCESS,
            "TLS 1.2",
        ),
    ],
)
async def test_tls_version_bounds_are_kept(
    tmp_path: Path,
    server: dict[str, ssl.TLSVersion],
    client: dict[str, str],
    reason: str,
    version: str | None,
) -> None:
    async with tls_peer(versions=server) as peer:
        result = await run(peer.url, tls=peer.tls(tmp_path, **client))
        assert result.reason == reason
        assert (result.seen.tls_version if result.seen else None) == version


# What a response came over


async def test_the_earliest_expiry_is_the_leaf_s_when_it_expires_first(tmp_path: Path) -> None:
    ca = trustme.CA()
    async with tls_peer(ca, ca.issue_cert(TLS_NAME, not_after=SOON)) as peer:
        result = await run(peer.url, tls=peer.tls(tmp_path))
        assert result.seen == Seen("HTTP/1.1", "TLS 1.3", unix(SOON))


async def test_the_earliest_expiry_looks_past_the_leaf_at_the_chain_presented(
    tmp_path: Path,
) -> None:
    """The intermediate CA expires on 3000-01-01 (trustme's fixed date), before the leaf."""
    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert(TLS_NAME, not_after=datetime.datetime(3001, 1, 1))
    async with tls_peer(root, leaf) as peer:
        result = await run(peer.url, tls=peer.tls(tmp_path))
        assert result.success
        assert result.seen is not None
        assert result.seen.cert_expiry == unix(datetime.datetime(3000, 1, 1))


async def test_an_unverified_handshake_still_reports_the_expiry(tmp_path: Path) -> None:
    ca = trustme.CA()
    async with tls_peer(ca, ca.issue_cert(TLS_NAME, not_after=SOON)) as peer:
        result = await run(peer.url, tls={"insecure_skip_verify": True})
        assert result.seen == Seen("HTTP/1.1", "TLS 1.3", unix(SOON))


async def test_a_failed_check_still_reports_what_the_response_came_over(
    tls_server: TLSServer,
) -> None:
    tls = {"ca_file": str(tls_server.ca_file), "server_name": TLS_NAME}
    result = await run(tls_server.url + "/status/503", tls=tls)
    assert result.reason == "unexpected_status"
    assert result.seen is not None
    assert (result.seen.http_version, result.seen.tls_version) == ("HTTP/1.1", "TLS 1.3")


async def test_plain_http_has_versions_and_no_certificate(app_server: AppServer) -> None:
    result = await run(app_server.url + "/text")
    assert result.seen == Seen("HTTP/1.1", "", None)


async def test_no_response_reports_nothing_seen(closed_port: int) -> None:
    assert (await run(f"https://127.0.0.1:{closed_port}/")).seen is None


async def test_a_redirect_keeps_the_earliest_expiry_of_every_hop(
    tmp_path: Path, tls_server: TLSServer
) -> None:
    """The first hop's certificate expires soon; the server it redirects to has a later one."""
    ca = trustme.CA()
    redirect = (
        f"HTTP/1.1 302 Found\r\nLocation: {tls_server.url}/text\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    )
    ca_bundle = tmp_path / "both.pem"
    ca_bundle.write_bytes(ca.cert_pem.bytes() + tls_server.ca_file.read_bytes())
    leaving = ca.issue_cert(TLS_NAME, not_after=SOON)
    async with tls_peer(ca, leaving, answer=redirect.encode()) as peer:
        result = await run(peer.url, tls={"ca_file": str(ca_bundle), "server_name": TLS_NAME})
    assert result.success
    assert result.seen == Seen("HTTP/1.1", "TLS 1.3", unix(SOON))


async def test_a_flow_reports_the_earliest_expiry_of_all_its_steps(
    tmp_path: Path, tls_server: TLSServer
) -> None:
    ca = trustme.CA()
    async with tls_peer(ca, ca.issue_cert(TLS_NAME, not_after=SOON)) as soon:
        ca_bundle = tmp_path / "both.pem"
        ca_bundle.write_bytes(ca.cert_pem.bytes() + tls_server.ca_file.read_bytes())
        tls = {"ca_file": str(ca_bundle), "server_name": TLS_NAME}
        flow = StepsSpec.model_validate(
            {
                "steps": [
                    {"name": "expiring", "url": soon.url, "tls": tls},
                    {"name": "later", "url": tls_server.url + "/text", "tls": tls},
                ]
            }
        )
        result = await steps.probe(flow)
        assert result.success
        assert result.seen == Seen("HTTP/1.1", "TLS 1.3", unix(SOON))


async def test_openapi_reports_what_its_document_came_over(app_server: AppServer) -> None:
    spec = OpenAPISpec.model_validate({"url": app_server.url + "/json", "routes": ["GET /x"]})
    result = await openapi.probe(spec)
    assert result.seen == Seen("HTTP/1.1", "", None)
