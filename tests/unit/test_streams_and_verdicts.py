"""Decompression by magic bytes with a cap, manifests, and how findings make a verdict."""

import gzip
import json
import os
import threading
import time

import pytest
import zstandard

from drills import manifest
from drills.checks.database import same_value
from drills.checks.declared import bounds_findings, column_findings, manifest_findings
from drills.catalog.model import TableBounds
from drills.checks.findings import FAIL, PASS, Finding, verdict
from drills.crypto import bech32
from drills.errors import BackupProblem, InfrastructureError
from drills.streams import Meter, decompressed, read_ahead

DATA = os.urandom(50_000) + b"pharmacie " * 40_000


def chunks(data, size=65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_read_ahead_keeps_every_chunk_in_order_and_runs_ahead_by_its_depth_only():
    pulled = []

    def source():
        for number in range(100):
            pulled.append(number)
            yield number.to_bytes(2, "big")

    stream = read_ahead(source(), depth=4)
    assert next(stream) == (0).to_bytes(2, "big")
    time.sleep(0.3)  # the producer fills the hand-off, then waits
    assert 4 <= len(pulled) <= 7  # one consumed, 4 waiting, one in the producer's hand, one being made
    assert [int.from_bytes(chunk, "big") for chunk in stream] == list(range(1, 100))


@pytest.mark.parametrize("aside", [False, True])
def test_a_meter_hashes_every_byte_in_order_whether_it_hashes_aside_or_not(tmp_path, aside):
    import hashlib
    import io

    content = os.urandom(5 * 1024 * 1024 + 12345)
    (tmp_path / "backup").write_bytes(content)
    meter = Meter(open(tmp_path / "backup", "rb", buffering=0), hash_aside=aside)
    reader = io.BufferedReader(meter, buffer_size=1024 * 1024)  # reuses the buffer it hands the meter
    assert reader.read(70000) + reader.read() == content
    assert meter.sha256.hexdigest() == hashlib.sha256(content).hexdigest() and meter.bytes == len(content)
    reader.close()
    assert meter.sha256.hexdigest() == hashlib.sha256(content).hexdigest()
    assert not any(thread.name.startswith("meter-hash") for thread in threading.enumerate()), "closed: no thread left"


def test_read_ahead_raises_the_producers_error_in_the_consumer():
    def source():
        yield b"first"
        raise BackupProblem("decrypt.corrupt", "chunk 1 failed authentication")

    stream = read_ahead(source())
    assert next(stream) == b"first"
    with pytest.raises(BackupProblem) as raised:
        next(stream)
    assert raised.value.code == "decrypt.corrupt"


def test_closing_read_ahead_stops_the_producer_before_it_returns():
    pulled = []

    def endless():
        while True:
            pulled.append(1)
            yield b"x" * 1024

    stream = read_ahead(endless(), depth=2)
    next(stream)
    stream.close()
    count = len(pulled)
    time.sleep(0.3)
    assert len(pulled) == count  # nobody reads the source after the close
    assert not any(thread.name == "read-ahead" for thread in threading.enumerate())


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


def test_a_restored_table_missing_a_manifest_column_or_holding_it_with_another_type_fails():
    declared = {"public.a": [("id", "integer"), ("telephone", "text"), ("prix", "numeric")],
                "public.gone": [("id", "integer")]}
    restored = {"public.a": [("id", "integer"), ("prix", "text"), ("ajout", "text")]}
    failed, extra = column_findings({"public.a": 3}, restored, declared)
    assert (failed.status, failed.code, failed.subject) == (FAIL, "verify.columns_mismatch", "public.a")
    assert "telephone (text), prix (numeric, restored as text)" in failed.message
    assert (extra.status, extra.code) == ("warn", "") and "ajout" in extra.message
    assert column_findings({"public.a": 3}, {"public.a": declared["public.a"]}, declared) == []


def test_bounds():
    findings = bounds_findings({"public.a": 5}, {"public.a": TableBounds(min=6), "public.z": TableBounds(max=1)})
    assert [(f.subject, f.code) for f in findings] == [("public.a", "verify.bounds"), ("public.z", "verify.table_missing")]


def test_the_verdict_is_the_first_failure_and_infrastructure_errors_are_not_failures():
    findings = [Finding("a", "x", PASS), Finding("b", "y", FAIL, code="verify.bounds"),
                Finding("c", "z", FAIL, code="backup.stale")]
    assert verdict(findings) == ("fail", "verify.bounds")
    assert verdict([Finding("a", "x", PASS)]) == ("pass", None)
    assert verdict(findings, InfrastructureError("error.runtime", "down")) == ("error", "error.runtime")


def test_assertion_values_compare_numbers_as_numbers():
    assert same_value(0, 0) and same_value(__import__("decimal").Decimal("2.50"), 2.5)
    assert not same_value("0", 1) and same_value("ok", "ok")


def test_bech32_rejects_an_altered_identity():
    valid = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
    hrp, data = bech32.decode(valid)
    assert hrp == "age-secret-key-" and len(data) == 32
    with pytest.raises(ValueError):
        bech32.decode(valid[:-1] + ("Q" if valid[-1] != "Q" else "P"))
