"""Physical backups: a live PostgreSQL 15 running pgbench, archiving its WAL with the real
pgBackRest (an encrypted posix repository), a full and a differential backup, then more writes.
Drills to the latest point and to a time between the two backups, each recovered to the right
point (the canary's newest row), from the repository as a local path and from S3; and the faults,
each red with its code and the host clean."""

import dataclasses
import shutil

import pytest

from drills.catalog import load_catalog
from drills.pipeline import run_drill
from tests.helpers import drill_command, site_entry, write_catalog
from tests.integration.live_cluster import PASSPHRASE, STANZA, LiveCluster, drilled, end_time, pause

SITE = "pharmacie-physique"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, docker_engine):
    """The live cluster and what it wrote: canary rows around the two backups."""
    live = LiveCluster(tmp_path_factory.mktemp("live"))
    try:
        live.pgbench("-i", "-s", "1")
        times = {"before_full": live.canary()}
        times["full"] = live.backup("full")
        pause()
        times["before_target"] = live.canary()
        pause()
        times["after_target"] = live.canary()
        live.pgbench("-t", "300")
        # A recovery target the differential carries (postgresql.auto.conf) must not steer the replay
        # (pgbackrest restore comments such settings out itself; the server's command line unsets them
        # too, which test_basebackup.py shows where nothing else would).
        live.sql("ALTER SYSTEM SET recovery_target_name = 'not-a-restore-point'")
        live.sql("ALTER SYSTEM SET recovery_target_action = 'shutdown'")
        times["diff"] = live.backup("diff")
        pause()
        times["newest"] = live.canary()
        live.pgbench("-t", "200")
        live.archived()
        yield live, times
    finally:
        live.remove()


def catalog_for(tmp_path, repo, passphrase: str = PASSPHRASE, **source):
    secret = tmp_path / "repo.pass"
    secret.write_text(passphrase)
    secret.chmod(0o600)
    entry = site_entry(SITE, repo, secret, decrypt={"passphrase_file": str(secret)},
                       source={"pattern": "*", **source},
                       engine={"type": "postgres", "format": "pgbackrest", "stanza": STANZA, "database": "officine",
                               "memory": "2g", "tmpfs": "1g"},
                       checks={"manifest": "optional", "tables": {"public.pgbench_accounts": {"min": 100000}},
                               "newest_record": "public.canary.written_at"})
    entry["decrypt"] = {"passphrase_file": str(secret)}
    path = write_catalog(tmp_path, [entry])
    assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
    return load_catalog(path)


def test_a_drill_recovers_to_the_latest_point_and_measures_it(cluster, tmp_path, docker_engine):
    live, times = cluster
    report, canary = drilled(catalog_for(tmp_path, live.repo), docker_engine)
    assert report["outcome"] == "pass", report["findings"]
    recovery = report["recovery"]
    assert recovery["set"] == times["diff"] and recovery["kind"] == "diff" and recovery["target"] == "latest"
    assert canary == times["newest"]  # the last row written before the archive was checked
    assert end_time(report) >= times["newest"]  # pgbench's transactions after it replayed too
    assert recovery["amcheck"] == {"corruptions": 0, "checked": True}
    assert report["backup"]["taken_at"] == recovery["end_time"].replace("Z", "+00:00")[:19] + "+00:00"
    assert report["backup"]["sha256"] is not None and report["backup"]["pick"] == "newest"
    assert report["tables"]["public.pgbench_accounts"]["rows"] == 100000


def test_a_drill_to_a_time_between_the_backups_recovers_that_point(cluster, tmp_path, docker_engine):
    live, times = cluster
    target = times["before_target"] + (times["after_target"] - times["before_target"]) / 2
    report, canary = drilled(catalog_for(tmp_path, live.repo), docker_engine, target=target)
    assert report["outcome"] == "pass", report["findings"]
    recovery = report["recovery"]
    assert recovery["set"] == times["full"]  # the differential was taken after the target
    assert recovery["target"] == target.isoformat()
    assert canary == times["before_target"]  # the row after the target is not there
    assert times["before_target"] <= end_time(report) <= target
    assert report["backup"]["pick"] == "target"
    assert not any(finding["check"] == "backup.freshness" for finding in report["findings"])


def test_the_repository_read_from_s3_drills_the_same(cluster, tmp_path, docker_engine, s3_server, monkeypatch):
    live, times = cluster
    client = s3_server.client()
    client.create_bucket(Bucket="pgbackrest", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    for path in live.repo.rglob("*"):
        if path.is_file() and not path.is_symlink():
            client.upload_file(str(path), "pgbackrest", f"pharmacie/{path.relative_to(live.repo)}")
    monkeypatch.setenv("S3_KEY", "test-key")
    monkeypatch.setenv("S3_SECRET", "test-secret")
    catalog = catalog_for(tmp_path, live.repo)
    site = catalog.sites[0]
    entry = site_entry(SITE, live.repo, site.decrypt.passphrase_file)
    entry.update(source={"type": "s3", "bucket": "pgbackrest", "prefix": "pharmacie/", "pattern": "*",
                         "endpoint": s3_server.endpoint, "region": "eu-west-3", "access_key_env": "S3_KEY",
                         "secret_key_env": "S3_SECRET"},
                 decrypt={"passphrase_file": str(site.decrypt.passphrase_file)},
                 engine={"type": "postgres", "format": "pgbackrest", "stanza": STANZA, "database": "officine",
                         "memory": "2g", "tmpfs": "1g"},
                 checks={"manifest": "optional", "newest_record": "public.canary.written_at"})
    catalog = load_catalog(write_catalog(tmp_path, [entry]))
    report, canary = drilled(catalog, docker_engine)
    assert report["outcome"] == "pass", report["findings"]
    assert report["recovery"]["set"] == times["diff"] and canary == times["newest"]


def test_drill_run_at_recovers_a_time_from_the_command_line(cluster, tmp_path, docker_engine):
    live, times = cluster
    catalog = catalog_for(tmp_path, live.repo).path
    target = times["before_target"] + (times["after_target"] - times["before_target"]) / 2
    ran = drill_command("run", SITE, "--catalog", str(catalog), "--at", target.isoformat())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"recovered {times['full']} to {target.isoformat()}: last transaction" in ran.stdout
    future = drill_command("run", SITE, "--catalog", str(catalog), "--at", "2999-01-01T00:00:00")
    unparsable = drill_command("run", SITE, "--catalog", str(catalog), "--at", "yesterday")
    assert future.returncode == unparsable.returncode == 3
    assert "in the future" in future.stderr and "not an ISO 8601 time" in unparsable.stderr


def test_drill_run_at_is_refused_for_a_dump(tmp_path, keys_dir):
    catalog = write_catalog(tmp_path, [site_entry("pharmacie-dump", tmp_path, keys_dir["dir"] / "drill.agekey")])
    refused = drill_command("run", "pharmacie-dump", "--catalog", str(catalog), "--at", "2026-01-01T00:00:00Z")
    assert refused.returncode == 3 and "--at recovers a physical backup" in refused.stderr


def test_a_set_named_by_its_label_is_drilled_to_the_latest_point_from_it(cluster, tmp_path, docker_engine):
    live, times = cluster
    report, canary = drilled(catalog_for(tmp_path, live.repo), docker_engine, backup_name=times["full"])
    assert report["outcome"] == "pass", report["findings"]
    assert report["recovery"]["set"] == times["full"] and report["backup"]["pick"] == "named"
    assert canary == times["newest"]  # the full, then all the WAL archived since


def test_a_cluster_larger_than_the_tmpfs_is_too_large_never_spilled(cluster, tmp_path, docker_engine):
    live, _ = cluster
    catalog = catalog_for(tmp_path, live.repo)
    site = catalog.sites[0]
    small = dataclasses.replace(site, engine=dataclasses.replace(site.engine, tmpfs=16 * 1024 * 1024))
    report = run_drill(catalog, small, runtime=docker_engine).report
    failed(report, "restore.too_large")


def copy_of(repo, tmp_path):
    """A copy of the repository to damage (symbolic links as such: `latest` is one)."""
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, symlinks=True)
    return copy


def failed(report, code: str) -> dict:
    assert report["outcome"] == "fail" and report["reason"] == code, report["findings"]
    return next(finding for finding in report["findings"] if finding["code"] == code)


def test_a_wal_segment_missing_from_the_archive_is_a_gap_named(cluster, tmp_path, docker_engine):
    live, times = cluster
    repo = copy_of(live.repo, tmp_path)
    segments = sorted(path for path in (repo / "archive" / STANZA).rglob("0000000*-*"))
    missing = segments[-2]  # archived after the differential began, before the newest
    missing.unlink()
    report, _ = drilled(catalog_for(tmp_path, repo), docker_engine)
    finding = failed(report, "restore.wal_gap")
    assert missing.name[:24] in finding["message"]


def test_a_flipped_byte_in_a_file_of_the_set_is_pgbackrests_own_error(cluster, tmp_path, docker_engine):
    live, times = cluster
    repo = copy_of(live.repo, tmp_path)
    largest = max((repo / "backup" / STANZA / times["diff"] / "pg_data").rglob("*"), key=lambda p: p.stat().st_size)
    data = bytearray(largest.read_bytes())
    data[len(data) // 2] ^= 0x01
    largest.write_bytes(bytes(data))
    report, _ = drilled(catalog_for(tmp_path, repo), docker_engine)
    finding = failed(report, "restore.failed")
    assert "pgbackrest restore failed" in finding["message"] and "ERROR: [" in finding["message"]


def test_a_wrong_passphrase_is_said_so_before_anything_runs(cluster, tmp_path, docker_engine):
    live, _ = cluster
    report, _ = drilled(catalog_for(tmp_path, live.repo, passphrase="not-the-repository-passphrase"), docker_engine)
    failed(report, "decrypt.wrong_key")
    assert report["phases"]["restore"] == 0  # refused on the host: no container started


def test_a_folder_that_is_not_a_repository_holds_no_backup(tmp_path, docker_engine):
    folder = tmp_path / "not-a-repo"
    (folder / "backup" / STANZA).mkdir(parents=True)
    (folder / "backup" / STANZA / "notes.txt").write_text("not pgBackRest")
    report, _ = drilled(catalog_for(tmp_path, folder), docker_engine)
    finding = failed(report, "backup.missing")
    assert "no pgBackRest repository" in finding["message"]


def test_a_corrupt_heap_page_is_found_by_amcheck_naming_relation_and_block(tmp_path, docker_engine):
    """A page damaged on the live cluster's disk (no data checksums: nothing notices) is backed up as
    it is; the drill restores it, and amcheck names the table and the block."""
    live = LiveCluster(tmp_path / "live")
    try:
        live.sql("CREATE TABLE victim AS SELECT i AS id, md5(i::text) AS label FROM generate_series(1, 500) i;"
                 "CREATE INDEX ON victim (id); CREATE EXTENSION pageinspect; CHECKPOINT", "officine")
        path = live.sql("SELECT pg_relation_filepath('victim')", "officine")
        offset = live.sql("SELECT lp_off FROM heap_page_items(get_raw_page('victim', 0)) WHERE lp = 1", "officine")
        live.stop()  # xmin of the first tuple set far in the future: a transaction that never was
        live.sh(f"printf '\\360\\377\\377\\377' | dd of=/var/lib/postgresql/data/{path} bs=1 seek={offset} "
                "conv=notrunc 2>/dev/null")
        live.start()
        live.canary()
        live.backup("full")
        live.archived()
        report, _ = drilled(catalog_for(tmp_path, live.repo), docker_engine)
    finally:
        live.remove()
    finding = failed(report, "verify.corrupt_data")
    assert finding["subject"] == "officine.public.victim" and "block 0" in finding["message"]
    assert report["recovery"]["amcheck"]["corruptions"] >= 1
