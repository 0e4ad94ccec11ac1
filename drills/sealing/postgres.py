"""PostgreSQL: the dump and its manifest from one exported snapshot.

One psql session opens a REPEATABLE READ, READ ONLY transaction and exports its snapshot
(`pg_export_snapshot()`); in that transaction it counts and fingerprints every table; then
`pg_dump --snapshot` dumps exactly that snapshot, streamed into age and the upload, so no
plaintext file is written on the site's disk (a directory-format dump, made by parallel jobs, is
staged on a memory filesystem and tarred into the stream). `taken_at` is the transaction's start
by the server's clock. The transaction ends once the dump is done, so the writes the database
takes meanwhile are in neither the counts nor the dump.
"""

import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from drills.checks import fingerprints
from drills.checks.dialects import POSTGRES, POSTGRES_TEXT_FORM
from drills.errors import ConfigError
from drills.sealing.session import SqlSession, failed, listed_columns, literal, output_of, started
from drills.workdir import memory_filesystem
from drills import reasons

FORMATS = {"custom": ("c", "dump"), "plain": ("p", "sql"), "directory": ("d", "tar")}  # pg_dump's, the extension
STAGING = "/dev/shm"  # a directory-format dump is written here (a memory filesystem), then tarred
SESSION = {**POSTGRES_TEXT_FORM, "search_path": "pg_catalog"}  # the verifier's settings (drills.engines.postgres)
PRIMARY_KEY = ("SELECT a.attname, a.atttypid::regtype::text FROM pg_index i JOIN pg_attribute a "
               "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
               "WHERE i.indrelid = {table}::regclass AND i.indisprimary "
               "ORDER BY array_position(i.indkey::int2[], a.attnum)")
INTEGERS = ("smallint", "integer", "bigint")
ESTIMATE = "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = {table}::regclass"


def psql(dsn: str) -> SqlSession:
    options = " ".join(f"-c {name}={value}" for name, value in SESSION.items())
    return SqlSession(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn],
                      "\\echo '-- restore-drill: end of result --'", "psql", PGOPTIONS=options)


class Snapshot:
    def __init__(self, dsn: str, dump_format: str | None):
        self.dsn, self.format = dsn, dump_format or "custom"
        check_format(self.format)
        self.extension = FORMATS[self.format][1]
        self.session = psql(dsn)
        self.session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        [[self.id, taken]] = self.session.query(
            "SELECT pg_export_snapshot(), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00')")
        self.taken_at = datetime.fromisoformat(taken)
        self.inexact: list[str] = []  # every table is in the snapshot

    def counted(self, choice, cap: int | None) -> tuple[dict[str, int], dict[str, dict]]:
        """Every table's exact count and the fingerprints the site checks. A table the planner
        estimates above `cap` rows is fingerprinted by a sample of its primary key."""
        counts, digests = {}, {}
        for schema, table in self.session.query(POSTGRES.list_tables):
            name, source = POSTGRES.name(schema, table), f"{POSTGRES.quoted(schema)}.{POSTGRES.quoted(table)}"
            [[count]] = self.session.query(f"SELECT count(*) FROM {source}")
            counts[name] = int(count)
            if not fingerprints.selected({name: {}}, choice):
                continue
            [[estimate]] = self.session.query(ESTIMATE.format(table=literal(source)))
            entry = {"one_in": fingerprints.one_in(int(estimate), cap), "key": None}
            if entry["one_in"] > 1:
                key = self.session.query(PRIMARY_KEY.format(table=literal(source)))
                entry["key"] = [column for column, _ in key] or None
                entry["integer_key"] = len(key) == 1 and key[0][1] in INTEGERS
            [[total]] = self.session.query(fingerprints.query(POSTGRES, source, entry))
            digests[name] = {"digest": fingerprints.hexadecimal(total), **entry}
        return counts, digests

    def columns(self) -> dict[str, list[tuple[str, str]]]:
        """Each table's columns and their types, in the snapshot (as the verifier reads a restore's)."""
        return listed_columns(self.session.query(POSTGRES.list_columns), POSTGRES)

    def dump(self, jobs: int = 2):
        """pg_dump's output of the snapshot, in chunks; InfrastructureError if it failed."""
        if self.format != "directory":
            yield from output_of(started(["pg_dump", f"--snapshot={self.id}", f"--format={FORMATS[self.format][0]}",
                                          "-d", self.dsn]), "pg_dump")
            return
        staging = Path(tempfile.mkdtemp(prefix="restore-drill-seal-", dir=STAGING))
        try:
            process = subprocess.run(["pg_dump", f"--snapshot={self.id}", "--format=d", f"--jobs={jobs}",
                                      f"--file={staging / 'dump'}", "-d", self.dsn], capture_output=True, text=True)
            if process.returncode != 0:
                raise failed("pg_dump", process.stderr.splitlines())
            yield from output_of(started(["tar", "-c", "-C", str(staging), "dump"]), "tar")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def close(self) -> None:
        self.session.close()


def check_format(dump_format: str) -> None:
    if dump_format not in FORMATS:
        raise ConfigError(f"drill seal dumps PostgreSQL in {', '.join(FORMATS)} format, not {dump_format}",
                          code=reasons.CONFIG_USAGE)
    if dump_format == "directory" and not (Path(STAGING).is_dir() and memory_filesystem(Path(STAGING))):
        raise ConfigError(f"a directory-format dump is staged in {STAGING}, which is not a memory filesystem here: "
                          "the plaintext would reach the disk", code=reasons.CONFIG_USAGE,
                          hint="use --format custom, or mount a tmpfs at /dev/shm")
