"""`drill seal SITE --dsn` dumps, counts and fingerprints a live PostgreSQL database in one
snapshot: pgbench writing during the seal leaves every count exact and every fingerprint equal,
the old form (dump first, count after) goes red and warns, a value edited in a sealed dump is
caught by its fingerprint, and every kind of value fingerprints alike before and after."""

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from drills.checks import fingerprints
from drills.demo.seed import SourceDatabase
from drills.engines.postgres import CONNECT, DATABASE
from drills.sealing.postgres import psql
from tests.helpers import drill_command, site_entry, write_catalog

SITE = "pharmacie-instantanee"
PGBENCH = ["pgbench", *CONNECT, DATABASE]


@pytest.fixture
def catalog(tmp_path, keys_dir):
    def make(pattern="*.dump.age", checks=None, **engine):
        entry = site_entry(SITE, tmp_path / "backups", keys_dir["dir"] / "drill.agekey",
                           source={"pattern": pattern}, engine={"type": "postgres", **engine}, checks=checks or {})
        path = write_catalog(tmp_path, [entry])
        assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
        return str(path)
    (tmp_path / "backups").mkdir()
    return make


def seal(catalog: str, dsn: str, recipient: str, *more) -> subprocess.CompletedProcess:
    return drill_command("seal", SITE, *more, "--dsn", dsn, "--recipient", recipient, "--json", "--catalog", catalog)


def drilled(catalog: str) -> dict:
    result = drill_command("run", SITE, "--json", "--catalog", catalog)
    return json.loads(result.stdout)


def by_check(report: dict, check: str) -> dict[str, dict]:
    return {f["subject"]: f for f in report["findings"] if f["check"] == check}


def pgbench(database, *options: str) -> str:
    result = database.runtime.run(database.container_id, [*PGBENCH[:1], *options, *PGBENCH[1:]], timeout=120)
    assert result.exit_code == 0, result.output
    return result.output


def test_pgbench_writing_during_the_seal_leaves_every_count_exact_and_every_fingerprint_equal(
        catalog, docker_engine, keys_dir):
    catalog = catalog(checks={"fingerprint_rows": 50_000})  # pgbench_accounts (200,000 rows) sampled by its key
    with SourceDatabase(patients=150, runtime=docker_engine) as live:
        pgbench(live, "-i", "-q", "-s", "2")
        for _ in range(3):
            load = threading.Thread(target=lambda: outputs.append(pgbench(live, "-n", "-c", "4", "-j", "2", "-T", "6")))
            outputs: list[str] = []
            before = live_count(live, "public.pgbench_history")
            load.start()
            writing(lambda: live_count(live, "public.pgbench_history") > before)  # when the snapshot is taken
            sealed = seal(catalog, live.dsn, keys_dir["recipient"])
            load.join()
            assert sealed.returncode == 0, sealed.stderr
            assert "number of transactions actually processed" in outputs[0]
            report = drilled(catalog)
            assert (report["outcome"], report["reason"]) == ("pass", None), [(f["code"], f["message"]) for f in report["findings"]]
            counts, prints = by_check(report, "table.count"), by_check(report, "table.fingerprint")
            assert len(counts) >= 12 and set(prints) == set(counts)
            assert all(f["status"] == "pass" for f in [*counts.values(), *prints.values()])
            assert prints["public.pgbench_accounts"]["expected"]["one_in"] == 4
            assert prints["public.pgbench_accounts"]["expected"]["key"] == ["aid"]
            assert prints["public.pgbench_accounts"]["expected"]["integer_key"] is True
            in_snapshot = counts["public.pgbench_history"]["actual"]
            assert 0 < in_snapshot < live_count(live, "public.pgbench_history"), "written before and after the snapshot"


def writing(written, seconds: float = 60) -> None:
    """Wait until the workload has committed something (`written()`), however loaded the machine."""
    deadline = time.monotonic() + seconds
    while not written():
        assert time.monotonic() < deadline, "the workload wrote nothing"
        time.sleep(0.1)


def live_count(database, table: str) -> int:
    session = psql(database.dsn)
    try:
        return int(session.query(f"SELECT count(*) FROM {table}")[0][0])
    finally:
        session.close()


def test_the_old_form_counting_after_the_dump_goes_red_and_warns(catalog, tmp_path, docker_engine, keys_dir):
    catalog = catalog()
    dump = tmp_path / "lgo.dump"
    with SourceDatabase(patients=40, runtime=docker_engine) as live:
        pgbench(live, "-i", "-q", "-s", "1")
        with open(dump, "wb") as sink:
            live.dump(sink)
        pgbench(live, "-n", "-c", "2", "-t", "20")  # the night's writes, between the dump and the count
        sealed = seal(catalog, live.dsn, keys_dir["recipient"], str(dump))
    dump.unlink()
    assert sealed.returncode == 0 and "warning" in sealed.stderr and "after the dump" in sealed.stderr
    report = drilled(catalog)
    assert (report["outcome"], report["reason"]) == ("fail", "verify.count_mismatch")
    assert by_check(report, "table.count")["public.pgbench_history"]["status"] == "fail"


def test_a_value_edited_in_the_sealed_dump_keeps_every_count_and_fails_its_fingerprint(
        catalog, tmp_path, docker_engine, keys_dir):
    catalog = catalog(pattern="*.sql.age", format="plain")
    with SourceDatabase(patients=40, runtime=docker_engine) as live:
        sealed = seal(catalog, live.dsn, keys_dir["recipient"], "--format", "plain")
    assert sealed.returncode == 0, sealed.stderr
    backup = tmp_path / "backups" / json.loads(sealed.stdout)["backup"]
    plain = subprocess.run(["age", "-d", "-i", str(keys_dir["dir"] / "drill.agekey"), str(backup)],
                           capture_output=True, check=True).stdout
    backup.write_bytes(subprocess.run(["age", "-r", keys_dir["recipient"]], input=one_value_edited(plain),
                                      capture_output=True, check=True).stdout)
    report = drilled(catalog)
    assert (report["outcome"], report["reason"]) == ("fail", "verify.content_mismatch")
    assert all(f["status"] == "pass" for f in by_check(report, "table.count").values())
    failed = [subject for subject, f in by_check(report, "table.fingerprint").items() if f["status"] == "fail"]
    assert failed == ["public.patients"]


def one_value_edited(dump: bytes) -> bytes:
    """The plain dump with the first patient's name changed by one letter (an edit a count never sees)."""
    lines = dump.split(b"\n")
    start = next(index for index, line in enumerate(lines) if line.startswith(b"COPY public.patients "))
    fields = lines[start + 1].split(b"\t")
    fields[1] = fields[1][:-1] + (b"Z" if fields[1][-1:] != b"Z" else b"Y")
    lines[start + 1] = b"\t".join(fields)
    return b"\n".join(lines)


KINDS_OF_VALUES = r"""
CREATE TABLE public.valeurs (n numeric(12,4), f double precision, b bytea, ts timestamptz, d date, i interval,
                             j json, jb jsonb, a text[], t text, u uuid, ok boolean);  -- no primary key
INSERT INTO public.valeurs VALUES
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (1234.5678, 0.1, '\x00ff10'::bytea, '2026-11-30 23:59:59.123456+01', '2026-02-28', '1 day 02:03:04',
   '{"nom": "Dupré", "n": [1, 2]}', '{"b": 1, "a": [true, null]}', ARRAY['un', NULL, 'deux "quoted"'],
   E'l''apostrophe, "guillemets", \\backslash\nnouvelle ligne, ünïcødé €', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true),
  (-0.0001, 1e-300, ''::bytea, '1970-01-01 00:00:00+00', '0001-01-01', '-3 mons', '[]', '{}', '{}', '', NULL, false),
  (-0.0001, 1e-300, ''::bytea, '1970-01-01 00:00:00+00', '0001-01-01', '-3 mons', '[]', '{}', '{}', '', NULL, false);
"""


def test_every_kind_of_value_fingerprints_alike_on_the_restored_server_and_by_hand(
        catalog, tmp_path, docker_engine, keys_dir):
    catalog = catalog()
    with SourceDatabase(patients=20, runtime=docker_engine) as live:
        live.execute(KINDS_OF_VALUES)
        sealed = seal(catalog, live.dsn, keys_dir["recipient"])
        session = psql(live.dsn)  # each row's text form under the fingerprint's session settings
        try:
            rows = [bytes.fromhex(row[0]) for row in  # hex: a row's text may hold a newline
                    session.query("SELECT encode(convert_to(ROW(t.*)::text, 'UTF8'), 'hex') FROM public.valeurs t")]
        finally:
            session.close()
    assert sealed.returncode == 0, sealed.stderr
    manifest_of = tmp_path / "backups" / (json.loads(sealed.stdout)["manifest"])
    manifest = json.loads(subprocess.run(["age", "-d", "-i", str(keys_dir["dir"] / "drill.agekey"), str(manifest_of)],
                                         capture_output=True, check=True).stdout)
    by_hand = fingerprints.postgres_reference(rows)  # no server: the row texts alone
    assert manifest["format"] == 2 and manifest["fingerprints"]["public.valeurs"]["digest"] == by_hand
    report = drilled(catalog)
    assert report["outcome"] == "pass", report["findings"]
    restored = by_check(report, "table.fingerprint")["public.valeurs"]
    assert restored["status"] == "pass" and restored["actual"] == by_hand


def test_a_directory_format_dump_is_made_by_parallel_jobs_in_memory_and_drills_green(
        catalog, docker_engine, keys_dir):
    catalog = catalog(pattern="*.tar.age", format="directory")
    with SourceDatabase(patients=60, runtime=docker_engine) as live:
        sealed = seal(catalog, live.dsn, keys_dir["recipient"], "--format", "directory")
    assert sealed.returncode == 0, sealed.stderr
    assert not list(Path("/dev/shm").glob("restore-drill-seal-*")), "the staged dump is removed"
    report = drilled(catalog)
    assert (report["outcome"], report["reason"]) == ("pass", None)
    assert by_check(report, "table.fingerprint")["public.patients"]["status"] == "pass"


def test_a_forged_manifest_can_neither_crash_the_verifier_nor_excuse_a_count(catalog, tmp_path, docker_engine, keys_dir):
    catalog = catalog()
    with SourceDatabase(patients=30, runtime=docker_engine) as live:
        sealed = seal(catalog, live.dsn, keys_dir["recipient"])
    assert sealed.returncode == 0, sealed.stderr
    path = tmp_path / "backups" / json.loads(sealed.stdout)["manifest"]
    identity = str(keys_dir["dir"] / "drill.agekey")
    manifest = json.loads(subprocess.run(["age", "-d", "-i", identity, str(path)], capture_output=True, check=True).stdout)
    manifest["fingerprints"]["public.patients"].update(one_in=2, key=["absente"])  # no such column
    manifest["tables"]["public.ventes"] += 1
    manifest["inexact"] = ["public.ventes"]  # PostgreSQL has no table outside the snapshot
    path.write_bytes(subprocess.run(["age", "-r", keys_dir["recipient"]], input=json.dumps(manifest).encode(),
                                    capture_output=True, check=True).stdout)
    report = drilled(catalog)
    failed = {(f["check"], f["code"]) for f in report["findings"] if f["status"] == "fail"}
    assert report["outcome"] == "fail" and ("table.count", "verify.count_mismatch") in failed
    assert ("table.fingerprint", "verify.content_mismatch") in failed
