"""Integration fixtures: one live source database per session, backups made from it with real
pg_dump and the real age CLI, and a check after every test that the host is clean."""

import gzip
import shutil
import subprocess
import uuid
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import age_identity, drill_command, site_entry, write_catalog

SITE = "pharmacie-test"
PATIENTS = 300


class Appending:
    """A sink wrapper that adds `text` after the dump (a hostile statement at its end)."""

    def __init__(self, sink, text: str):
        self.sink, self.text = sink, text

    def write(self, data: bytes) -> None:
        self.sink.write(data)

    def close(self) -> None:
        self.sink.write(self.text.encode())


class Truncating:
    """A sink wrapper that keeps only the first `keep` bytes (an upload cut short)."""

    def __init__(self, sink, keep: int):
        self.sink, self.left = sink, keep

    def write(self, data: bytes) -> None:
        kept = data[:max(self.left, 0)]
        self.left -= len(kept)
        self.sink.write(kept)

    def close(self) -> None:
        pass


class Corrupting:
    """A sink wrapper that overwrites `length` bytes from `offset` on (a damaged dump)."""

    def __init__(self, sink, offset: int, length: int = 64):
        self.sink, self.offset, self.length, self.position = sink, offset, length, 0

    def write(self, data: bytes) -> None:
        data = bytearray(data)
        for index in range(len(data)):
            if self.offset <= self.position + index < self.offset + self.length:
                data[index] ^= 0x5A
        self.position += len(data)
        self.sink.write(bytes(data))

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory, age_cli):
    directory = tmp_path_factory.mktemp("keys")
    return {"dir": directory, "recipient": age_identity(directory / "drill.agekey"),
            "other_recipient": age_identity(directory / "other.agekey")}


@pytest.fixture(scope="session")
def backups(tmp_path_factory, docker_engine, keys_dir):
    """Every backup the tests drill, made once: name -> path of the .age file."""
    from drills.demo.seed import SourceDatabase, seal

    root = tmp_path_factory.mktemp("backups")
    recipient = keys_dir["recipient"]
    made = {}

    def make(name, **options):
        made[name] = seal(source, options.pop("recipient", recipient), root / name / f"{name}.dump.age", SITE,
                          **options)

    with SourceDatabase(patients=PATIENTS, runtime=docker_engine) as source:
        make("healthy")
        make("plain-gzip", format="plain", alter=lambda sink: gzip.GzipFile(fileobj=sink, mode="wb"))
        make("directory-tar", format="directory")
        make("plain-hostile", format="plain",
             alter=lambda sink: Appending(sink, "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned';\n"))
        make("other-key", recipient=keys_dir["other_recipient"])
        make("missing-table", exclude_tables=("public.factures",))
        make("corrupt-dump", alter=lambda sink: Corrupting(sink, offset=30_000))
        make("truncated-dump", alter=lambda sink: Truncating(sink, keep=40_000))
        make("corrupt-toc", alter=lambda sink: Corrupting(sink, offset=60, length=400))
        make("stale", taken_at=datetime.now(timezone.utc) - timedelta(days=3))
        before_deletion = source.manifest(SITE)
        source.execute("DELETE FROM public.ventes WHERE id <= 10")
        make("rows-deleted", manifest=before_deletion)
        source.execute("ALTER TABLE public.lignes_ordonnance DROP CONSTRAINT lignes_ordonnance_ordonnance_id_fkey;"
                       "INSERT INTO public.lignes_ordonnance VALUES (999999, 999999, 1, 1, 'orpheline')")
        make("orphan-line")
    # A fresh file of old data: a backup job dumping a replica that stopped three days ago.
    with SourceDatabase(patients=50, runtime=docker_engine, as_of=datetime.now(timezone.utc) - timedelta(days=3)) \
            as source:
        make("old-data")
    return made


@pytest.fixture
def catalog(tmp_path, backups, keys_dir, docker_engine):
    """A catalog of one site whose source holds a copy of the healthy backup, and its signing key."""
    folder = tmp_path / "backups"
    folder.mkdir()
    for file in backups["healthy"].parent.iterdir():
        shutil.copy2(file, folder / file.name)
    path = write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
    return path


def sealed_with_age_cli(target: Path, plain: Path, recipient: str, manifest: str) -> Path:
    """`plain` encrypted by the real age CLI at `target`, the manifest beside it, as a site's job does."""
    target.parent.mkdir(parents=True)
    subprocess.run(["age", "-r", recipient, "-o", str(target), str(plain)], check=True)
    target.with_name(target.name + ".manifest.json").write_text(manifest)
    return target


class Box:
    """A container of an engine (the tools image by default, or a live MariaDB server), to make
    backups with the real tools as a site would; what it writes lands in its work directory."""

    def __init__(self, runtime, engine_type: str = "tools"):
        self.runtime, self.engine_type, self.work, self.container = runtime, engine_type, None, None

    def __enter__(self) -> "Box":
        from types import SimpleNamespace

        from drills.engines import ENGINES, executor
        from drills.workdir import make_work_dir

        engine = ENGINES["mariadb" if self.engine_type == "mariadb" else "sqlite"]  # sqlite: an idle tools container
        self.work = make_work_dir(f"box-{uuid.uuid4().hex[:8]}")
        settings = SimpleNamespace(id="box", engine=engine.settings(memory="1g", tmpfs="512m"))
        plan = engine.plan(settings, "box", str(self.work))
        self.container = plan.container.name
        self.runtime.start(plan.container)
        executor.serve(plan, self.runtime, self.container)
        return self

    def sh(self, script: str) -> str:
        result = self.runtime.run(self.container, ["sh", "-c", script], timeout=120)
        assert result.exit_code == 0, result.output
        return result.output

    def __exit__(self, *exc_info) -> None:
        self.runtime.remove(self.container)
        shutil.rmtree(self.work, ignore_errors=True)


SQLITE_PHARMACY = """
CREATE TABLE patients (id INTEGER PRIMARY KEY, nom TEXT NOT NULL, prenom TEXT NOT NULL, date_naissance TEXT);
CREATE TABLE ordonnances (id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES patients(id),
  date_prescription TEXT NOT NULL);
CREATE TABLE ventes (id INTEGER PRIMARY KEY, patient_id INTEGER, vendu_le TEXT NOT NULL, montant REAL NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
  INSERT INTO patients SELECT i, 'Nom' || i, 'Prénom' || i, date('1950-01-01', '+' || (i * 37) || ' days') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
  INSERT INTO ordonnances SELECT i, 1 + i % 300, date('now', '-' || (i % 90) || ' days') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)
  INSERT INTO ventes SELECT i, 1 + i % 300, datetime('now', '-' || i || ' minutes'), i * 1.5 FROM n;
"""


def documents_tree(root: str) -> str:
    """A shell script writing a practice's documents: PDF scans, JPEG and PNG images, DOCX letters."""
    lines = [f"mkdir -p {root}/scans {root}/images {root}/lettres"]
    for n in range(40):
        lines.append(f"{{ printf '%%PDF-1.4\\n'; head -c {2000 + n * 97} /dev/zero | tr '\\0' 'a'; }} "
                     f"> {root}/scans/ordonnance-{n:04d}.pdf")
    for n in range(10):
        lines.append(f"{{ printf '\\377\\330\\377\\340'; head -c {5000 + n} /dev/zero; }} > {root}/images/radio-{n:02d}.jpg")
        lines.append(f"{{ printf '\\211PNG\\r\\n\\032\\n'; head -c {300 + n} /dev/zero; }} > {root}/images/plan-{n:02d}.png")
        lines.append(f"{{ printf 'PK\\003\\004'; head -c {1200 + n} /dev/zero; }} > {root}/lettres/courrier-{n:02d}.docx")
    return " && ".join(lines)


@pytest.fixture(scope="session")
def file_backups(tmp_path_factory, docker_engine, keys_dir):
    """SQLite and documents-archive backups made with the real sqlite3 and tar, encrypted with
    the real age CLI: name -> path of the .age file (its manifest beside it)."""
    from drills import manifest as manifests

    root = tmp_path_factory.mktemp("file-backups")
    made = {}

    def seal_file(name: str, plain: Path, engine: str, manifest_from: Path | None = None) -> None:
        manifest = manifests.of_backup_file(engine, manifest_from or plain, SITE)
        made[name] = sealed_with_age_cli(root / name / f"{name}.{'sqlite' if engine == 'sqlite' else 'tar'}.age",
                                         plain, keys_dir["recipient"], manifest)

    with Box(docker_engine) as box:
        work, inside = box.work, "/run/drill"
        (work / "pharmacy.sql").write_text(SQLITE_PHARMACY)
        box.sh(f"sqlite3 -bail {inside}/live.sqlite < {inside}/pharmacy.sql && "
               f"sqlite3 {inside}/live.sqlite '.backup {inside}/healthy.sqlite' && "
               f"cp {inside}/healthy.sqlite {inside}/missing.sqlite && sqlite3 {inside}/missing.sqlite 'DROP TABLE ordonnances' && "
               f"cp {inside}/healthy.sqlite {inside}/deleted.sqlite && sqlite3 {inside}/deleted.sqlite 'DELETE FROM ventes WHERE id <= 10' && "
               f"head -c 20000 {inside}/healthy.sqlite > {inside}/truncated.sqlite && gzip -k {inside}/healthy.sqlite")
        for name, file in (("sqlite-healthy", "healthy.sqlite"), ("sqlite-gzip", "healthy.sqlite.gz"),
                           ("sqlite-missing-table", "missing.sqlite"), ("sqlite-rows-deleted", "deleted.sqlite"),
                           ("sqlite-truncated", "truncated.sqlite")):
            seal_file(name, work / file, "sqlite", manifest_from=work / "healthy.sqlite")

        box.sh(documents_tree(f"{inside}/tree") + f" && tar -c -C {inside}/tree -f {inside}/healthy.tar . && "
               f"tar -c -C {inside}/tree --exclude=./scans/ordonnance-0007.pdf -f {inside}/missing.tar . && "
               f"printf 'modifié' >> {inside}/tree/lettres/courrier-03.docx && "
               f"tar -c -C {inside}/tree -f {inside}/altered.tar . && "
               f"head -c 9000 /dev/urandom > {inside}/tree/scans/ordonnance-0012.pdf && "
               f"tar -c -C {inside}/tree -f {inside}/ransomed.tar . && "
               f"head -c 30000 {inside}/healthy.tar > {inside}/truncated.tar && gzip -k {inside}/healthy.tar")
        for name in ("healthy", "gzip", "missing-file", "altered", "ransomed", "truncated"):
            file = {"gzip": "healthy.tar.gz", "missing-file": "missing.tar"}.get(name, f"{name}.tar")
            seal_file(f"files-{name}", work / file, "files", manifest_from=work / "healthy.tar")
    return made


MARIADB_PHARMACY = """
CREATE DATABASE lgo CHARACTER SET utf8mb4;
USE lgo;
CREATE TABLE patients (id INT PRIMARY KEY, nom VARCHAR(80) NOT NULL, prenom VARCHAR(80) NOT NULL, date_naissance DATE);
CREATE TABLE ordonnances (id INT PRIMARY KEY, patient_id INT NOT NULL, date_prescription DATE NOT NULL,
  FOREIGN KEY (patient_id) REFERENCES patients (id));
CREATE TABLE ventes (id INT PRIMARY KEY, patient_id INT, vendu_le DATETIME NOT NULL, montant DECIMAL(10,2) NOT NULL);
INSERT INTO patients SELECT seq, CONCAT('Nom', seq), CONCAT('Prénom', seq), '1950-01-01' + INTERVAL seq * 37 DAY
  FROM seq_1_to_300;
INSERT INTO ordonnances SELECT seq, 1 + seq % 300, CURDATE() - INTERVAL seq % 90 DAY FROM seq_1_to_600;
INSERT INTO ventes SELECT seq, 1 + seq % 300, UTC_TIMESTAMP() - INTERVAL seq MINUTE, seq * 1.5 FROM seq_1_to_900;
"""


@pytest.fixture(scope="session")
def mariadb_backups(tmp_path_factory, docker_engine, keys_dir):
    """mysqldump backups of a live MariaDB (in its container), encrypted with the real age CLI:
    name -> path of the .age file, its manifest (counted on the live server) beside it."""
    from drills import manifest as manifests
    from drills.engines import mariadb

    root, made = tmp_path_factory.mktemp("mariadb-backups"), {}
    client = "--no-defaults --socket=/run/drill/mysqld.sock --user=root"
    with Box(docker_engine, "mariadb") as box:
        (box.work / "pharmacy.sql").write_text(MARIADB_PHARMACY)
        box.sh(f"mariadb {client} < /run/drill/pharmacy.sql")
        healthy_manifest = manifests.of_live_database(mariadb.attach_dsn(str(box.work)), SITE, engine="mariadb")
        dump = f"mariadb-dump {client} --single-transaction --databases lgo"
        box.sh(f"{dump} > /run/drill/healthy.sql && {dump} --ignore-table=lgo.ordonnances > /run/drill/missing.sql && "
               f"head -c $(( $(stat -c %s /run/drill/healthy.sql) / 2 )) /run/drill/healthy.sql > /run/drill/truncated.sql && "
               f"gzip -k /run/drill/healthy.sql && mariadb {client} -e 'DELETE FROM lgo.ventes WHERE id <= 10' && "
               f"{dump} > /run/drill/deleted.sql")
        for name, file in (("mariadb-healthy", "healthy.sql"), ("mariadb-gzip", "healthy.sql.gz"),
                           ("mariadb-missing-table", "missing.sql"), ("mariadb-rows-deleted", "deleted.sql"),
                           ("mariadb-truncated", "truncated.sql")):
            made[name] = sealed_with_age_cli(root / name / f"{name}.sql.age", box.work / file, keys_dir["recipient"],
                                             healthy_manifest)
    return made
