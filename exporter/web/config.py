"""--web.config.file: the web configuration format of Prometheus' exporter-toolkit.

    tls_server_config: {cert_file, key_file, client_auth_type, client_ca_file,
                        min_version, max_version, prefer_server_cipher_suites}
    http_server_config: {http2, headers: {Content-Security-Policy, X-Frame-Options, ...}}
    basic_auth_users: {USER: BCRYPT_HASH, ...}

Files are relative to the web config's directory. Keys of the toolkit's format this exporter
cannot honour are refused by name, never ignored: a file written for another exporter must not
leave this one less protected than its author believes.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from exporter import yamlsource
from exporter.web import tls
from exporter.yamlsource import Problem

MAX_FILE_BYTES = 1 << 20  # a web config is a few lines; anything this size is a mistake

# $2a$, $2b$ (and htpasswd's $2y$), a two-digit cost, 22 characters of salt and 31 of hash.
_BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")

_UNSUPPORTED = {
    ("tls_server_config", "cert"): "give the certificate as cert_file",
    ("tls_server_config", "key"): "give the key as key_file",
    ("tls_server_config", "client_ca"): "give the client CA as client_ca_file",
    ("tls_server_config", "cipher_suites"): "the exporter uses OpenSSL's default TLS 1.2 suites",
    ("tls_server_config", "curve_preferences"): "the exporter uses OpenSSL's default curves",
    ("tls_server_config", "client_allowed_sans"): "restrict client certificates by their CA",
    ("rate_limit",): "the exporter bounds connections and /probe runs by flags instead",
}


class WebConfigError(Exception):
    """A web config that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem], source: str) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render(source) for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


TLSVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]


class TLSServerConfig(_Strict):
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    min_version: TLSVersion = "TLS12"
    max_version: TLSVersion = "TLS13"
    prefer_server_cipher_suites: bool = True


class Headers(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)
    content_security_policy: str = Field("", alias="Content-Security-Policy")
    x_frame_options: Literal["", "deny", "sameorigin"] = Field("", alias="X-Frame-Options")
    x_content_type_options: Literal["", "nosniff"] = Field("", alias="X-Content-Type-Options")
    x_xss_protection: str = Field("", alias="X-XSS-Protection")
    strict_transport_security: str = Field("", alias="Strict-Transport-Security")

    @field_validator("*")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("a header value is one line")
        return value


class HTTPServerConfig(_Strict):
    http2: bool = True  # the exporter speaks HTTP/1.1 only; the toolkit's default is accepted
    headers: Headers = Headers()


class WebConfigModel(_Strict):
    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = HTTPServerConfig()
    basic_auth_users: dict[str, str] = {}


@dataclass(frozen=True)
class WebSecurity:
    """What the web config asks for, ready to serve: a TLS context, users, extra headers."""

    ssl_context: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    source: str = ""


def load_web_config(path: Path) -> WebSecurity:
    """Read and check a web config file; raise WebConfigError listing every problem."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        problem = Problem("", f"cannot read web config: {err.strerror}")
        raise WebConfigError([problem], str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        problem = Problem("", f"larger than {MAX_FILE_BYTES} bytes: not a web config")
        raise WebConfigError([problem], str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        problem = Problem("", f"not UTF-8 text (byte {err.start})")
        raise WebConfigError([problem], str(path)) from None
    return parse_web_config(text, path.parent, str(path))


def parse_web_config(text: str, directory: Path, source: str = "<web config>") -> WebSecurity:
    """Parse web config text whose files are relative to `directory`."""
    doc = yamlsource.load(text)
    problems = list(doc.problems)
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        problems.append(Problem("", "a web config is a mapping", doc.line_of(())))
        raise WebConfigError(problems, source)
    problems += _empty_sections(data, doc)
    problems += _unsupported(data, doc)
    try:
        model = WebConfigModel.model_validate(data)
    except ValidationError as err:
        problems += _from_pydantic(err, doc)
        raise WebConfigError(problems, source) from None
    problems += _user_problems(model.basic_auth_users, doc)
    context = None
    if model.tls_server_config is not None:

        def report(key: str, message: str) -> None:
            path = ("tls_server_config", key) if key else ("tls_server_config",)
            problems.append(Problem(yamlsource.format_path(path), message, doc.line_of(path)))

        context = tls.server_context(model.tls_server_config, directory, report)
    if problems:
        raise WebConfigError(sorted(problems, key=lambda p: p.line or 0), source)
    users = {user: hashed.encode() for user, hashed in model.basic_auth_users.items()}
    headers = model.http_server_config.headers.model_dump(by_alias=True)
    return WebSecurity(context, users, tuple((k, v) for k, v in headers.items() if v), source)


def _empty_sections(data: dict[str, Any], doc: yamlsource.Document) -> list[Problem]:
    """A section left empty (its lines commented out, say) must not turn security off."""
    problems = []
    for key in ("tls_server_config", "http_server_config", "basic_auth_users"):
        if key in data and data[key] is None:
            del data[key]
            message = "empty: fill it in, or remove the key"
            problems.append(Problem(key, message, doc.line_of((key,))))
    return problems


def _user_problems(users: dict[str, str], doc: yamlsource.Document) -> list[Problem]:
    problems = []
    for user, hashed in users.items():
        path = ("basic_auth_users", user)
        if not user or ":" in user:
            message = "a basic-auth user name is not empty and has no ':'"
        elif not _BCRYPT.match(hashed):
            message = (
                "not a bcrypt hash ($2b$, $2y$ or $2a$, a cost, 53 characters); make one with "
                "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`"
            )
        else:
            continue
        problems.append(Problem(yamlsource.format_path(path), message, doc.line_of(path)))
    return problems


def _unsupported(data: dict[str, Any], doc: yamlsource.Document) -> list[Problem]:
    """Problems for the toolkit's keys this exporter cannot honour; removes them from `data`."""
    problems = []
    for path, advice in _UNSUPPORTED.items():
        parent: Any = data
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            del parent[path[-1]]
            message = f"not supported by business-exporter: {advice}"
            problems.append(Problem(yamlsource.format_path(path), message, doc.line_of(path)))
    return problems


def _from_pydantic(err: ValidationError, doc: yamlsource.Document) -> list[Problem]:
    problems = []
    for error in err.errors():
        path = tuple(part for part in error["loc"] if isinstance(part, str | int))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(Problem(yamlsource.format_path(path), message, doc.line_of(path)))
    return problems
