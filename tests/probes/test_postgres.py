"""The PostgreSQL probe against a real server (tests/databases.py): logins, queries, RLS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from exporter.config import parse_config
from exporter.demo import database
from exporter.probes import Trace, time_budget
from exporter.probes.postgres import probe
from exporter.scheduler import Scheduler, run_once
from tests.databases import (
    ISOLATION,
    MONITOR_PASSWORD,
    Postgres,
    fails_until_restarted,
    target_yaml,
)
from tests.servers import async_wait_for, hung_server

TABLES = {"tables": ["organisations", "users"]}
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def steps(result: Any) -> list[tuple[str, bool]]:
    return [(step.name, step.success) for step in result.steps]


async def test_a_login_and_a_query_succeed_with_a_step_each(postgres: Postgres) -> None:
    trace = Trace()
    result = await probe(postgres.parsed(expect=1), trace)
    assert (result.success, result.reason, result.detail) == (True, "success", "")
    assert steps(result) == [("connect", True), ("query", True)]
    port = postgres.server.port
    assert trace.lines[0] == f"connecting to 127.0.0.1:{port} database tenants as business_exporter"
    assert trace.lines[1].startswith("connected in ")
    assert "PostgreSQL 15" in trace.lines[1]
    assert trace.lines[2] == "in a read-only transaction, statement_timeout 10000ms"
    assert trace.lines[3].startswith("SELECT 1 returned 1 in ")
    assert trace.lines[-1].startswith("verdict: success, ")


@pytest.mark.parametrize(
    ("query", "expect", "detail"),
    [
        ("SELECT 1", 1, ""),
        ("SELECT 'acme'", "acme", ""),
        ("SELECT DATE '2024-01-02'", "2024-01-02", ""),  # text compares with the value's text
        ("SELECT count(*) > 0 FROM pg_class", True, ""),
        ("SELECT 2", 1, "SELECT 2 returned 2, expected 1"),
        ("SELECT true", 1, "SELECT true returned True, expected 1"),
        ("SELECT NULL", "x", "SELECT NULL returned None, expected 'x'"),
        ("SELECT 1 WHERE false", 1, "SELECT 1 WHERE false returned no rows"),
    ],
)
async def test_the_first_column_of_the_first_row_must_equal_expect(
    postgres: Postgres, query: str, expect: Any, detail: str
) -> None:
    result = await probe(postgres.parsed(query=query, expect=expect))
    assert (result.reason, result.detail) == ("unexpected_result" if detail else "success", detail)
    assert steps(result) == [("connect", True), ("query", not detail)]


async def test_without_expect_any_answer_will_do(postgres: Postgres) -> None:
    assert (await probe(postgres.parsed(query="SELECT 1 WHERE false"))).success


async def test_a_failing_query_is_a_query_error(postgres: Postgres) -> None:
    result = await probe(postgres.parsed(query="SELECT * FROM no_such_table"))
    assert result.reason == "query_error"
    assert result.detail == 'query failed: relation "no_such_table" does not exist (42P01)'
    assert steps(result) == [("connect", True), ("query", False)]


async def test_a_wrong_password_is_an_auth_error_that_shows_no_password(
    postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Secret-Password-42"
    spec = postgres.spec(password=postgres.password(wrong))
    config = parse_config(target_yaml("db", "postgres", spec, failure_threshold=1))
    trace = Trace()
    result, _ = await run_once(config.targets[0], trace)
    scheduler = Scheduler()
    scheduler.apply(config)
    try:
        await async_wait_for(lambda: scheduler.states["db"].failing, what="a failing target")
    finally:
        await scheduler.stop()
    assert result.reason == "auth_error"
    assert result.detail == (
        f"127.0.0.1:{postgres.server.port} refused the login: "
        f'password authentication failed for user "business_exporter" (28P01)'
    )
    assert "auth_error" in caplog.text  # the logs do tell the story...
    for secret in (wrong, MONITOR_PASSWORD):  # ...without a password
        assert secret not in result.detail
        assert secret not in "\n".join(trace.lines)
        assert secret not in caplog.text


async def test_a_password_the_server_echoes_is_scrubbed(
    raw_server: Callable[[Handler], Awaitable[str]], postgres: Postgres
) -> None:
    async def echo_password(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A peer that asks for the password in clear text and quotes it back in its error.
        await reader.readexactly(_length(await reader.readexactly(4)) - 4)  # startup message
        writer.write(b"R" + _int(8) + _int(3))  # AuthenticationCleartextPassword
        await reader.readexactly(1)
        password = (await reader.readexactly(_length(await reader.readexactly(4)) - 4))[:-1]
        fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword " + password + b" is not right\0\0"
        writer.write(b"E" + _int(len(fields) + 4) + fields)
        await writer.drain()
        writer.close()

    port = int((await raw_server(echo_password)).rsplit(":", 1)[1].strip("/"))
    trace = Trace()
    result = await probe(postgres.parsed(host="127.0.0.1", port=port), trace)
    assert result.reason == "auth_error"
    expected = f"127.0.0.1:{port} refused the login: password <secret> is not right (28P01)"
    assert result.detail == expected
    assert MONITOR_PASSWORD not in "\n".join(trace.lines)


def _int(value: int) -> bytes:
    return value.to_bytes(4, "big")


def _length(data: bytes) -> int:
    return int.from_bytes(data, "big")


async def test_refused_and_unresolvable_servers_have_their_reasons(
    postgres: Postgres, closed_port: int
) -> None:
    refused = await probe(postgres.parsed(port=closed_port))
    assert (refused.reason, refused.detail) == (
        "connect_error",
        f"connection refused by 127.0.0.1:{closed_port}",
    )
    assert steps(refused) == [("connect", False), ("query", False)]  # every step, every run
    unknown = await probe(postgres.parsed(host="no-such-host.invalid"))
    assert unknown.reason == "dns_error"
    assert unknown.detail.startswith("cannot resolve no-such-host.invalid: ")


async def test_tls_verifies_the_server_certificate(postgres: Postgres) -> None:
    verified = await probe(postgres.parsed(tls={"ca_file": str(postgres.certificates.ca_file)}))
    assert verified.success
    unverified = await probe(postgres.parsed(tls={"insecure_skip_verify": True}))
    assert unverified.success
    untrusted = await probe(postgres.parsed(tls={}))  # the system CAs do not know the test CA
    assert untrusted.reason == "tls_error"
    assert untrusted.detail == (
        f"certificate of 127.0.0.1:{postgres.server.port} not accepted: "
        f"unable to get local issuer certificate"
    )


async def test_a_stopped_database_fails_its_target_until_it_is_back(postgres: Postgres) -> None:
    spec = postgres.spec()
    config = parse_config(
        target_yaml("db", "postgres", spec, failure_threshold=2, success_threshold=2)
    )
    state = await fails_until_restarted(config, postgres.server)
    assert state.consecutive_successes >= 2
    assert state.last_result is not None
    assert state.last_result.success


async def test_a_timed_out_query_leaves_no_session_behind(
    postgres: Postgres, tenant_database: str
) -> None:
    # The backend notices a vanished client during pg_sleep only when asked to check.
    postgres.server.psql(
        f"ALTER DATABASE {tenant_database} SET client_connection_check_interval = '20ms'"
    )
    spec = postgres.spec(dbname=tenant_database, query="SELECT pg_sleep(30)")
    config = parse_config(target_yaml("slow", "postgres", spec, interval="1s", timeout="300ms"))
    result, duration = await run_once(config.targets[0])
    assert result.reason == "timeout"
    assert duration < 1
    # The loop must run for the aborted socket to close: no blocking wait here.
    await async_wait_for(lambda: _sessions(postgres, tenant_database) == 0, what="the session end")


def _sessions(postgres: Postgres, database: str) -> int:
    return int(
        postgres.server.psql(
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND application_name = 'business_exporter'"
        )
    )


async def test_a_hung_server_times_out() -> None:
    with hung_server() as (url, accepted):
        port = int(url.rsplit(":", 1)[1])
        spec = {"host": "127.0.0.1", "port": port, "user": "x"}
        config = parse_config(target_yaml("hung", "postgres", spec, interval="1s", timeout="200ms"))
        result, duration = await run_once(config.targets[0])
        assert result.reason == "timeout"
        assert 0.19 <= duration < 0.5  # timers may fire a clock tick early
        assert steps(result) == [("connect", False), ("query", False)]
        await async_wait_for(lambda: accepted, what="the probe's connection")
        accepted[0].settimeout(2)
        assert accepted[0].recv(1024).startswith(b"\0")  # its startup message, then...
        await asyncio.sleep(0)  # (the loop closes an aborted socket on its next turn)
        assert accepted[0].recv(1024) == b""  # ...it hung up


async def test_rls_enabled_and_forced_passes(postgres: Postgres) -> None:
    trace = Trace()
    result = await probe(postgres.parsed(rls=TABLES), trace)
    assert result.success
    assert steps(result) == [("connect", True), ("query", True), ("rls", True)]
    assert "row-level security enabled and forced on organisations, users" in trace.lines


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ("ALTER TABLE users DISABLE ROW LEVEL SECURITY", "row-level security is off on users"),
        (
            "ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
            "row-level security is not forced on users (the table owner bypasses it)",
        ),
        (
            "ALTER TABLE users NO FORCE ROW LEVEL SECURITY; "
            "ALTER TABLE organisations DISABLE ROW LEVEL SECURITY",
            "row-level security is off on organisations; "
            "row-level security is not forced on users (the table owner bypasses it)",
        ),
    ],
    ids=["disabled", "not-forced", "both"],
)
async def test_rls_off_or_not_forced_fails_the_rls_check(
    postgres: Postgres, tenant_database: str, change: str, detail: str
) -> None:
    spec = postgres.parsed(dbname=tenant_database, rls=TABLES)
    assert (await probe(spec)).success
    postgres.server.psql(change, tenant_database)
    result = await probe(spec)
    assert (result.success, result.reason, result.detail) == (False, "rls_disabled", detail)
    assert steps(result) == [("connect", True), ("query", True), ("rls", False)]


async def test_a_missing_table_fails_the_rls_check_as_a_query_error(postgres: Postgres) -> None:
    result = await probe(postgres.parsed(rls={"tables": ["users", "public.invoices"]}))
    assert (result.reason, result.detail) == ("query_error", "no such table: public.invoices")


async def test_one_tenant_sees_only_its_own_rows(postgres: Postgres) -> None:
    trace = Trace()
    result = await probe(postgres.parsed(rls=TABLES, tenant_isolation=ISOLATION), trace)
    assert result.success
    assert steps(result)[-1] == ("tenant_isolation", True)
    assert (
        "acting as tenant acme as role app_user: no rows of other tenants in organisations, users"
        in trace.lines
    )


async def test_a_policy_that_shows_other_tenants_fails_the_isolation_check(
    postgres: Postgres, tenant_database: str
) -> None:
    spec = postgres.parsed(dbname=tenant_database, rls=TABLES, tenant_isolation=ISOLATION)
    assert (await probe(spec)).success
    postgres.server.psql(
        "DROP POLICY tenant_isolation ON users; CREATE POLICY everyone ON users USING (true)",
        tenant_database,
    )
    result = await probe(spec)
    assert result.reason == "isolation_breach"
    assert result.detail == (  # counts, never the rows: globex has one user
        "acting as tenant acme as role app_user, rows of other tenants are visible: 1 in users"
    )
    assert steps(result)[-2:] == [("rls", True), ("tenant_isolation", False)]


async def test_rows_without_a_tenant_count_as_another_tenants(
    postgres: Postgres, tenant_database: str
) -> None:
    # IS DISTINCT FROM, not !=: a policy that lets NULL-tenant rows through is a breach too.
    postgres.server.psql(
        "ALTER TABLE users ALTER COLUMN tenant_id DROP NOT NULL; "
        "INSERT INTO users (tenant_id, email) VALUES (NULL, 'orphan@example.com'); "
        "DROP POLICY tenant_isolation ON users; "
        "CREATE POLICY leaky ON users USING (tenant_id IS NULL OR tenant_id = "
        "current_setting('app.current_tenant', true))",
        tenant_database,
    )
    result = await probe(postgres.parsed(dbname=tenant_database, tenant_isolation=ISOLATION))
    assert (result.reason, result.detail) == (
        "isolation_breach",
        "acting as tenant acme as role app_user, rows of other tenants are visible: 1 in users",
    )


async def test_a_role_the_login_may_not_act_as_is_an_auth_error(postgres: Postgres) -> None:
    result = await probe(postgres.parsed(tenant_isolation={**ISOLATION, "role": "postgres"}))
    assert (result.reason, result.detail) == (
        "auth_error",
        'cannot act as role postgres: permission denied to set role "postgres"',
    )


# What a probe can do to its target: read, within its budget.


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("DELETE FROM canary RETURNING 1", "DELETE"),
        ("WITH gone AS (DELETE FROM canary RETURNING 1) SELECT count(*) FROM gone", "SELECT"),
        ("UPDATE canary SET id = 2 RETURNING 1", "UPDATE"),
        ("SELECT nextval('canary_seq')", "nextval()"),
    ],
)
async def test_a_query_that_writes_fails_and_writes_nothing(
    postgres: Postgres, tenant_database: str, query: str, refused: str
) -> None:
    # The login may write to these: only the read-only transaction stands in the way.
    postgres.server.psql(
        "CREATE TABLE canary (id int); INSERT INTO canary VALUES (1); CREATE SEQUENCE canary_seq; "
        f"GRANT ALL ON canary, canary_seq TO {database.MONITOR_USER}",
        tenant_database,
    )
    result = await probe(postgres.parsed(dbname=tenant_database, query=query, expect=1))
    assert (result.reason, result.detail) == (
        "query_error",
        f"query failed: cannot execute {refused} in a read-only transaction (25006)",
    )
    assert postgres.server.psql("SELECT id FROM canary", tenant_database).strip() == "1"
    assert postgres.server.psql("SELECT last_value FROM canary_seq", tenant_database).strip() == "1"


async def test_the_statement_timeout_is_what_is_left_of_the_targets_timeout(
    postgres: Postgres,
) -> None:
    spec = postgres.spec(query="SELECT current_setting('statement_timeout')")
    config = parse_config(target_yaml("db", "postgres", spec, interval="10s", timeout="4s"))
    trace = Trace()
    result, _ = await run_once(config.targets[0], trace)
    assert result.success
    [line] = [line for line in trace.lines if line.startswith("SELECT current_setting")]
    setting = int(line.split("returned '")[1].split("ms'")[0])
    assert 3000 < setting <= 4000  # the 4s less the login


async def test_the_server_stops_a_query_when_the_budget_is_spent(postgres: Postgres) -> None:
    with time_budget(0.3):  # told, but not enforced by the caller: the server must do it
        result = await probe(postgres.parsed(query="SELECT pg_sleep(30)"))
    assert (result.reason, result.detail) == (
        "query_error",
        "query failed: canceling statement due to statement timeout (57014)",
    )


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ';' AS semicolon",
        'SELECT 1 AS "a;b"',
        "SELECT $$ ; DROP TABLE users $$",
        "SELECT $body$ $$ ; $$ $body$",
        "SELECT E'\\\\'",
        "SELECT 1 -- ; DROP TABLE users",
        "SELECT 1 /* ; /* nested ; */ DROP TABLE users */",
        "SELECT 1;",
        "SELECT 1 ; -- the end",
    ],
)
def test_one_statement_is_what_postgresql_reads_as_one(query: str) -> None:
    spec = {"host": "127.0.0.1", "user": "x", "query": query}
    assert parse_config(target_yaml("db", "postgres", spec)).targets[0].postgres is not None


async def test_a_query_of_several_statements_is_refused_by_the_server_too(
    postgres: Postgres,
) -> None:
    # Config validation refuses it (tests/probes/test_postgres_config.py); built in code, the
    # server is the authority: a prepared statement holds one command.
    spec = postgres.parsed().model_copy(update={"query": "SELECT 1; SELECT 2"})
    result = await probe(spec)
    assert (result.reason, result.detail) == (
        "query_error",
        "query failed: cannot insert multiple commands into a prepared statement (42601)",
    )


async def test_a_query_that_ends_the_transaction_fails(postgres: Postgres) -> None:
    spec = postgres.parsed(rls=TABLES).model_copy(update={"query": "COMMIT"})
    result = await probe(spec)
    assert (result.reason, result.detail) == (
        "query_error",
        "the query ended the probe's read-only transaction",
    )
