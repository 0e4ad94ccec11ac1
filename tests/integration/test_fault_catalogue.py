"""The fault catalogue: what lands in a backup bucket on a bad night, each case drilled by a real
`drill worker` (real Redis, Docker engine, age CLI, PostgreSQL, MariaDB, SQLite, tar) and ended
by a red report with its stable reason code, never a crash, a hang, a leftover container,
plaintext on the host or a green light. Every case is generated here from the session's real
backups; nothing big is committed. docs/faults.md lists the cases and what the operator sees.
"""

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from drills.catalog import load_catalog
from drills.errors import ConfigError
from tests.helpers import PROJECT, age_with_passphrase, site_entry, write_catalog
from tests.integration import hostile
from tests.integration.conftest import SITE
from tests.integration.test_hostile_archives import hostile_tar

CHUNK = 64 * 1024 + 16
WORKER_PEAK_KIB = 768 * 1024  # two drills at once, the 64 MiB line cap and DuckDB's 1 GB limit unused
DOC = PROJECT / "docs" / "faults.md"


@dataclass
class Fault:
    name: str
    reason: str                      # the report's reason; the outcome is `fail` for all but error.*
    build: Callable                  # build(folder, kit) -> the site's overrides
    what: str                        # the case, in words (docs/faults.md)
    overrides: dict = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return "error" if self.reason.startswith("error.") else "fail"


class Kit:
    """What the cases are made from: the session's real backups and keys."""

    def __init__(self, backups, file_backups, keys_dir, mariadb_backups=None, runtime=None):
        self.backups, self.file_backups, self.keys_dir = backups, file_backups, keys_dir
        self.mariadb_backups, self.runtime, self.made_dumps = mariadb_backups, runtime, None
        self.healthy = backups["healthy"]

    def pg_dumps(self) -> dict[str, bytes]:
        """Dumps made for the hostile cases (tests.integration.hostile), once."""
        if self.made_dumps is None:
            self.made_dumps = hostile.make_pg_dumps(self.runtime)
        return self.made_dumps

    def decrypt(self, ciphertext: bytes) -> bytes:
        return subprocess.run(["age", "-d", "-i", str(self.keys_dir["dir"] / "drill.agekey")], input=ciphertext,
                              capture_output=True, check=True).stdout

    def plain_dump(self, folder: Path, tail: bytes, **engine) -> dict:
        """The session's plain dump (gzip) with `tail` appended, as a plain SQL backup."""
        sql = gzip.decompress(self.decrypt(self.ciphertext("plain-gzip")))
        self.put(folder, self.encrypt(sql + tail), self.manifest("plain-gzip"))
        return {"engine": {"type": "postgres", "format": "plain", **engine}}

    def ciphertext(self, name: str = "healthy") -> bytes:
        return self.backups[name].read_bytes()

    def manifest(self, name: str = "healthy") -> dict:
        path = self.backups[name]
        return json.loads(path.with_name(path.name + ".manifest.json").read_text())

    def put(self, folder: Path, data: bytes, manifest: dict | bytes | None = None, name: str = "backup.dump.age",
            modified: datetime | None = None) -> None:
        (folder / name).write_bytes(data)
        if manifest is not None:
            raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
            (folder / (name + ".manifest.json")).write_bytes(for_site(raw, folder.name))
        if modified:
            for path in folder.iterdir():
                os.utime(path, (modified.timestamp(), modified.timestamp()))

    def copy(self, folder: Path, source: Path, name: str | None = None) -> None:
        target = folder / (name or source.name)
        shutil.copy2(source, target)
        manifest = source.with_name(source.name + ".manifest.json")
        if manifest.exists():
            copied = target.with_name(target.name + ".manifest.json")
            copied.write_bytes(for_site(manifest.read_bytes(), folder.name))
            shutil.copystat(manifest, copied)

    def encrypt(self, plaintext: bytes, recipient: str | None = None) -> bytes:
        return subprocess.run(["age", "-r", recipient or self.keys_dir["recipient"]], input=plaintext,
                              capture_output=True, check=True).stdout


def for_site(raw: bytes, site_id: str) -> bytes:
    """A manifest of the test site made the fault site's (one of another site stays as it is)."""
    try:
        document = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(document, dict) and document.get("site") == SITE:
        return json.dumps({**document, "site": site_id}).encode()
    return raw


def payload_start(ciphertext: bytes) -> int:
    """Where the payload (nonce, then chunks) starts: after the header's MAC line."""
    return ciphertext.index(b"\n", ciphertext.index(b"\n---")+1) + 1


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x40]) + data[offset + 1:]


def with_work_factor(ciphertext: bytes, factor: int) -> bytes:
    """A passphrase file's header asking for another scrypt work factor (its MAC left as it was)."""
    line_end = ciphertext.index(b"\n", len(b"age-encryption.org/v1\n"))
    words = ciphertext[len(b"age-encryption.org/v1\n"):line_end].split(b" ")
    return ciphertext[:len(b"age-encryption.org/v1\n")] + b" ".join(words[:-1] + [str(factor).encode()]) + \
        ciphertext[line_end:]


def passphrase_backup(kit: Kit, folder: Path) -> dict:
    secret = folder.parent / f"{folder.name}.pass"
    secret.write_text("correct horse battery staple\n")
    secret.chmod(0o600)
    age_with_passphrase(folder / "plain.age", "correct horse battery staple", b"ordonnances du jour\n")
    (folder / "backup.dump.age").write_bytes(with_work_factor((folder / "plain.age").read_bytes(), 40))
    (folder / "plain.age").unlink()
    return {"decrypt": {"passphrase_file": str(secret)}, "checks": {"manifest": "ignore"}}


def case_files(folder: Path, kit: Kit, name: str) -> None:
    kit.copy(folder, kit.file_backups[name])


def tiny_tables_sqlite(kit: Kit, folder: Path) -> dict:
    import sqlite3

    from drills import manifest as manifests

    database = folder.parent / f"{folder.name}.sqlite"
    with sqlite3.connect(database) as connection:
        for number in range(3000):
            connection.execute(f"CREATE TABLE t{number:04d} (id INTEGER PRIMARY KEY, v TEXT)")
            connection.execute(f"INSERT INTO t{number:04d} VALUES (1, 'x')")
    manifest = manifests.of_backup_file("sqlite", database, SITE)
    kit.put(folder, kit.encrypt(database.read_bytes()), manifest.encode(), name="many.sqlite.age")
    database.unlink()
    return {"engine": {"type": "sqlite"}, "checks": {"manifest": "required"}}


def tiny_files_tar(kit: Kit, folder: Path) -> dict:
    from drills import manifest as manifests

    archive = folder.parent / f"{folder.name}.tar"
    with tarfile.open(archive, "w") as tar:
        for number in range(20000):
            member = tarfile.TarInfo(f"notes/{number // 1000:02d}/note-{number:05d}.txt")
            body = f"note {number}\n".encode()
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
    kit.put(folder, kit.encrypt(archive.read_bytes()), manifests.of_backup_file("files", archive, SITE).encode(),
            name="notes.tar.age")
    archive.unlink()
    return {"engine": {"type": "files"}, "checks": {"manifest": "required"}}


def latin1_names_tar(kit: Kit, folder: Path) -> dict:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        for name in ("lettres/caf\xe9.txt", "lettres/r\xe9sum\xe9 m\xe9dical.txt"):
            member = tarfile.TarInfo(name)
            member.size = 5
            tar.addfile(member, io.BytesIO(b"texte"))
    kit.put(folder, kit.encrypt(buffer.getvalue()), name="latin1.tar.age")
    return {"engine": {"type": "files"}, "checks": {"manifest": "ignore"}}


NOW = datetime.now(timezone.utc)
FAULTS = [
    Fault("wrong-key", "decrypt.wrong_key", lambda f, k: k.copy(f, k.backups["other-key"]),
          "encrypted to a key the drill service does not hold"),
    Fault("retired-key", "decrypt.wrong_key",
          lambda f, k: k.put(f, k.encrypt(b"an old backup", k.keys_dir["other_recipient"]), k.manifest()),
          "encrypted to the site's previous (retired) key"),
    Fault("not-age", "decrypt.corrupt", lambda f, k: k.put(f, b"-- a plain SQL dump, never encrypted\n", k.manifest()),
          "a plain file where an age file was expected"),
    Fault("empty", "decrypt.corrupt", lambda f, k: k.put(f, b"", k.manifest()), "an empty file"),
    Fault("truncated-10-bytes", "decrypt.corrupt", lambda f, k: k.put(f, k.ciphertext()[:10], k.manifest()),
          "cut after 10 bytes"),
    Fault("truncated-after-header", "decrypt.corrupt",
          lambda f, k: k.put(f, k.ciphertext()[:payload_start(k.ciphertext())], k.manifest()),
          "cut right after its header (0 bytes of data)"),
    Fault("truncated-at-chunk-boundary", "decrypt.corrupt",
          lambda f, k: k.put(f, k.ciphertext()[:payload_start(k.ciphertext()) + 16 + CHUNK], k.manifest()),
          "cut exactly at a 64 KiB chunk boundary"),
    Fault("truncated-mid-chunk", "decrypt.corrupt",
          lambda f, k: k.put(f, k.ciphertext()[:payload_start(k.ciphertext()) + 16 + CHUNK + 3000], k.manifest()),
          "cut in the middle of a chunk"),
    Fault("flipped-version-line", "decrypt.corrupt", lambda f, k: k.put(f, flipped(k.ciphertext(), 3), k.manifest()),
          "a byte flipped in the header's first line"),
    Fault("flipped-header-mac", "decrypt.corrupt",
          lambda f, k: k.put(f, flipped(k.ciphertext(), payload_start(k.ciphertext()) - 5), k.manifest()),
          "a byte flipped in the header's MAC"),
    Fault("flipped-first-chunk", "decrypt.corrupt",
          lambda f, k: k.put(f, flipped(k.ciphertext(), payload_start(k.ciphertext()) + 100), k.manifest()),
          "a byte flipped in the first chunk"),
    Fault("flipped-last-chunk", "decrypt.corrupt",
          lambda f, k: k.put(f, flipped(k.ciphertext(), len(k.ciphertext()) - 5), k.manifest()),
          "a byte flipped in the last chunk"),
    Fault("trailing-garbage", "decrypt.corrupt", lambda f, k: k.put(f, k.ciphertext() + b"\0" * 100, k.manifest()),
          "bytes appended after the last chunk"),
    Fault("absurd-work-factor", "decrypt.work_factor_too_high", lambda f, k: passphrase_backup(k, f),
          "a passphrase file asking for scrypt work factor 40 (1 TiB of memory): refused before any work"),
    Fault("manifest-missing", "manifest.missing", lambda f, k: k.put(f, k.ciphertext()),
          "no manifest beside the backup (manifest: required)"),
    Fault("manifest-not-json", "manifest.invalid", lambda f, k: k.put(f, k.ciphertext(), b"{tables: oops"),
          "a manifest that is not JSON"),
    Fault("manifest-other-site", "manifest.invalid",
          lambda f, k: k.put(f, k.ciphertext(), {**k.manifest(), "site": "pharmacie-voisine"}),
          "a manifest written for another site"),
    Fault("manifest-other-engine", "manifest.invalid",
          lambda f, k: k.put(f, k.ciphertext(), {**k.manifest(), "engine": "mariadb"}),
          "a manifest written for another engine"),
    Fault("manifest-phantom-tables", "verify.table_missing",
          lambda f, k: k.put(f, k.ciphertext(), {**k.manifest(), "tables": {**k.manifest()["tables"],
                                                                            "public.dossiers_medicaux": 1200}}),
          "a manifest counting a table the dump does not hold"),
    Fault("manifest-replayed", "manifest.invalid",
          lambda f, k: k.put(f, k.ciphertext(), {**k.manifest(), "taken_at": (NOW - timedelta(days=5)).isoformat()}),
          "an old manifest replayed beside a new backup"),
    Fault("other-sites-dump", "verify.count_mismatch",
          lambda f, k: k.put(f, k.ciphertext("old-data"), k.manifest()),
          "a dump of another site (other data) beside this site's manifest"),
    Fault("corrupt-toc", "restore.failed", lambda f, k: k.copy(f, k.backups["corrupt-toc"]),
          "a custom-format dump whose table of contents is damaged"),
    Fault("copy-to-program", "restore.failed", lambda f, k: k.copy(f, k.backups["plain-hostile"]),
          "plain SQL running COPY ... TO PROGRAM", {"engine": {"type": "postgres", "format": "plain"}}),
    Fault("psql-shell-escape", "restore.failed", lambda f, k: k.plain_dump(f, b"\\! touch /tmp/pwned\n"),
          "plain SQL with a psql \\! shell escape"),
    Fault("side-effect-function", "restore.failed", lambda f, k: k.plain_dump(
        f, b"CREATE FUNCTION public.run(text) RETURNS int LANGUAGE c AS 'libc.so.6', 'system';\n"
              b"SELECT public.run('touch /tmp/pwned');\n"), "plain SQL creating a C function that calls system()"),
    Fault("decompression-bomb", "restore.too_large",
          lambda f, k: k.put(f, k.encrypt(gzip.compress(b"\n" * 300_000_000, 9)), k.manifest()),
          "a 1,000x gzip bomb as a plain dump (engine.max_decompressed: 64m)",
          {"engine": {"type": "postgres", "format": "plain", "max_decompressed": "64m"}}),
    Fault("hostile-tar", "verify.unsafe_archive", lambda f, k: k.put(f, k.encrypt(hostile_tar()), name="docs.tar.age"),
          "a tar with ../, an absolute path, links out of the tree, a hard link out, a device",
          {"engine": {"type": "files"}, "checks": {"manifest": "ignore"}}),
    Fault("ransomware", "verify.file_altered", lambda f, k: case_files(f, k, "files-ransomed"),
          "documents encrypted by ransomware (also a verify.ransomware_suspect finding)",
          {"engine": {"type": "files"}, "checks": {"manifest": "required"}}),
    Fault("many-tiny-tables", "", lambda f, k: tiny_tables_sqlite(k, f),
          "3,000 one-row tables in an SQLite file: passes, in bounded time"),
    Fault("many-tiny-files", "", lambda f, k: tiny_files_tar(k, f),
          "20,000 tiny files in a tar: passes, in bounded time"),
    Fault("non-utf8-names", "", lambda f, k: latin1_names_tar(k, f),
          "file names in Latin-1, not UTF-8: passes, names escaped in the report"),
    Fault("stale-backup", "backup.stale", lambda f, k: k.copy(f, k.backups["stale"]),
          "the newest backup is 3 days old (RPO 26 h)"),
    Fault("stale-data", "verify.stale_data", lambda f, k: k.copy(f, k.backups["old-data"]),
          "a fresh backup of data that stopped 3 days ago (the canary)",
          {"checks": {"manifest": "required", "newest_record": "public.ventes.vendu_le"}}),
    Fault("restore-timeout", "restore.timeout", lambda f, k: k.plain_dump(f, b"SELECT pg_sleep(60);\n", timeout="3s"),
          "a restore longer than engine.timeout (3 s)"),
    Fault("memory-limit", "restore.out_of_memory",
          lambda f, k: k.plain_dump(f, b"SELECT length(repeat('x', 300000000) || repeat('y', 300000000));\n",
                                  memory="160m", tmpfs="64m"),
          "a restore killed by the container's memory limit (engine.memory: 160m)"),
    Fault("tmpfs-full", "restore.too_large", lambda f, k: k.plain_dump(
        f, b"CREATE TABLE public.bloat AS SELECT repeat('x', 1000) AS filler FROM generate_series(1, 200000);\n",
        tmpfs="48m"), "the restored database outgrows engine.tmpfs (48m)"),
    # Hostile backups (tests/integration/hostile.py): what an attacker puts in one.
    Fault("sqlite-views-read-files", "verify.assertion_failed", hostile.sqlite_views_reading_files,
          "an SQLite file with views reading the worker's age identity and /etc/passwd (named by the site's "
          "checks), a trigger and a virtual table: set aside in the container before DuckDB opens the file"),
    Fault("plain-rows-in-errors", "restore.failed", hostile.plain_rows_in_errors,
          "plain SQL failing on a patient's row after RAISE WARNING of another: the message keeps the code and line"),
    Fault("custom-inserts-in-errors", "restore.failed", hostile.custom_inserts_in_errors,
          "a custom dump (--inserts) whose row cannot be restored: pg_restore's 'Command was: INSERT' is dropped"),
    Fault("mariadb-rows-in-errors", "restore.failed", hostile.mariadb_rows_in_errors,
          "a mysqldump failing on a duplicate patient: the message keeps the error number and line"),
    Fault("endless-line", "restore.failed", hostile.mariadb_endless_line,
          "a few KB of zstd that decompress to one 100 MB line: refused at 64 MiB, never gathered"),
    Fault("view-that-hangs", "verify.timeout", hostile.view_that_hangs,
          "a restored view that sleeps for an hour, named by the site's SQL check (engine.timeout: 25s)"),
    Fault("freshness-forged", "manifest.invalid", hostile.freshness_forged,
          "a five-day-old backup file whose manifest says it was taken just now"),
    Fault("taken-in-the-future", "manifest.invalid", hostile.taken_in_the_future,
          "a manifest whose taken_at is a year in the future"),
    Fault("empty-database", "verify.empty", hostile.empty_database,
          "pg_dump of an empty database, drilled with the default checks"),
    Fault("no-checks-key", "", hostile.no_checks_key, "a site with no checks: key at all: the defaults run"),
    Fault("contents-not-verified", "", hostile.contents_not_verified,
          "a good backup with no manifest and no table bounds: passes as 'restored, contents not verified'"),
]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory, backups, file_backups, mariadb_backups, keys_dir, redis_server, docker_engine):
    """Every fault as a site, drilled by one real worker process; its reports, by site."""
    import redis

    directory = tmp_path_factory.mktemp("faults")
    kit, entries = Kit(backups, file_backups, keys_dir, mariadb_backups, docker_engine), []
    for fault in FAULTS:
        folder = directory / "backups" / fault.name
        folder.mkdir(parents=True)
        built = fault.build(folder, kit) or {}
        entry = {**site_entry(fault.name, folder, keys_dir["dir"] / "drill.agekey"), **built, **fault.overrides}
        entries.append({key: value for key, value in entry.items() if value is not None})  # None: key left out
    catalog = write_catalog(directory, entries)
    redis.Redis.from_url(redis_server.url).flushall()
    env = {**os.environ, "DRILL_REDIS_URL": redis_server.url, "DRILL_CATALOG": str(catalog),
           "DRILL_WORKER_THREADS": "2", "DRILL_MAX_RETRIES": "0"}
    drill = lambda *args: subprocess.run([sys.executable, "-m", "drills.cli", *args], env=env, cwd=PROJECT,  # noqa: E731
                                         capture_output=True, text=True, timeout=120)
    assert drill("keys", "init").returncode == 0
    log = open(directory / "worker.log", "w")
    worker = subprocess.Popen([sys.executable, "-m", "drills.cli", "worker"], env=env, cwd=PROJECT, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        assert drill("enqueue", "--all").returncode == 0
        reports = wait_for_reports(directory / "evidence", [fault.name for fault in FAULTS], 1, deadline=900,
                                   log=directory / "worker.log")
        if os.environ.get("DRILL_FAULTS_DOC"):  # DRILL_FAULTS_DOC=1 pytest ... writes docs/faults.md anew
            write_doc(reports)
        yield SimpleCatalogue(directory, catalog, env, worker, reports, drill)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()


def write_doc(reports: dict) -> None:
    rows = ["| case | what lands in the bucket | outcome | reason | what the operator sees (message, then hint) |",
            "|---|---|---|---|---|"]
    for fault in FAULTS:
        report = reports[fault.name]
        seen = (f"{report['message']} *Next:* {report['hint']}" if report["reason"] else
                "a green report" if report["contents_verified"] else
                "a pass marked 'restored, contents not verified' (amber on the dashboard, no certificate)")
        rows.append(f"| `{fault.name}` | {fault.what} | {report['outcome']} | `{report['reason'] or '-'}` | "
                    f"{seen.replace('|', '/')} |")
    DOC.write_text(DOC_HEAD + "\n".join(rows) + "\n" + DOC_TAIL)


DOC_HEAD = """# The fault catalogue

Every case below is generated at test time from real backups (`tests/integration/test_fault_catalogue.py`)
and drilled by a real `drill worker`; the test asserts each outcome and reason, that the report
tells the operator what was seen and what to do, that after each case no container, volume,
socket directory or plaintext remains, and that the worker still serves drills after all of them.
The messages are the reports' own (regenerate: `DRILL_FAULTS_DOC=1 .venv/bin/pytest
tests/integration/test_fault_catalogue.py`).

"""
DOC_TAIL = """
Also in the catalogue, outside the bucket:

| case | outcome | reason |
|---|---|---|
| a site check whose SQL writes (`DELETE`, a second statement) or is not SQL | refused when the catalog loads, with its file and line | `config.invalid` |
| the Docker engine unreachable | error (retried by the workers, the site not blamed) | `error.runtime` |

Hostile plain dumps are also restored one by one in a live container to prove that nothing ran
(`tests/integration/test_hostile_sql.py`: COPY TO PROGRAM, `\\!`, a C function calling system(), an
untrusted language; for MariaDB `\\!`, `system`, `pager`, INTO OUTFILE), and hostile archives are
extracted to prove nothing lands outside the restore root (`tests/integration/test_hostile_archives.py`).
"""


@dataclass
class SimpleCatalogue:
    directory: Path
    catalog: Path
    env: dict
    worker: subprocess.Popen
    reports: dict
    drill: Callable


def wait_for_reports(evidence: Path, sites: list[str], count: int, deadline: float, log: Path) -> dict:
    """Each site's newest report, once every site has `count` of them (bounded wait)."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        found = {site: sorted((evidence / site).glob("[0-9]*-*.json")) for site in sites}
        if all(len(paths) >= count for paths in found.values()):
            return {site: json.loads(paths[-1].read_bytes()) for site, paths in found.items()}
        time.sleep(0.5)
    missing = [site for site, paths in found.items() if len(paths) < count]
    pytest.fail(f"no report for {missing} in {deadline} s\n{log.read_text()[-4000:]}")


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_each_fault_ends_with_its_reason_and_a_message_for_the_operator(catalogue, fault):
    report = catalogue.reports[fault.name]
    expected = (fault.outcome, fault.reason) if fault.reason else ("pass", None)
    assert (report["outcome"], report["reason"]) == expected, report["findings"]
    if fault.reason:
        assert report["message"] and report["hint"], "the operator is told what was seen and what to do"
    assert "AGE-SECRET-KEY" not in json.dumps(report) and "correct horse" not in json.dumps(report)


def test_a_site_check_that_writes_or_is_not_sql_is_refused_at_load_not_at_2am(tmp_path):
    for query, why in (("DELETE FROM public.patients", "exactly one SELECT"),
                       ("SELECT count(*) FROM public.patients; DROP TABLE public.patients", "exactly one SELECT"),
                       ("SELEKT count(*) FROM public.patients", "not valid SQL")):
        entry = site_entry(SITE, tmp_path, tmp_path / "k", checks={"sql": [{"name": "n", "query": query, "expect": 0}]})
        with pytest.raises(ConfigError) as refused:
            load_catalog(write_catalog(tmp_path, [entry]))
        assert why in str(refused.value) and "catalog.yaml:" in str(refused.value)


def test_an_unreachable_docker_engine_is_our_error_and_the_site_not_blamed(tmp_path, backups, keys_dir, monkeypatch):
    from drills.pipeline import run_drill
    from drills.reports import keys

    folder = tmp_path / "backups"
    folder.mkdir()
    Kit(backups, {}, keys_dir).copy(folder, backups["healthy"])
    catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")]))
    keys.init(catalog.signing_key)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    report = run_drill(catalog, catalog.sites[0]).report
    assert (report["outcome"], report["reason"]) == ("error", "error.runtime")


def test_after_the_whole_catalogue_the_worker_still_serves_drills(catalogue, backups):
    assert catalogue.worker.poll() is None, "the worker survived every fault"
    shutil.rmtree(catalogue.directory / "backups" / "wrong-key")
    (catalogue.directory / "backups" / "wrong-key").mkdir()
    Kit(backups, {}, {}).copy(catalogue.directory / "backups" / "wrong-key", backups["healthy"])
    assert catalogue.drill("enqueue", "wrong-key").returncode == 0
    report = wait_for_reports(catalogue.directory / "evidence", ["wrong-key"], 2, deadline=180,
                              log=catalogue.directory / "worker.log")["wrong-key"]
    assert (report["outcome"], report["reason"]) == ("pass", None)


def test_docs_faults_lists_every_case():
    listed = DOC.read_text()
    for fault in FAULTS:
        assert f"`{fault.name}`" in listed, f"docs/faults.md lacks {fault.name}"


def test_a_hostile_sqlite_file_reads_nothing_of_the_worker_and_its_views_are_set_aside(catalogue):
    report = catalogue.reports["sqlite-views-read-files"]
    evidence = "".join(path.read_text(errors="replace") for path in (catalogue.directory / "evidence").rglob("*")
                       if path.is_file())
    assert "root:x:0:0" not in evidence and "AGE-SECRET-KEY" not in evidence
    (set_aside,) = [f for f in report["findings"] if f["check"] == "schema.neutralised"]
    assert set_aside["actual"] == 4, set_aside  # two views, a trigger, a virtual table
    assert [f["status"] for f in report["findings"] if f["check"] == "table.count"] == ["pass"]


def test_no_patient_row_reaches_a_report_or_the_hosts_disk(catalogue):
    for name in ("plain-rows-in-errors", "custom-inserts-in-errors", "mariadb-rows-in-errors"):
        assert hostile.MARKER not in hostile.report_text(catalogue.reports[name]), name
    docker_root = subprocess.run(["docker", "info", "--format", "{{.DockerRootDir}}"], capture_output=True,
                                 text=True).stdout.strip()
    assert hostile.markers_on_disk([docker_root, "/var/log", catalogue.directory]) == []


def test_a_failed_restore_says_its_error_code_and_where(catalogue):
    messages = {name: catalogue.reports[name]["message"] for name in
                ("plain-rows-in-errors", "custom-inserts-in-errors", "mariadb-rows-in-errors")}
    assert "ERROR 22P02" in messages["plain-rows-in-errors"] and "psql:<stdin>:" in messages["plain-rows-in-errors"]
    assert "SQLSTATE 22021" in messages["custom-inserts-in-errors"], messages
    assert "ERROR 1062 (23000) at line" in messages["mariadb-rows-in-errors"], messages


def test_a_pass_checked_against_nothing_says_so(catalogue):
    assert catalogue.reports["contents-not-verified"]["contents_verified"] is False
    assert catalogue.reports["no-checks-key"]["contents_verified"] is True  # its manifest was compared


def test_the_worker_memory_stays_bounded_whatever_the_backups(catalogue):
    status = Path(f"/proc/{catalogue.worker.pid}/status").read_text()
    peak_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    assert peak_kib < WORKER_PEAK_KIB, f"the worker peaked at {peak_kib // 1024} MiB"
