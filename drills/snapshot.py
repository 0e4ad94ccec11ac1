"""`drill seal SITE --dsn DSN`: the dump and its manifest from one snapshot of the live database.

PostgreSQL: one psql session opens a REPEATABLE READ, READ ONLY transaction and exports its
snapshot (`pg_export_snapshot()`); in that transaction it counts and fingerprints every table
(drills.checks.fingerprints); then `pg_dump --snapshot` dumps exactly that snapshot, streamed
into age and the upload, so no plaintext file is written on the site's disk. `taken_at` is the
transaction's start by the server's clock. The transaction ends once the dump is done, so the
writes the database takes meanwhile are in neither the counts nor the dump.

The site runs psql and pg_dump of the server's major version (or newer), as its backup job does.
"""

import os
import subprocess
import threading
from datetime import datetime

from drills.checks import fingerprints
from drills.checks.dialects import POSTGRES, POSTGRES_TEXT_FORM
from drills.errors import ConfigError, InfrastructureError
from drills import reasons

ENGINES = ("postgres",)  # the engines whose dump drill seal makes itself
END = "-- restore-drill: end of result --"
FORMATS = {"custom": ("c", "dump"), "plain": ("p", "sql")}  # pg_dump's --format, the file's extension
CHUNK = 1024 * 1024
SESSION = {**POSTGRES_TEXT_FORM, "search_path": "pg_catalog"}  # the verifier's settings (drills.engines.postgres)


class PsqlSession:
    """An interactive psql on pipes, one statement list at a time: its rows, fields split on tabs."""

    def __init__(self, dsn: str):
        options = " ".join(f"-c {name}={value}" for name, value in SESSION.items())
        self.process = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=environment(PGOPTIONS=options))
        self.errors = collected(self.process.stderr)

    def query(self, sql: str) -> list[list[str]]:
        try:
            self.process.stdin.write(f"{sql.strip().rstrip(';')};\n\\echo '{END}'\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        rows = []
        for line in self.process.stdout:
            if line.rstrip("\n") == END:
                return rows
            rows.append(line.rstrip("\n").split("\t"))
        self.process.wait(timeout=30)
        raise failed("psql", self.errors)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.communicate("COMMIT;\n\\q\n", timeout=60)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def environment(**extra: str) -> dict:
    return {**os.environ, **extra}


def collected(stream) -> list[str]:
    """The stream's lines, gathered by a thread (so a chatty tool never blocks on a full pipe)."""
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(stream), daemon=True).start()
    return lines


def failed(tool: str, errors: list[str]) -> InfrastructureError:
    said = " | ".join(line.strip() for line in errors[-3:] if line.strip()) or "no message"
    return InfrastructureError(reasons.ERROR_SEAL, f"{tool} failed on the live database: {said}",
                               hint="check the DSN, that psql and pg_dump are installed, and the role's rights")


def counted_in(session: PsqlSession, choice, cap: int | None) -> tuple[dict[str, int], dict[str, dict]]:
    """Every table's exact count and the fingerprints the site checks, in the session's snapshot."""
    counts, digests = {}, {}
    for schema, table in session.query(POSTGRES.list_tables):
        name, source = POSTGRES.name(schema, table), f"{POSTGRES.quoted(schema)}.{POSTGRES.quoted(table)}"
        wanted = bool(fingerprints.selected({name: {}}, choice))
        estimate = session.query(f"SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = "
                                 f"{literal(source)}::regclass")[0][0]
        one_in = fingerprints.one_in(int(estimate), cap)
        digest = POSTGRES.digest.format(one_in=one_in) if wanted else "''"
        [[count, total]] = session.query(f"SELECT count(*), {digest} FROM ({POSTGRES.row_hashes.format(table=source)}) r")
        counts[name] = int(count)
        if wanted:
            digests[name] = {"digest": fingerprints.hexadecimal(total), "one_in": one_in}
    return counts, digests


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def snapshot_of(session: PsqlSession) -> tuple[str, datetime]:
    """Open the session's snapshot: its id for pg_dump, and its time by the server's clock."""
    session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    [[snapshot, taken]] = session.query("SELECT pg_export_snapshot(), "
                                        "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00')")
    return snapshot, datetime.fromisoformat(taken)


def dumped(dsn: str, snapshot: str, dump_format: str):
    """pg_dump's output of the snapshot, in chunks; InfrastructureError at the end if it failed."""
    process = subprocess.Popen(["pg_dump", f"--snapshot={snapshot}", f"--format={FORMATS[dump_format][0]}", "-d", dsn],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors = collected(line.decode("utf-8", "replace") for line in process.stderr)
    try:
        while chunk := process.stdout.read(CHUNK):
            yield chunk
    finally:
        process.stdout.close()
        if process.wait() != 0:
            raise failed("pg_dump", errors)


def check_format(dump_format: str) -> None:
    if dump_format not in FORMATS:
        raise ConfigError(f"drill seal dumps in {' or '.join(FORMATS)} format, not {dump_format}",
                          code=reasons.CONFIG_USAGE)
