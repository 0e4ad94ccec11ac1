"""The benchmarks' pharmacy for MariaDB and SQLite (its SQL run by the real SQLite, in memory),
the catalogs the engine benchmark drills, and its check of a tool's counts."""

import sqlite3
from datetime import datetime, timedelta

import pytest
import yaml

from benchmarks.backups import Backup, drill_catalog
from benchmarks.engines import BENCHES, counts
from benchmarks.pharmacies import AS_OF, SQLITE, pharmacy_sql
from drills.catalog import load_catalog
from drills.demo.generator import table_sizes
from drills.manifest import render


def pharmacy(patients: int) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.executescript(pharmacy_sql(SQLITE, patients))
    return connection


def test_the_sqlite_pharmacy_has_the_generators_tables_and_counts_keys_that_hold_and_varied_data():
    connection = pharmacy(400)
    found = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in table_sizes(400)}
    assert found == table_sizes(400)
    orphans = connection.execute("""SELECT (SELECT count(*) FROM ordonnances WHERE patient_id NOT IN (SELECT id FROM patients))
        + (SELECT count(*) FROM lignes_ordonnance WHERE ordonnance_id NOT IN (SELECT id FROM ordonnances))
        + (SELECT count(*) FROM ventes WHERE patient_id IS NOT NULL AND patient_id NOT IN (SELECT id FROM patients))
        + (SELECT count(*) FROM mouvements_stock WHERE produit_id NOT IN (SELECT id FROM produits))""").fetchone()[0]
    assert orphans == 0
    names, towns, anonymous = connection.execute("SELECT count(DISTINCT nom), count(DISTINCT ville), "
                                                 "count(*) FILTER (WHERE organisme_complementaire IS NULL) "
                                                 "FROM patients").fetchone()
    assert names > 40 and towns == 8 and 0 < anonymous < 400
    newest, late = connection.execute("SELECT max(vendu_le), (SELECT count(*) FROM ordonnances WHERE date_delivrance "
                                      "< date_prescription OR date_delivrance > date(:as_of)) FROM ventes",
                                      {"as_of": AS_OF}).fetchone()
    assert datetime.fromisoformat(newest) == datetime.fromisoformat(AS_OF) - timedelta(minutes=5) and late == 0
    assert connection.execute("SELECT cip13 FROM produits WHERE id = 1").fetchone()[0] == "3400930000007"


def test_the_sqlite_pharmacy_is_the_same_at_every_generation():
    assert list(pharmacy(60).iterdump()) == list(pharmacy(60).iterdump())


def bench_backup(tmp_path, tables: dict[str, int]) -> Backup:
    path = tmp_path / "pharmacie-bench.age"
    path.write_bytes(b"age")
    path.with_name(path.name + ".manifest.json").write_text(
        render("pharmacie-bench", "sqlite", datetime.fromisoformat(AS_OF + "+00:00"), tables=tables))
    return Backup(path, tmp_path / "bench.agekey", 1)


def test_a_tools_counts_are_taken_in_the_manifests_order_and_any_difference_is_refused(tmp_path):
    backup = bench_backup(tmp_path, {"ventes": 3, "patients": 2})
    counts(backup, "2\n3\n")
    with pytest.raises(RuntimeError, match=r"counted \[2, 4\], the manifest says \[2, 3\]"):
        counts(backup, "2\n4\n")


@pytest.mark.parametrize("engine", BENCHES)
def test_the_benchmark_drills_each_engine_from_a_catalog_the_drill_accepts(tmp_path, engine):
    catalog = drill_catalog(tmp_path, bench_backup(tmp_path, {"patients": 2}), engine=BENCHES[engine].engine)
    site = load_catalog(catalog).sites[0]
    assert site.engine.type == engine and site.engine.tmpfs >= 2 * 1024**3
    assert yaml.safe_load(catalog.read_text())["sites"][0]["checks"]["manifest"] == "required"
