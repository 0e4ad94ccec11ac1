"""Certificates from signed reports, without a drill: what is refused, what is said."""

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from drills.certificates import certificate_files
from drills.certificates.content import build
from drills.demo.history import synthetic_report
from drills.errors import ConfigError
from drills.reports import keys
from tests.helpers import format1_report
from drills.reports.signing import SIGNATURE_SUFFIX, document_bytes, sign

SITE = SimpleNamespace(id="pharmacie-du-port", name="Pharmacie du Port", tenant="infogest",
                       targets=SimpleNamespace(rto=1800, rpo=93600),
                       engine=SimpleNamespace(type="postgres", format="custom", image="postgres:15"))
TABLES = {"public.patients": 2000, "public.ordonnances": 5400, "public.ventes": 0}


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "signing.ed25519"
    keys.init(path)
    return keys.load_private(path), keys.keyring(path)


def signed(private_key, outcome="pass", **changes) -> tuple[bytes, bytes]:
    """(report bytes, detached signature) of a drill of SITE."""
    report = synthetic_report(SITE, datetime(2026, 11, 21, 2, tzinfo=timezone.utc), outcome, 42.0,
                              reason=None if outcome == "pass" else "verify.count_mismatch")
    report["findings"] += [{"check": "table.count", "subject": name, "status": "pass", "expected": rows,
                            "actual": rows, "message": "", "code": "", "hint": ""} for name, rows in TABLES.items()]
    report["findings"].append({"check": "table.bounds", "subject": "public.patients", "status": "pass",
                               "expected": {"min": 1, "max": None}, "actual": 2000, "message": "", "code": "",
                               "hint": ""})
    return stored({**report, **changes, "sequence": 3, "previous_sha256": "ab" * 32}, private_key)


def stored(report: dict, private_key) -> tuple[bytes, bytes]:
    data = document_bytes(report, private_key)
    return data, sign(data, private_key)


def test_the_french_certificate_states_the_restore_with_every_table_and_the_total(key):
    private_key, keyring = key
    certificate = build(*signed(private_key), "000003-x.json", keyring, "fr")
    assert "restaurée intégralement le 21 novembre 2026" in certificate.statement
    assert "3 tables et 7\u202f400 lignes" in certificate.statement  # the bounds line is not counted twice
    assert ("public.ordonnances", "5400", "5400", "-", "conforme") in certificate.tables
    assert ("public.patients", "min 1", "2000", "-", "conforme") in certificate.tables
    assert "identiques" not in certificate.statement, "no fingerprint, no claim of identical rows"
    phases = dict(dict(certificate.sections)["Durées"])
    assert list(phases)[:3] == ["Récupération", "Déchiffrement", "Restauration"]


def test_a_failed_drill_is_not_certified(key):
    private_key, keyring = key
    with pytest.raises(ConfigError) as refused:
        build(*signed(private_key, outcome="fail"), "r.json", keyring, "en")
    assert refused.value.code == "certificate.not_passed"


def test_a_restore_whose_contents_were_checked_against_nothing_is_not_certified(key):
    private_key, keyring = key
    with pytest.raises(ConfigError) as refused:
        build(*signed(private_key, contents_verified=False), "r.json", keyring, "fr")
    assert refused.value.code == "certificate.contents_unverified"


def test_an_edited_report_or_one_from_an_unknown_key_is_not_certified(key, tmp_path):
    private_key, keyring = key
    data, signature = signed(private_key)
    edited = json.loads(data)
    edited["rto_seconds"] = 1.0
    with pytest.raises(ConfigError) as refused:
        build(json.dumps(edited, indent=2, sort_keys=True).encode(), signature, "r.json", keyring, "fr")
    assert refused.value.code == "certificate.invalid_report"
    keys.init(tmp_path / "other.ed25519")
    with pytest.raises(ConfigError):
        build(*signed(private_key), "r.json", keys.keyring(tmp_path / "other.ed25519"), "fr")


def test_each_language_gets_a_pdf_and_an_html_page_carrying_the_report(key):
    private_key, keyring = key
    data, signature = signed(private_key)
    files = certificate_files(data, signature, "000003-x.json", keyring)
    drill_id = json.loads(data)["drill_id"]
    assert sorted(files) == sorted(f"certificate-pharmacie-du-port-{drill_id}.{lang}.{kind}"
                                   for lang in ("fr", "en") for kind in ("pdf", "html"))
    pdf = files[f"certificate-pharmacie-du-port-{drill_id}.en.pdf"]
    assert pdf.startswith(b"%PDF-") and b"/EmbeddedFile" in pdf
    assert pdf.count(b"/EmbeddedFile") >= 3, "the report, its signature and the public key"
    html = files[f"certificate-pharmacie-du-port-{drill_id}.fr.html"].decode()
    assert '<html lang="fr">' in html and "Certificat de réversibilité" in html
    assert f'download="000003-x.json{SIGNATURE_SUFFIX}"' in html and "openssl pkeyutl -verify" in html


def test_the_certificate_shows_what_produced_the_report(key):
    private_key, keyring = key
    data, signature = signed(private_key, provenance={
        "restore_drill": "9.8.7", "host": "worker-3",
        "image": {"name": "postgres:16", "id": "sha256:" + "c" * 64, "repo_digests": ["postgres@sha256:" + "d" * 64]},
        "server_version": "postgres (PostgreSQL) 16.4", "duckdb": "1.5.5", "duckdb_extensions": {}})
    drill = dict(dict(build(data, signature, "r.json", keyring, "en").sections)["Restore drill"])
    assert drill["Restore Drill version"] == "9.8.7" and drill["Restore image digest"] == "postgres@sha256:" + "d" * 64
    assert drill["Restored server's version"] == "postgres (PostgreSQL) 16.4"


def test_a_format_1_report_is_still_certified(key):
    private_key, keyring = key
    report = {key: value for key, value in json.loads(signed(private_key)[0]).items()
              if key not in ("signed_by", "provenance")}
    certificate = build(format1_report(report, private_key), None, "r.json", keyring, "en")
    assert "restored in full" in certificate.statement
    assert dict(dict(certificate.sections)["Restore drill"])["Restore image digest"] == "-"
    assert not any("openssl" in step for step in certificate.verification), "format 1: drill verify-report"


def test_an_export_of_a_site_that_is_not_postgresql_is_refused_before_any_restore(tmp_path):
    from drills.kit import KitExport

    site = SimpleNamespace(id="cabinet", engine=SimpleNamespace(type="files"))
    with pytest.raises(ConfigError) as refused:
        KitExport(site, ["age1unused"], tmp_path)
    assert refused.value.code == "config.usage" and "exports postgres sites" in refused.value.message


def fingerprinted(private_key, tables: dict, one_in: int = 1) -> tuple[bytes, bytes]:
    report = json.loads(signed(private_key)[0])
    report["findings"] = [f for f in report["findings"] if f["check"] != "table.bounds"] + [
        {"check": "table.fingerprint", "subject": name, "status": "pass", "actual": digest,
         "expected": {"digest": digest, "one_in": one_in, "key": ["id"] if one_in > 1 else None},
         "message": "", "code": "", "hint": ""} for name, digest in tables.items()]
    return stored(report, private_key)


def test_rows_are_said_identical_only_when_every_table_has_a_matching_fingerprint(key):
    private_key, keyring = key
    every = {name: f"{index:016x}" for index, name in enumerate(TABLES)}
    certificate = build(*fingerprinted(private_key, every), "000003-x.json", keyring, "fr")
    assert ("public.ordonnances", "5400", "5400", "= 0000000000000001", "conforme") in certificate.tables
    assert "Les lignes restaurées sont identiques" in certificate.statement
    some = build(*fingerprinted(private_key, {"public.patients": "00000000000000aa"}), "000003-x.json", keyring, "en")
    assert "identical" not in some.statement
    sampled = build(*fingerprinted(private_key, every, one_in=8), "000003-x.json", keyring, "en")
    assert ("public.ordonnances", "5400", "5400", "= 0000000000000001 (1/8)", "pass") in sampled.tables
    assert "identical" not in sampled.statement, "a sample does not prove every row"
