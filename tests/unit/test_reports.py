"""Signed reports and the evidence chain, with a real Ed25519 key on disk."""

import json
import os

import pytest

from drills.errors import ConfigError
from drills.reports import index, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import parse_report, read_report
from drills.reports.signing import digest, read_signature, signature_path, verify
from tests.helpers import format1_report


@pytest.fixture
def key_path(tmp_path):
    path = tmp_path / "keys" / "signing.ed25519"
    keys.init(path)
    return path


def report(drill_id="d1", outcome="pass"):
    """The few fields the store reads (a sketch, no format: not a whole report to the schema check)."""
    return {"drill_id": drill_id, "site": "s", "outcome": outcome, "findings": []}


def test_a_stored_report_verifies_by_its_detached_signature_and_any_edit_breaks_it(tmp_path, key_path):
    path = EvidenceStore(tmp_path / "evidence").append("s", report(), keys.load_private(key_path)).path
    public, signature = keys.keyring(key_path), read_signature(path)
    assert len(signature) == 64 and signature_path(path).exists()
    assert verify(path.read_bytes(), signature, public)[0] is True
    document = json.loads(path.read_bytes())
    assert document["signed_by"] == next(iter(public)) and "signature" not in document
    assert verify(json.dumps({**document, "outcome": "fail"}).encode(), signature, public)[0] is False
    assert verify(json.dumps(document, indent=4).encode(), signature, public)[0] is False, "the exact bytes are signed"
    valid, why = verify(path.read_bytes(), None, public)
    assert not valid and "not signed" in why
    assert verify(path.read_bytes(), bytes(64), public)[0] is False


def test_a_format_1_report_still_verifies_by_its_embedded_signature(tmp_path, key_path):
    data = format1_report({**report(), "sequence": 1, "previous_sha256": None}, keys.load_private(key_path))
    public = keys.keyring(key_path)
    assert verify(data, None, public) == (True, f"signature valid (key {next(iter(public))}, format 1)")
    document = json.loads(data)
    assert verify(json.dumps(document, indent=4).encode(), None, public)[0] is True, "format 1 signs its JSON form"
    assert verify(json.dumps({**document, "outcome": "fail"}).encode(), None, public)[0] is False


@pytest.mark.parametrize("forged", [
    {"signed_by": ["ed25519:0"]}, {"signed_by": {}}, {"signed_by": 7},
    {"format": 1, "signature": {"algorithm": "ed25519", "key_id": [], "value": "x"}},
    {"format": 1, "signature": {"algorithm": "ed25519", "key_id": "ed25519:0", "value": 12}},
    {"format": 2, "signature": {"algorithm": "ed25519", "key_id": "ed25519:0", "value": "AAAA"}},
])
def test_a_forged_signature_field_is_a_verdict_never_a_crash(key_path, forged):
    data = json.dumps({**report(), **forged}).encode()
    valid, why = verify(data, bytes(64), keys.keyring(key_path))
    assert valid is False and why


def test_a_format_2_report_cannot_pass_as_format_1_with_an_embedded_signature(tmp_path, key_path):
    data = format1_report({**report(), "sequence": 1, "previous_sha256": None}, keys.load_private(key_path))
    relabelled = json.dumps({**json.loads(data), "format": 2}, indent=2).encode()
    valid, why = verify(relabelled, None, keys.keyring(key_path))
    assert not valid and "not signed" in why


def test_a_report_signed_by_another_key_is_refused(tmp_path, key_path):
    other = tmp_path / "other.ed25519"
    keys.init(other)
    path = EvidenceStore(tmp_path / "evidence").append("s", report(), keys.load_private(other)).path
    valid, why = verify(path.read_bytes(), read_signature(path), keys.keyring(key_path))
    assert not valid and "not in the keyring" in why


def test_reports_of_a_site_form_a_chain_of_hashes(tmp_path, key_path):
    store, key = EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path)
    first, second = store.append("s", report("d1"), key), store.append("s", report("d2"), key)
    assert second.report == json.loads(second.path.read_bytes()), "append returns the report as stored"
    assert first.report["previous_sha256"] is None
    assert second.report["previous_sha256"] == digest(first.path.read_bytes())
    assert [r["sequence"] for r in store.history("s")] == [1, 2]
    assert oct(second.path.stat().st_mode & 0o777) == "0o444"


def test_an_existing_key_is_never_overwritten(key_path):
    with pytest.raises(ConfigError) as raised:
        keys.init(key_path)
    assert raised.value.code == "config.key_exists"


def test_a_signing_key_readable_by_others_is_refused(key_path):
    os.chmod(key_path, 0o644)
    with pytest.raises(ConfigError) as raised:
        keys.load_private(key_path)
    assert raised.value.code == "config.secret_exposed" and "chmod 600" in raised.value.hint


def test_a_report_file_cut_short_is_read_as_unreadable_and_the_next_append_chains_to_its_bytes(tmp_path, key_path):
    store, key = EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path)
    store.append("s", report("20261123T020000Z-1a2b3c4d"), key)
    cut = tmp_path / "evidence" / "s" / "000002-20261124T020000Z-2b3c4d5e.json"
    cut.write_bytes(b'{\n  "backup": {\n    "na')  # what a write stopped by a full disk left
    third = store.append("s", report("d3"), key).report
    assert third["sequence"] == 3
    assert third["previous_sha256"] == digest(cut.read_bytes())
    stand_in = read_report(cut)
    assert (stand_in["sequence"], stand_in["drill_id"], stand_in["site"], stand_in["outcome"], stand_in["reason"],
            stand_in["started_at"]) == (2, "20261124T020000Z-2b3c4d5e", "s", "unreadable", "report.unreadable",
                                        "2026-11-24T02:00:00.000+00:00")
    summaries = index.read_all(tmp_path / "evidence" / "s")
    assert [(entry["sequence"], entry["outcome"]) for entry in summaries] == [(1, "pass"), (2, "unreadable"),
                                                                              (3, "pass")]


@pytest.mark.parametrize("data", [b"", b'{"sequence": 1, "outco', b"\xff\xfe", b"[]", b"null"])
def test_what_is_not_one_whole_json_object_is_no_report(data):
    assert parse_report(data) is None


def test_a_drill_id_names_the_attempt_that_concluded_it(tmp_path, key_path):
    from drills.reports.chain import verify_chain

    store, key = EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path)
    asked, retry = "20261201T020000Z-0000000a", "20261201T021500Z-0000000b"
    store.append("s", {**report(asked, "error"), "reason": "error.runtime"}, key)
    store.append("s", report("20261201T021000Z-0000000c"), key)  # another drill in between
    concluded = store.append("s", {**report(retry, "fail"), "attempt_of": asked}, key).path
    assert store.find(asked) == concluded and store.find(retry) == concluded
    assert verify_chain(store.site_reports("s"), keys.keyring(key_path)) == [], "a retry is not a replay"


def test_a_drill_concluded_by_a_retry_is_found_in_its_site_and_one_still_erring_is_not(tmp_path, key_path):
    store, key = EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path)
    asked, retry = "20261201T020000Z-0000000a", "20261201T021500Z-0000000b"
    store.append("s", {**report(asked, "error"), "reason": "error.runtime"}, key)
    assert store.concluding_report(asked, "s") is None, "an error with retries to come concludes nothing"
    store.append("s", {**report(retry, "pass"), "attempt_of": asked}, key)
    assert store.concluding_report(asked, "s")["drill_id"] == retry
    assert store.concluding_report(asked)["drill_id"] == retry, "without a site: every site's chain"
    assert store.concluding_report(asked, "another-site") is None
