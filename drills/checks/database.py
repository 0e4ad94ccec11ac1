"""Checks of a restored database, run by DuckDB over the engine's read-only attach.

Counts are exact (`count(*)`, pushed down to the server in one round trip); every table
and every assertion yields its own finding, so one failure never hides another.
"""

from datetime import datetime

import duckdb

from drills.checks.findings import FAIL, PASS, WARN, Finding
from drills.errors import InfrastructureError

ALIAS = "restored"
LIST_TABLES = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""


def attach_postgres(connection: duckdb.DuckDBPyConnection, dsn: str) -> None:
    connection.execute(f"ATTACH {sql_literal(dsn)} AS {ALIAS} (TYPE postgres, READ_ONLY)")
    connection.execute(f"USE {ALIAS}")


def attach_and_count(connection: duckdb.DuckDBPyConnection, dsn: str) -> dict[str, int]:
    """Attach a server read-only and count every table; error.verifier if DuckDB cannot."""
    try:
        attach_postgres(connection, dsn)
        return table_counts(connection)
    except duckdb.Error as error:
        raise InfrastructureError("verifier", f"DuckDB could not read the database: {error}",
                                  hint="a restore container may have died (memory limit: engine.memory), "
                                       "or the DSN is wrong") from None


def table_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Exact row count of every user table, keyed 'schema.table'."""
    tables = server_query(connection, LIST_TABLES)
    if not tables:
        return {}
    union = " UNION ALL ".join(
        f"SELECT {sql_literal(schema + '.' + name)} AS name, count(*) AS n "
        f"FROM {quote_identifier(schema)}.{quote_identifier(name)}"
        for schema, name in tables)
    return {name: count for name, count in server_query(connection, union)}


def server_query(connection, sql: str) -> list[tuple]:
    return connection.execute("SELECT * FROM postgres_query(?, ?)", [ALIAS, sql]).fetchall()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def manifest_findings(restored: dict[str, int], expected: dict[str, int]) -> list[Finding]:
    findings = []
    for table, count in sorted(expected.items()):
        if table not in restored:
            findings.append(Finding("table.present", table, FAIL, expected=count, actual=None,
                                    message=f"{table} is in the manifest but not in the restored database",
                                    code="verify.table_missing",
                                    hint="the backup lacks a table the site had: check the backup job's scope"))
        elif restored[table] != count:
            findings.append(Finding("table.count", table, FAIL, expected=count, actual=restored[table],
                                    message=f"{table} has {restored[table]:,} rows, the manifest says {count:,}",
                                    code="verify.count_mismatch",
                                    hint="rows were lost or added between the manifest and the dump"))
        else:
            findings.append(Finding("table.count", table, PASS, expected=count, actual=count))
    for table in sorted(set(restored) - set(expected)):
        findings.append(Finding("table.unexpected", table, WARN, actual=restored[table],
                                message=f"{table} was restored but is not in the manifest"))
    return findings


def bounds_findings(restored: dict[str, int], bounds: dict) -> list[Finding]:
    findings = []
    for table, bound in sorted(bounds.items()):
        expected = {"min": bound.min, "max": bound.max}
        if table not in restored:
            findings.append(Finding("table.present", table, FAIL, expected=expected,
                                    message=f"{table} is required by the site's checks but was not restored",
                                    code="verify.table_missing", hint="check the backup job's scope"))
            continue
        count = restored[table]
        inside = (bound.min is None or count >= bound.min) and (bound.max is None or count <= bound.max)
        findings.append(Finding("table.bounds", table, PASS if inside else FAIL, expected=expected, actual=count,
                                message="" if inside else f"{table} has {count:,} rows, outside {expected}",
                                code="" if inside else "verify.bounds",
                                hint="" if inside else "the data shrank or grew beyond what the site expects"))
    return findings


def assertion_findings(connection: duckdb.DuckDBPyConnection, assertions: list) -> list[Finding]:
    return [run_assertion(connection, assertion) for assertion in assertions]


def run_assertion(connection, assertion) -> Finding:
    try:
        row = connection.execute(assertion.query).fetchone()
    except duckdb.Error as error:
        return Finding("sql", assertion.name, FAIL, expected=assertion.expect,
                       message=f"the query failed: {str(error).splitlines()[0]}", code="verify.assertion_failed",
                       hint="the query names something the restored database lacks, or is wrong")
    actual = row[0] if row else None
    if same_value(actual, assertion.expect):
        return Finding("sql", assertion.name, PASS, expected=assertion.expect, actual=plain(actual))
    return Finding("sql", assertion.name, FAIL, expected=assertion.expect, actual=plain(actual),
                   message=f"returned {actual!r}, expected {assertion.expect!r}", code="verify.assertion_failed",
                   hint="the restored data breaks a rule the site declared")


def newest_record_finding(connection, column: str, started_at: datetime, rpo_seconds: int) -> Finding:
    """The canary: how old the newest record of `column` (schema.table.column) is at drill time."""
    schema, table, name = column.split(".")
    sql = (f"SELECT extract(epoch FROM max({quote_identifier(name)}))::float8 "
           f"FROM {quote_identifier(schema)}.{quote_identifier(table)}")
    try:
        (epoch,) = server_query(connection, sql)[0]
    except duckdb.Error as error:
        return Finding("data.freshness", column, FAIL, message=f"cannot read the newest record: {str(error).splitlines()[0]}",
                       code="verify.stale_data", hint="check checks.newest_record: the column must exist")
    if epoch is None:
        return Finding("data.freshness", column, FAIL, message=f"{column} is empty: no record at all",
                       code="verify.stale_data", hint="the backup holds no activity: check the backup job's source")
    age = round(started_at.timestamp() - epoch)
    if age <= rpo_seconds:
        return Finding("data.freshness", column, PASS, expected=f"<= {rpo_seconds} s", actual=age)
    return Finding("data.freshness", column, FAIL, expected=f"<= {rpo_seconds} s", actual=age,
                   message=f"the newest record is {age / 3600:.1f} h old, the RPO target is {rpo_seconds / 3600:.1f} h",
                   code="verify.stale_data",
                   hint="the backup job ships old data (a stale replica or snapshot?): check what it dumps")


def same_value(actual, expected) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return float(actual) == float(expected)
        except (TypeError, ValueError):
            return False
    return str(actual) == str(expected)


def plain(value):
    """A value as JSON can carry it (DuckDB may return Decimal, dates...)."""
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
