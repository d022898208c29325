"""--web.config.file: the exporter-toolkit format, every problem with its path and line."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from exporter.cli import main
from exporter.web.config import WebConfigError, load_web_config
from tests.servers import free_port
from tests.web.conftest import HASH, PKI, USER, tls_config, web_config

CERTS = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"

INVALID = {
    "an unknown key": (
        CERTS + "  cert_fiel: x.crt\n",
        ["tls_server_config.cert_fiel: unknown key (web.yml:4)"],
    ),
    "keys of the toolkit this exporter cannot honour": (
        CERTS + "  cipher_suites: [TLS_AES_128_GCM_SHA256]\nrate_limit: {interval: 1s}\n",
        [
            "tls_server_config.cipher_suites: not supported by business-exporter: the exporter "
            "uses OpenSSL's default TLS 1.2 suites (web.yml:4)",
            "rate_limit: not supported by business-exporter: the exporter bounds connections and "
            "/probe runs by flags instead (web.yml:5)",
        ],
    ),
    "TLS without a certificate": (
        "tls_server_config:\n  min_version: TLS13\n",
        [
            "tls_server_config.cert_file: required with tls_server_config (web.yml:1)",
            "tls_server_config.key_file: required with tls_server_config (web.yml:1)",
        ],
    ),
    "a certificate file that is not there": (
        "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
        ["tls_server_config.cert_file: no such file: {dir}/nope.crt (web.yml:2)"],
    ),
    "a key that is not the certificate's": (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
        [
            "tls_server_config: cannot load cert_file {dir}/server.crt with key_file "
            "{dir}/other.key: the key is not the certificate's (web.yml:1)"
        ],
    ),
    "a client auth type that does not verify": (
        CERTS + "  client_auth_type: RequireAnyClientCert\n",
        [
            "tls_server_config.client_auth_type: RequireAnyClientCert accepts client certificates "
            "it does not verify: not supported, use RequireAndVerifyClientCert (or "
            "VerifyClientCertIfGiven) (web.yml:4)"
        ],
    ),
    "client certificates required without a CA": (
        CERTS + "  client_auth_type: RequireAndVerifyClientCert\n",
        [
            "tls_server_config.client_ca_file: required with client_auth_type "
            "RequireAndVerifyClientCert (web.yml:1)"
        ],
    ),
    "a client CA nothing checks": (
        CERTS + "  client_ca_file: ca.pem\n",
        [
            "tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert: "
            "nothing checks it (web.yml:4)"
        ],
    ),
    "versions the wrong way round": (
        CERTS + "  min_version: TLS13\n  max_version: TLS12\n",
        ["tls_server_config.min_version: TLS13 is above max_version TLS12 (web.yml:4)"],
    ),
    "a password instead of its hash, and a user name with a colon": (
        f"basic_auth_users:\n  alice: hunter2\n  'bob:x': {HASH}\n",
        [
            "basic_auth_users.alice: not a bcrypt hash ($2b$, $2y$ or $2a$, a cost, 53 "
            "characters); make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'` (web.yml:2)",
            "basic_auth_users.bob:x: a basic-auth user name is not empty and has no ':' "
            "(web.yml:3)",
        ],
    ),
    "sections left empty": (
        "tls_server_config:\nbasic_auth_users:\n",
        [
            "tls_server_config: empty: fill it in, or remove the key (web.yml:1)",
            "basic_auth_users: empty: fill it in, or remove the key (web.yml:2)",
        ],
    ),
    "headers the toolkit does not know, or values it does not allow": (
        "http_server_config:\n  headers:\n    X-Frame-Options: allow\n    X-Powered-By: me\n",
        [
            "http_server_config.headers.X-Frame-Options: Input should be '', 'deny' or "
            "'sameorigin' (web.yml:3)",
            "http_server_config.headers.X-Powered-By: unknown key (web.yml:4)",
        ],
    ),
    "not a mapping": ("- tls_server_config\n", ["a web config is a mapping (web.yml:1)"]),
}


@pytest.fixture(scope="module")
def other_key(pki: PKI) -> Path:
    path = pki.folder / "other.key"
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(path))
    return path


@pytest.mark.parametrize("case", INVALID.keys())
def test_an_invalid_web_config_names_every_problem_with_its_line(
    pki: PKI, other_key: Path, case: str
) -> None:
    text, expected = INVALID[case]
    with pytest.raises(WebConfigError) as raised:
        web_config(text.replace("server.crt", pki.cert_file.name), pki)
    assert str(raised.value).splitlines() == [e.format(dir=pki.folder) for e in expected]


def test_a_good_web_config_becomes_a_tls_context_users_and_headers(pki: PKI) -> None:
    text = tls_config(
        pki,
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
        "  min_version: TLS13\n"
        "http_server_config:\n  headers: {X-Content-Type-Options: nosniff}\n"
        f"basic_auth_users:\n  {USER}: {HASH}\n",
    )
    security = web_config(text, pki)
    assert security.ssl_context is not None
    assert security.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert security.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert security.users == {USER: HASH.encode()}
    assert security.headers == (("X-Content-Type-Options", "nosniff"),)


def test_files_are_relative_to_the_web_config_not_the_working_directory(
    pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pki.folder / "web.yml"
    path.write_text(tls_config(pki))
    monkeypatch.chdir(tmp_path)
    assert load_web_config(path).ssl_context is not None


def test_an_unreadable_or_undecodable_web_config_is_an_error(tmp_path: Path) -> None:
    binary = tmp_path / "web.yml"
    binary.write_bytes(b"basic_auth_users: {\xff: x}\n")
    with pytest.raises(WebConfigError, match=r"not UTF-8 text \(byte 19\)"):
        load_web_config(binary)
    with pytest.raises(WebConfigError, match="cannot read web config: No such file"):
        load_web_config(tmp_path / "missing.yml")


def test_serve_refuses_an_invalid_web_config_with_exit_2_and_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "targets:\n  - {name: t, severity: high, context: c, service: s, "
        "http: {url: 'http://127.0.0.1:1/'}}\n"
    )
    web = tmp_path / "web.yml"
    web.write_text("basic_auth_users:\n  alice: hunter2\n")
    port = free_port()
    argv = ["serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
    assert main([*argv, "--web.config.file", str(web)]) == 2  # returns: nothing was served
    err = capsys.readouterr().err
    assert err.startswith(f"{web}: invalid web config:\nbasic_auth_users.alice: not a bcrypt hash")
