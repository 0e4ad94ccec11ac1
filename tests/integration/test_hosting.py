"""Where the data lives, checked by real drills: S3 buckets made in an EEA and a non-EEA region on
the S3 server on loopback (moto honours LocationConstraint), an SFTP source on the real sshd, local
sources with their declared countries, an evidence replica, an expired HDS certificate; and the
certificate of a passing drill, read back with pdftotext, says where the backups are."""

import os
import shutil
import subprocess
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import boto3
import pytest
import yaml

from drills.catalog import load_catalog
from drills.catalog.model import S3Location
from drills.certificates import certificate_files
from drills.hosting import check
from drills.pipeline import run_drill
from drills.reports import index, keys
from drills.reports.signing import read_signature
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE
from tests.integration.test_engine_conformance import CHECKS

CERTIFIED = {"host": "OVHcloud", "certificate": "HDS-2024-0042", "country": "FR"}


def bucket_in(server, region: str) -> str:
    """A new bucket made in `region` (a client of that region: moto refuses any other constraint)."""
    name = f"hosting-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=server.endpoint, region_name=region, aws_access_key_id="test-key",
                          aws_secret_access_key="test-secret")
    client.create_bucket(Bucket=name, **({} if region == "us-east-1" else
                                         {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    return name


@pytest.fixture
def s3_settings(s3_server, monkeypatch):
    monkeypatch.setenv("TEST_S3_KEY", "test-key")
    monkeypatch.setenv("TEST_S3_SECRET", "test-secret")
    return {"type": "s3", "endpoint": s3_server.endpoint, "region": "eu-west-3", "access_key_env": "TEST_S3_KEY",
            "secret_key_env": "TEST_S3_SECRET"}


def drilled(tmp_path, source: dict, hosting: dict, replica: dict | None = None) -> dict:
    """The report of a real drill of a site with this source and hosting (an empty source: the drill
    fails with backup.missing before any container, and the hosting is checked all the same)."""
    tmp_path.mkdir(exist_ok=True)
    entry = {**site_entry(SITE, tmp_path, tmp_path / "drill.agekey", hosting=hosting), "source": source}
    path = write_catalog(tmp_path, [entry])
    if replica:
        document = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump({**document, "evidence_replica": replica}))
    catalog = load_catalog(path)
    if not catalog.signing_key.exists():
        keys.init(catalog.signing_key)
    return run_drill(catalog, catalog.sites[0]).report


def hosting_findings(report: dict) -> dict[tuple[str, str], str]:
    """{(code or check, location): status} of the report's hosting findings."""
    return {(f["code"] or f["check"], f["subject"]): f["status"] for f in report["findings"]
            if f["check"].startswith("hosting")}


def test_a_bucket_in_an_eea_region_is_where_the_catalog_says(s3_server, s3_settings, tmp_path):
    bucket = bucket_in(s3_server, "eu-west-3")
    report = drilled(tmp_path, {**s3_settings, "bucket": bucket},
                     {**CERTIFIED, "expires": str(date.today() + timedelta(days=400)),
                      "regions": {s3_server.endpoint: {"eu-west-3": "FR"}}})
    assert report["reason"] == "backup.missing"  # the bucket is empty: the hosting is checked anyway
    (location,) = report["hosting"]["locations"]
    assert (location["read_region"], location["read_country"], location["table"], location["eea"]) == \
        ("eu-west-3", "FR", "catalog", True)
    assert hosting_findings(report) == {("hosting.location", "backup"): "pass"}


def test_a_bucket_in_a_us_region_declared_french_is_outside_the_eea_and_a_mismatch(s3_server, s3_settings, tmp_path):
    bucket = bucket_in(s3_server, "us-east-1")
    report = drilled(tmp_path, {**s3_settings, "bucket": bucket},
                     {**CERTIFIED, "fail": ["outside_eea"], "regions": {s3_server.endpoint: {"us-east-1": "US"}}})
    assert report["hosting"]["locations"][0]["read_region"] == "us-east-1", "no LocationConstraint is us-east-1"
    assert hosting_findings(report) == {("hosting.mismatch", "backup"): "warn",
                                        ("hosting.outside_eea", "backup"): "fail"}


def test_a_region_no_table_knows_or_a_bucket_that_cannot_be_read_is_unverified(s3_server, s3_settings, tmp_path):
    bucket = bucket_in(s3_server, "eu-central-2")
    report = drilled(tmp_path, {**s3_settings, "bucket": bucket}, CERTIFIED)  # the loopback endpoint: no table
    assert hosting_findings(report) == {("hosting.unverified", "backup"): "warn"}
    assert report["hosting"]["locations"][0]["country"] == "FR", "judged on the declared country meanwhile"
    report = drilled(tmp_path / "gone", {**s3_settings, "bucket": "no-such-bucket"}, CERTIFIED)
    assert report["outcome"] == "error"  # the source cannot be listed either: our side, retried
    (unverified,) = [f for f in report["findings"] if f["code"] == "hosting.unverified"]
    assert "could not be read: NoSuchBucket" in unverified["message"]
    site = SimpleNamespace(hosting=load_catalog(tmp_path / "catalog.yaml").sites[0].hosting,
                           source=SimpleNamespace(type="s3", location=S3Location("x", endpoint="http://127.0.0.1:9",
                                                                               access_key_env="TEST_S3_KEY",
                                                                               secret_key_env="TEST_S3_SECRET")))
    _, (dead,) = check.inspect(site, None, date.today())
    assert dead.code == "hosting.unverified" and "unreachable (EndpointConnectionError)" in dead.message


def test_the_evidence_replica_is_checked_with_the_site(s3_server, s3_settings, tmp_path):
    replica = {**s3_settings, "bucket": bucket_in(s3_server, "us-east-1"), "object_lock": "none",
               "hosting": {"host": "Elsewhere Inc.", "regions": {s3_server.endpoint: {"us-east-1": "US"}}}}
    (tmp_path / "backups").mkdir()
    report = drilled(tmp_path, {"type": "local", "path": str(tmp_path / "backups")}, CERTIFIED, replica=replica)
    assert hosting_findings(report) == {("hosting.location", "backup"): "pass",
                                        ("hosting.outside_eea", "evidence_replica"): "warn"}
    replica_location = report["hosting"]["locations"][1]
    assert (replica_location["host"], replica_location["country"]) == ("Elsewhere Inc.", "US")


def test_an_sftp_site_and_a_local_site_are_judged_on_their_declared_countries(ssh_server, tmp_path):
    ssh_server.write_known_hosts("host")
    (tmp_path / "remote").mkdir()
    sftp = {"type": "sftp", "host": "127.0.0.1", "port": ssh_server.port, "user": ssh_server.user,
            "key_file": str(ssh_server.key_file), "known_hosts": str(ssh_server.known_hosts),
            "path": str(tmp_path / "remote")}
    report = drilled(tmp_path, sftp, {"country": "DE"})
    assert report["reason"] == "backup.missing", "listed through the real SFTP server"
    assert hosting_findings(report) == {("hosting.location", "backup"): "pass"}
    assert report["hosting"]["locations"][0]["place"] == f"sftp://127.0.0.1{tmp_path / 'remote'}"
    report = drilled(tmp_path / "swiss", sftp, {"country": "CH"})
    assert hosting_findings(report) == {("hosting.outside_eea", "backup"): "warn"}


def sqlite_drill(tmp_path, keys_dir, file_backups, hosting: dict) -> tuple[dict, object]:
    entry = {**site_entry(SITE, file_backups["sqlite-healthy"].parent, keys_dir["dir"] / "drill.agekey",
                          hosting=hosting), "engine": {"type": "sqlite"}, "checks": CHECKS["sqlite"]}
    catalog = load_catalog(write_catalog(tmp_path, [entry]))
    keys.init(catalog.signing_key)
    return run_drill(catalog, catalog.sites[0]), catalog


def test_an_expired_certificate_fails_a_drill_that_restored_where_the_site_says_so(tmp_path, keys_dir, file_backups):
    stored, _ = sqlite_drill(tmp_path, keys_dir, file_backups,
                             {**CERTIFIED, "expires": str(date.today() - timedelta(days=3)),
                              "fail": ["certificate_expired"]})
    report = stored.report
    assert (report["outcome"], report["reason"]) == ("fail", "hosting.certificate_expired")
    assert "OVHcloud's HDS certificate HDS-2024-0042 expired" in report["message"]
    assert index.restored(report), "the backup restored: history and the finder count it as such"


@pytest.mark.parametrize("lang, said", [
    ("fr", ["hébergées en France par OVHcloud, certifié HDS", "HDS-2024-0042", "France (FR), dans l'EEE"]),
    ("en", ["hosted in France by OVHcloud, HDS certified until", "France (FR), in the EEA"])])
def test_the_certificate_of_a_passing_drill_says_where_the_backups_are(tmp_path, keys_dir, file_backups, lang, said):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    expires = date.today() + timedelta(days=30)
    stored, catalog = sqlite_drill(tmp_path, keys_dir, file_backups, {**CERTIFIED, "expires": str(expires)})
    assert stored.report["outcome"] == "pass"
    assert hosting_findings(stored.report) == {("hosting.certificate_expiring", "backup"): "warn"}
    files = certificate_files(stored.path.read_bytes(), read_signature(stored.path), stored.path.name,
                              keys.keyring(catalog.signing_key), languages=(lang,), formats=("pdf",))
    (pdf,) = files.values()
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "certificate.pdf"), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    for words in said:
        assert words in text
    assert str(expires.year) in text and ("hosting.certificate_expiring" in text)
    assert os.path.exists(stored.path)
