"""One engine conformance suite, run against every engine with real backups made by the real
tools (pg_dump, sqlite3, tar) inside containers: healthy -> pass; a table (or file) missing ->
its code; rows deleted (or a file altered) -> its code; a truncated backup -> restore.failed."""

import pytest

from drills.catalog import load_catalog
from drills.pipeline import run_drill
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE

ENGINE = {"postgres": {"type": "postgres", "format": "custom"}, "mariadb": {"type": "mariadb"},
          "sqlite": {"type": "sqlite"}, "files": {"type": "files"}}
CHECKS = {"postgres": {"manifest": "required", "tables": {"public.patients": {"min": 1}}},
          "mariadb": {"manifest": "required", "tables": {"lgo.patients": {"min": 1}},
                      "sql": [{"name": "every prescription has its patient", "expect": 0,
                               "query": "SELECT count(*) FROM lgo.ordonnances o LEFT JOIN lgo.patients p "
                                        "ON p.id = o.patient_id WHERE p.id IS NULL"}]},
          "sqlite": {"manifest": "required", "tables": {"patients": {"min": 1}},
                     "sql": [{"name": "every prescription has its patient", "expect": 0,
                              "query": "SELECT count(*) FROM ordonnances o LEFT JOIN patients p ON p.id = o.patient_id "
                                       "WHERE p.id IS NULL"}]},
          "files": {"manifest": "required"}}
CASES = [  # engine, backup, outcome, reason
    ("postgres", "healthy", "pass", None),
    ("postgres", "directory-tar", "pass", None),
    ("postgres", "missing-table", "fail", "verify.table_missing"),
    ("postgres", "rows-deleted", "fail", "verify.count_mismatch"),
    ("postgres", "truncated-dump", "fail", "restore.failed"),
    ("mariadb", "mariadb-healthy", "pass", None),
    ("mariadb", "mariadb-gzip", "pass", None),
    ("mariadb", "mariadb-missing-table", "fail", "verify.table_missing"),
    ("mariadb", "mariadb-rows-deleted", "fail", "verify.count_mismatch"),
    ("mariadb", "mariadb-truncated", "fail", "restore.failed"),
    ("sqlite", "sqlite-healthy", "pass", None),
    ("sqlite", "sqlite-gzip", "pass", None),
    ("sqlite", "sqlite-missing-table", "fail", "verify.table_missing"),
    ("sqlite", "sqlite-rows-deleted", "fail", "verify.count_mismatch"),
    ("sqlite", "sqlite-truncated", "fail", "restore.failed"),
    ("files", "files-healthy", "pass", None),
    ("files", "files-gzip", "pass", None),
    ("files", "files-missing-file", "fail", "verify.file_missing"),
    ("files", "files-altered", "fail", "verify.file_altered"),
    ("files", "files-truncated", "fail", "restore.failed"),
]


def drill(tmp_path, keys_dir, kind: str, backup, **overrides):
    """Drill `backup` as a site of engine `kind` (its settings and checks overridden if given)."""
    entry = site_entry(SITE, backup.parent, keys_dir["dir"] / "drill.agekey")
    entry.update({"engine": ENGINE[kind], "checks": CHECKS[kind], **overrides})
    catalog = load_catalog(write_catalog(tmp_path, [entry]))
    if not catalog.signing_key.exists():
        from drills.reports import keys

        keys.init(catalog.signing_key)
    return run_drill(catalog, catalog.sites[0]).report


@pytest.mark.parametrize("engine, name, outcome, reason", CASES, ids=[case[1] for case in CASES])
def test_every_engine_ends_each_case_with_its_reason(engine, name, outcome, reason, tmp_path, keys_dir, request):
    fixture = {"postgres": "backups", "mariadb": "mariadb_backups"}.get(engine, "file_backups")
    backup = request.getfixturevalue(fixture)[name]
    formats = {"directory-tar": {"engine": {"type": "postgres", "format": "directory"}}}
    report = drill(tmp_path, keys_dir, engine, backup, **formats.get(name, {}))
    assert (report["outcome"], report["reason"]) == (outcome, reason), report["findings"]
    made_by = report["provenance"]
    assert made_by["image"]["id"].startswith("sha256:") and made_by["server_version"], made_by
    assert SERVER_NAMES[engine] in made_by["server_version"].lower()


SERVER_NAMES = {"postgres": "postgresql", "mariadb": "mariadb", "sqlite": "3.", "files": "tar"}


def test_a_file_altered_after_the_manifest_is_named_by_its_path(tmp_path, keys_dir, file_backups):
    report = drill(tmp_path, keys_dir, "files", file_backups["files-altered"])
    (altered,) = [f for f in report["findings"] if f["code"] == "verify.file_altered"]
    assert "lettres/courrier-03.docx" in altered["message"] and altered["actual"] == 1


def test_a_scan_replaced_by_random_bytes_is_a_ransomware_finding(tmp_path, keys_dir, file_backups):
    report = drill(tmp_path, keys_dir, "files", file_backups["files-ransomed"])
    codes = {f["code"]: f for f in report["findings"] if f["status"] == "fail"}
    assert "scans/ordonnance-0012.pdf" in codes["verify.ransomware_suspect"]["message"]
    assert "scans/ordonnance-0012.pdf" in codes["verify.file_altered"]["message"]


def test_the_sqlite_canary_reads_the_newest_sale(tmp_path, keys_dir, file_backups):
    report = drill(tmp_path, keys_dir, "sqlite", file_backups["sqlite-healthy"],
                   checks={**CHECKS["sqlite"], "newest_record": "ventes.vendu_le"})
    (freshness,) = [f for f in report["findings"] if f["check"] == "data.freshness"]
    assert freshness["status"] == "pass" and 0 <= freshness["actual"] < 3600


def test_the_mariadb_canary_reads_the_newest_sale(tmp_path, keys_dir, mariadb_backups):
    report = drill(tmp_path, keys_dir, "mariadb", mariadb_backups["mariadb-healthy"],
                   checks={**CHECKS["mariadb"], "newest_record": "lgo.ventes.vendu_le"})
    (freshness,) = [f for f in report["findings"] if f["check"] == "data.freshness"]
    assert freshness["status"] == "pass" and 0 <= freshness["actual"] < 3600
