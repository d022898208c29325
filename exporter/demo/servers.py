"""Throwaway PostgreSQL and Redis servers on loopback ports, for `make demo` and the tests.

Each server is a child of this process, in a temporary directory removed on close. PostgreSQL
runs as `postgres -D DIR` rather than through `pg_ctl`: pg_ctl leaves the postmaster orphaned,
to be reaped (or not) by PID 1, while a child is waited on when it stops.

    with PostgresServer(55432) as server:
        server.psql("CREATE DATABASE shop")
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

POSTGRES_ROOT = Path("/usr/lib/postgresql")  # Debian's layout: one bin/ per major version
_READY_TIMEOUT = 30.0


class ServerUnavailable(RuntimeError):
    """A server binary is missing, or the server would not start."""


def postgres_bin() -> Path | None:
    """The bin/ directory of the newest installed PostgreSQL server, if there is one."""
    found = [p.parent for p in POSTGRES_ROOT.glob("*/bin/postgres")]
    versions = [p for p in found if p.parent.name.isdigit()]
    return max(versions, key=lambda p: int(p.parent.name), default=None)


def redis_bin() -> Path | None:
    found = shutil.which("redis-server")
    return Path(found) if found else None


def missing_postgres() -> str | None:
    """Why PostgreSQL cannot be started here, or None when it can."""
    if postgres_bin() is None:
        return f"PostgreSQL is not installed (no {POSTGRES_ROOT}/*/bin/postgres)"
    return None


def missing_redis() -> str | None:
    """Why Redis cannot be started here, or None when it can."""
    return None if redis_bin() is not None else "Redis is not installed (no redis-server)"


class _Server:
    """A server process in its own temporary directory, started and waited on by us."""

    name = "server"

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.directory = Path(tempfile.mkdtemp(prefix=f"business-exporter-{self.name}-"))
        self.log_path = self.directory / f"{self.name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._user: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,  # Ctrl-C in a terminal is for us; we stop it ourselves
                **self._user,
            )
        self._wait(self._ready, f"{self.name} on {self.host}:{self.port} to accept connections")

    def stop(self) -> None:
        """Shut the server down and reap it. Safe to call when it is not running."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(self._stop_signal)
            try:
                process.wait(timeout=_READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    _stop_signal = signal.SIGTERM

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        while not ready():
            process = self._process
            if process is not None and process.poll() is not None:
                self._process = None
                raise ServerUnavailable(
                    f"{self.name} exited with status {process.returncode} while starting:\n"
                    f"{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(f"timed out waiting for {what}:\n{self.log_tail()}")
            time.sleep(0.01)


class PostgresServer(_Server):
    """PostgreSQL in a fresh cluster (initdb), on host:port with password (SCRAM) logins.

    The superuser `postgres` logs in without a password over the Unix socket in the server's
    directory, which only its owner can reach; `psql()` uses it to set things up.
    """

    name = "postgres"
    _stop_signal = signal.SIGINT  # fast shutdown: disconnect clients, do not wait for them

    def __init__(
        self, port: int, host: str = "127.0.0.1", tls: tuple[Path, Path] | None = None
    ) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise ServerUnavailable(missing_postgres())
        self.bin = bin_dir
        super().__init__(port, host)
        self.data = self.directory / "data"
        self._tls = tls
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self._user = {"user": "postgres", "group": "postgres", "extra_groups": []}
        try:
            self._initdb()
        except BaseException as err:
            self.close()
            if isinstance(err, LookupError | OSError):  # no `postgres` user to run it as, say
                raise ServerUnavailable(f"cannot create a PostgreSQL cluster: {err}") from None
            raise

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser, stopping at the first error; return what it printed."""
        command = [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", str(self.directory), "-p", str(self.port), "-U", "postgres"]
        done = subprocess.run(
            [*command, "-d", database], input=sql, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def _initdb(self) -> None:
        self._own(self.directory)
        command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
        command += ["--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]
        command += ["--locale=C", "--no-sync", "--no-instructions"]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.directory, check=False, **self._user
        )
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.strip()}")
        if self._tls is not None:
            for source, name in zip(self._tls, ("server.crt", "server.key"), strict=True):
                shutil.copyfile(source, self.data / name)
                self._own(self.data / name, 0o600)  # the server refuses a key others can read

    def _own(self, path: Path, mode: int = 0o700) -> None:
        if self._user:
            shutil.chown(path, "postgres", "postgres")
        path.chmod(mode)

    def _command(self) -> list[str]:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.directory),
            "fsync": "off",  # throwaway data: durability only costs time
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        if self._tls is not None:
            settings |= {"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"}
        options = [f"--{name}={value}" for name, value in settings.items()]
        return [str(self.bin / "postgres"), "-D", str(self.data), *options]

    def _ready(self) -> bool:
        # postmaster.pid's eighth line says "ready" once connections are accepted (pg_ctl -w).
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"


class RedisServer(_Server):
    """Redis without persistence. `password` protects the default user; `acl` adds users.

    `tls` is (certificate, key, CA) and adds a TLS listener on `tls_port`.
    """

    name = "redis"

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        password: str | None = None,
        acl: Sequence[str] = (),
        tls: tuple[Path, Path, Path] | None = None,
        tls_port: int | None = None,
    ) -> None:
        binary = redis_bin()
        if binary is None:
            raise ServerUnavailable(missing_redis())
        self.binary = binary
        super().__init__(port, host)
        self.tls_port = tls_port
        self.directory.chmod(0o700)  # the config file below holds passwords
        self.config = self.directory / "redis.conf"
        lines = [
            f"bind {host}",
            f"port {port}",
            'save ""',
            "appendonly no",
            f"dir {_quote(str(self.directory))}",
        ]
        if password is not None:
            lines.append(f"requirepass {_quote(password)}")
        lines += [f"user {rule}" for rule in acl]
        if tls is not None and tls_port is not None:
            cert, key, ca = (_quote(str(p)) for p in tls)
            lines += [f"tls-port {tls_port}", f"tls-cert-file {cert}", f"tls-key-file {key}"]
            lines += [f"tls-ca-cert-file {ca}", "tls-auth-clients no"]
        self.config.write_text("\n".join(lines) + "\n")
        self.config.chmod(0o600)

    def _command(self) -> list[str]:
        return [str(self.binary), str(self.config)]

    def _ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                answer = _read_line(sock)
        except OSError:
            return False
        # Without credentials a protected server says NOAUTH: it is up all the same.
        return answer.startswith((b"+PONG", b"-NOAUTH"))


def acl_user(name: str, password: str, rules: str) -> str:
    """An `acl` entry for RedisServer: a user that logs in with `password` and has `rules`."""
    return f"{name} on {_quote('>' + password)} {rules}"


def _read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data


def _quote(value: str) -> str:
    """A value for redis.conf, which splits on spaces and understands C-like escapes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'
