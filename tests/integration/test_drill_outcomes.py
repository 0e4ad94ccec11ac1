"""Real drills (Docker engine, age CLI backups, DuckDB) ending in each outcome the product names."""

import hashlib
import json
import shutil
import subprocess

import pytest

from drills.catalog import load_catalog
from drills.pipeline import run_drill
from drills.reports import keys
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE

ORPHAN_CHECK = {"name": "every prescription line has a prescription",
                "query": "SELECT count(*) FROM public.lignes_ordonnance l LEFT JOIN public.ordonnances o "
                         "ON o.id = l.ordonnance_id WHERE o.id IS NULL",
                "expect": 0}


@pytest.fixture
def drill(tmp_path, keys_dir, backups, docker_engine):
    """drill(backup_name, **site_overrides) -> the stored report of a real drill."""
    keys.init(tmp_path / "keys" / "signing.ed25519")

    def run(backup_name, *, files=None, **overrides):
        backup_dir = tmp_path / "source"
        shutil.rmtree(backup_dir, ignore_errors=True)
        backup_dir.mkdir()
        source = backups[backup_name]
        for file in files if files is not None else [source, source.with_name(source.name + ".manifest.json")]:
            shutil.copy2(file, backup_dir / file.name)
        overrides.setdefault("decrypt", {"identity_file": str(keys_dir["dir"] / "drill.agekey")})
        site = site_entry(SITE, backup_dir, keys_dir["dir"] / "drill.agekey", **overrides)
        catalog = load_catalog(write_catalog(tmp_path, [site]))
        return run_drill(catalog, catalog.sites[0], runtime=docker_engine).report

    return run


def failing_codes(report):
    return [finding["code"] for finding in report["findings"] if finding["status"] == "fail"]


def secret_of(keys_dir) -> str:
    return next(line for line in (keys_dir["dir"] / "drill.agekey").read_text().splitlines()
                if line.startswith("AGE-SECRET-KEY"))


def test_a_healthy_backup_passes_with_every_table_counted_and_its_identity_recorded(drill, backups, keys_dir):
    report = drill("healthy", checks={"sql": [ORPHAN_CHECK]})
    assert secret_of(keys_dir) not in json.dumps(report) and "AGE-SECRET-KEY" not in json.dumps(report)
    assert (report["outcome"], report["reason"]) == ("pass", None)
    manifest = json.loads(backups["healthy"].with_name("healthy.dump.age.manifest.json").read_text())
    counted = {f["subject"]: f["actual"] for f in report["findings"] if f["check"] == "table.count"}
    assert counted == manifest["tables"] and counted["public.patients"] == 300
    assert report["backup"]["sha256"] == hashlib.sha256(backups["healthy"].read_bytes()).hexdigest()
    assert report["backup"]["size"] == backups["healthy"].stat().st_size
    assert 0 < report["rto_seconds"] < report["targets"]["rto_seconds"]
    assert set(report["phases"]) == {"fetch", "decrypt", "restore", "verify", "teardown"}
    assert report["phases"]["restore"] > 0 and report["phases"]["verify"] > 0
    within_rto = sum(seconds for phase, seconds in report["phases"].items() if phase != "teardown")
    assert within_rto == pytest.approx(report["rto_seconds"], abs=0.01)  # the phases are the RTO, overlaps included
    assert any(f["check"] == "sql" and f["status"] == "pass" for f in report["findings"])


def test_a_gzipped_plain_sql_dump_restores_with_psql(drill):
    report = drill("plain-gzip", engine={"format": "plain"})
    assert (report["outcome"], report["reason"]) == ("pass", None)


def test_a_plain_dump_that_tries_to_run_a_program_is_refused_by_postgresql(drill):
    report = drill("plain-hostile", engine={"format": "plain"})
    assert (report["outcome"], report["reason"]) == ("fail", "restore.failed")
    assert "ERROR 42501" in report["message"]  # insufficient_privilege, at its input line: code, not words


def test_a_custom_dump_restores_with_parallel_jobs(drill):
    report = drill("healthy", engine={"jobs": 2})
    assert (report["outcome"], report["reason"]) == ("pass", None)


def test_a_backup_encrypted_to_another_key_gives_decrypt_wrong_key(drill):
    report = drill("other-key")
    assert (report["outcome"], report["reason"]) == ("fail", "decrypt.wrong_key")
    assert report["hint"]


def test_a_truncated_backup_gives_decrypt_corrupt(drill, backups, tmp_path):
    truncated = tmp_path / "truncated" / "healthy.dump.age"
    truncated.parent.mkdir()
    truncated.write_bytes(backups["healthy"].read_bytes()[: backups["healthy"].stat().st_size // 2])
    report = drill("healthy", files=[truncated], checks={"manifest": "optional"})
    assert (report["outcome"], report["reason"]) == ("fail", "decrypt.corrupt")


def test_a_flipped_byte_gives_decrypt_corrupt(drill, backups, tmp_path):
    from drills.demo.catalog import flip_byte

    damaged = tmp_path / "damaged" / "healthy.dump.age"
    damaged.parent.mkdir()
    shutil.copy2(backups["healthy"], damaged)
    flip_byte(damaged, damaged.stat().st_size // 2)
    report = drill("healthy", files=[damaged], checks={"manifest": "optional"})
    assert (report["outcome"], report["reason"]) == ("fail", "decrypt.corrupt")
    assert report["backup"]["sha256"] == hashlib.sha256(damaged.read_bytes()).hexdigest(), \
        "the damaged file's identity is recorded, to compare with the source's copy"


def test_a_restored_table_without_a_column_its_manifest_lists_is_verify_columns_mismatch(drill, backups, tmp_path):
    source = backups["healthy"]
    manifest = json.loads(source.with_name(source.name + ".manifest.json").read_text())
    assert ["telephone", "text"] in manifest["columns"]["public.patients"]  # `drill manifest` wrote them
    manifest["columns"]["public.patients"].append(["carte_vitale", "text"])  # a column the dump left out
    edited = tmp_path / "edited"
    edited.mkdir()
    shutil.copy(source, edited / source.name)
    (edited / (source.name + ".manifest.json")).write_text(json.dumps(manifest))
    report = drill("healthy", files=[edited / source.name, edited / (source.name + ".manifest.json")])
    assert (report["outcome"], report["reason"]) == ("fail", "verify.columns_mismatch")
    assert "public.patients was restored without the manifest's column(s) carte_vitale (text)" in report["message"]
    assert failing_codes(report) == ["verify.columns_mismatch"]  # every other table's columns are as declared


def test_a_dump_missing_a_table_gives_verify_table_missing(drill):
    report = drill("missing-table")
    assert (report["outcome"], report["reason"]) == ("fail", "verify.table_missing")
    missing = [f for f in report["findings"] if f["code"] == "verify.table_missing"]
    assert [f["subject"] for f in missing] == ["public.factures"]
    assert any(f["check"] == "table.count" and f["status"] == "pass" for f in report["findings"]), \
        "the other tables are still checked"


def test_rows_deleted_after_the_manifest_give_verify_count_mismatch(drill):
    report = drill("rows-deleted")
    assert (report["outcome"], report["reason"]) == ("fail", "verify.count_mismatch")
    mismatch = next(f for f in report["findings"] if f["code"] == "verify.count_mismatch")
    assert mismatch["subject"] == "public.ventes" and mismatch["expected"] - mismatch["actual"] == 10


def test_a_failing_sql_assertion_gives_verify_assertion_failed(drill):
    report = drill("orphan-line", checks={"sql": [ORPHAN_CHECK]})
    assert (report["outcome"], report["reason"]) == ("fail", "verify.assertion_failed")
    assertion = next(f for f in report["findings"] if f["check"] == "sql")
    assert (assertion["expected"], assertion["actual"]) == (0, 1)


def test_table_bounds_outside_the_configured_range_give_verify_bounds(drill):
    report = drill("healthy", checks={"tables": {"public.patients": {"min": 1000}}})
    assert (report["outcome"], report["reason"]) == ("fail", "verify.bounds")


def test_a_corrupt_custom_format_dump_gives_restore_failed(drill):
    report = drill("corrupt-dump", checks={"manifest": "optional"})
    assert (report["outcome"], report["reason"]) == ("fail", "restore.failed")
    assert "pg_restore" in report["message"]


def test_an_old_backup_gives_backup_stale_after_proving_it_restores(drill):
    report = drill("stale")
    assert (report["outcome"], report["reason"]) == ("fail", "backup.stale")
    assert report["backup"]["age_seconds"] > 2 * 86400
    assert all(f["status"] == "pass" for f in report["findings"] if f["check"] == "table.count")


def test_an_empty_source_gives_backup_missing(drill, tmp_path):
    report = drill("healthy", files=[])
    assert (report["outcome"], report["reason"]) == ("fail", "backup.missing")
    assert report["backup"] is None


def test_a_required_manifest_that_is_absent_gives_manifest_missing(drill, backups):
    report = drill("healthy", files=[backups["healthy"]])
    assert (report["outcome"], report["reason"]) == ("fail", "manifest.missing")


def test_a_manifest_of_another_site_gives_manifest_invalid(drill, backups, tmp_path):
    folder = tmp_path / "wrong-site"
    folder.mkdir()
    shutil.copy2(backups["healthy"], folder / "healthy.dump.age")
    manifest = json.loads(backups["healthy"].with_name("healthy.dump.age.manifest.json").read_text())
    (folder / "healthy.dump.age.manifest.json").write_text(json.dumps({**manifest, "site": "pharmacie-voisine"}))
    report = drill("healthy", files=list(folder.iterdir()))
    assert (report["outcome"], report["reason"]) == ("fail", "manifest.invalid")
    assert "pharmacie-voisine" in report["message"]


def test_an_age_encrypted_manifest_is_decrypted_with_the_sites_identity(drill, backups, keys_dir, tmp_path):
    folder = tmp_path / "encrypted-manifest"
    folder.mkdir()
    shutil.copy2(backups["healthy"], folder / "healthy.dump.age")
    subprocess.run(["age", "-r", keys_dir["recipient"], "-o", str(folder / "healthy.dump.age.manifest.json.age"),
                    str(backups["healthy"].with_name("healthy.dump.age.manifest.json"))], check=True)
    report = drill("healthy", files=list(folder.iterdir()))
    assert (report["outcome"], report["reason"]) == ("pass", None)
    assert report["backup"]["manifest"] == "healthy.dump.age.manifest.json.age"
    assert any(f["check"] == "table.count" for f in report["findings"])


def test_the_canary_reports_the_age_of_the_newest_record(drill):
    report = drill("healthy", checks={"newest_record": "public.ventes.vendu_le"})
    assert (report["outcome"], report["reason"]) == ("pass", None)
    canary = next(f for f in report["findings"] if f["check"] == "data.freshness")
    assert canary["status"] == "pass" and 0 <= canary["actual"] < 3600


def test_a_fresh_backup_of_old_data_gives_verify_stale_data(drill):
    report = drill("old-data", checks={"newest_record": "public.ventes.vendu_le"})
    assert (report["outcome"], report["reason"]) == ("fail", "verify.stale_data")
    assert next(f for f in report["findings"] if f["check"] == "backup.freshness")["status"] == "pass"
    assert next(f for f in report["findings"] if f["check"] == "data.freshness")["actual"] > 2 * 86400


def test_a_canary_column_that_does_not_exist_is_named(drill):
    report = drill("healthy", checks={"newest_record": "public.ventes.vendu_hier"})
    assert (report["outcome"], report["reason"]) == ("fail", "verify.stale_data")
    assert "cannot read the newest record" in report["message"]
