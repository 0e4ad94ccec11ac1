"""Checks of a restored database, run by DuckDB over the engine's read-only attach.

Counts are exact (`count(*)`, pushed down to the server in one round trip); every table
and every assertion yields its own finding, so one failure never hides another.
"""

import re
from decimal import Decimal
from datetime import date, datetime, timezone

import duckdb

from drills import redaction
from drills.checks import fingerprints
from drills.checks.duckdb_connection import connect_with, lock_down
from drills.checks.declared import bounds_findings, column_findings, manifest_findings
from drills.checks.dialects import ALIAS, POSTGRES, Dialect
from drills.checks.findings import FAIL, PASS, WARN, Finding, empty
from drills.errors import InfrastructureError
from drills import reasons

PASSWORD_SETTING = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def attach(connection: duckdb.DuckDBPyConnection, dialect: Dialect, target: str, writable: tuple[str, ...] = ()) -> None:
    """Attach the restored database read-only, then lock the connection down (drills.checks.
    duckdb_connection): nothing a restored view or the site's SQL runs reaches a file."""
    connection.execute(f"ATTACH {sql_literal(target)} AS {ALIAS} (TYPE {dialect.extension}, READ_ONLY)")
    connection.execute(f"USE {ALIAS}")
    lock_down(connection, writable)


def attach_and_count(connection: duckdb.DuckDBPyConnection, target: str, dialect: Dialect = POSTGRES,
                     writable: tuple[str, ...] = ()) -> dict[str, int]:
    """Attach a database read-only and count every table; error.verifier if DuckDB cannot."""
    try:
        attach(connection, dialect, target, writable)
        return table_counts(connection, dialect)
    except duckdb.Error as error:
        raise InfrastructureError(reasons.ERROR_VERIFIER, f"DuckDB could not read the database: "
                                                          f"{redaction.error_text(without_passwords(str(error)))}",
                                  hint="a restore container may have died (memory limit: engine.memory), "
                                       "or the DSN is wrong") from None


def without_passwords(text: str) -> str:
    """A message that may quote a connection string, its password masked."""
    return PASSWORD_SETTING.sub(r"\1***", text)


def table_sources(connection: duckdb.DuckDBPyConnection, dialect: Dialect) -> dict[str, str]:
    """Every user table: its name (the dialect's) -> how a query names it."""
    tables = run(connection, dialect, dialect.list_tables)
    if dialect.server_function:
        return {dialect.name(schema, name): f"{dialect.quoted(schema)}.{dialect.quoted(name)}"
                for schema, name in tables}
    return {dialect.name(schema, name): f"{ALIAS}.{quote_identifier(schema)}.{quote_identifier(name)}"
            for schema, name in tables}


def table_counts(connection: duckdb.DuckDBPyConnection, dialect: Dialect) -> dict[str, int]:
    """Exact row count of every user table, keyed by the dialect's table name."""
    sources = table_sources(connection, dialect)
    if not sources:
        return {}
    union = " UNION ALL ".join(f"SELECT {sql_literal(name)} AS name, count(*) AS n FROM {source}"
                               for name, source in sources.items())
    return {name: count for name, count in run(connection, dialect, union)}


def table_fingerprints(connection, dialect: Dialect, wanted: dict[str, dict],
                       columns: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """The content fingerprint (drills.checks.fingerprints) of each restored table of `wanted`
    (name -> its manifest entry: one_in, key), computed by the server in one round trip."""
    sources = table_sources(connection, dialect) if wanted else {}
    parts = [f"SELECT {sql_literal(name)} AS name, digest "
             f"FROM ({fingerprints.query(dialect, sources[name], entry, columns.get(name, []))}) d"
             for name, entry in sorted(wanted.items()) if name in sources]
    if not parts:
        return {}
    sums = run(connection, dialect, " UNION ALL ".join(parts))
    return {name: fingerprints.hexadecimal(total) for name, total in sums}


def table_columns(connection, dialect: Dialect) -> dict[str, list[tuple[str, str]]]:
    """Each table's columns and their types, in order, where the dialect fingerprints column by column."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in run(connection, dialect, dialect.list_columns) if dialect.list_columns else []:
        columns.setdefault(dialect.name(schema, table), []).append((column, kind))
    return columns


def content_findings(connection, dialect: Dialect, manifest, choice, columns) -> list[Finding]:
    """The manifest's fingerprints the site checks, against the restored tables'."""
    declared = (manifest.fingerprints if manifest else None) or {}
    expected = fingerprints.selected(declared, choice)
    if not expected:
        return []
    if not dialect.row_hash:
        return [Finding("table.fingerprint", f"{len(expected)} table(s)", WARN,
                        message=f"fingerprints are not computed on {dialect.extension} databases yet: not checked")]
    try:
        restored = table_fingerprints(connection, dialect, expected, columns)
    except duckdb.Error as error:  # a manifest's key naming no column, a value the server cannot print...
        return [Finding("table.fingerprint", f"{len(expected)} table(s)", FAIL, code=reasons.VERIFY_CONTENT_MISMATCH,
                        message=f"the restored tables' fingerprints could not be computed: "
                                f"{redaction.error_text(error)}",
                        hint="the manifest's fingerprints do not fit the restored tables: check the backup job")]
    return fingerprints.findings(restored, expected)


def trusted_inexact(connection, dialect: Dialect, manifest) -> set[str]:
    """The manifest's `inexact` tables that are indeed without transactions once restored: a manifest
    cannot turn a count mismatch of any other table into a warning."""
    if not (manifest and manifest.inexact and dialect.non_transactional):
        return set()
    return set(manifest.inexact) & {dialect.name(schema, table)
                                    for schema, table in run(connection, dialect, dialect.non_transactional)}


def run(connection, dialect: Dialect, sql: str) -> list[tuple]:
    """`sql` on the server when the dialect can, else in DuckDB."""
    if dialect.server_function:
        return connection.execute(f"SELECT * FROM {dialect.server_function}(?, ?)", [ALIAS, sql]).fetchall()
    return connection.execute(sql).fetchall()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def assertion_findings(connection: duckdb.DuckDBPyConnection, assertions: list) -> list[Finding]:
    return [run_assertion(connection, assertion) for assertion in assertions]


def run_assertion(connection, assertion) -> Finding:
    try:
        row = connection.execute(assertion.query).fetchone()
    except duckdb.Error as error:
        return Finding("sql", assertion.name, FAIL, expected=assertion.expect,
                       message=f"the query failed: {redaction.error_text(error)}", code=reasons.VERIFY_ASSERTION_FAILED,
                       hint="the query names something the restored database lacks, or is wrong")
    actual = row[0] if row else None
    if same_value(actual, assertion.expect):
        return Finding("sql", assertion.name, PASS, expected=assertion.expect, actual=plain(actual))
    return Finding("sql", assertion.name, FAIL, expected=assertion.expect, actual=plain(actual),
                   message=f"returned {actual!r}, expected {assertion.expect!r}", code=reasons.VERIFY_ASSERTION_FAILED,
                   hint="the restored data breaks a rule the site declared")


def newest_record_finding(connection, dialect: Dialect, column: str, started_at: datetime,
                          rpo_seconds: int) -> Finding:
    """The canary: how old the newest record of `column` (schema.table.column) is at drill time."""
    parts = column.split(".")
    schema, table, name = parts if len(parts) == 3 else ("main", *parts)
    if dialect.server_function:
        sql = (f"SELECT {dialect.newest.format(column=dialect.quoted(name))} "
               f"FROM {dialect.quoted(schema)}.{dialect.quoted(table)}")
    else:
        sql = (f"SELECT {dialect.newest.format(column=quote_identifier(name))} "
               f"FROM {ALIAS}.{quote_identifier(schema)}.{quote_identifier(table)}")
    try:
        (newest,) = run(connection, dialect, sql)[0]
        epoch = None if newest is None else as_epoch(newest)
    except (duckdb.Error, ValueError, TypeError) as error:
        return Finding("data.freshness", column, FAIL, message=f"cannot read the newest record: {redaction.error_text(error)}",
                       code=reasons.VERIFY_STALE_DATA,
                       hint="check checks.newest_record: the column must exist and hold times")
    if epoch is None:
        return Finding("data.freshness", column, FAIL, message=f"{column} is empty: no record at all",
                       code=reasons.VERIFY_STALE_DATA,
                       hint="the backup holds no activity: check the backup job's source")
    age = round(started_at.timestamp() - epoch)
    if age <= rpo_seconds:
        return Finding("data.freshness", column, PASS, expected=f"<= {rpo_seconds} s", actual=age)
    return Finding("data.freshness", column, FAIL, expected=f"<= {rpo_seconds} s", actual=age,
                   message=f"the newest record is {age / 3600:.1f} h old, the RPO target is {rpo_seconds / 3600:.1f} h",
                   code=reasons.VERIFY_STALE_DATA,
                   hint="the backup job ships old data (a stale replica or snapshot?): check what it dumps")


def as_epoch(value) -> float:
    """Seconds since 1970 (as the server computed them), or a timestamp, a date or an ISO text
    (SQLite stores times as text), UTC when no zone is given."""
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    raise TypeError(f"{value!r} is not a time")


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


def verify_database(dialect: Dialect, target: str, site, manifest, started_at: datetime,
                    watchdog) -> tuple[list, Finding | None, dict]:
    """Every check of a restored database: manifest counts, bounds, SQL assertions, and the canary
    (returned apart: it is reported last, with the backup's own freshness); and what was restored,
    each table's rows and columns (the report's `tables`, which the next drills compare with:
    drills.checks.history). DuckDB's query is interrupted if the drill's watchdog fires (a
    restored view that never ends)."""
    connection = connect_with(dialect.extension)
    try:
        with watchdog.guarding(connection.interrupt):
            restored = attach_and_count(connection, target, dialect)
            columns = table_columns(connection, dialect)
            findings = [empty(site.id, "table")] if not restored and not site.checks.may_be_empty else []
            inexact = trusted_inexact(connection, dialect, manifest)
            findings += manifest_findings(restored, manifest.tables, inexact) if manifest else []
            findings += column_findings(restored, columns, manifest.columns) if manifest and manifest.columns else []
            findings += content_findings(connection, dialect, manifest, site.checks.fingerprints, columns)
            findings += bounds_findings(restored, site.checks.tables)
            findings += assertion_findings(connection, site.checks.sql)
            freshness = None
            if site.checks.newest_record:
                freshness = newest_record_finding(connection, dialect, site.checks.newest_record, started_at,
                                                  site.targets.rpo)
        tables = {name: {"rows": rows, "columns": [list(column) for column in columns.get(name, [])]}
                  for name, rows in sorted(restored.items())}
        return findings, freshness, tables
    finally:
        connection.close()
