from __future__ import annotations

import os
from pathlib import Path

import pytest
import trustme

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
