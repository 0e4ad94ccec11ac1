"""The JSON Schemas of the evidence documents (docs/schemas): what the code writes validates,
what it never writes is refused with a precise error, and the suite's own check of every document
its tests leave (tests/schemas.py, run by tests/conftest.py when the session ends)."""

import base64
import copy
import hashlib
import io
import json
import subprocess
import tarfile
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drills import manifest as manifests
from drills.catalog import load_catalog
from drills.demo.history import synthetic_report
from drills.errors import BackupProblem
from drills.kit import KitExport, described
from drills.pipeline import Drill
from drills.reports.report import now_utc
from tests.helpers import site_entry, write_catalog
from tests.schemas import KINDS, SCHEMAS, SKIP_MARKER, classify, rfc3339, validate, validate_tree

IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_ID = "ed25519:" + hashlib.sha256(KEY.public_key().public_bytes_raw()).hexdigest()[:16]
HEX64 = "ab" * 32
DRILL_ID = "20261123T020000Z-1a2b3c4d"
WHEN = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
SITE = SimpleNamespace(id="pharmacie-du-port", name="Pharmacie du Port", tenant="infogest",
                       targets=SimpleNamespace(rto=1800, rpo=93600),
                       engine=SimpleNamespace(type="postgres", format="custom", image="postgres:15"))


def with_signature(report: dict) -> dict:
    """A format 1 report as the evidence store signed it: embedded Ed25519 over its canonical JSON."""
    unsigned = {key: value for key, value in report.items() if key != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return {**unsigned, "signature": {"algorithm": "ed25519", "key_id": KEY_ID,
                                      "value": base64.b64encode(KEY.sign(canonical)).decode()}}


def as_stored(report: dict, sequence: int = 2, previous: str | None = HEX64) -> dict:
    """`report` with what the evidence store adds for its format."""
    chained = {**report, "sequence": sequence, "previous_sha256": previous}
    return with_signature(chained) if report["format"] == 1 else {**chained, "signed_by": KEY_ID}


def finding(**changes) -> dict:
    return {"check": "table.count", "subject": "public.patients", "status": "pass", "expected": 2000,
            "actual": 2000, "message": "", "code": "", "hint": "", **changes}


def report_v1(**changes) -> dict:
    """A format 1 report as Drill.report() wrote it, stored."""
    report = {
        "format": 1, "drill_id": DRILL_ID, "attempt_of": None, "site": "pharmacie-du-port",
        "site_name": "Pharmacie du Port", "tenant": "infogest", "outcome": "pass", "reason": None, "message": "",
        "hint": "", "started_at": "2026-11-23T02:00:00.000+00:00", "finished_at": "2026-11-23T02:07:12.345+00:00",
        "phases": {"fetch": 3.2, "decrypt": 11.0, "restore": 380.5, "verify": 40.1, "teardown": 1.9},
        "rto_seconds": 434.8, "targets": {"rto_seconds": 1800, "rpo_seconds": 93600},
        "backup": {"name": "lgo-20261122.dump.age", "size": 48_213_112, "sha256": HEX64,
                   "modified": "2026-11-22T23:40:05+00:00", "taken_at": "2026-11-22T23:30:00+00:00",
                   "age_seconds": 9000, "manifest": "lgo-20261122.dump.age.manifest.json.age"},
        "engine": {"type": "postgres", "format": "custom", "image": "restore-drill/postgres:15-bookworm"},
        "contents_verified": True,
        "findings": [finding(), finding(check="table.fingerprint", expected={"digest": "0123456789abcdef",
                                                                           "one_in": 1, "key": None},
                                        actual="0123456789abcdef", message="rows identical"),
                     finding(check="backup.freshness", subject="lgo-20261122.dump.age", expected="<= 93600 s",
                             actual=9000)],
        "host": "drill-01",
    }
    return as_stored({**report, **changes})


def report_v2(**changes) -> dict:
    """A format 2 report: no embedded signature, signed_by and provenance."""
    report = {key: value for key, value in report_v1().items() if key not in ("signature", "sequence",
                                                                                "previous_sha256")}
    report.update(format=2, provenance={
        "restore_drill": "0.1.0", "host": "drill-01",
        "image": {"name": "restore-drill/postgres:15-bookworm", "id": "sha256:" + "c" * 64, "repo_digests": []},
        "server_version": "PostgreSQL 15.10 (Debian 15.10-1.pgdg120+1) on x86_64-pc-linux-gnu",
        "duckdb": "1.5.5", "duckdb_extensions": {"postgres_scanner": "1.5.5", "mysql_scanner": "1.5.5"}})
    return as_stored({**report, **changes})


def failed(report: dict, reason="verify.count_mismatch") -> dict:
    return {**report, "outcome": "fail", "reason": reason, "message": "public.ventes: 48210 rows restored",
            "hint": "check the backup job",
            "findings": [finding(status="fail", code=reason, actual=48210, expected=48220, message="differ")]}


def without(document: dict, *keys: str) -> dict:
    return {key: value for key, value in document.items() if key not in keys}


def changed(document: dict, path: str, value) -> dict:
    """A deep copy of `document` with `path` (a.b.0.c) set to `value`."""
    document = copy.deepcopy(document)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target = document
    for part in parents:
        target = target[part]
    target[last] = value
    return document


def test_every_schema_is_draft_2020_12_named_titled_and_describes_every_property():
    def undescribed(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("if", "then", "else"):
                    continue  # conditions restate properties described once
                if key == "properties":
                    yield from (f"{where}.{name}" for name, schema in value.items()
                                if isinstance(schema, dict) and "description" not in schema)
                if key == "additionalProperties" and isinstance(value, dict) and "description" not in value:
                    yield f"{where}.*"
                yield from undescribed(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield from undescribed(item, f"{where}[{index}]")

    for kind in KINDS:
        schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://restore-drill.example/schemas/{kind}.schema.json"
        assert schema["title"] and schema["description"]
        assert list(undescribed(schema, kind)) == []


# Reports

def test_format_1_reports_of_every_outcome_validate():
    assert validate("report", report_v1()) == []
    assert validate("report", failed(report_v1())) == []
    error = report_v1(outcome="error", reason="error.runtime", rto_seconds=None, backup=None,
                      findings=[finding(check="error", subject="drill", status="fail", expected=None, actual=None,
                                        code="error.runtime", message="the Docker engine is not reachable")])
    assert validate("report", error) == []


def test_a_format_1_report_written_before_retries_and_contents_verified_validates():
    old = as_stored(without(report_v1(), "attempt_of", "contents_verified"), sequence=1, previous=None)
    assert validate("report", old) == []


def test_a_retry_a_backup_not_read_whole_and_a_backup_from_the_future_validate():
    report = report_v1(attempt_of="20261123T015500Z-0000000a")
    report = as_stored(changed(changed(report, "backup.sha256", None), "backup.age_seconds", -1200))
    assert validate("report", report) == []


def test_a_format_2_report_validates():
    assert validate("report", report_v2()) == []
    unknown = report_v2(provenance={**report_v2()["provenance"], "image": {"name": "postgres:15", "id": None, "repo_digests": []},
                                    "server_version": None, "duckdb_extensions": {}})
    assert validate("report", unknown) == []


def test_the_demo_histories_reports_validate():
    for outcome, reason in (("pass", None), ("fail", "verify.count_mismatch"), ("error", "error.runtime")):
        report = synthetic_report(SITE, WHEN, outcome, 420.0, reason, "" if reason is None else "seen")
        assert validate("report", as_stored(report)) == [], outcome


@pytest.fixture
def site(tmp_path, memory_dir, monkeypatch):
    monkeypatch.setenv("DRILL_RUN_DIR", str(memory_dir / "run"))
    (tmp_path / SKIP_MARKER).touch()  # nothing stored here, but the key and the catalog are no evidence
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "b.dump.age").write_bytes(b"age-encryption.org/v1\n")
    identity = tmp_path / "drill.agekey"
    identity.write_text(IDENTITY + "\n")
    identity.chmod(0o600)
    entry = site_entry("pharmacie", tmp_path / "backups", identity, checks={"manifest": "ignore"})
    return load_catalog(write_catalog(tmp_path, [entry])).sites[0]


class FailingRuntime:
    def start(self, spec):
        raise BackupProblem("restore.failed", "pg_restore failed (exit 1)", "fix the backup job")

    def remove(self, name):
        pass


def test_the_report_the_pipeline_makes_validates_once_stored(site):
    report = Drill(site, FailingRuntime(), now_utc).run()
    assert (report["outcome"], report["reason"]) == ("fail", "restore.failed")
    assert report["backup"]["name"] == "b.dump.age" and report["backup"]["sha256"] is None
    assert validate("report", as_stored(report, sequence=1, previous=None)) == []


BROKEN_REPORTS = [
    (without(report_v1(), "drill_id"), "$: 'drill_id' is a required property"),
    (report_v1(drill_id="d1"), "$.drill_id: 'd1' does not match"),
    (report_v1(outcome="maybe"), "$.outcome: 'maybe' is not one of ['pass', 'fail', 'error']"),
    (report_v1(reason="verify.count_mismatch"), "$.reason: 'verify.count_mismatch' is not of type 'null'"),
    (failed(report_v1(), reason=None), "$.reason: None is not of type 'string'"),
    (failed(report_v1(), reason="Count mismatch"), "$.reason: 'Count mismatch' does not match"),
    (changed(report_v1(), "backup.sha256", "AB" * 32), "$.backup.sha256: '" + "AB" * 32 + "' does not match"),
    (changed(report_v1(), "backup.sha256", "ab" * 31), "$.backup.sha256: '" + "ab" * 31 + "' does not match"),
    ({**report_v1(), "previous_sha256": "xyz"}, "$.previous_sha256: 'xyz' does not match"),
    ({**report_v1(), "sequence": 0}, "$.sequence: 0 is less than the minimum of 1"),
    ({**report_v1(), "sequence": 1}, "$.previous_sha256: '" + HEX64 + "' is not of type 'null'"),
    (report_v1(started_at="yesterday"), "$.started_at: 'yesterday' is not a 'date-time'"),
    (changed(report_v1(), "phases", {"fetch": 1.0}), "$.phases: 'decrypt' is a required property"),
    (changed(report_v1(), "phases.verify", "40s"), "$.phases.verify: '40s' is not of type 'number'"),
    (changed(report_v1(), "targets.rpo_seconds", None), "$.targets.rpo_seconds: None is not of type 'integer'"),
    (changed(report_v1(), "findings.0.status", "ok"), "$.findings[0].status: 'ok' is not one of"),
    (changed(report_v1(), "findings.0", without(finding(), "hint")), "$.findings[0]: 'hint' is a required property"),
    (changed(report_v1(), "engine", {"type": "postgres"}), "$.engine: 'format' is a required property"),
    (without(report_v1(), "signature"), "$: 'signature' is a required property"),
    (changed(report_v1(), "signature.value", base64.b64encode(bytes(32)).decode()), "$.signature.value: "),
    (changed(report_v1(), "signature.key_id", "ed25519:ABCDEF"), "$.signature.key_id: 'ed25519:ABCDEF' does not match"),
    (changed(report_v1(), "signature.algorithm", "rsa"), "$.signature.algorithm: 'ed25519' was expected"),
    ({**report_v1(), "signed_by": KEY_ID}, "$.signed_by: not allowed (Not in format 1"),
    ({**report_v2(), "signature": report_v1()["signature"]}, "$.signature: not allowed (Not in format 2"),
    (without(report_v2(), "signed_by"), "$: 'signed_by' is a required property"),
    (without(report_v2(), "provenance"), "$: 'provenance' is a required property"),
    (without(report_v2(), "contents_verified"), "$: 'contents_verified' is a required property"),
    ({**report_v2(), "signed_by": "ed25519:" + "A" * 16}, "$.signed_by: 'ed25519:AAAAAAAAAAAAAAAA' does not match"),
    ({**report_v2(), "extra": 1}, "$: Unevaluated properties are not allowed ('extra' was unexpected)"),
    (changed(report_v2(), "provenance.image.id", "c" * 64), "$.provenance.image.id: '" + "c" * 64 + "' does not match"),
    (changed(report_v2(), "provenance.server_version", "x" * 201), "$.provenance.server_version: '" + "x" * 201),
    (changed(report_v2(), "provenance", without(report_v2()["provenance"], "duckdb")),
     "$.provenance: 'duckdb' is a required property"),
    (changed(report_v2(), "provenance.duckdb_extensions", {"postgres_scanner": 1}),
     "$.provenance.duckdb_extensions.postgres_scanner: 1 is not of type 'string'"),
    ({**report_v1(), "format": 3}, "$.format: 3 is not one of [1, 2]"),
]


@pytest.mark.parametrize("document, expected", BROKEN_REPORTS, ids=[expected[:60] for _, expected in BROKEN_REPORTS])
def test_a_report_the_code_never_writes_is_refused_precisely(document, expected):
    errors = validate("report", document)
    assert any(error.startswith(expected) for error in errors), errors


# Manifests

def test_the_manifests_drill_writes_validate(tmp_path):
    taken = datetime(2026, 12, 1, 2, 30, tzinfo=timezone.utc)
    counts = manifests.render("pharmacie", "postgres", taken, tables={"public.patients": 2000, "public.vide": 0},
                              columns={"public.patients": [("id", "integer"), ("nom", "text")], "public.vide": []})
    sealed = manifests.render("pharmacie", "mariadb", taken, tables={"lgo.ventes": 48220, "lgo.journal": 12},
                              fingerprints={"lgo.ventes": {"digest": "0123456789abcdef", "one_in": 64,
                                                           "key": ["id"], "integer_key": True}},
                              inexact=["lgo.journal"])
    archive = tmp_path / "scans.tar"
    with tarfile.open(archive, "w") as tar:
        for name, content in (("./scans/ordonnance-0001.pdf", b"%PDF-1.7"), ("notes.txt", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    files = manifests.of_archive(archive, "cabinet", taken)
    for text in (counts, sealed, files, manifests.render("pharmacie", "sqlite", taken)):
        document = json.loads(text)
        assert validate("manifest", document) == [], document
        manifests.parse(text.encode())  # and the drill reads it
    assert set(json.loads(files)["files"]) == {"scans/ordonnance-0001.pdf", "notes.txt"}


MANIFEST_2 = {"format": 2, "site": "pharmacie", "taken_at": "2026-12-01T02:30:00+00:00", "engine": "postgres",
              "tables": {"public.patients": 2000},
              "fingerprints": {"public.patients": {"digest": "0123456789abcdef", "one_in": 1, "key": None}},
              "inexact": []}
ENTRY = "$.fingerprints.public.patients"


def fingerprint(**changes) -> dict:
    return {**MANIFEST_2, "fingerprints": {"public.patients": {**MANIFEST_2["fingerprints"]["public.patients"],
                                                               **changes}}}


# (document, the schema's error, whether drills.manifest.parse refuses it too)
BROKEN_MANIFESTS = [
    ({**MANIFEST_2, "tables": {"public.patients": -1}}, "$.tables.public.patients: -1 is less than the minimum of 0",
     True),
    ({**MANIFEST_2, "tables": {"public.patients": "2000"}}, "$.tables.public.patients: '2000' is not of type", True),
    (without(MANIFEST_2, "tables"), "$: 'tables' is a required property", True),
    ({**MANIFEST_2, "taken_at": "yesterday"}, "$.taken_at: 'yesterday' is not a 'date-time'", True),
    ({**MANIFEST_2, "taken_at": "2026-12-01T02:30:00"}, "$.taken_at: '2026-12-01T02:30:00' is not a 'date-time'",
     True),
    ({**MANIFEST_2, "format": 3}, "$.format: 3 is not one of [1, 2]", True),
    ({**MANIFEST_2, "files": {"a.pdf": {"size": 1, "sha256": "0" * 63}}}, "$.files.a.pdf.sha256: '", True),
    ({**MANIFEST_2, "files": {"a.pdf": {"sha256": "0" * 64}}}, "$.files.a.pdf: 'size' is a required property", True),
    ({**MANIFEST_2, "inexact": "lgo.journal"}, "$.inexact: 'lgo.journal' is not of type 'array'", True),
    (fingerprint(digest="0123456789abcde"), f"{ENTRY}.digest: '0123456789abcde' does not match", True),
    (fingerprint(digest="0123456789ABCDEF"), f"{ENTRY}.digest: '0123456789ABCDEF' does not match", True),
    (fingerprint(one_in=3), f"{ENTRY}.one_in: 3 is not one of", True),
    (fingerprint(one_in=0), f"{ENTRY}.one_in: 0 is not one of", True),
    (fingerprint(one_in=2**63), f"{ENTRY}.one_in: 9223372036854775808 is not one of", True),
    (fingerprint(key="id"), f"{ENTRY}.key: 'id' is not of type 'array', 'null'", True),
    (fingerprint(key=[]), f"{ENTRY}.key: [] should be non-empty", True),
    (fingerprint(integer_key="yes"), f"{ENTRY}.integer_key: 'yes' is not of type 'boolean'", True),
    (without(fingerprint(), "fingerprints"), "$: 'fingerprints' is a required property", False),
    ({**MANIFEST_2, "format": 1}, "$.fingerprints: not allowed (Not in format 1", False),
    ({**MANIFEST_2, "site": "Pharmacie"}, "$.site: 'Pharmacie' does not match", False),
    (without(MANIFEST_2, "engine"), "$: 'engine' is a required property", False),
    ({**MANIFEST_2, "columns": {"public.patients": [["id"]]}}, "$.columns.public.patients[0]: ['id'] is too short",
     True),
    ({**MANIFEST_2, "columns": {"public.patients": [["id", 4]]}}, "$.columns.public.patients[0][1]: 4 is not of type",
     True),
    ({**MANIFEST_2, "columns": ["public.patients"]}, "$.columns: ['public.patients'] is not of type 'object'", True),
]


@pytest.mark.parametrize("document, expected, drill_refuses", BROKEN_MANIFESTS,
                         ids=[expected[:60] for _, expected, _ in BROKEN_MANIFESTS])
def test_a_manifest_the_drill_would_not_take_is_refused_precisely(document, expected, drill_refuses):
    errors = validate("manifest", document)
    assert any(error.startswith(expected) for error in errors), errors
    if drill_refuses:  # the schema says what drills.manifest.parse checks (the rest, check_belongs or nothing)
        with pytest.raises(BackupProblem):
            manifests.parse(json.dumps(document).encode())


def test_a_manifest_with_files_needs_no_tables_and_keeps_a_jobs_own_keys():
    document = {"format": 1, "site": "cabinet", "taken_at": "2026-12-01T02:30:00Z", "engine": "files",
                "files": {"a.pdf": {"size": 0, "sha256": "0" * 64}}, "job": "nightly"}
    assert validate("manifest", document) == []


# Kit manifests

def kit_manifest(tmp_path) -> dict:
    """The manifest drills.kit writes, by its own code, for a kit of two tables."""
    kit = tmp_path / "kit"
    (kit / "tables").mkdir(parents=True)
    (kit / "schema.sql").write_text("CREATE TABLE public.patients (id integer);\n")
    tables = {}
    for table, rows in (("public.patients", 2), ("public.vide", 0)):
        parquet, csv = kit / "tables" / f"{table}.parquet", kit / "tables" / f"{table}.csv"
        parquet.write_bytes(b"PAR1")
        csv.write_text("id\n" + "".join(f"{n}\n" for n in range(rows)))
        tables[table] = {"rows": rows, "fingerprint": {"digest": "00000000000000ff", "one_in": 1, "key": None},
                         "parquet": described(parquet), "csv": described(csv)}
    export = SimpleNamespace(site=SITE)
    return KitExport.kit_manifest(export, kit, tables, DRILL_ID)


def test_the_kit_manifest_drill_export_writes_validates(tmp_path):
    assert validate("kit-manifest", kit_manifest(tmp_path)) == []


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.update(extra=1), "$: Additional properties are not allowed ('extra' was unexpected)"),
    (lambda m: m.pop("read_back"), "$: 'read_back' is a required property"),
    (lambda m: m.update(format=2), "$.format: 1 was expected"),
    (lambda m: m.update(exported_at="now"), "$.exported_at: 'now' is not a 'date-time'"),
    (lambda m: m["tables"]["public.patients"].update(rows=-1), "$.tables.public.patients.rows: -1 is less than"),
    (lambda m: m["tables"]["public.patients"]["fingerprint"].update(one_in=2),
     "$.tables.public.patients.fingerprint.one_in: 1 was expected"),
    (lambda m: m["tables"]["public.patients"]["csv"].update(sha256="x"),
     "$.tables.public.patients.csv.sha256: 'x' does not match"),
    (lambda m: m["schema"].pop("bytes"), "$.schema: 'bytes' is a required property"),
])
def test_a_kit_manifest_drill_export_never_writes_is_refused_precisely(tmp_path, change, expected):
    document = kit_manifest(tmp_path)
    change(document)
    errors = validate("kit-manifest", document)
    assert any(error.startswith(expected) for error in errors), errors


# Anchors

def anchor(**changes) -> dict:
    return {"format": 1, "journal": "journal.jsonl", "sequence": 3, "lines": 42, "bytes": 9120, "head_sha256": HEX64,
            "at": "2026-11-23T02:07:13.001+00:00", "previous_sha256": "cd" * 32, "signed_by": KEY_ID, **changes}


def test_anchors_validate_the_first_one_too():
    assert validate("anchor", anchor()) == []
    assert validate("anchor", anchor(sequence=1, previous_sha256=None)) == []


BROKEN_ANCHORS = [
    (anchor(extra=1), "$: Additional properties are not allowed ('extra' was unexpected)"),
    (without(anchor(), "at"), "$: 'at' is a required property"),
    (anchor(journal="other.jsonl"), "$.journal: 'journal.jsonl' was expected"),
    (anchor(head_sha256=None), "$.head_sha256: None is not of type 'string'"),
    (anchor(lines=0, head_sha256=None), "$.head_sha256: None is not of type 'string'"),
    (anchor(head_sha256="AB" * 32), "$.head_sha256: '" + "AB" * 32 + "' does not match"),
    (anchor(sequence=0), "$.sequence: 0 is less than the minimum of 1"),
    (anchor(sequence=1), "$.previous_sha256: '" + "cd" * 32 + "' is not of type 'null'"),
    (anchor(lines=0), "$.lines: 0 is less than the minimum of 1"),
    (anchor(at="2026-11-23 02:07"), "$.at: '2026-11-23 02:07' is not a 'date-time'"),
    (anchor(signed_by="ed25519:1234"), "$.signed_by: 'ed25519:1234' does not match"),
    ({**anchor(), "signature": {}}, "$: Additional properties are not allowed ('signature' was unexpected)"),
]


@pytest.mark.parametrize("document, expected", BROKEN_ANCHORS, ids=[expected[:60] for _, expected in BROKEN_ANCHORS])
def test_an_anchor_the_code_never_writes_is_refused_precisely(document, expected):
    errors = validate("anchor", document)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize("value, valid", [("2026-11-23T02:00:00Z", True), ("2026-11-23T02:00:00.123+01:00", True),
                                          ("2026-11-23T02:00:00", False), ("2026-11-23 02:00:00Z", False),
                                          ("2026-04-31T00:00:00Z", False), ("2026-11-23T25:00:00Z", False)])
def test_times_are_rfc_3339_even_without_jsonschemas_own_checker(value, valid):
    assert rfc3339(value) is valid
    assert (validate("anchor", anchor(at=value)) == []) is valid


def test_an_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="no schema of 'receipt'"):
        validate("receipt", {})


# What the session's check finds on disk

@pytest.fixture
def tree(tmp_path) -> Path:
    """A folder the test fills with documents, valid and not, that the session's own check skips."""
    (tmp_path / SKIP_MARKER).touch()
    (tmp_path / "tree").mkdir()
    return tmp_path / "tree"


def write(path: Path, document) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_classify_names_each_kind_by_its_name_and_place(tree):
    kit = tree / "pharmacie-kit"
    (kit / "tables").mkdir(parents=True)
    (kit / "schema.sql").write_text("")
    assert classify(Path("evidence/pharmacie") / f"000003-{DRILL_ID}.json") == "report"
    assert classify(Path("evidence/.audit") / f"000003-{DRILL_ID}.json") is None
    assert classify(Path("evidence/pharmacie") / f"000003-{DRILL_ID}.json.sig") is None
    assert classify(Path("evidence/pharmacie") / f".000003-{DRILL_ID}.json.draft-1a2b3c4d") is None
    assert classify(Path("evidence/pharmacie/000003-d3.json")) is None
    assert classify(Path("evidence/pharmacie/index.jsonl")) is None
    assert classify(Path("backups/lgo.dump.age.manifest.json")) == "manifest"
    assert classify(Path("backups/lgo.dump.age.manifest.json.age")) == "manifest"
    assert classify(kit / "manifest.json") == "kit-manifest"
    assert classify(tree / "elsewhere" / "manifest.json") is None, "no schema.sql and tables/ beside it"
    assert classify(Path("evidence/.journal-anchors/000004-20261123T020713Z.json")) == "anchor"
    assert classify(Path("evidence/.journal-anchors/000004.json")) == "anchor"
    assert classify(Path("evidence/.journal-anchors/000004-20261123T020713Z.json.sig")) is None
    assert classify(Path("evidence/.audit/journal.jsonl")) is None


def test_validate_tree_counts_the_documents_it_checks_and_names_each_error(tree):
    write(tree / "evidence" / "pharmacie" / f"000002-{DRILL_ID}.json", report_v1())
    write(tree / "evidence" / "pharmacie" / f"000003-{DRILL_ID[:-1]}e.json", without(report_v2(), "provenance"))
    write(tree / "backups" / "lgo.dump.age.manifest.json", MANIFEST_2)
    write(tree / "evidence" / ".journal-anchors" / "000001-20261123T020713Z.json",
          anchor(sequence=1, previous_sha256=None, extra=True))
    kit = kit_manifest(tree)
    write(tree / "kit" / "manifest.json", kit)
    skipped = []
    validated, errors = validate_tree(tree, skipped)
    assert validated == 5 and skipped == []
    assert errors == [
        ("evidence/.journal-anchors/000001-20261123T020713Z.json: anchor: $: Additional properties are not allowed "
         "('extra' was unexpected)"),
        f"evidence/pharmacie/000003-{DRILL_ID[:-1]}e.json: report: $: 'provenance' is a required property"]


def test_a_sealed_manifest_is_opened_with_the_runs_identities_by_the_age_cli(tree):
    key = tree / "keys" / "drill.agekey"
    key.parent.mkdir(parents=True)
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True).stdout
    plain = tree / "plain.json"
    write(plain, {**MANIFEST_2, "tables": {"public.patients": -1}})
    sealed = tree / "backups" / "lgo.dump.age.manifest.json.age"
    sealed.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["age", "-r", recipient.strip(), "-o", str(sealed), str(plain)], check=True)
    plain.unlink()
    validated, errors = validate_tree(tree)
    assert validated == 1 and len(errors) == 1 and "$.tables.public.patients: -1 is less than the minimum" in errors[0]
    key.unlink()
    skipped = []
    assert validate_tree(tree, skipped) == (0, []) and "cannot decrypt" in skipped[0]


def test_validate_tree_skips_damaged_forged_and_marked_documents(tree):
    site = tree / "evidence" / "pharmacie"
    write(site / f"000001-{DRILL_ID}.json", '{\n  "backup": {\n    "na')  # cut short
    write(site / f"000002-{DRILL_ID}.json", "[]")
    write(site / f"000003-{DRILL_ID}.json", {"sequence": 3, "outcome": "pass"})  # no format: not the code's
    write(tree / "evidence" / "Not A Site" / f"000001-{DRILL_ID}.json", report_v1(outcome="maybe"))
    write(tree / "backups" / "a.manifest.json", {"format": True, "tables": {}})
    write(tree / "forged" / SKIP_MARKER, "")
    write(tree / "forged" / "evidence" / "pharmacie" / f"000001-{DRILL_ID}.json", report_v1(outcome="maybe"))
    write(tree / "backups" / "b.manifest.json", {"format": 1, "site": "pharmacie", "engine": "postgres",
                                                  "taken_at": "2026-12-01T02:30:00Z", "tables": {"t": 1}})
    skipped = []
    assert validate_tree(tree, skipped) == (1, [])
    assert sorted(skipped) == [
        "backups/a.manifest.json: manifest of unknown format True",
        f"evidence/Not A Site/000001-{DRILL_ID}.json: a report outside a site's folder",
        f"evidence/pharmacie/000001-{DRILL_ID}.json: not read as JSON (JSONDecodeError)",
        f"evidence/pharmacie/000002-{DRILL_ID}.json: not a JSON object",
        f"evidence/pharmacie/000003-{DRILL_ID}.json: report of unknown format None"]


def test_the_evidence_format_document_shows_every_schemas_fields_as_they_are():
    from tests.schemas import EVIDENCE_FORMAT, with_field_tables

    text = EVIDENCE_FORMAT.read_text()
    assert text.count("<!-- fields: ") == len(KINDS) and with_field_tables(text) == text, \
        "regenerate: python -m tests.schemas"
    assert "| `provenance.image.id` |" in text and "| `head_sha256` |" in text


def test_a_report_that_lost_its_format_is_refused_not_skipped(tree):
    write(tree / "evidence" / "pharmacie" / f"000002-{DRILL_ID}.json", without(report_v2(), "format"))
    validated, errors = validate_tree(tree)
    assert validated == 1 and any("'format' is a required property" in error for error in errors)
