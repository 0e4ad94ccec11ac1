"""Physical backups: a live PostgreSQL 15 running pgbench, archiving its WAL with the real
pgBackRest (an encrypted posix repository), a full and a differential backup, then more writes.
Drills to the latest point and to a time between the two backups, each recovered to the right
point (the canary's newest row), from the repository as a local path and from S3; and the faults,
each red with its code and the host clean."""

import shutil
from datetime import timedelta

import pytest

from drills.catalog import load_catalog
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
