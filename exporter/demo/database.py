"""The multi-tenant schema of the demo and the tests: two tenants behind forced row-level security.

Tables carry a `tenant_id`; the application role `app_user` sees the rows of the tenant named by
the `app.current_tenant` setting and nothing else, and FORCE makes the policy bind the tables'
owner as well. The monitoring login `business_exporter` may `SET ROLE app_user` to check that.
"""

from __future__ import annotations

from exporter.demo.servers import PostgresServer

APP_ROLE = "app_user"
MONITOR_USER = "business_exporter"
TENANT_SETTING = "app.current_tenant"
TENANT_TABLES = ("organisations", "users")
TENANTS = ("acme", "globex")

_ROLES = f"""
CREATE ROLE {APP_ROLE} NOLOGIN;
CREATE ROLE {MONITOR_USER} LOGIN IN ROLE {APP_ROLE} PASSWORD :'password';
"""

SCHEMA = f"""
CREATE TABLE organisations (
    id serial PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    tenant_id text NOT NULL,
    email text NOT NULL
);
CREATE INDEX ON organisations (tenant_id);
CREATE INDEX ON users (tenant_id);

INSERT INTO organisations (tenant_id, name) VALUES
    ('acme', 'Acme Ltd'), ('globex', 'Globex Corporation');
INSERT INTO users (tenant_id, email) VALUES
    ('acme', 'ada@acme.example'), ('acme', 'alan@acme.example'),
    ('globex', 'grace@globex.example');

ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organisations
    USING (tenant_id = current_setting('{TENANT_SETTING}', true));
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = current_setting('{TENANT_SETTING}', true));

GRANT SELECT ON organisations, users TO {APP_ROLE};
"""


def create_roles(server: PostgresServer, monitor_password: str) -> None:
    """The cluster-wide roles: `app_user` (no login) and the monitoring login."""
    # psql substitutes :'password' as a quoted literal, so any password is safe to pass.
    server.psql(f"\\set password {_psql_literal(monitor_password)}\n{_ROLES}")


def create_tenant_database(server: PostgresServer, name: str, template: str | None = None) -> None:
    """A database holding SCHEMA, or a copy of `template` (which must hold it) when given."""
    if template is not None:
        server.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return
    server.psql(f'CREATE DATABASE "{name}"')
    server.psql(SCHEMA, database=name)


def _psql_literal(value: str) -> str:
    """A psql \\set argument: single-quoted, with quotes and backslashes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
