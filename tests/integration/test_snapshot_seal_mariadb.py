"""`drill seal SITE --dsn` on a live MariaDB written to while it is sealed: the dump and the
counts are of one point (FLUSH TABLES WITH READ LOCK until both snapshots are open), every count
exact and every fingerprint equal after the restore; a non-transactional table is said inexact."""

import json
import threading
import time

from tests.helpers import drill_command, site_entry, write_catalog
from tests.integration.conftest import Box

SITE = "cabinet-instantane"
CLIENT = "mariadb --no-defaults --socket=/run/drill/mysqld.sock --user=root"
SCHEMA = r"""
CREATE DATABASE lgo;
USE lgo;
CREATE TABLE lgo.patients (id int PRIMARY KEY, nom varchar(80) CHARACTER SET latin1, notes text, photo blob,
                           solde decimal(12,4), vu_le timestamp(6) NULL, ne_le date, fiche json, actif bit(1))
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO lgo.patients VALUES
  (1, 'Dupré', 'l''apostrophe, "guillemets", \\ et\nune ligne', x'00ff10', 1234.5678, '2026-11-30 23:59:59.123456',
   '2026-02-28', '{"n": [1, 2]}', b'1'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, '', 'ünïcødé €', x'', -0.0001, '1970-01-02 00:00:00', '1000-01-01', '[]', b'0');
CREATE TABLE lgo.evenements (n int, quand timestamp DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB;  -- no primary key
CREATE TABLE lgo.compteurs (id int PRIMARY KEY, v bigint) ENGINE=InnoDB;
INSERT INTO lgo.compteurs SELECT seq, 0 FROM seq_1_to_10;
CREATE TABLE lgo.journal (ligne text) ENGINE=Aria;
INSERT INTO lgo.journal VALUES ('démarrage');
"""
# Statements a busy site sends for six seconds, autocommitted one by one, by three clients at once.
WORKLOAD = ("timeout 6 sh -c 'i=0; while :; do i=$((i+1)); echo \"INSERT INTO lgo.evenements (n) VALUES ($i); "
            "UPDATE lgo.compteurs SET v = v + 1 WHERE id = 1 + $i % 10;\"; done' | " + CLIENT)


def events(live) -> int:
    return int(live.sh(f"{CLIENT} -N -e 'SELECT COUNT(*) FROM lgo.evenements'").strip())


def test_writes_during_a_mariadb_seal_leave_every_count_exact_and_every_fingerprint_equal(
        tmp_path, docker_engine, keys_dir):
    entry = {**site_entry(SITE, tmp_path / "backups", keys_dir["dir"] / "drill.agekey", source={"pattern": "*.sql.age"},
                          checks={"tables": {}}), "engine": {"type": "mariadb"}}
    (tmp_path / "backups").mkdir()
    catalog = str(write_catalog(tmp_path, [entry]))
    assert drill_command("keys", "init", "--catalog", catalog).returncode == 0
    with Box(docker_engine, "mariadb") as live:
        live.sh(f"{CLIENT} <<'SQL'\n{SCHEMA}\nSQL")
        dsn = f"host=localhost socket={live.work}/mysqld.sock user=root database=lgo"
        for _ in range(3):
            writers = threading.Thread(target=lambda: live.sh(" & ".join([WORKLOAD] * 3) + " & wait"))
            before = events(live)
            writers.start()
            deadline = time.monotonic() + 60
            while events(live) == before:  # writing when the snapshots are taken, and on during the dump
                assert time.monotonic() < deadline, "the workload wrote nothing"
                time.sleep(0.1)
            sealed = drill_command("seal", SITE, "--dsn", dsn, "--recipient", keys_dir["recipient"], "--json",
                                   "--catalog", catalog)
            writers.join()
            assert sealed.returncode == 0, sealed.stderr
            events_now = events(live)
            report = json.loads(drill_command("run", SITE, "--json", "--catalog", catalog).stdout)
            assert (report["outcome"], report["reason"]) == ("pass", None), \
                [(f["code"], f["message"]) for f in report["findings"] if f["status"] != "pass"]
            counts = {f["subject"]: f for f in report["findings"] if f["check"] == "table.count"}
            prints = {f["subject"]: f for f in report["findings"] if f["check"] == "table.fingerprint"}
            assert set(prints) == {"lgo.patients", "lgo.evenements", "lgo.compteurs"}
            assert all(f["status"] == "pass" for f in prints.values())
            assert all(f["status"] == "pass" for name, f in counts.items() if name != "lgo.journal")
            assert 0 < counts["lgo.evenements"]["actual"] < events_now, "written before and after the snapshot"
    assert "lgo.journal" not in prints, "a non-transactional table is not fingerprinted"
