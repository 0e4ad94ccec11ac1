"""The audit journal's lines: each written whole in one append under the lock and fsynced,
chained by the sha256 of the whole line before, capped in size, and a line cut by a crash
named without breaking the lines around it."""

import json
import multiprocessing
import os

import pytest

from drills import audit
from drills.audit import MAX_FIELD_CHARS, MAX_LINE_BYTES, AuditJournal, Problem


def test_a_ten_kilobyte_name_is_capped_and_says_so_and_the_chain_holds(tmp_path):
    journal = AuditJournal(tmp_path)
    journal.record("login.refused", "marie")
    entry = journal.record("login.refused", "x" * 10240, site="a" * 300)
    journal.record("login.succeeded", "paul")
    assert entry["user"] == "x" * MAX_FIELD_CHARS and entry["capped"] == {"user": 10240, "site": 300}
    assert all(len(line) < MAX_LINE_BYTES for line in journal.path.read_bytes().split(b"\n"))
    assert journal.verify() == [] and journal.newest()[1]["capped"] == {"user": 10240, "site": 300}


def test_a_long_line_written_before_the_cap_is_hashed_whole(tmp_path):
    journal = AuditJournal(tmp_path)
    journal.path.parent.mkdir(parents=True)
    old = json.dumps({"event": "login.refused", "user": "x" * 10240, "previous_sha256": None})
    journal.path.write_text(old + "\n")
    journal.record("login.succeeded", "marie")
    assert journal.verify() == []


def test_an_event_too_long_even_with_its_fields_capped_is_refused_before_writing(tmp_path):
    journal = AuditJournal(tmp_path)
    journal.record("login.succeeded", "marie")
    before = journal.path.read_bytes()
    with pytest.raises(ValueError, match="over the journal's 4096"):
        journal.record("certificate.issued", "marie", files=[f"file-{n}.pdf" for n in range(1000)])
    assert journal.path.read_bytes() == before


def test_unicode_line_breaks_inside_a_field_do_not_split_its_line(tmp_path):
    journal = AuditJournal(tmp_path)
    for name in ("a\u2028b", "c\x85d\x1ce", "lone \ud800 surrogate"):
        journal.record("login.refused", "marie", email=name)
    journal.record("login.succeeded", "marie")
    assert journal.verify() == [] and journal.count() == 4
    emails = [event.get("email") for event in journal.newest()][1:]
    assert emails == ["lone \ud800 surrogate", "c\x85d\x1ce", "a\u2028b"]


def test_a_cut_last_line_is_named_and_the_lines_before_still_verify(tmp_path):
    journal = AuditJournal(tmp_path)
    for user in ("marie", "paul", "ops"):
        journal.record("login.succeeded", user)
    data = journal.path.read_bytes()
    journal.path.write_bytes(data[:-20])  # the power went out while the third line was written
    assert journal.problems() == [Problem(3, "cut")] and journal.verify() == [3]
    assert [event["user"] for event in journal.newest()] == ["paul", "marie"], "the readable lines are still shown"


def test_the_next_line_after_a_cut_one_ends_it_and_links_to_it(tmp_path):
    journal = AuditJournal(tmp_path)
    for user in ("marie", "paul"):
        journal.record("login.succeeded", user)
    journal.path.write_bytes(journal.path.read_bytes()[:-1])  # cut just before its end of line
    entry = journal.record("logout", "paul")
    journal.record("login.succeeded", "ops")
    assert entry["previous_line_cut"] is True and journal.count() == 4
    assert journal.problems() == [Problem(2, "cut")], "one lost event, not a broken chain after it"


def test_an_edited_line_is_unreadable_and_the_next_one_unlinked(tmp_path):
    journal = AuditJournal(tmp_path)
    for user in ("marie", "paul", "ops"):
        journal.record("login.succeeded", user)
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("\n".join([lines[0], lines[1][:-5], lines[2]]) + "\n")
    assert journal.problems() == [Problem(2, "unreadable"), Problem(3, "unlinked")]


def test_each_line_is_one_append_write_then_fsynced_under_the_lock(tmp_path, monkeypatch):
    journal = AuditJournal(tmp_path)
    journal.record("login.succeeded", "marie")
    calls, write, fsync, flock = [], os.write, os.fsync, audit.fcntl.flock

    def spy(name, real):
        return lambda descriptor, *rest: calls.append((name, descriptor)) or real(descriptor, *rest)

    monkeypatch.setattr(audit.os, "write", spy("write", write))
    monkeypatch.setattr(audit.os, "fsync", spy("fsync", fsync))
    monkeypatch.setattr(audit.fcntl, "flock", spy("flock", flock))
    journal.record("login.succeeded", "paul")
    assert [name for name, _ in calls] == ["flock", "write", "fsync"]
    assert len({descriptor for _, descriptor in calls}) == 1, "on the one descriptor holding the lock"
    assert journal.verify() == []


def append_many(root, writer: int) -> None:
    journal = AuditJournal(root)
    for number in range(50):
        journal.record("site.viewed", f"writer-{writer}", site="s" * 200, number=number)


def test_dashboards_writing_side_by_side_never_break_the_chain(tmp_path):
    processes = [multiprocessing.get_context("fork").Process(target=append_many, args=(tmp_path, writer))
                 for writer in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    journal = AuditJournal(tmp_path)
    assert journal.count() == 200 and journal.verify() == []
