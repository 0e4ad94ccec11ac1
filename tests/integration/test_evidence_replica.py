"""The evidence replica against a real S3-protocol server on loopback (moto in server mode), with
a bucket under Object Lock: each report locked there as it is written, and verify-chain naming
what was edited or deleted on the evidence directory; the audit journal's anchors locked there
too, so that `drill audit verify` finds a journal rewritten or cut along with its local anchors."""

import json
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.reports import anchors
from tests.helpers import drill_command, rechained
from tests.integration.conftest import SITE

ENV = {"EVIDENCE_S3_KEY": "test-key", "EVIDENCE_S3_SECRET": "test-secret"}


@pytest.fixture
def replicated(catalog, s3_server, monkeypatch):
    """The integration catalog with an evidence replica in a fresh Object Lock bucket."""
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True,
                                     CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    document = yaml.safe_load(catalog.read_text())
    document["evidence_replica"] = {"type": "s3", "endpoint": s3_server.endpoint, "region": "eu-west-3",
                                    "bucket": bucket, "prefix": "infogest/", "access_key_env": "EVIDENCE_S3_KEY",
                                    "secret_key_env": "EVIDENCE_S3_SECRET", "retention": "1d"}
    catalog.write_text(yaml.safe_dump(document))
    return catalog, bucket


def run(catalog) -> Path:
    result = drill_command("run", SITE, "--catalog", str(catalog), "--json", env=ENV)
    assert result.returncode == 0, result.stderr
    return Path(json.loads(result.stdout)["report"])


def test_each_report_is_locked_in_the_replica_and_cannot_be_deleted_there(replicated, s3_server):
    catalog, bucket = replicated
    report = run(catalog)
    client = s3_server.client()
    key = f"infogest/{SITE}/{report.name}"
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ContentLength"] == report.stat().st_size
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == report.read_bytes()
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert drill_command("verify-chain", SITE, "--catalog", str(catalog), env=ENV).returncode == 0


def test_verify_chain_names_a_report_edited_or_the_newest_deleted_on_disk(replicated):
    catalog, _ = replicated
    first, second = run(catalog), run(catalog)
    first.chmod(0o644)
    first.write_text(first.read_text().replace('"outcome": "pass"', '"outcome": "pass" '))  # one space
    second.chmod(0o644)
    second.unlink()  # the newest, with its signature: without the replica the shorter chain looks intact
    Path(f"{second}.sig").unlink()
    alone = drill_command("verify-chain", SITE, "--no-replica", "--json", "--catalog", str(catalog), env=ENV)
    assert [(p["file"], p["code"]) for p in json.loads(alone.stdout)[SITE]["problems"]] == [
        (first.name, "report.edited")], "the exact bytes are signed: a space is an edit"
    result = drill_command("verify-chain", SITE, "--json", "--catalog", str(catalog), env=ENV)
    assert result.returncode == 1
    problems = {(p["file"], p["code"]) for p in json.loads(result.stdout)[SITE]["problems"]}
    assert problems == {(first.name, "report.edited"), (first.name, "replica.differs"),
                        (second.name, "replica.only"), (f"{second.name}.sig", "replica.only")}


@contextmanager
def replica_out_of_reach(catalog: Path):
    """The catalog's replica endpoint pointed where nothing listens, then back."""
    document = yaml.safe_load(catalog.read_text())
    reachable = document["evidence_replica"]["endpoint"]
    document["evidence_replica"]["endpoint"] = "http://127.0.0.1:9"
    catalog.write_text(yaml.safe_dump(document))
    try:
        yield
    finally:
        document["evidence_replica"]["endpoint"] = reachable
        catalog.write_text(yaml.safe_dump(document))


def test_a_replica_out_of_reach_never_loses_the_drill_and_sync_catches_up(replicated, s3_server):
    catalog, bucket = replicated
    with replica_out_of_reach(catalog):
        report = run(catalog)  # the drill passes and its report is on disk
    behind = drill_command("verify-chain", SITE, "--json", "--catalog", str(catalog), env=ENV)
    assert [(p["file"], p["code"]) for p in json.loads(behind.stdout)[SITE]["problems"]] == [
        (report.name, "replica.missing"), (report.name + ".sig", "replica.missing")]
    synced = drill_command("evidence", "sync", "--json", "--catalog", str(catalog), env=ENV)
    assert synced.returncode == 0 and json.loads(synced.stdout) == {SITE: 1, ".journal-anchors": 0}
    assert drill_command("verify-chain", SITE, "--catalog", str(catalog), env=ENV).returncode == 0
    assert s3_server.client().head_object(Bucket=bucket, Key=f"infogest/{SITE}/{report.name}")["ContentLength"] > 0


def journaled_and_anchored(catalog, s3_server, bucket, events: int = 6):
    """A drill, then `events` views journaled (as the dashboard does) and `drill audit anchor`:
    (journal, the anchors on disk), each anchor locked in the replica."""
    run(catalog)
    journal = AuditJournal(load_catalog(catalog).evidence)
    for number in range(events):
        journal.record("report.viewed", f"marie-{number}", site=SITE, sequence=1)
    assert drill_command("audit", "anchor", "--catalog", str(catalog), env=ENV).returncode == 0
    local = anchors.anchor_paths(journal.path.parent.parent)
    for path in local:
        head = s3_server.client().head_object(Bucket=bucket, Key=f"infogest/.journal-anchors/{path.name}")
        assert head["ObjectLockMode"] == "COMPLIANCE" and head["ContentLength"] == path.stat().st_size
    return journal, local


def number(path: Path) -> str:
    return path.name.split("-")[0]


def audit_problems(catalog, *options) -> tuple[int, set]:
    result = drill_command("audit", "verify", "--json", *options, "--catalog", str(catalog), env=ENV)
    found = json.loads(result.stdout)
    return result.returncode, {("line", p["line"], p["kind"]) for p in found["problems"]} | {
        (p["file"].split("-")[0], p["code"]) for p in found["anchor_problems"]}


def without_local_anchors(paths: list[Path]) -> None:
    for path in paths:
        path.unlink()
        Path(str(path) + ".sig").unlink()


def test_a_middle_line_edited_in_the_journal_is_found_by_its_chain(replicated, s3_server):
    catalog, bucket = replicated
    journal, local = journaled_and_anchored(catalog, s3_server, bucket)
    lines = journal.path.read_bytes().splitlines()
    lines[-3] = lines[-3].replace(b"marie-", b"pierre")
    journal.path.write_bytes(b"\n".join(lines) + b"\n")
    assert audit_problems(catalog, "--no-replica") == (1, {("line", len(lines) - 1, "unlinked")})


def test_a_journal_rewritten_and_chained_again_its_anchors_deleted_is_found_by_the_replica(replicated, s3_server):
    catalog, bucket = replicated
    journal, local = journaled_and_anchored(catalog, s3_server, bucket)
    lines = journal.path.read_bytes().splitlines()
    lines[-3] = lines[-3].replace(b"marie-", b"pierre")
    journal.path.write_bytes(rechained(lines))
    without_local_anchors(local)
    assert audit_problems(catalog, "--no-replica") == (0, set()), "on disk alone, nothing is left to tell"
    code, found = audit_problems(catalog)
    assert code == 1 and {(number(local[-1]), "audit.rewritten"), (number(local[-1]), "replica.only")} <= found


def test_a_journal_cut_at_its_end_its_anchors_deleted_is_found_by_the_replica(replicated, s3_server):
    catalog, bucket = replicated
    journal, local = journaled_and_anchored(catalog, s3_server, bucket)
    journal.path.write_bytes(b"\n".join(journal.path.read_bytes().splitlines()[:-2]) + b"\n")
    without_local_anchors(local)
    assert audit_problems(catalog, "--no-replica") == (0, set())
    code, found = audit_problems(catalog)
    assert code == 1 and (number(local[-1]), "audit.truncated") in found


def test_an_anchor_made_while_the_replica_was_out_of_reach_is_copied_by_sync(replicated, s3_server):
    catalog, _ = replicated
    with replica_out_of_reach(catalog):
        AuditJournal(load_catalog(catalog).evidence).record("report.viewed", "marie", site=SITE, sequence=1)
        assert drill_command("audit", "anchor", "--catalog", str(catalog), env=ENV).returncode == 0
    behind = audit_problems(catalog)
    assert behind[0] == 1 and {code for _, code in behind[1]} == {"replica.missing"}
    synced = drill_command("evidence", "sync", "--json", "--catalog", str(catalog), env=ENV)
    assert json.loads(synced.stdout)[".journal-anchors"] == 1
    assert audit_problems(catalog) == (0, set())
