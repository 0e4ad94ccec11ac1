"""The engine benchmark's parts against the real engines: the pharmacy each database makes for
itself, dumped and sealed as a site does, and each native tool restoring and counting it alone."""

import json

import pytest

from benchmarks.backups import Backup
from benchmarks.engines import mariadb_by_hand, pg_restore_alone, sqlite_by_hand
from benchmarks.pharmacies import mariadb_backup, sqlite_backup
from drills.demo.catalog import ensure_age_identity
from drills.demo.generator import table_sizes
from drills.demo.seed import SourceDatabase, seal

PATIENTS = 150


@pytest.mark.parametrize("engine, make, tool, prefix", [
    ("mariadb", mariadb_backup, mariadb_by_hand, "lgo."), ("sqlite", sqlite_backup, sqlite_by_hand, "")])
def test_each_database_makes_the_pharmacy_and_its_native_tool_restores_every_row_of_it(
        docker_engine, tmp_path, engine, make, tool, prefix):
    identity = tmp_path / "bench.agekey"
    path = tmp_path / f"pharmacie-bench.{engine}.age"
    manifest = make(PATIENTS, ensure_age_identity(identity), path)
    path.with_name(path.name + ".manifest.json").write_text(manifest)
    assert json.loads(manifest)["tables"] == {prefix + table: rows for table, rows in table_sizes(PATIENTS).items()}
    assert path.read_bytes().startswith(b"age-encryption.org/v1")
    assert tool(Backup(path, identity, PATIENTS)) > 0  # it checks its counts against the manifest


def test_pg_restore_alone_restores_the_dump_where_the_drill_puts_it(docker_engine, tmp_path):
    identity = tmp_path / "bench.agekey"
    path = tmp_path / "pharmacie-bench.dump.age"
    with SourceDatabase(patients=PATIENTS, runtime=docker_engine) as source:
        seal(source, ensure_age_identity(identity), path, "pharmacie-bench", compress=0)
    assert pg_restore_alone(Backup(path, identity, PATIENTS)) > 0
