"""Hostile backups, made as an attacker would, for the fault catalogue: everything inside a backup
is the attacker's (its dump, its SQL, its views, its manifest, its sizes, its times).

Each builder writes its case into a source folder and returns the site's overrides. Plaintext
goes from memory straight into the real `age` CLI: the cases that carry MARKER (a stand-in for a
patient's row) never put it on the host's disk, so finding it there afterwards is a leak.
"""

import io
import json
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

import zstandard

from tests.integration.conftest import SITE

MARKER = f"DUPONT-{uuid.uuid4().hex}"  # a patient's name, in rows that fail to restore
SECRET_FILES = ("/etc/passwd",)
ENDLESS_LINE = 100 * 1024 * 1024  # bytes of one line: more than any dump line may be (64 MiB)


def sqlite_views_reading_files(folder, kit) -> dict:
    """An SQLite file whose schema holds views DuckDB would run in the worker's process (reading
    the drill's age identity and /etc/passwd), a trigger and a virtual table; the site's checks
    name the view, as an attacker hopes they will."""
    from drills import manifest as manifests

    database = folder.parent / f"{folder.name}.sqlite"
    with sqlite3.connect(database) as connection:
        connection.executescript("CREATE TABLE patients (id INTEGER PRIMARY KEY, nom TEXT);"
                                 "INSERT INTO patients VALUES (1, 'Nom1'), (2, 'Nom2');")
    manifest = manifests.of_backup_file("sqlite", database, SITE)  # the site's own, before the attacker
    identity = kit.keys_dir["dir"] / "drill.agekey"
    with sqlite3.connect(database) as connection:
        connection.executescript("CREATE TRIGGER wipe AFTER INSERT ON patients BEGIN DELETE FROM patients; END;")
        connection.execute("PRAGMA writable_schema = ON")
        for name, path in (("cle", identity), ("comptes", SECRET_FILES[0])):
            connection.execute("INSERT INTO sqlite_master VALUES ('view', ?, ?, 0, ?)",
                               (name, name, f"CREATE VIEW {name} AS SELECT content FROM read_text('{path}')"))
        connection.execute("INSERT INTO sqlite_master VALUES ('table', 'vt', 'vt', 0, "
                           "'CREATE VIRTUAL TABLE vt USING nosuchmodule()')")
    kit.put(folder, kit.encrypt(database.read_bytes()), manifest.encode(), name="lgo.sqlite.age")
    database.unlink()
    return {"engine": {"type": "sqlite"},
            "checks": {"manifest": "required", "newest_record": "comptes.content",
                       "sql": [{"name": "the key is readable", "query": "SELECT count(*) FROM cle", "expect": 1}]}}


def plain_rows_in_errors(folder, kit) -> dict:
    """Plain SQL whose restore fails on a patient's row, after a function RAISEs another's name:
    psql and the server would quote both."""
    tail = (f"DO $$ BEGIN RAISE WARNING 'patient %', '{MARKER}-warning'; END $$;\n"
            "CREATE TABLE public.fuite (id integer, nom text);\n"
            f"COPY public.fuite (id, nom) FROM stdin;\n{MARKER}-id\t{MARKER}-nom\n\\.\n").encode()
    return kit.plain_dump(folder, tail)


def custom_inserts_in_errors(folder, kit) -> dict:
    """A custom-format dump (--inserts) of a SQL_ASCII database whose row cannot enter a UTF-8
    server: pg_restore would print the whole INSERT, the server log the statement."""
    kit.put(folder, kit.encrypt(kit.pg_dumps()["ascii-inserts"]))
    return {"checks": {"manifest": "optional", "tables": {}}}


def mariadb_rows_in_errors(folder, kit) -> dict:
    """A mysqldump whose last statement fails on a duplicate patient: the client quotes the entry."""
    plain = kit.decrypt(kit.mariadb_backups["mariadb-healthy"].read_bytes())
    tail = (f"CREATE TABLE lgo.fuite (nom VARCHAR(120) PRIMARY KEY);\n"
            f"INSERT INTO lgo.fuite VALUES ('{MARKER}'), ('{MARKER}');\n").encode()
    kit.put(folder, kit.encrypt(plain + tail), name="lgo.sql.age")
    return {"engine": {"type": "mariadb"}, "checks": {"manifest": "ignore", "tables": {"lgo.patients": {"min": 1}}}}


def mariadb_endless_line(folder, kit) -> dict:
    """A few kilobytes of zstd that are one endless line once decompressed."""
    writer = io.BytesIO()
    with zstandard.ZstdCompressor(level=19).stream_writer(writer, closefd=False) as compressor:
        compressor.write(b"INSERT INTO t VALUES ('")
        for _ in range(ENDLESS_LINE // (1024 * 1024)):
            compressor.write(b"x" * 1024 * 1024)
    kit.put(folder, kit.encrypt(writer.getvalue()), name="lgo.sql.zst.age")
    return {"engine": {"type": "mariadb"}, "checks": {"manifest": "ignore", "tables": {}}}


def view_that_hangs(folder, kit) -> dict:
    """A restored view that never ends, named by the site's SQL check."""
    overrides = kit.plain_dump(folder, b"CREATE VIEW public.lente AS SELECT 1 AS x FROM pg_sleep(3600);\n",
                               timeout="25s")
    return {**overrides, "checks": {"manifest": "required",
                                    "sql": [{"name": "hangs", "query": "SELECT count(*) FROM public.lente", "expect": 1}]}}


def freshness_forged(folder, kit) -> dict:
    """A five-day-old backup whose manifest says it was taken just now."""
    kit.put(folder, kit.ciphertext(), {**kit.manifest(), "taken_at": datetime.now(timezone.utc).isoformat()},
            modified=datetime.now(timezone.utc) - timedelta(days=5))
    return {}


def taken_in_the_future(folder, kit) -> dict:
    kit.put(folder, kit.ciphertext(), {**kit.manifest(),
                                       "taken_at": (datetime.now(timezone.utc) + timedelta(days=365)).isoformat()})
    return {}


def empty_database(folder, kit) -> dict:
    """pg_dump of an empty database, drilled with the default checks."""
    kit.put(folder, kit.encrypt(kit.pg_dumps()["empty"]))
    return {"checks": {"manifest": "optional"}}


def no_checks_key(folder, kit) -> dict:
    kit.copy(folder, kit.healthy)
    return {"checks": None}  # the site has no checks: key at all


def contents_not_verified(folder, kit) -> dict:
    """A good backup with no manifest, drilled with no bounds: restored, its contents unchecked."""
    kit.put(folder, kit.ciphertext())
    return {"checks": {"manifest": "optional", "tables": {}}}


def make_pg_dumps(runtime) -> dict[str, bytes]:
    """Custom-format dumps made by the real pg_dump, in memory: an empty database's, and an
    --inserts dump of a SQL_ASCII database holding a row that is not UTF-8."""
    from drills.demo.seed import SourceDatabase
    from drills.engines import postgres

    dumps = {}
    with SourceDatabase(patients=1, runtime=runtime) as source:
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *postgres.CONNECT]
        created = runtime.run(source.container_id, [*psql, "-d", "postgres", "-c",
                                                    "CREATE DATABASE vide", "-c",
                                                    "CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
                                                    "LC_CTYPE 'C' TEMPLATE template0"])
        assert created.exit_code == 0, created.output
        row = f"CREATE TABLE patients (id int, nom text); INSERT INTO patients VALUES (1, E'{MARKER} \\xff');"
        filled = runtime.run(source.container_id, [*psql, "-d", "ascii"], input=iter([row.encode()]))
        assert filled.exit_code == 0, filled.output
        for name, database, options in (("empty", "vide", []), ("ascii-inserts", "ascii", ["--inserts"])):
            sink = io.BytesIO()
            dumped = runtime.run(source.container_id, ["pg_dump", "-Fc", *options, *postgres.CONNECT, database],
                                 stdout=sink)
            assert dumped.exit_code == 0, dumped.output
            dumps[name] = sink.getvalue()
    return dumps


def markers_on_disk(roots) -> list[str]:
    """Files under `roots` (Docker's directories, /var/log, the evidence store, the worker's log)
    holding MARKER."""
    import subprocess

    found = subprocess.run(["grep", "-rlF", "--binary-files=text", MARKER, *map(str, roots)],
                           capture_output=True, text=True, timeout=300)
    return found.stdout.split()


def report_text(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False)
