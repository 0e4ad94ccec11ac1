"""`drill seal` round trips: a site's job dumps its live database with pg_dump, seals the dump
and its manifest with age and uploads them to the site's source (a directory, S3, SFTP); the
drill service then drills the newest backup: it passes, with the sealed manifest's counts."""

import json
import uuid

import pytest

from drills.demo.seed import SourceDatabase
from tests.helpers import drill_command, site_entry, write_catalog

SITE = "pharmacie-scellee"
S3_ENV = {"SEAL_S3_KEY": "test-key", "SEAL_S3_SECRET": "test-secret"}


def source_settings(kind: str, tmp_path, request) -> dict:
    if kind == "local":
        return {"type": "local", "path": str(tmp_path / "backups"), "pattern": "*.dump.age"}
    if kind == "s3":
        server = request.getfixturevalue("s3_server")
        bucket = f"seal-{uuid.uuid4().hex[:12]}"
        server.client().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        return {"type": "s3", "endpoint": server.endpoint, "region": "eu-west-3", "bucket": bucket,
                "prefix": f"{SITE}/", "access_key_env": "SEAL_S3_KEY", "secret_key_env": "SEAL_S3_SECRET",
                "pattern": "*.dump.age"}
    server = request.getfixturevalue("ssh_server")
    server.write_known_hosts("host")
    (tmp_path / "remote").mkdir()
    return {"type": "sftp", "host": "127.0.0.1", "port": server.port, "user": server.user,
            "key_file": str(server.key_file), "known_hosts": str(server.known_hosts), "path": str(tmp_path / "remote"),
            "pattern": "*.dump.age"}


@pytest.mark.parametrize("kind", ["local", "s3", "sftp"])
def test_a_sealed_backup_uploaded_to_the_source_drills_green(kind, tmp_path, request, docker_engine, keys_dir):
    source = source_settings(kind, tmp_path, request)
    entry = {**site_entry(SITE, tmp_path, keys_dir["dir"] / "drill.agekey"), "source": source}
    catalog = write_catalog(tmp_path, [entry])
    assert drill_command("keys", "init", "--catalog", str(catalog)).returncode == 0
    dump = tmp_path / "lgo-20261123.dump"
    try:
        with SourceDatabase(patients=80, runtime=docker_engine) as live_database:  # the site's database
            with open(dump, "wb") as sink:
                live_database.dump(sink)
            sealed = drill_command("seal", SITE, str(dump), "--dsn", live_database.dsn, "--recipient",
                                   keys_dir["recipient"], "--recipient", keys_dir["other_recipient"], "--json",
                                   "--catalog", str(catalog), env=S3_ENV)
    finally:
        dump.unlink()  # the job's own plaintext dump: the job removes it
    assert sealed.returncode == 0, sealed.stderr
    assert json.loads(sealed.stdout)["backup"] == "lgo-20261123.dump.age"
    drilled = drill_command("run", SITE, "--json", "--catalog", str(catalog), env=S3_ENV)
    report = json.loads(drilled.stdout)
    assert (drilled.returncode, report["outcome"]) == (0, "pass"), drilled.stdout + drilled.stderr
    assert report["backup"]["manifest"] == "lgo-20261123.dump.age.manifest.json.age"
    counted = {f["subject"]: f["actual"] for f in report["findings"] if f["check"] == "table.count"}
    assert counted["public.patients"] == 80 and len(counted) >= 8


def test_seal_refuses_a_manifest_of_another_site_and_uploads_nothing(tmp_path, keys_dir):
    backups = tmp_path / "backups"
    catalog = write_catalog(tmp_path, [site_entry(SITE, backups, keys_dir["dir"] / "drill.agekey")])
    (tmp_path / "job.dump").write_bytes(b"not really a dump")
    (tmp_path / "job.manifest.json").write_text(json.dumps({"format": 1, "site": "autre-pharmacie", "engine": "postgres",
                                                            "taken_at": "2026-11-23T02:00:00Z", "tables": {}}))
    result = drill_command("seal", SITE, str(tmp_path / "job.dump"), "--manifest", str(tmp_path / "job.manifest.json"),
                           "--recipient", keys_dir["recipient"], "--catalog", str(catalog))
    assert result.returncode == 1 and "manifest.invalid" in result.stderr
    assert not backups.exists() or list(backups.iterdir()) == []
