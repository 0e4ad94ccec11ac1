"""What an editor hands a client, from a real drill: the reversibility certificate (its PDF
read back with poppler, its attached report verified) and the encrypted export kit (opened with
the real age CLI, read back with DuckDB, equal to the backup's manifest); and the audit journal
that records both."""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PLAINTEXT_MARKERS
from tests.schemas import validate
from tests.helpers import age_identity, drill_command
from tests.integration.conftest import SITE

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "certificates"


@pytest.fixture
def passed_drill(catalog):
    result = drill_command("run", SITE, "--catalog", str(catalog), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.replace("\u202f", " ")


def test_the_certificate_pdf_says_what_the_signed_report_says(catalog, passed_drill, tmp_path):
    out = tmp_path / "certificates"
    result = drill_command("certificate", passed_drill["drill_id"], "--catalog", str(catalog), "--output", str(out))
    assert result.returncode == 0, result.stderr
    report_path = Path(passed_drill["report"])
    report = json.loads(report_path.read_bytes())
    stem = f"certificate-{SITE}-{report['drill_id']}"
    for lang, verdict in (("fr", "RÉUSSI (PASS)"), ("en", "PASSED (PASS)")):
        text = pdf_text(out / f"{stem}.{lang}.pdf")
        assert verdict in text and report["drill_id"] in text
        assert report["backup"]["sha256"] in text and hashlib.sha256(report_path.read_bytes()).hexdigest() in text
        counted = [f for f in report["findings"] if f["check"] == "table.count"]
        assert len(counted) >= 8
        for finding in counted:
            line = next(line for line in text.splitlines() if line.split()[:1] == [finding["subject"]])
            assert line.split()[1:3] == [str(finding["expected"]), str(finding["actual"])], line
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(out / f"{stem}.fr.pdf"), str(ARTIFACTS / "certificate-fr")],
                   check=True)
    assert (ARTIFACTS / "certificate-fr-1.png").stat().st_size > 10_000


def test_the_report_attached_to_the_certificate_verifies_with_the_attached_key(catalog, passed_drill, tmp_path):
    out = tmp_path / "certificates"
    assert drill_command("certificate", passed_drill["drill_id"], "--lang", "en", "--catalog", str(catalog),
                         "--output", str(out)).returncode == 0
    (pdf,) = out.glob("*.en.pdf")
    attached = tmp_path / "attached"
    attached.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(attached), str(pdf)], check=True)
    report_path = Path(passed_drill["report"])
    assert (attached / report_path.name).read_bytes() == report_path.read_bytes()
    checked = drill_command("verify-report", str(attached / report_path.name), "--public-key",
                            str(attached / "signing.pub"))
    assert checked.returncode == 0 and "VALID" in checked.stdout


def test_a_failed_drill_gets_no_certificate(catalog, tmp_path):
    backups = next((tmp_path / "backups").glob("*.age"))
    backups.write_bytes(backups.read_bytes()[:-100])  # truncated in transit
    failed = json.loads(drill_command("run", SITE, "--catalog", str(catalog), "--json").stdout)
    assert failed["reason"] == "decrypt.corrupt"
    result = drill_command("certificate", failed["drill_id"], "--catalog", str(catalog), "--output", str(tmp_path))
    assert result.returncode == 3 and "certificate.not_passed" in result.stderr
    assert list(tmp_path.glob("certificate-*")) == []


def test_the_export_kit_opens_with_the_age_cli_and_every_table_matches_the_manifest(catalog, tmp_path):
    client_recipient = age_identity(tmp_path / "client.agekey")
    out = tmp_path / "kits"
    result = drill_command("export", SITE, "--recipient", client_recipient, "--output", str(out),
                           "--catalog", str(catalog), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    kit_path = Path(summary["kit"]["file"])
    assert [path.name for path in out.iterdir()] == [kit_path.name]
    ciphertext = kit_path.read_bytes()
    assert not any(marker in ciphertext for marker in PLAINTEXT_MARKERS)
    assert hashlib.sha256(ciphertext).hexdigest() == summary["kit"]["sha256"]

    opened = subprocess.run(["age", "-d", "-i", str(tmp_path / "client.agekey")], input=ciphertext,
                            capture_output=True, check=True).stdout
    backup_manifest = json.loads(next((tmp_path / "backups").glob("*.manifest.json")).read_text())
    read_back = Path(tempfile.mkdtemp(dir="/dev/shm"))  # plaintext: in memory, removed below
    try:
        with tarfile.open(fileobj=io.BytesIO(opened)) as archive:
            archive.extractall(read_back, filter="data")
        kit = read_back / f"{SITE}-kit"
        manifest = json.loads((kit / "manifest.json").read_text())
        assert validate("kit-manifest", manifest) == [], "the kit's manifest is as docs/schemas says"
        assert manifest["drill_id"] == summary["drill_id"]
        assert {table: entry["rows"] for table, entry in manifest["tables"].items()} == backup_manifest["tables"]
        with duckdb.connect() as connection:
            for table, entry in manifest["tables"].items():
                for kind, reader in (("parquet", "read_parquet"), ("csv", "read_csv")):
                    path = kit / "tables" / entry[kind]["file"]
                    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry[kind]["sha256"]
                    (count,) = connection.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchone()
                    assert count == backup_manifest["tables"][table], (table, kind)
            (name,) = connection.execute(
                "SELECT nom FROM read_parquet(?) ORDER BY id LIMIT 1",
                [str(kit / "tables" / manifest["tables"]["public.patients"]["parquet"]["file"])]).fetchone()
            assert name
        assert "CREATE TABLE public.patients" in (kit / "schema.sql").read_text()
    finally:
        shutil.rmtree(read_back)

    journal = drill_command("audit", "verify", "--catalog", str(catalog), "--json")
    assert journal.returncode == 0 and json.loads(journal.stdout)["broken_lines"] == []
    events = [json.loads(line) for line in (catalog.parent / "evidence" / ".audit" / "journal.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "kit.exported" and events[-1]["sha256"] == summary["kit"]["sha256"]


def test_an_export_that_would_stage_on_disk_is_refused_before_any_restore(catalog, tmp_path):
    result = drill_command("export", SITE, "--recipient", age_identity(tmp_path / "client.agekey"),
                           "--output", str(tmp_path / "kits"), "--catalog", str(catalog),
                           env={"DRILL_EXPORT_STAGING": str(tmp_path)})
    assert result.returncode == 3 and "config.staging_not_in_memory" in result.stderr
    assert not (tmp_path / "kits").exists()
    assert list((catalog.parent / "evidence").glob(f"{SITE}/*.json")) == []


def test_an_edited_audit_line_is_named_by_audit_verify(catalog, passed_drill, tmp_path):
    assert drill_command("certificate", passed_drill["drill_id"], "--lang", "fr", "--catalog", str(catalog),
                         "--output", str(tmp_path)).returncode == 0
    assert drill_command("keys", "rotate", "--catalog", str(catalog)).returncode == 0
    journal = catalog.parent / "evidence" / ".audit" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["certificate.issued", "key.rotated"]
    assert drill_command("audit", "verify", "--catalog", str(catalog)).returncode == 0
    journal.write_text("\n".join([lines[0].replace("certificate.issued", "certificate.viewed"), *lines[1:]]) + "\n")
    result = drill_command("audit", "verify", "--catalog", str(catalog))
    assert result.returncode == 1 and "line 2: not linked to the line before" in result.stdout
