"""A report is written whole or not at all: drafted beside its final name, synced, then linked;
a failed write is `error.storage` and leaves nothing under a report's name; a draft a crash
left is never read and is removed later."""

import errno
import json
import os
import subprocess
import sys
import time

import pytest

from drills.errors import InfrastructureError
from drills.reports import evidence, index, keys
from drills.reports.chain import verify_chain
from drills.reports.signing import signature_path
from drills.reports.evidence import EvidenceStore
from tests.helpers import PROJECT


@pytest.fixture
def store(tmp_path):
    keys.init(tmp_path / "keys" / "signing.ed25519")
    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def key(tmp_path):
    return keys.load_private(tmp_path / "keys" / "signing.ed25519")


def report(drill_id: str) -> dict:
    return {"drill_id": drill_id, "site": "s", "outcome": "pass", "findings": []}


def names(store) -> list[str]:
    return sorted(path.name for path in (store.root / "s").iterdir())


def chain_problems(store, tmp_path) -> list[str]:
    return [problem.code for problem in
            verify_chain(store.site_reports("s"), keys.keyring(tmp_path / "keys" / "signing.ed25519"))]


def stray_draft(store, name: str, age_seconds: float):
    """A draft as a crash between its write and its link leaves it (half a report, mode 444)."""
    draft = store.root / "s" / f".{name}{evidence.DRAFT}0badc0de"
    draft.write_text('{"sequence": 9, "outco')
    draft.chmod(0o444)
    os.utime(draft, (time.time() - age_seconds,) * 2)
    return draft


def test_a_report_is_published_under_its_name_read_only_with_no_draft_left(store, key):
    path = store.append("s", report("d1"), key).path
    assert names(store) == ["000001-d1.json", "000001-d1.json.sig", "index.jsonl"]
    assert oct(path.stat().st_mode & 0o777) == "0o444" and path.stat().st_nlink == 1


def test_a_stray_draft_is_never_read_as_a_report_and_is_removed_once_old(store, key, tmp_path):
    store.append("s", report("d1"), key)
    old = stray_draft(store, "000002-d2.json", age_seconds=evidence.STRAY_DRAFT_SECONDS + 60)
    old_signature = stray_draft(store, "000002-d2.json.sig", age_seconds=evidence.STRAY_DRAFT_SECONDS + 60)
    fresh = stray_draft(store, "000002-d3.json", age_seconds=1)  # a write in progress elsewhere
    assert [path.name for path in store.site_reports("s")] == ["000001-d1.json"]
    assert chain_problems(store, tmp_path) == [] and len(store.history("s")) == 1
    second = store.append("s", report("d2"), key).path
    assert second.name == "000002-d2.json" and not old.exists() and not old_signature.exists() and fresh.exists()
    assert chain_problems(store, tmp_path) == []


def test_a_write_refused_by_a_full_disk_is_error_storage_and_leaves_no_report(store, key, tmp_path, monkeypatch):
    store.append("s", report("d1"), key)
    real_write = os.write

    def half_then_full(descriptor, data):  # some bytes land, then the volume is full
        if len(data) > 100:
            return real_write(descriptor, bytes(data[:100]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(InfrastructureError) as raised:
        store.append("s", report("d2"), key)
    monkeypatch.undo()
    assert raised.value.code == "error.storage"
    assert "No space left on device" in raised.value.message and "000002-d2.json" in raised.value.message
    assert "free space" in raised.value.hint
    assert names(store) == ["000001-d1.json", "000001-d1.json.sig", "index.jsonl"]
    store.append("s", report("d3"), key)
    assert chain_problems(store, tmp_path) == []
    assert [json.loads(path.read_bytes())["drill_id"] for path in store.site_reports("s")] == ["d1", "d3"]


def test_a_report_refused_after_its_signature_was_written_leaves_neither(store, key, tmp_path, monkeypatch):
    store.append("s", report("d1"), key)
    real_write = os.write

    def full_past_a_signature(descriptor, data):  # the 64-byte signature lands, the report does not
        if len(data) > 64:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", full_past_a_signature)
    with pytest.raises(InfrastructureError) as raised:
        store.append("s", report("d2"), key)
    monkeypatch.undo()
    assert raised.value.code == "error.storage"
    assert names(store) == ["000001-d1.json", "000001-d1.json.sig", "index.jsonl"]


def test_a_signature_a_crash_left_without_its_report_is_replaced_or_removed(store, key, tmp_path):
    store.append("s", report("d1"), key)
    orphan = store.root / "s" / "000002-d2.json.sig"
    orphan.write_bytes(bytes(64))  # a crash between the signature and its report
    old = store.root / "s" / "000002-gone.json.sig"
    old.write_bytes(bytes(64))
    os.utime(old, (time.time() - evidence.STRAY_DRAFT_SECONDS - 60,) * 2)
    second = store.append("s", report("d2"), key).path  # the same drill stored again after the crash
    assert second.name == "000002-d2.json" and not old.exists()
    assert signature_path(second).read_bytes() != bytes(64) and chain_problems(store, tmp_path) == []


def test_an_evidence_root_that_cannot_hold_a_site_is_error_storage(store, key, tmp_path):
    (tmp_path / "not-a-directory").write_text("")
    with pytest.raises(InfrastructureError) as raised:
        EvidenceStore(tmp_path / "not-a-directory").append("s", report("d1"), key)
    assert raised.value.code == "error.storage" and "Not a directory" in raised.value.message


APPENDER = """
import sys
from pathlib import Path
from drills.reports import keys
from drills.reports.evidence import EvidenceStore
from tests.helpers import PROJECT

root, key_path, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
store, key = EvidenceStore(root), keys.load_private(key_path)
for number in range(25):
    store.append("s", {"drill_id": f"{name}{number}", "site": "s", "outcome": "pass"}, key)
"""


def test_two_processes_appending_to_one_site_form_one_chain(store, tmp_path):
    key_path = tmp_path / "keys" / "signing.ed25519"
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(store.root), str(key_path), name], cwd=PROJECT)
               for name in ("worker-", "cli-")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    assert [index.sequence_of(path) for path in store.site_reports("s")] == list(range(1, 51))
    assert chain_problems(store, tmp_path) == []
