"""The PostgreSQL probe: a fresh login, a query, and row-level security and tenant isolation checks.

result = await probe(PostgresSpec.model_validate({"host": "db", "user": "monitor", ...}))

Everything after the login runs in one read-only transaction that is rolled back, with a
statement timeout of what is left of the run's budget: the server refuses any write, whatever
the query says, and stops working when the scheduler stops waiting. Both are set in SQL, not
as startup parameters, which connection poolers such as PgBouncer refuse.

Each run opens its own connection and closes it, also when cancelled (the scheduler's timeout):
`terminate()` is synchronous, so it is safe in a `finally` that must not await. The password is
masked in every detail and trace line (`_mask.masking`), whatever the driver puts in its messages.
"""

from __future__ import annotations

import contextlib
import math
import socket
import ssl
import time
from typing import Any

import asyncpg

from exporter.config.postgres import PostgresSpec, RLSCheck, TenantIsolationCheck
from exporter.conventions import (
    REASON_AUTH_ERROR,
    REASON_CONNECT_ERROR,
    REASON_DNS_ERROR,
    REASON_ERROR,
    REASON_ISOLATION_BREACH,
    REASON_QUERY_ERROR,
    REASON_RLS_DISABLED,
    REASON_TLS_ERROR,
    REASON_UNEXPECTED_RESULT,
)
from exporter.probes._mask import PreparedProbe, no_plan, the_spec
from exporter.probes._mask import prepare as prepare_with
from exporter.probes._run import Failure, Run, ms, short
from exporter.probes._tls import client_context
from exporter.probes.budget import remaining_budget
from exporter.probes.result import ProbeResult, Trace

APPLICATION_NAME = "business_exporter"  # what pg_stat_activity shows for the probe's sessions
DEFAULT_BUDGET = 10.0  # seconds, for a run whose caller set no budget: a target's default timeout

# SQLSTATE classes that mean "no usable session" rather than "this query failed": connection
# exceptions, operator intervention (shutdown, starting up), insufficient resources.
_CONNECTION_STATES = ("08", "57P", "53", "3D000")
_ROLE_STATES = frozenset({"42501", "22023", "42704"})  # permission denied, no such role

_RLS_QUERY = """
SELECT c.oid IS NOT NULL, coalesce(c.relrowsecurity, false), coalesce(c.relforcerowsecurity, false)
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, position)
LEFT JOIN pg_catalog.pg_class AS c ON c.oid = pg_catalog.to_regclass(t.name)
ORDER BY t.position
"""


class _Session:
    """One run's connection: closed politely when possible, dropped when not."""

    def __init__(self, spec: PostgresSpec, trace: Trace | None) -> None:
        self.spec = spec
        self.run = Run(trace, spec.step_names())
        self.connection: asyncpg.Connection | None = None

    async def close(self) -> None:
        """Say goodbye properly when the session is still open."""
        if self.connection is not None and not self.connection.is_closed():
            with contextlib.suppress(Exception):  # the verdict is in; a failed goodbye is moot
                await self.connection.close()

    def release(self) -> None:
        """Drop the connection without waiting: what is left after cancellation or a hang."""
        if self.connection is not None and not self.connection.is_closed():
            self.connection.terminate()


def prepare(spec: PostgresSpec) -> PreparedProbe[PostgresSpec, PostgresSpec, None]:
    """The probe of `spec`: it connects anew each run, so there is nothing more to prepare."""
    return prepare_with(spec, no_plan, _probe, the_spec)


async def probe(spec: PostgresSpec, trace: Trace | None = None) -> ProbeResult:
    """Log in, run the query and the configured checks; trouble comes back as a failed result."""
    return await prepare(spec)(trace)


async def _probe(spec: PostgresSpec, _plan: None, trace: Trace | None) -> ProbeResult:
    session = _Session(spec, trace)
    tls = " over TLS" if spec.tls is not None else ""
    session.run.note(f"connecting to {_where(spec)}{_database(spec)} as {spec.user}{tls}")
    try:
        result = await _run(session)
    finally:
        session.release()
    return session.run.finish(result)


async def _run(session: _Session) -> ProbeResult:
    spec, run = session.spec, session.run
    try:
        with run.step("connect"):
            session.connection = connection = await _connect(spec)
        version = connection.get_settings().server_version.split()[0]
        run.note(f"connected in {ms(run.started)}: PostgreSQL {version}")
        await _query(connection, spec, run)
        if spec.rls is not None:
            with run.step("rls"):
                await _check_rls(connection, spec.rls, run)
        if spec.tenant_isolation is not None:
            with run.step("tenant_isolation"):
                await _check_isolation(connection, spec.tenant_isolation, run)
        result = ProbeResult.ok()  # the transaction ends with the session: rolled back
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        reason, detail = _classify(err, spec, run.phase)
        result = ProbeResult.failed(reason, detail)
    await session.close()
    return result


async def _connect(spec: PostgresSpec) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=spec.host,
        port=spec.port,
        user=spec.user,
        password=spec.password.reveal() if spec.password is not None else None,
        database=spec.database,
        ssl=client_context(spec.tls) if spec.tls is not None else False,
        statement_cache_size=0,  # one connection per run: nothing to reuse a statement for
        server_settings={"application_name": APPLICATION_NAME},
    )


async def _begin_read_only(connection: asyncpg.Connection, run: Run) -> None:
    """Open the run's transaction: read-only, each statement cut off when the budget is spent."""
    budget = remaining_budget()
    timeout_ms = max(1, math.ceil((DEFAULT_BUDGET if budget is None else budget) * 1000))
    # One round trip (simple protocol); 0 would mean no timeout at all, hence at least 1 ms.
    await connection.execute(f"BEGIN READ ONLY; SET LOCAL statement_timeout = {timeout_ms}")
    run.note(f"in a read-only transaction, statement_timeout {timeout_ms}ms")


async def _query(connection: asyncpg.Connection, spec: PostgresSpec, run: Run) -> None:
    with run.step("query"):
        await _begin_read_only(connection, run)
        started = time.perf_counter()
        row = await connection.fetchrow(spec.query)
        if not connection.is_in_transaction():  # config validation refuses such a query
            raise Failure(REASON_QUERY_ERROR, "the query ended the probe's read-only transaction")
        value = row[0] if row is not None and len(row) > 0 else None
        run.note(f"{short(spec.query)} returned {short(repr(value))} in {ms(started)}")
        if not spec.has_expectation:
            return
        if row is None or len(row) == 0:
            raise Failure(REASON_UNEXPECTED_RESULT, f"{short(spec.query)} returned no rows")
        if not _equal(value, spec.expect):
            raise Failure(
                REASON_UNEXPECTED_RESULT,
                f"{short(spec.query)} returned {short(repr(value))}, "
                f"expected {short(repr(spec.expect))}",
            )


def _equal(value: Any, expected: Any) -> bool:
    """Equal as YAML means it: true is not 1, and text matches the value's text (dates, uuids)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(expected, str) and value is not None:
        return str(value) == expected
    return bool(value == expected)


async def _check_rls(connection: asyncpg.Connection, check: RLSCheck, run: Run) -> None:
    rows = await connection.fetch(_RLS_QUERY, [_quote_table(t) for t in check.tables])
    missing, off, not_forced = [], [], []
    for table, (exists, enabled, forced) in zip(check.tables, rows, strict=True):
        if not exists:
            missing.append(table)
        elif not enabled:
            off.append(table)
        elif not forced:
            not_forced.append(table)
    if missing:
        raise Failure(REASON_QUERY_ERROR, f"no such table: {', '.join(missing)}")
    problems = []
    if off:
        problems.append(f"row-level security is off on {', '.join(off)}")
    if not_forced:
        problems.append(
            f"row-level security is not forced on {', '.join(not_forced)} "
            f"(the table owner bypasses it)"
        )
    if problems:
        raise Failure(REASON_RLS_DISABLED, "; ".join(problems))
    run.note(f"row-level security enabled and forced on {', '.join(check.tables)}")


async def _check_isolation(
    connection: asyncpg.Connection, check: TenantIsolationCheck, run: Run
) -> None:
    """Count, as one tenant, the rows of others; the role and setting last until the rollback."""
    acting = f"tenant {check.tenant}" + (f" as role {check.role}" if check.role else "")
    if check.role is not None:
        await _set_role(connection, check.role)
    if check.setting is not None:
        sql = "SELECT pg_catalog.set_config($1, $2, true)"
        await connection.fetchval(sql, check.setting, check.tenant)
    column = _quote(check.tenant_column)
    visible = {}
    for table in check.tables:
        sql = f"SELECT count(*) FROM {_quote_table(table)} WHERE {column}::text IS DISTINCT FROM $1"
        visible[table] = await connection.fetchval(sql, check.tenant)
    breached = [f"{count} in {table}" for table, count in visible.items() if count]
    if breached:
        raise Failure(
            REASON_ISOLATION_BREACH,
            f"acting as {acting}, rows of other tenants are visible: {', '.join(breached)}",
        )
    run.note(f"acting as {acting}: no rows of other tenants in {', '.join(check.tables)}")


async def _set_role(connection: asyncpg.Connection, role: str) -> None:
    try:
        await connection.execute(f"SET LOCAL ROLE {_quote(role)}")
    except asyncpg.PostgresError as err:
        if err.sqlstate not in _ROLE_STATES:
            raise
        raise Failure(REASON_AUTH_ERROR, f"cannot act as role {role}: {err}") from None


def _classify(err: Exception, spec: PostgresSpec, phase: str) -> tuple[str, str]:
    """Name what went wrong in the bounded reason vocabulary."""
    where = _where(spec)
    if isinstance(err, Failure):
        return err.reason, str(err)
    if isinstance(err, asyncpg.PostgresError):
        return _server_error(err, where, phase)
    if isinstance(err, socket.gaierror):
        return REASON_DNS_ERROR, f"cannot resolve {spec.host}: {err.strerror or err}"
    if isinstance(err, ssl.SSLCertVerificationError):
        return REASON_TLS_ERROR, f"certificate of {where} not accepted: {err.verify_message}"
    if isinstance(err, ssl.SSLError):
        return REASON_TLS_ERROR, f"TLS failed with {where}: {err.reason or err}"
    if isinstance(err, ConnectionError) and spec.tls is not None and "SSL" in str(err):
        return REASON_TLS_ERROR, f"{where} would not talk TLS: {err}"  # asyncpg's own refusal
    if isinstance(err, ConnectionRefusedError):
        return REASON_CONNECT_ERROR, f"connection refused by {where}"
    if isinstance(err, OSError):
        return REASON_CONNECT_ERROR, f"cannot connect to {where}: {err.strerror or err}"
    if isinstance(err, asyncpg.InterfaceError) and "closed" in str(err):
        return REASON_CONNECT_ERROR, f"connection to {where} lost during {phase}: {err}"
    return REASON_ERROR, f"{phase}: {type(err).__name__}: {err}"


def _server_error(err: asyncpg.PostgresError, where: str, phase: str) -> tuple[str, str]:
    state = err.sqlstate or ""
    if state.startswith("28"):
        return REASON_AUTH_ERROR, f"{where} refused the login: {err} ({state})"
    if state.startswith(_CONNECTION_STATES):
        return REASON_CONNECT_ERROR, f"{where} during {phase}: {err} ({state})"
    return REASON_QUERY_ERROR, f"{phase} failed: {err} ({state})"


def _quote(name: str) -> str:
    """A quoted SQL identifier. Config validation allows only plain names; quoting is the net."""
    return '"' + name.replace('"', '""') + '"'


def _quote_table(name: str) -> str:
    return ".".join(_quote(part) for part in name.split("."))


def _where(spec: PostgresSpec) -> str:
    return spec.host if spec.host.startswith("/") else f"{spec.host}:{spec.port}"


def _database(spec: PostgresSpec) -> str:
    return f" database {spec.database}" if spec.database else ""
