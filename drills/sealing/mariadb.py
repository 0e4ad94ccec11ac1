"""MariaDB and MySQL: the dump and its manifest at one point of the database's history.

MariaDB cannot hand a snapshot to another session, so two snapshots are opened at one point: a
control session takes FLUSH TABLES WITH READ LOCK (no write can commit while it is held), opens
its own consistent snapshot, and starts `mariadb-dump --single-transaction --databases DB`; the
lock is released as soon as the dump has begun its database (`-- Current Database:` on its
output), which mariadb-dump writes only once its own consistent snapshot is open (mysqldump.c:
start_transaction comes before dump_databases). Both snapshots therefore see the same commits.
The control session then counts and fingerprints every table while the dump waits on its pipe.

Writes wait for well under a second; a statement running long on the site makes the lock wait
for it (lock_wait_timeout: LOCK_WAIT seconds, then error.seal, nothing held). Tables of engines
without transactions (MyISAM, Aria...) are read by the dump outside any snapshot: the manifest
lists them as `inexact`, the drill takes their counts as approximate (a warning, never a
failure) and fingerprints none of them. The account needs the RELOAD privilege (the lock).
"""

import os
import select
import time
from datetime import datetime

from drills.checks import fingerprints
from drills.checks.dialects import MYSQL
from drills.errors import ConfigError
from drills.sealing.session import SqlSession, failed, listed_columns, output_of, started
from drills import reasons

FIRST_DATABASE = b"\n-- Current Database: "
LOCK_WAIT = 10  # seconds FLUSH TABLES WITH READ LOCK may wait for running statements
DUMP_START = 30  # seconds mariadb-dump may take to begin, writes held meanwhile
TRANSACTIONAL = ("InnoDB",)
OPTIONS = {"host": "--host", "port": "--port", "user": "--user", "socket": "--socket"}


def client(dsn: str) -> tuple[list[str], str, dict]:
    """The client's options, the database and the environment, from a DSN written for DuckDB
    ('host=localhost socket=/run/mysqld/mysqld.sock user=backup password=... database=lgo')."""
    settings = dict(part.split("=", 1) for part in dsn.split() if "=" in part)
    if not settings.get("database"):
        raise ConfigError("the MariaDB DSN names no database: add database=NAME", code=reasons.CONFIG_USAGE)
    arguments = ["--no-defaults", *(f"{OPTIONS[key]}={value}" for key, value in settings.items() if key in OPTIONS)]
    environment = {"MYSQL_PWD": settings["password"]} if "password" in settings else {}
    return arguments, settings["database"], environment


class Snapshot:
    def __init__(self, dsn: str, dump_format: str | None):
        if dump_format not in (None, "plain"):
            raise ConfigError(f"drill seal dumps MariaDB as plain SQL (mariadb-dump), not {dump_format}",
                              code=reasons.CONFIG_USAGE)
        self.extension = "sql"
        arguments, self.database, environment = client(dsn)
        self.session = SqlSession(["mariadb", *arguments, "--batch", "--skip-column-names", "--unbuffered"],
                                  "SELECT '-- restore-drill: end of result --';", "mariadb", **environment)
        self.process, self.inexact = None, []
        try:
            self.open_at_one_point(arguments, environment)
        except BaseException:
            self.close()
            raise

    def open_at_one_point(self, arguments: list[str], environment: dict) -> None:
        """This session's snapshot and the dump's, with no commit in between."""
        self.session.query(f"SET SESSION lock_wait_timeout = {LOCK_WAIT}")
        self.session.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        self.session.query("FLUSH TABLES WITH READ LOCK")
        try:
            self.session.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            [[taken]] = self.session.query("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%f+00:00')")
            self.taken_at = datetime.fromisoformat(taken)
            self.process = started(["mariadb-dump", *arguments, "--single-transaction", "--databases", self.database],
                                   **environment)
            self.head = begun(self.process)
        finally:
            self.session.query("UNLOCK TABLES")  # the transaction, and its snapshot, stay open

    def counted(self, choice, cap: int | None) -> tuple[dict[str, int], dict[str, dict]]:
        """Every table's count, and the fingerprints the site checks of the transactional ones."""
        where = f"table_schema = {quoted_text(self.database)}"
        engines = dict(self.session.query(f"SELECT table_name, engine FROM information_schema.tables WHERE {where}"))
        estimates = dict(self.session.query(f"SELECT table_name, table_rows FROM information_schema.tables "
                                            f"WHERE {where}"))
        columns = self.columns()
        counts, digests = {}, {}
        for schema, table in self.session.query(MYSQL.list_tables):
            if schema != self.database:
                continue
            name, source = MYSQL.name(schema, table), f"{MYSQL.quoted(schema)}.{MYSQL.quoted(table)}"
            [[count]] = self.session.query(f"SELECT COUNT(*) FROM {source}")
            counts[name] = int(count)
            if engines.get(table) not in TRANSACTIONAL:
                self.inexact.append(name)
                continue
            if not fingerprints.selected({name: {}}, choice):
                continue
            estimate = estimates.get(table, "")
            entry = {"one_in": fingerprints.one_in(int(estimate) if estimate.isdigit() else 0, cap), "key": None}
            if entry["one_in"] > 1:
                entry["key"] = self.primary_key(schema, table) or None
            [[total]] = self.session.query(fingerprints.query(MYSQL, source, entry, columns.get(name, [])))
            digests[name] = {"digest": fingerprints.hexadecimal(total), **entry}
        return counts, digests

    def columns(self) -> dict[str, list[tuple[str, str]]]:
        """Each table's columns and their types, in the snapshot (as the verifier reads a restore's)."""
        return listed_columns([row for row in self.session.query(MYSQL.list_columns) if row[0] == self.database],
                              MYSQL)

    def primary_key(self, schema: str, table: str) -> list[str]:
        return [column for [column] in self.session.query(
            "SELECT column_name FROM information_schema.key_column_usage WHERE constraint_name = 'PRIMARY' "
            f"AND table_schema = {quoted_text(schema)} AND table_name = {quoted_text(table)} "
            "ORDER BY ordinal_position")]

    def dump(self):
        return output_of(self.process, "mariadb-dump", first=self.head)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.session.close()


def begun(process) -> bytes:
    """The dump's output up to the start of its database (its snapshot is open by then)."""
    head, deadline = b"", time.monotonic() + DUMP_START
    descriptor = process.stdout.fileno()
    while FIRST_DATABASE not in head:
        if not select.select([descriptor], [], [], max(0.0, deadline - time.monotonic()))[0]:
            process.kill()
            raise failed("mariadb-dump", [f"it did not begin within {DUMP_START} s"])
        chunk = os.read(descriptor, 65536)
        if not chunk:
            process.wait()
            raise failed("mariadb-dump", [line.decode("utf-8", "replace") for line in process.stderr])
        head += chunk
    return head


def quoted_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
