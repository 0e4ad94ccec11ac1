"""Decompression by magic bytes with a cap, manifests, and how findings make a verdict."""

import gzip
import json
import os

import pytest
import zstandard

from drills import manifest
from drills.checks.database import bounds_findings, manifest_findings, same_value
from drills.catalog.model import TableBounds
from drills.checks.findings import FAIL, PASS, Finding, verdict
from drills.crypto import bech32
from drills.errors import BackupProblem, InfrastructureError
from drills.streams import decompressed

DATA = os.urandom(50_000) + b"pharmacie " * 40_000


def chunks(data, size=65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("encode", [lambda d: d, gzip.compress, zstandard.ZstdCompressor().compress])
def test_compression_is_detected_by_magic_bytes_not_by_name(encode):
    assert b"".join(decompressed(chunks(encode(DATA)), 10**9)) == DATA


@pytest.mark.parametrize("encode", [gzip.compress, zstandard.ZstdCompressor().compress])
def test_a_decompression_bomb_stops_at_the_cap_with_restore_too_large(encode):
    bomb = encode(b"\0" * 100_000_000)
    with pytest.raises(BackupProblem) as raised:
        for _ in decompressed(chunks(bomb), 10_000_000):
            pass
    assert raised.value.code == "restore.too_large"


def test_a_truncated_gzip_stream_is_a_restore_failure():
    with pytest.raises(BackupProblem) as raised:
        b"".join(decompressed(chunks(gzip.compress(DATA)[:-50]), 10**9))
    assert raised.value.code == "restore.failed"


def test_a_manifest_is_parsed_and_must_belong_to_the_site_and_engine():
    text = manifest.render("pharmacie", "postgres", __import__("datetime").datetime.now().astimezone(),
                           {"public.patients": 3})
    parsed = manifest.parse(text.encode())
    assert parsed.tables == {"public.patients": 3}
    site = type("Site", (), {"id": "pharmacie", "engine": type("E", (), {"type": "postgres"})})
    manifest.check_belongs(parsed, site)
    site.id = "autre"
    with pytest.raises(BackupProblem, match="not 'autre'"):
        manifest.check_belongs(parsed, site)


@pytest.mark.parametrize("document", [b"not json", b"[]", json.dumps({"format": 2}).encode(),
                                      json.dumps({"format": 1, "tables": {"t": -1}, "taken_at": "2026-01-01T00:00Z"}).encode(),
                                      json.dumps({"format": 1, "tables": {}, "taken_at": "yesterday"}).encode()])
def test_a_malformed_manifest_is_manifest_invalid(document):
    with pytest.raises(BackupProblem) as raised:
        manifest.parse(document)
    assert raised.value.code == "manifest.invalid"


def test_every_table_gets_its_finding_and_one_failure_hides_no_other():
    findings = manifest_findings({"public.a": 5, "public.b": 7, "public.extra": 1},
                                 {"public.a": 5, "public.b": 8, "public.c": 2})
    by_subject = {f.subject: (f.status, f.code) for f in findings}
    assert by_subject == {"public.a": (PASS, ""), "public.b": (FAIL, "verify.count_mismatch"),
                          "public.c": (FAIL, "verify.table_missing"), "public.extra": ("warn", "")}


def test_bounds():
    findings = bounds_findings({"public.a": 5}, {"public.a": TableBounds(min=6), "public.z": TableBounds(max=1)})
    assert [(f.subject, f.code) for f in findings] == [("public.a", "verify.bounds"), ("public.z", "verify.table_missing")]


def test_the_verdict_is_the_first_failure_and_infrastructure_errors_are_not_failures():
    findings = [Finding("a", "x", PASS), Finding("b", "y", FAIL, code="verify.bounds"),
                Finding("c", "z", FAIL, code="backup.stale")]
    assert verdict(findings) == ("fail", "verify.bounds")
    assert verdict([Finding("a", "x", PASS)]) == ("pass", None)
    assert verdict(findings, InfrastructureError("runtime", "down")) == ("error", "error.runtime")


def test_assertion_values_compare_numbers_as_numbers():
    assert same_value(0, 0) and same_value(__import__("decimal").Decimal("2.50"), 2.5)
    assert not same_value("0", 1) and same_value("ok", "ok")


def test_bech32_rejects_an_altered_identity():
    valid = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
    hrp, data = bech32.decode(valid)
    assert hrp == "age-secret-key-" and len(data) == 32
    with pytest.raises(ValueError):
        bech32.decode(valid[:-1] + ("Q" if valid[-1] != "Q" else "P"))
