from __future__ import annotations

import os
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from exporter.config.tls import ClientTLS
from exporter.probes._run import Failure
from exporter.probes._tls import client_context


def test_a_context_is_made_once_per_ca_file_and_again_when_the_file_changes(
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    tls = ClientTLS(ca_file=ca_file)
    first = client_context(tls)
    assert client_context(ClientTLS(ca_file=ca_file)) is first
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    os.utime(ca_file, ns=(1, 1))  # a new mtime even on a coarse clock
    assert client_context(tls) is not first


def test_an_unreadable_ca_file_is_a_failed_run(tmp_path: Path) -> None:
    tls = ClientTLS.model_construct(ca_file=tmp_path / "gone.pem", insecure_skip_verify=False)
    with pytest.raises(Failure, match=r"cannot load tls\.ca_file"):
        client_context(tls)


def _client_pair(folder: Path, ca: trustme.CA) -> tuple[Path, Path]:
    issued = ca.issue_cert("client@probe.test")
    cert, key = folder / "client.crt", folder / "client.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return cert, key


def test_a_client_certificate_is_loaded_once_per_file_pair_and_again_when_renewed(
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    cert, key = _client_pair(tmp_path, ca)
    first = client_context(ClientTLS(cert_file=cert, key_file=key))
    assert client_context(ClientTLS(cert_file=cert, key_file=key)) is first
    assert client_context(ClientTLS(cert_file=cert, key_file=key, min_version="TLS13")) is not first
    _client_pair(tmp_path, ca)
    os.utime(cert, ns=(1, 1))
    os.utime(key, ns=(1, 1))
    assert client_context(ClientTLS(cert_file=cert, key_file=key)) is not first


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"key_file": "KEY"}, "key_file goes with cert_file"),
        (
            {"min_version": "TLS13", "max_version": "TLS12"},
            "min_version TLS13 is above max_version TLS12",
        ),
        ({"min_version": "TLS1.2"}, "Input should be 'TLS10', 'TLS11', 'TLS12' or 'TLS13'"),
        (
            {"cert_file": "CERT", "key_file": "OTHER"},
            "are not a PEM certificate and its key (KEY_VALUES_MISMATCH)",
        ),
        ({"cert_file": "CERT"}, "holds no PEM certificate and matching key: set key_file"),
        (
            {"cert_file": "CERT", "key_file": "ENCRYPTED"},
            "the key is encrypted: give an unencrypted key_file",
        ),
        ({"cert_file": "CERT", "key_file": "GONE"}, "cannot read GONE: No such file or directory"),
    ],
)
def test_a_tls_block_that_cannot_work_is_refused_when_the_config_loads(
    tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    ca = trustme.CA()
    cert, key = _client_pair(tmp_path, ca)
    other = tmp_path / "other.key"
    ca.issue_cert("other@probe.test").private_key_pem.write_to_path(str(other))
    encrypted = tmp_path / "encrypted.key"
    loaded = serialization.load_pem_private_key(ca.issue_cert("e").private_key_pem.bytes(), None)
    encrypted.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    paths = {
        "KEY": key,
        "CERT": cert,
        "OTHER": other,
        "ENCRYPTED": encrypted,
        "GONE": tmp_path / "gone",
    }
    given = {k: str(paths[v]) if v in paths else v for k, v in fields.items()}
    with pytest.raises(ValidationError) as raised:
        ClientTLS.model_validate(given)
    expected = message.replace("GONE", str(tmp_path / "gone"))
    assert expected in str(raised.value)
    assert "passphrase" not in str(raised.value)
