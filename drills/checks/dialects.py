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
    # Content fingerprints (drills.checks.fingerprints), computed by the server: `row_hashes` selects
    # each row's u64 as `h` from {table}; `digest` sums those divisible by {one_in}, mod 2^64, as text.
    row_hashes: str | None = None
    digest: str | None = None

    def name(self, schema: str, table: str) -> str:
        return f"{schema}.{table}" if self.qualified else table

    def quoted(self, identifier: str) -> str:
        return self.quote + identifier.replace(self.quote, self.quote * 2) + self.quote


POSTGRES = Dialect("postgres", """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2""", "postgres_query", newest="extract(epoch FROM max({column}))::float8",
                    row_hashes="SELECT ('x' || left(md5(ROW(t.*)::text), 16))::bit(64)::bigint AS h FROM {table} t",
                    digest="mod(mod(coalesce(sum(h) FILTER (WHERE mod(h, {one_in}) = 0), 0), 18446744073709551616)"
                           " + 18446744073709551616, 18446744073709551616)::text")
# The session settings a row's text form depends on, fixed wherever PostgreSQL fingerprints it.
POSTGRES_TEXT_FORM = {"TimeZone": "UTC", "DateStyle": "ISO", "IntervalStyle": "postgres", "extra_float_digits": "1",
                      "bytea_output": "hex", "lc_monetary": "C"}
MYSQL = Dialect("mysql", """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY 1, 2""", "mysql_query", newest="UNIX_TIMESTAMP(max({column}))", quote="`")
SQLITE = Dialect("sqlite", f"""
SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '{ALIAS}' ORDER BY 1, 2""",
                 None, qualified=False)
