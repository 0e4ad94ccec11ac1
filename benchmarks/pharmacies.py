"""The demo pharmacy at benchmark scale for MariaDB and SQLite, made by each database itself.

Same tables, row counts (generator.table_sizes) and vocabulary as the demo pharmacy, every row
made by one INSERT ... SELECT over a series of numbers inside the engine's own container.
Deterministic: a value is drawn from its row number by a fixed hash (no seeded random() in
SQLite), and the activity ends at a fixed date. The backups are made the way a site makes them
(mariadb-dump --single-transaction --databases lgo; the SQLite file itself), encrypted by the
real `age` CLI, their manifest beside them; made once and cached beside the PostgreSQL dumps.
"""

import fcntl
import os
import secrets
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from benchmarks.backups import CACHE, SIZES, Backup, whole_gib
from drills import manifest as manifests
from drills.demo.catalog import ensure_age_identity
from drills.demo.generator import (FORMES, MOLECULES, MOTIFS, NOMS, ORGANISMES, PAIEMENTS, POSOLOGIES, PRENOMS,
                                   SCHEMA, SPECIALITES, VILLES, table_sizes)
from drills.demo.seed import GIB, age_encrypt
from drills.engines import ENGINES, executor, mariadb
from drills.runtimes.docker import DockerRuntime
from drills.workdir import make_work_dir

SITE = "pharmacie-bench"
DATABASE = "lgo"  # the MariaDB dump's database: its tables are lgo.patients...
AS_OF = "2026-01-01 08:00:00"  # the newest sale is five minutes before it
BYTES_PER_PATIENT = {"mariadb": 1180, "sqlite": 1330}  # measured: the dump, the file


@dataclass(frozen=True)
class Dialect:
    series: str  # a FROM clause of the numbers 1 to {n} as column i
    days_before: str  # the date {days} days before AS_OF
    minutes_before: str  # the time {minutes} minutes before AS_OF
    timestamp: str  # the SQL type of a moment


MARIADB = Dialect("(SELECT seq AS i FROM seq_1_to_{n}) AS s", f"DATE '{AS_OF[:10]}' - INTERVAL ({{days}}) DAY",
                  f"TIMESTAMP '{AS_OF}' - INTERVAL ({{minutes}}) MINUTE", "datetime")
SQLITE = Dialect("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s) AS s",
                 f"date('{AS_OF[:10]}', '-' || ({{days}}) || ' days')",
                 f"datetime('{AS_OF}', '-' || ({{minutes}}) || ' minutes')", "text")
# Written once the data is in, as the site's own database would have them (SQLite: the indexes).
INDEXES = ("CREATE INDEX ordonnances_patient ON ordonnances (patient_id);\n"
           "CREATE INDEX lignes_ordonnance_ordonnance ON lignes_ordonnance (ordonnance_id);\n"
           "CREATE INDEX factures_patient ON factures (patient_id);\nCREATE INDEX ventes_vendu_le ON ventes (vendu_le);\n")
FOREIGN_KEYS = "".join(f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target} (id);\n"
                       for table, column, target in (
                           ("ordonnances", "patient_id", "patients"), ("ordonnances", "prescripteur_id", "prescripteurs"),
                           ("lignes_ordonnance", "ordonnance_id", "ordonnances"),
                           ("lignes_ordonnance", "produit_id", "produits"), ("ventes", "patient_id", "patients"),
                           ("factures", "ordonnance_id", "ordonnances"), ("factures", "patient_id", "patients"),
                           ("mouvements_stock", "produit_id", "produits")))


def drawn(salt: int, below: int) -> str:
    """A number from 0 to below - 1, drawn from the row number i (the same in both dialects)."""
    return f"(((i * 2654435761 + {salt * 40503}) % 4294967291) % {below})"


def pick(salt: int, values) -> str:
    """One of `values`, drawn from the row number."""
    literal = lambda value: "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"
    cases = " ".join(f"WHEN {index} THEN {literal(value)}" for index, value in enumerate(values))
    return f"CASE {drawn(salt, len(values))} {cases} END"


def pharmacy_sql(dialect: Dialect, patients: int) -> str:
    n, days, minutes = table_sizes(patients), dialect.days_before, dialect.minutes_before
    insert = lambda table, columns: f"INSERT INTO {table} SELECT {columns} FROM {dialect.series.format(n=n[table])};"
    digits = lambda value, width: f"substr('{'0' * width}' || ({value}), -{width})"
    return "\n".join([
        SCHEMA.replace("timestamptz", dialect.timestamp),
        insert("prescripteurs", f"i, '10' || {digits('i * 7919 % 1000000000', 9)}, {pick(1, NOMS)}, {pick(2, PRENOMS)}, "
                                f"{pick(3, SPECIALITES)}, {pick(4, [town for _, town in VILLES])}"),
        insert("patients", f"i, {pick(5, NOMS)}, {pick(6, PRENOMS)}, {pick(7, 'FM')}, "
                           f"{days.format(days=drawn(8, 95 * 365))}, {pick(9, [code for code, _ in VILLES])}, "
                           f"{pick(9, [town for _, town in VILLES])}, '0' || {pick(10, '2679')} || "
                           f"{digits(drawn(11, 10**8), 8)}, {pick(12, ORGANISMES)}"),
        insert("produits", f"i, CASE WHEN i = 1 THEN '3400930000007' ELSE '34009' || {digits('i * 7919 % 10000000', 7)} "
                           f"|| (i % 10) END, {pick(13, MOLECULES)} || ' ' || {pick(14, FORMES)} || ' #' || i, "
                           f"round(1.5 + {drawn(15, 7850)} / 100.0, 2), {pick(16, (15, 30, 65, 100))}, "
                           f"{pick(17, ('2.10', '5.50', '10.00', '20.00'))}"),
        insert("ordonnances", f"i, 1 + {drawn(18, n['patients'])}, 1 + {drawn(19, n['prescripteurs'])}, "
                              f"{days.format(days=f'3 + {drawn(20, 1092)}')}, "
                              f"{days.format(days=f'3 + {drawn(20, 1092)} - {drawn(21, 4)}')}"),
        insert("lignes_ordonnance", f"i, 1 + {drawn(22, n['ordonnances'])}, 1 + {drawn(23, n['produits'])}, "
                                    f"1 + {drawn(24, 3)}, {pick(25, POSOLOGIES)}"),
        insert("ventes", f"i, CASE WHEN {drawn(26, 2)} = 0 THEN NULL ELSE 1 + {drawn(27, n['patients'])} END, "
                         f"CASE WHEN i < {n['ventes']} THEN {minutes.format(minutes=f'6 + {drawn(28, 3 * 365 * 1440)}')} "
                         f"ELSE {minutes.format(minutes='5')} END, round(2 + {drawn(29, 14800)} / 100.0, 2), "
                         f"{pick(30, PAIEMENTS)}"),
        insert("factures", f"i, i, 1 + {drawn(31, n['patients'])}, {days.format(days=drawn(32, 1095))}, "
                           f"round(3 + {drawn(33, 24700)} / 100.0, 2), round((3 + {drawn(33, 24700)} / 100.0) * 0.65, 2), "
                           f"round((3 + {drawn(33, 24700)} / 100.0) * 0.35, 2), "
                           f"{pick(34, ('payée', 'transmise', 'rejetée', 'en attente'))}"),
        insert("mouvements_stock", f"i, 1 + {drawn(35, n['produits'])}, "
                                   f"{minutes.format(minutes=f'6 + {drawn(36, 3 * 365 * 1440)}')}, "
                                   f"{pick(37, (-3, -2, -1, -1, 6, 12, 24))}, {pick(38, MOTIFS)}"),
        INDEXES, *([FOREIGN_KEYS] if dialect is MARIADB else []),
    ])


@contextmanager
def engine_container(engine_type: str, memory: int, **settings):
    """A container of `engine_type` started as a drill starts it (its plan's spec), served:
    (runtime, container name, work directory on the host, the plan)."""
    work = make_work_dir(f"bench-{secrets.token_hex(4)}")
    engine = ENGINES[engine_type]
    site = SimpleNamespace(id="bench", engine=engine.settings(memory=f"{memory // GIB + 1}g", tmpfs=f"{memory // GIB}g",
                                                                   **settings))
    plan = engine.plan(site, "bench", str(work))
    runtime = DockerRuntime()
    try:
        runtime.start(plan.container)
        executor.serve(plan, runtime, plan.container.name)
        yield runtime, plan.container.name, work, plan
    finally:
        runtime.remove(plan.container.name)
        shutil.rmtree(work, ignore_errors=True)


def run(runtime, container: str, command: list[str], **streams) -> None:
    result = runtime.run(container, command, timeout=3600, **streams)
    if result.exit_code != 0:
        raise RuntimeError(f"{command[0]} failed (exit {result.exit_code}): {result.output[-500:]}")


def cached_backup(engine_type: str, size: str) -> Backup:
    """The age-encrypted backup of the demo pharmacy for `engine_type` (mariadb, sqlite) at `size`, made once."""
    identity = CACHE / "bench.agekey"
    recipient = ensure_age_identity(identity)
    patients = round(SIZES[size] / BYTES_PER_PATIENT[engine_type])
    path = CACHE / f"{SITE}-{engine_type}-{patients}.{'sql' if engine_type == 'mariadb' else 'sqlite'}.age"
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run making it: wait for it
        if not path.exists():
            print(f"bench: generating the {size} {engine_type} backup ({patients:,} patients; cached)", flush=True)
            started, partial = time.perf_counter(), path.with_name(f"{path.name}.{os.getpid()}.partial")
            manifest = (mariadb_backup if engine_type == "mariadb" else sqlite_backup)(patients, recipient, partial)
            path.with_name(path.name + ".manifest.json").write_text(manifest)
            partial.rename(path)
            print(f"bench: {path.stat().st_size / 1e6:,.0f} MB made in {time.perf_counter() - started:.0f} s", flush=True)
    return Backup(path, identity, patients)


def mariadb_backup(patients: int, recipient: str, target: Path) -> str:
    """A live MariaDB loaded with the pharmacy, its manifest counted, then mariadb-dump through age."""
    with engine_container("mariadb", whole_gib(4 * patients * BYTES_PER_PATIENT["mariadb"] + 2 * GIB)) as (
            runtime, container, work, _):
        sql = (f"SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT'), foreign_key_checks = 0;\n"
               f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4;\nUSE {DATABASE};\n{pharmacy_sql(MARIADB, patients)}")
        run(runtime, container, ["mariadb", *mariadb.CLIENT], input=iter([sql.encode()]))
        manifest = manifests.of_live_database(mariadb.attach_dsn(str(work)), SITE, engine="mariadb")
        encryptor = age_encrypt(recipient, target)
        try:
            run(runtime, container, ["mariadb-dump", *mariadb.CLIENT, "--single-transaction", "--databases", DATABASE],
                stdout=encryptor.stdin)
        finally:
            encryptor.stdin.close()
            if encryptor.wait() != 0:
                raise RuntimeError("age failed to encrypt the dump")
    return manifest


def sqlite_backup(patients: int, recipient: str, target: Path) -> str:
    """The pharmacy written by sqlite3 in the tools image (into a memory filesystem), its manifest, age."""
    with engine_container("sqlite", whole_gib(2 * patients * BYTES_PER_PATIENT["sqlite"] + GIB)) as (
            runtime, container, work, _):
        sql = "PRAGMA temp_store = memory; PRAGMA journal_mode = off;\n" + pharmacy_sql(SQLITE, patients)  # /tmp: 64 MB
        run(runtime, container, ["sqlite3", "-bail", "/run/drill/pharmacy.sqlite"], input=iter([sql.encode()]))
        manifest = manifests.of_backup_file("sqlite", work / "pharmacy.sqlite", SITE)
        subprocess.run(["age", "-r", recipient, "-o", str(target), str(work / "pharmacy.sqlite")], check=True)
    return manifest
