"""How DuckDB reaches each kind of restored database, as plain data (no DuckDB needed to read it):
the engines declare theirs (drills.engines), the verifier (drills.checks.database) uses it."""

from dataclasses import dataclass

ALIAS = "restored"


@dataclass(frozen=True)
class Dialect:
    """How DuckDB reaches one kind of restored database, read-only.

    `server_function` runs SQL on the server itself (counts pushed down in one round trip);
    without one (SQLite, a local file), DuckDB lists and counts through its own catalog."""

    extension: str
    list_tables: str
    server_function: str | None
    newest: str = "max({column})"  # the newest value of a column, as seconds since 1970 where the server can
    quote: str = '"'
    qualified: bool = True  # table names as schema.table (database.table for MariaDB)
    # Content fingerprints (drills.checks.fingerprints), computed by the server: `row_hash` hashes the
    # text form of {columns} to a 64-bit integer; `digest` sums the `h` of the rows, mod 2^64, as text.
    # The columns are `whole_row` where the server has a row's text form, else each column of
    # `list_columns` in the form `column_forms` gives its type ("" for the others).
    row_hash: str | None = None
    digest: str | None = None
    whole_row: str | None = None
    column_forms: tuple[tuple[str, str], ...] = (("", "t.{name}"),)
    list_columns: str | None = None  # each table's columns and types, in order (fingerprints, schema drift)
    integer_key_hash: str | None = None  # how a one-column integer primary key is hashed to sample by it
    non_transactional: str | None = None  # lists the tables no snapshot covers (a manifest's `inexact` ones)

    def name(self, schema: str, table: str) -> str:
        return f"{schema}.{table}" if self.qualified else table

    def quoted(self, identifier: str) -> str:
        return self.quote + identifier.replace(self.quote, self.quote * 2) + self.quote


POSTGRES = Dialect("postgres", """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2""", "postgres_query", newest="extract(epoch FROM max({column}))::float8",
                    row_hash="hashtextextended(ROW({columns})::text, 0)", whole_row="t.*",
                    integer_key_hash="hashint8extended({column}::int8, 0)",
                    list_columns="""
SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c
JOIN information_schema.tables t ON (t.table_schema, t.table_name) = (c.table_schema, c.table_name)
WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, c.ordinal_position""",
                    digest="mod(mod(coalesce(sum(h), 0), 18446744073709551616) + 18446744073709551616, "
                           "18446744073709551616)::text")
# The session settings a row's text form depends on, fixed wherever PostgreSQL fingerprints it.
POSTGRES_TEXT_FORM = {"TimeZone": "UTC", "DateStyle": "ISO", "IntervalStyle": "postgres", "extra_float_digits": "1",
                      "bytea_output": "hex", "lc_monetary": "C"}
# Each column's text in a MariaDB row's text form: as utf8mb4 (so columns of other character sets
# mix), binary ones in hex, a TIMESTAMP as its instant (its text follows the session's time zone).
MYSQL_COLUMN_FORMS = (("", "QUOTE(CONVERT(t.{name} USING utf8mb4))"), ("timestamp", "QUOTE(UNIX_TIMESTAMP(t.{name}))"),
                      *((kind, "QUOTE(HEX(t.{name}))") for kind in ("binary", "varbinary", "tinyblob", "blob",
                                                                     "mediumblob", "longblob")))
MYSQL = Dialect("mysql", """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY 1, 2""", "mysql_query", newest="UNIX_TIMESTAMP(max({column}))", quote="`",
                 row_hash="CAST(CONV(LEFT(MD5(CONCAT_WS(',', {columns})), 16), 16, 10) AS UNSIGNED)",
                 digest="CAST(MOD(COALESCE(SUM(h), 0), 18446744073709551616) AS CHAR)",
                 column_forms=MYSQL_COLUMN_FORMS,
                 non_transactional="""
SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND engine <> 'InnoDB'
AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')""",
                 list_columns="""
SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY table_schema, table_name, ordinal_position""")
SQLITE = Dialect("sqlite", f"""
SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '{ALIAS}' ORDER BY 1, 2""",
                 None, qualified=False, list_columns=f"""
SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = '{ALIAS}'
ORDER BY 1, 2, column_index""")
