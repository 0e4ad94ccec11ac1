"""The chain of a site's reports: each kind of tampering is detected and named; a key
rotation keeps old reports verifiable."""

import json
import os
import shutil

import pytest

from drills.reports import keys
from drills.reports.chain import verify_chain
from drills.reports.evidence import EvidenceStore


@pytest.fixture
def chain(tmp_path):
    """Five signed reports of one site; (store, key path)."""
    key_path = tmp_path / "keys" / "signing.ed25519"
    keys.init(key_path)
    store = EvidenceStore(tmp_path / "evidence")
    for number in range(1, 6):
        store.append("pharmacie", {"drill_id": f"d{number}", "site": "pharmacie", "outcome": "pass"},
                     keys.load_private(key_path))
    return store, key_path


def problems(store, key_path):
    return [(problem.file.split("-")[0], problem.code) for problem in
            verify_chain(store.site_reports("pharmacie"), keys.keyring(key_path))]


def writable(path):
    os.chmod(path, 0o644)
    return path


def test_an_untouched_chain_has_no_problem(chain):
    assert problems(*chain) == []


def test_one_edited_byte_is_named_and_breaks_the_next_link(chain):
    store, key_path = chain
    path = writable(store.site_reports("pharmacie")[2])
    path.write_bytes(path.read_bytes().replace(b'"outcome": "pass"', b'"outcome": "fail"'))
    assert problems(store, key_path) == [("000003", "report.edited"), ("000004", "chain.broken")]


def test_a_deleted_report_is_a_gap_named_at_the_report_after_it(chain):
    store, key_path = chain
    store.site_reports("pharmacie")[1].unlink()
    assert problems(store, key_path) == [("000003", "chain.gap")]


def test_two_swapped_reports_are_misplaced(chain):
    store, key_path = chain
    second, third = store.site_reports("pharmacie")[1:3]
    second_bytes, third_bytes = second.read_bytes(), third.read_bytes()
    writable(second).write_bytes(third_bytes)
    writable(third).write_bytes(second_bytes)
    found = problems(store, key_path)
    assert ("000002", "chain.misplaced") in found and ("000003", "chain.misplaced") in found


def test_an_old_report_copied_back_as_the_newest_is_replayed(chain):
    store, key_path = chain
    first = store.site_reports("pharmacie")[0]
    shutil.copy(first, first.with_name("000006-" + first.name.split("-", 1)[1]))
    assert ("000006", "chain.replayed") in problems(store, key_path)


def test_an_unsigned_report_is_named(chain):
    store, key_path = chain
    path = writable(store.site_reports("pharmacie")[4])
    document = json.loads(path.read_bytes())
    del document["signature"]
    path.write_text(json.dumps(document))
    assert problems(store, key_path) == [("000005", "report.unsigned")]


def test_reports_signed_before_a_rotation_still_verify_and_new_ones_use_the_new_key(chain):
    store, key_path = chain
    old_id, new_key = keys.rotate(key_path)
    store.append("pharmacie", {"drill_id": "d6", "site": "pharmacie", "outcome": "pass"}, keys.load_private(key_path))
    assert problems(store, key_path) == []
    signers = [json.loads(path.read_bytes())["signature"]["key_id"] for path in store.site_reports("pharmacie")]
    assert signers == [old_id] * 5 + [keys.key_id(new_key)] and old_id != keys.key_id(new_key)
    assert set(keys.keyring(key_path)) == {old_id, keys.key_id(new_key)}
