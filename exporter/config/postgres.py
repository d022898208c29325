"""The `postgres:` probe block: a connection, a query, and row-level security checks."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from exporter.config.tls import ClientTLS
from exporter.config.types import ProbeSpec, SecretSource, StrictModel

# Names that go into SQL text: lower case as PostgreSQL folds unquoted names, so that the
# probe's quoted "name" means what the same name means unquoted in the application's SQL.
_IDENTIFIER = r"[a-z_][a-z0-9_$]{0,62}"
_IDENTIFIER_RE = re.compile(rf"^{_IDENTIFIER}$")
_TABLE_RE = re.compile(rf"^(?:{_IDENTIFIER}\.)?{_IDENTIFIER}$")
_SETTING_RE = re.compile(rf"^{_IDENTIFIER}\.{_IDENTIFIER}$")


def _matching(pattern: re.Pattern[str], what: str) -> BeforeValidator:
    def check(value: object) -> object:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"must be {what}, not {value!r}")
        return value

    return BeforeValidator(check)


Identifier = Annotated[
    str, _matching(_IDENTIFIER_RE, "a lower-case SQL name (letters, digits, _ and $)")
]
Table = Annotated[str, _matching(_TABLE_RE, "a lower-case table name, optionally schema-qualified")]
Setting = Annotated[
    str, _matching(_SETTING_RE, "a custom setting name with a dot, such as app.current_tenant")
]


# The probe runs the query inside its own read-only transaction, which these would end.
_TRANSACTION_CONTROL = frozenset({"ABORT_P", "BEGIN_P", "COMMIT", "END_P", "ROLLBACK", "START"})
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def statement_problem(query: str) -> str | None:
    """Why `query` is not one SQL statement the probe can run, or None when it is.

    PostgreSQL's own lexer (libpg_query, through pglast) reads the query, so a `;` inside a
    string, a quoted name, a dollar-quoted body or a comment is what the server takes it for.
    """
    from pglast.parser import ParseError, scan  # loaded by configs that have a postgres probe

    try:
        tokens = scan(query)
    except ParseError as err:
        return f"is not valid SQL: {err.args[0]}"
    statements, ended = [], True  # the first token of each statement
    for token in tokens:
        if token.name == "ASCII_59":  # ;
            ended = True
        elif token.name not in _COMMENTS and ended:
            statements.append(token)
            ended = False
    if not statements:
        return "must hold an SQL statement, not only comments or semicolons"
    if len(statements) > 1:
        second = " ".join(query[statements[1].start :].split())
        second = second if len(second) <= 40 else second[:37] + "..."
        return (
            f"must be a single SQL statement, but a second one follows a semicolon: {second!r} "
            f"(the probe runs one query, read-only)"
        )
    if statements[0].name in _TRANSACTION_CONTROL:
        return "must not control the transaction: the probe runs it in a read-only one of its own"
    return None


class RLSCheck(StrictModel):
    """Row-level security must be enabled and forced on every listed table."""

    tables: list[Table] = Field(min_length=1)


class TenantIsolationCheck(StrictModel):
    """Acting as `tenant`, no row of another tenant may be visible in any listed table."""

    tables: list[Table] = Field(min_length=1)
    tenant: str = Field(min_length=1)
    tenant_column: Identifier = "tenant_id"
    role: Identifier | None = None
    setting: Setting | None = None


class PostgresSpec(ProbeSpec):
    """A PostgreSQL login, the query to run and what must hold."""

    host: str = Field(min_length=1)
    port: int = Field(default=5432, ge=1, le=65535)
    user: str = Field(min_length=1)
    password: SecretSource | None = None
    database: str | None = None
    tls: ClientTLS | None = None
    query: str = Field(default="SELECT 1", min_length=1)
    expect: Any = None
    rls: RLSCheck | None = None
    tenant_isolation: TenantIsolationCheck | None = None

    @field_validator("query")
    @classmethod
    def _single_statement(cls, query: str) -> str:
        problem = statement_problem(query)
        if problem is not None:
            raise ValueError(problem)
        return query

    @field_validator("expect")
    @classmethod
    def _one_value(cls, value: Any) -> Any:
        if isinstance(value, dict | list):
            raise ValueError("must be a single value: it is compared with the first column")
        return value

    @property
    def has_expectation(self) -> bool:
        return "expect" in self.model_fields_set

    def step_names(self) -> list[str]:
        """The `step` label of each phase a run goes through, in order."""
        checks = [("rls", self.rls), ("tenant_isolation", self.tenant_isolation)]
        return ["connect", "query", *(name for name, check in checks if check is not None)]
