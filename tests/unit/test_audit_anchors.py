"""Anchors of the audit journal, on disk (the replica's part: tests/integration/test_evidence_replica.py):
each one signs the journal's head; a rewritten journal, even chained again, and a cut end are
found against them; anchors are a chain of their own, checked as reports are."""

import hashlib
import json
import os

import pytest

from drills.audit import AuditJournal
from drills.errors import InfrastructureError
from drills.reports import anchors, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.signing import read_signature, signature_path, verify
from tests.helpers import rechained


@pytest.fixture
def anchored(tmp_path):
    """A journal of six events, anchored after the third and the sixth; (store, key path, journal)."""
    key_path = tmp_path / "keys" / "signing.ed25519"
    keys.init(key_path)
    store, journal = EvidenceStore(tmp_path / "evidence"), AuditJournal(tmp_path / "evidence")
    for number in range(6):
        journal.record("report.viewed", f"user-{number}", site="pharmacie", sequence=number)
        if number in (2, 5):
            assert anchors.anchor(store, keys.load_private(key_path)) is not None
    return store, key_path, journal


def found(store, key_path) -> list[tuple[str, str]]:
    return [(problem.file.split("-")[0], problem.code)
            for problem in anchors.problems(store, keys.keyring(key_path), AuditJournal(store.root).read())]


def test_an_anchor_signs_the_journals_head_and_a_second_one_only_when_something_was_journaled(anchored):
    store, key_path, journal = anchored
    first, second = anchors.anchor_paths(store.root)
    document = json.loads(second.read_bytes())
    lines = journal.path.read_bytes().splitlines()
    assert (document["sequence"], document["lines"], document["bytes"]) == (2, 6, journal.path.stat().st_size)
    assert document["head_sha256"] == hashlib.sha256(lines[-1]).hexdigest()
    assert document["previous_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert verify(second.read_bytes(), read_signature(second), keys.keyring(key_path))[0]
    assert anchors.anchor(store, keys.load_private(key_path)) is None, "nothing journaled since"
    assert found(store, key_path) == []


def test_an_empty_journal_is_not_anchored(tmp_path):
    key_path = tmp_path / "signing.ed25519"
    keys.init(key_path)
    assert anchors.anchor(EvidenceStore(tmp_path / "evidence"), keys.load_private(key_path)) is None


def test_a_rewritten_journal_chained_again_is_found_by_the_anchors(anchored):
    store, key_path, journal = anchored
    lines = journal.path.read_bytes().splitlines()
    lines[1] = lines[1].replace(b"user-1", b"user-X")
    journal.path.write_bytes(rechained(lines))
    assert journal.problems() == [], "the chain alone is fooled"
    assert found(store, key_path) == [("000001", "audit.rewritten"), ("000002", "audit.rewritten")]


def test_a_cut_end_is_found_by_the_anchor_that_signed_it(anchored):
    store, key_path, journal = anchored
    journal.path.write_bytes(b"\n".join(journal.path.read_bytes().splitlines()[:4]) + b"\n")
    assert journal.problems() == []
    problems = anchors.problems(store, keys.keyring(key_path), AuditJournal(store.root).read())
    assert [(p.file.split("-")[0], p.code) for p in problems] == [("000002", "audit.truncated")]
    assert "the journal has 4 line(s); this anchor signed 6" in problems[0].message


def test_an_anchor_forged_or_removed_is_named_and_a_forged_one_proves_nothing(anchored, tmp_path):
    store, key_path, journal = anchored
    first, second = anchors.anchor_paths(store.root)
    os.chmod(second, 0o644)
    document = json.loads(second.read_bytes())
    second.write_text(json.dumps({**document, "lines": 4}, indent=2, sort_keys=True) + "\n")
    journal.path.write_bytes(b"\n".join(journal.path.read_bytes().splitlines()[:4]) + b"\n")
    assert found(store, key_path) == [("000002", "report.edited")], "an unsigned claim is not trusted"
    os.chmod(first, 0o644)
    first.unlink()
    signature_path(first).unlink()
    assert ("000002", "chain.gap") in found(store, key_path)


@pytest.mark.parametrize("damage, code", [
    (lambda lines: lines[:4], "audit.truncated"),
    (lambda lines: rechained([*lines[:1], lines[1].replace(b"user-1", b"user-X"), *lines[2:]]).splitlines(),
     "audit.rewritten"),
    (lambda lines: [*lines[:1], lines[1].replace(b"user-1", b"user-X"), *lines[2:]], "audit.rewritten"),
])
def test_a_damaged_journal_is_never_anchored(anchored, damage, code):
    store, key_path, journal = anchored
    journal.path.write_bytes(b"\n".join(damage(journal.path.read_bytes().splitlines())) + b"\n")
    journal.record("report.viewed", "paul")  # something new to anchor
    before = anchors.anchor_paths(store.root)
    with pytest.raises(InfrastructureError) as refused:
        anchors.anchor(store, keys.load_private(key_path))
    assert refused.value.code == code and anchors.anchor_paths(store.root) == before


def test_a_line_cut_by_a_crash_does_not_stop_the_anchors(anchored):
    store, key_path, journal = anchored
    with open(journal.path, "ab") as handle:
        handle.write(b'{"at": "2026-12-02T01:00:00.000+00:00", "event": "login.succ')  # power lost mid-line
    journal.record("login.succeeded", "marie")
    assert anchors.anchor(store, keys.load_private(key_path)) is not None
    assert found(store, key_path) == []


def test_with_nothing_journaled_since_the_newest_anchor_the_journal_is_not_read(anchored, monkeypatch):
    store, key_path, journal = anchored

    def never(self):
        raise AssertionError("the journal was read whole")

    monkeypatch.setattr(AuditJournal, "read", never)
    assert anchors.anchor(store, keys.load_private(key_path)) is None
