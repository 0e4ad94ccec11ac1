"""Physical backups, format basebackup: a live PostgreSQL 15 running pgbench, archiving its WAL with
archive_command, a `pg_basebackup -D - -Ft -X fetch` tar (zstd, age-encrypted), more writes, each
archived segment age-encrypted into the site's WAL folder. Drills to the latest point and to a
time after the base backup and before later writes, each recovered to the right point (the
canary's newest row, read inside the restore container), from a local folder and from S3; and the
faults, each red with its code and the host clean: a segment deleted, a tar that is no base backup."""

import hashlib
import shutil

import pytest

from drills.catalog import load_catalog
from drills.sources import wal
from tests.helpers import age_identity, drill_command, site_entry, write_catalog
from tests.integration.live_basebackup import BaseBackupCluster
from tests.integration.live_cluster import DATA, drilled, end_time, pause

SITE = "pharmacie-basebackup"
BASE = "base-1.tar.zst.age"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, docker_engine, age_cli):
    """The live cluster, the site's folder (base backup, wal/) and what was written around the backup."""
    identity = tmp_path_factory.mktemp("keys") / "site.agekey"
    site = tmp_path_factory.mktemp("site")
    live = BaseBackupCluster(tmp_path_factory.mktemp("live"), site, age_identity(identity))
    try:
        live.pgbench("-i", "-s", "1")
        times = {"before_base": live.canary()}
        # A recovery target the base backup carries (postgresql.auto.conf) must not steer the replay:
        # this one is never reached (the server would refuse to end the recovery), another would stop it
        # early; every drill below replays to the latest point or to its own target all the same.
        live.sql("ALTER SYSTEM SET recovery_target_name = 'not-a-restore-point'")
        live.sql("ALTER SYSTEM SET recovery_target_action = 'shutdown'")
        live.base_backup(BASE)
        pause()
        times["before_target"] = live.canary()
        pause()
        times["after_target"] = live.canary()
        live.switch()
        live.pgbench("-t", "300")
        times["middle"] = live.switch()  # a segment between the target and the newest rows
        pause()
        times["newest"] = live.canary()
        live.pgbench("-t", "200")
        live.switch()
        live.ship()
        yield live, times, identity
    finally:
        live.remove()


def catalog_for(tmp_path, site_dir, identity, source: dict | None = None):
    """The site drilling `site_dir` (a local folder), or `source`."""
    entry = site_entry(SITE, site_dir, identity,
                       engine={"type": "postgres", "format": "basebackup", "database": "officine", "wal": "wal/",
                               "memory": "2g", "tmpfs": "1g"},
                       checks={"manifest": "optional", "tables": {"public.pgbench_accounts": {"min": 100000}},
                               "newest_record": "public.canary.written_at"})
    entry["source"] = source or {"type": "local", "path": str(site_dir), "pattern": "base-*.tar.zst.age"}
    path = write_catalog(tmp_path, [entry])
    assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
    return load_catalog(path)


def copy_of(site_dir, tmp_path):
    return shutil.copytree(site_dir, tmp_path / "site")


def test_a_drill_recovers_to_the_latest_point_and_accounts_for_the_wal(cluster, tmp_path, docker_engine):
    live, times, identity = cluster
    report, canary = drilled(catalog_for(tmp_path, live.site, identity), docker_engine)
    assert report["outcome"] == "pass", report["findings"]
    recovery = report["recovery"]
    assert recovery["set"] == BASE and recovery["kind"] == "base" and recovery["target"] == "latest"
    assert canary == times["newest"]  # the last row written before the archive was shipped
    assert end_time(report) >= times["newest"]  # pgbench's transactions after it replayed too
    assert recovery["amcheck"] == {"corruptions": 0, "checked": True}
    assert report["backup"]["taken_at"] == recovery["end_time"].replace("Z", "+00:00")[:19] + "+00:00"
    assert report["tables"]["public.pgbench_accounts"]["rows"] == 100000
    start = recovery["wal"]["start"]
    assert recovery["lsn_start"].split("/")[0] == f"{int(start[8:16], 16):X}"  # the label's LSN lies in its segment
    handed = sorted((path for path in (live.site / "wal").iterdir() if wal.parse(path.name) and path.name >= start),
                    key=lambda path: path.name)
    ciphertext = b"".join(path.read_bytes() for path in handed)
    assert recovery["wal"] == {"start": start, "files": len(handed), "bytes": len(ciphertext),
                               "sha256": hashlib.sha256(ciphertext).hexdigest()}
    assert len(handed) >= 4 and any(path.name.endswith(".zst.age") for path in handed)


def test_a_drill_to_a_time_after_the_base_backup_recovers_that_point(cluster, tmp_path, docker_engine):
    live, times, identity = cluster
    target = times["before_target"] + (times["after_target"] - times["before_target"]) / 2
    report, canary = drilled(catalog_for(tmp_path, live.site, identity), docker_engine, target=target)
    assert report["outcome"] == "pass", report["findings"]
    assert report["recovery"]["set"] == BASE and report["recovery"]["target"] == target.isoformat()
    assert canary == times["before_target"]  # the row written after the target is not there
    assert times["before_target"] <= end_time(report) <= target
    assert report["backup"]["pick"] == "target"


def test_the_site_folder_read_from_s3_drills_the_same(cluster, tmp_path, docker_engine, s3_server, monkeypatch):
    live, times, identity = cluster
    client = s3_server.client()
    client.create_bucket(Bucket="basebackup", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    for path in live.site.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), "basebackup", f"pharmacie/{path.relative_to(live.site)}")
    monkeypatch.setenv("S3_KEY", "test-key")
    monkeypatch.setenv("S3_SECRET", "test-secret")
    catalog = catalog_for(tmp_path, live.site, identity, {
        "type": "s3", "bucket": "basebackup", "prefix": "pharmacie/", "pattern": "*.age",
        "endpoint": s3_server.endpoint, "region": "eu-west-3", "access_key_env": "S3_KEY", "secret_key_env": "S3_SECRET"})
    report, canary = drilled(catalog, docker_engine)
    assert report["outcome"] == "pass", report["findings"]
    assert report["recovery"]["set"] == BASE and canary == times["newest"]  # the WAL's .age files are no backups


def test_a_segment_deleted_from_the_archive_is_restore_wal_gap_naming_it(cluster, tmp_path, docker_engine):
    live, times, identity = cluster
    site = copy_of(live.site, tmp_path)
    next(site.glob(f"wal/{times['middle']}*")).unlink()
    catalog = catalog_for(tmp_path, site, identity)
    report, _ = drilled(catalog, docker_engine)
    assert (report["outcome"], report["reason"]) == ("fail", "restore.wal_gap")
    assert f"lacks segment {times['middle']}" in report["message"] and report["recovery"] is None
    report, _ = drilled(catalog, docker_engine, target=times["newest"])  # the replay stops at the gap, before it
    assert (report["outcome"], report["reason"]) == ("fail", "restore.wal_gap")
    assert f"lacks segment {times['middle']}" in report["message"]


def test_a_tar_that_is_not_a_base_backup_is_restore_failed(cluster, tmp_path, docker_engine):
    live, _, identity = cluster
    site = tmp_path / "site"
    (site / "wal").mkdir(parents=True)
    live.pipe(f"tar -c -C {DATA} PG_VERSION global", site / "base-2.tar.zst.age", "zstd -q")  # a copy of the folder
    report, _ = drilled(catalog_for(tmp_path, site, identity), docker_engine)
    assert (report["outcome"], report["reason"]) == ("fail", "restore.failed")
    assert "not a pg_basebackup -Ft tar: backup_label is not its first member" in report["message"]
    assert report["backup"]["sha256"] is not None  # the file is still hashed whole
