"""Secrets never leak: drills run with every logger at DEBUG (ours, boto, paramiko, docker,
urllib3), through an age identity, a passphrase, S3 credentials and an SFTP key, passing and
failing; then every log line, every output, every exception, every report and the dashboard's
pages are scanned for the secret bytes. A DSN password is masked in the errors that quote it."""

import io
import json
import logging
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.session import USER_KEY
from drills.catalog import load_catalog
from drills.errors import DrillError
from drills.pipeline import run_drill
from drills.reports import keys
from tests.helpers import PROJECT, age_with_passphrase, drill_command, site_entry, write_catalog
from tests.integration.conftest import SITE
from tests.integration.test_fault_catalogue import Kit

PASSPHRASE = "correct horse battery staple " + uuid.uuid4().hex
S3_SECRET = "s3-secret-" + uuid.uuid4().hex
DSN_PASSWORD = "pg-secret-" + uuid.uuid4().hex


@pytest.fixture
def debug_log():
    """Every record of every logger, at DEBUG, into one buffer."""
    buffer, handler = io.StringIO(), None
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def test_no_secret_in_logs_outputs_reports_or_the_dashboard(tmp_path, backups, keys_dir, s3_server, ssh_server,
                                                             monkeypatch, debug_log, capfd, file_backups):
    identity = next(line for line in (keys_dir["dir"] / "drill.agekey").read_text().splitlines()
                    if line.startswith("AGE-SECRET-KEY"))
    ssh_key = ssh_server.key_file.read_text().split("\n")[1]  # a line of the private key's body
    monkeypatch.setenv("DRILL_AGE_IDENTITY", identity)
    monkeypatch.setenv("DRILL_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SECRETS_S3_KEY", "test-key")
    monkeypatch.setenv("SECRETS_S3_SECRET", S3_SECRET)
    kit = Kit(backups, file_backups, keys_dir)

    bucket = f"secrets-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3_server.client().put_object(Bucket=bucket, Key="s/healthy.dump.age", Body=kit.ciphertext())
    s3 = {"type": "s3", "endpoint": s3_server.endpoint, "region": "eu-west-3", "bucket": bucket, "prefix": "s/",
          "access_key_env": "SECRETS_S3_KEY", "secret_key_env": "SECRETS_S3_SECRET"}
    ssh_server.write_known_hosts("host")
    folders = {name: tmp_path / name for name in ("identity-env", "sftp-key", "passphrase-env", "wrong-identity")}
    for folder in folders.values():
        folder.mkdir()
    kit.copy(folders["identity-env"], backups["healthy"])
    kit.copy(folders["sftp-key"], backups["healthy"])
    kit.copy(folders["wrong-identity"], backups["other-key"])
    age_with_passphrase(folders["passphrase-env"] / "backup.dump.age", PASSPHRASE, b"not a dump")
    sftp = {"type": "sftp", "host": "127.0.0.1", "port": ssh_server.port, "user": ssh_server.user,
            "key_file": str(ssh_server.key_file), "known_hosts": str(ssh_server.known_hosts),
            "path": str(folders["sftp-key"])}
    identity_env, no_manifest = {"identity_env": "DRILL_AGE_IDENTITY"}, {"manifest": "ignore"}
    entries = [
        {**site_entry("identity-env", folders["identity-env"], tmp_path / "unused"), "decrypt": identity_env},
        {**site_entry("s3-credentials", tmp_path, tmp_path / "unused"), "source": s3, "decrypt": identity_env,
         "checks": no_manifest},
        {**site_entry("sftp-key", tmp_path, tmp_path / "unused"), "source": sftp, "decrypt": identity_env},
        {**site_entry("passphrase-env", folders["passphrase-env"], tmp_path / "unused"),
         "decrypt": {"passphrase_env": "DRILL_PASSPHRASE"}, "checks": no_manifest},
        {**site_entry("wrong-identity", folders["wrong-identity"], tmp_path / "unused"), "decrypt": identity_env},
    ]
    catalog = load_catalog(write_catalog(tmp_path, entries))
    keys.init(catalog.signing_key)
    outcomes = {site.id: run_drill(catalog, site).report for site in catalog.sites}
    assert outcomes["identity-env"]["outcome"] == "pass" and outcomes["s3-credentials"]["outcome"] == "pass"
    assert outcomes["sftp-key"]["outcome"] == "pass" and outcomes["wrong-identity"]["reason"] == "decrypt.wrong_key"
    assert outcomes["passphrase-env"]["reason"] == "restore.failed"  # a text file is not a dump: the key worked

    errors = []
    try:
        from drills.manifest import of_live_database

        of_live_database(f"host={tmp_path} user=lgo password={DSN_PASSWORD} dbname=lgo", SITE)
    except DrillError as error:
        errors.append(str(error))
    cli = drill_command("manifest", "postgres", "--dsn", f"host={tmp_path} password={DSN_PASSWORD} dbname=lgo",
                        "--site", SITE, "--json")
    assert cli.returncode == 2 and errors

    from drills.access import hash_password

    users = tmp_path / "users.yaml"
    users.write_text(json.dumps({"users": [{"name": "boss", "role": "admin", "password": hash_password("x" * 16)}]}))
    monkeypatch.setenv("DRILL_CATALOG", str(catalog.path))
    monkeypatch.setenv("DRILL_USERS", str(users))
    pages = []
    for site_id in outcomes:
        at = AppTest.from_file(str(PROJECT / "dashboard" / "views" / "drill.py"), default_timeout=60)
        at.session_state[USER_KEY] = "boss"
        at.query_params.update(site=site_id, drill="1")
        at.run()
        pages.append(" ".join(str(element.value) for kind in ("markdown", "caption", "error", "info")
                              for element in getattr(at, kind)) + " ".join(frame.value.to_csv() for frame in at.dataframe))

    captured = capfd.readouterr()
    stored = [path.read_bytes().decode(errors="replace") for path in catalog.evidence.rglob("*.json*")]  # .sig too
    everything = "\n".join([debug_log.getvalue(), captured.out, captured.err, cli.stdout, cli.stderr, *errors, *pages,
                            *stored])
    assert "botocore" in debug_log.getvalue() and "paramiko" in debug_log.getvalue(), "debug logs were captured"
    for secret in (identity, identity[15:40], PASSPHRASE, S3_SECRET, DSN_PASSWORD, ssh_key):
        assert secret not in everything, f"a secret leaked: {secret[:12]}..."
    assert json.loads(cli.stdout)["error"] == "error.verifier"  # the DSN it quotes is masked whole (drills.redaction)
