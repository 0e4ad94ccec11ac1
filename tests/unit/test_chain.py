"""The chain of a site's reports: each kind of tampering is detected and named; a key
rotation keeps old reports verifiable; a report cut short by a failed write is named unreadable,
not edited, and the chain goes on past it."""

import json
import os
import shutil

import pytest

from drills.reports import keys
from drills.reports.chain import replica_problems, verify_chain
from drills.reports.evidence import EvidenceStore
from drills.reports.signing import digest, signature_path, signer
from tests.helpers import format1_report


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
    signature_path(store.site_reports("pharmacie")[4]).unlink()
    assert problems(store, key_path) == [("000005", "report.unsigned")]


def test_a_signature_swapped_for_another_reports_is_an_edit(chain):
    store, key_path = chain
    fourth, fifth = store.site_reports("pharmacie")[3:5]
    writable(signature_path(fifth)).write_bytes(signature_path(fourth).read_bytes())
    assert problems(store, key_path) == [("000005", "report.edited")]


def test_a_chain_of_format_1_reports_continued_in_format_2_verifies(tmp_path):
    key_path = tmp_path / "keys" / "signing.ed25519"
    keys.init(key_path)
    store, key, previous = EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path), None
    (tmp_path / "evidence" / "pharmacie").mkdir(parents=True)
    for sequence in (1, 2):
        data = format1_report({"drill_id": f"20261101T00000{sequence}Z-0000000{sequence}", "site": "pharmacie",
                               "outcome": "pass", "sequence": sequence, "previous_sha256": previous}, key)
        (tmp_path / "evidence" / "pharmacie" / f"{sequence:06d}-old{sequence}.json").write_bytes(data)
        previous = digest(data)
    store.append("pharmacie", {"format": 2, "drill_id": "d3", "site": "pharmacie", "outcome": "pass"}, key)
    assert [json.loads(path.read_bytes())["format"] for path in store.site_reports("pharmacie")] == [1, 1, 2]
    assert problems(store, key_path) == []


def test_reports_signed_before_a_rotation_still_verify_and_new_ones_use_the_new_key(chain):
    store, key_path = chain
    old_id, new_key = keys.rotate(key_path)
    store.append("pharmacie", {"drill_id": "d6", "site": "pharmacie", "outcome": "pass"}, keys.load_private(key_path))
    assert problems(store, key_path) == []
    signers = [signer(json.loads(path.read_bytes())) for path in store.site_reports("pharmacie")]
    assert signers == [old_id] * 5 + [keys.key_id(new_key)] and old_id != keys.key_id(new_key)
    assert set(keys.keyring(key_path)) == {old_id, keys.key_id(new_key)}


def left_cut_short(store, key_path, keep: float):
    """A sixth report as a version before atomic writes left it when its write failed (disk
    full, kill -9): under its final name, mode 444, only the first `keep` of its bytes."""
    whole = EvidenceStore(store.root.parent / "elsewhere").append(
        "pharmacie", {"drill_id": "d6", "site": "pharmacie", "outcome": "pass"}, keys.load_private(key_path)).path
    path = store.root / "pharmacie" / "000006-d6.json"
    path.write_bytes(whole.read_bytes()[:int(len(whole.read_bytes()) * keep)])
    path.chmod(0o444)
    return path


@pytest.mark.parametrize("keep", [0, 0.5], ids=["zero-length", "half-written"])
def test_a_report_cut_short_is_unreadable_not_edited_and_the_next_one_chains_to_it(chain, keep):
    store, key_path = chain
    left_cut_short(store, key_path, keep)
    store.append("pharmacie", {"drill_id": "d7", "site": "pharmacie", "outcome": "pass"}, keys.load_private(key_path))
    found = verify_chain(store.site_reports("pharmacie"), keys.keyring(key_path))
    assert [(problem.file.split("-")[0], problem.code) for problem in found] == [("000006", "report.unreadable")]
    assert "not an edit" in found[0].message
    assert [report["outcome"] for report in store.history("pharmacie")] == ["pass"] * 5 + ["unreadable", "pass"]


def test_a_report_cut_short_that_changed_after_the_next_one_was_written_breaks_that_link(chain):
    store, key_path = chain
    path = left_cut_short(store, key_path, 0.5)
    store.append("pharmacie", {"drill_id": "d7", "site": "pharmacie", "outcome": "pass"}, keys.load_private(key_path))
    writable(path).write_bytes(b"")  # lost, or replaced, after report 7 chained to its half
    found = verify_chain(store.site_reports("pharmacie"), keys.keyring(key_path))
    assert [(problem.file.split("-")[0], problem.code) for problem in found] == \
        [("000006", "report.unreadable"), ("000007", "chain.broken")]
    assert "unreadable" in found[1].message


def test_reports_deleted_before_an_unreadable_one_are_still_a_gap(chain):
    store, key_path = chain
    left_cut_short(store, key_path, 0)
    store.site_reports("pharmacie")[4].unlink()
    assert problems(store, key_path) == [("000006", "report.unreadable"), ("000006", "chain.gap")]


class DictReplica:
    """The replica contract (drills.reports.replica) in memory."""

    def __init__(self):
        self.objects = {}

    def put(self, site_id, name, data):
        self.objects.setdefault((site_id, name), data)

    def get(self, site_id, name):
        return self.objects.get((site_id, name))

    def names(self, site_id):
        return [name for site, name in self.objects if site == site_id]


def test_a_report_damaged_here_but_whole_in_the_replica_is_not_called_edited(chain):
    store, key_path = chain
    replica = DictReplica()
    EvidenceStore(store.root, replica).sync(["pharmacie"])
    writable(store.site_reports("pharmacie")[1]).write_bytes(b"")
    found = replica_problems("pharmacie", store.site_reports("pharmacie"), replica)
    assert [(problem.code, "edited" in problem.message, "unreadable" in problem.message) for problem in found] == \
        [("replica.differs", False, True)]


def test_a_sites_chain_filed_under_another_site_is_misplaced(chain):
    store, key_path = chain
    shutil.copytree(store.root / "pharmacie", store.root / "autre-pharmacie")
    found = verify_chain(store.site_reports("autre-pharmacie"), keys.keyring(key_path))
    assert [(problem.file.split("-")[0], problem.code) for problem in found] == [
        (f"{number:06d}", "chain.misplaced") for number in range(1, 6)]
    assert "a report of site 'pharmacie', filed under 'autre-pharmacie'" in found[0].message
