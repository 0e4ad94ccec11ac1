"""The dashboard's data layer without Streamlit: passwords, scopes, the users file, the audit
journal's chain, the summary index, and the status rules."""

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from drills import access
from drills.audit import AuditJournal
from drills.errors import ConfigError
from drills.fleet import AMBER, GREEN, NEVER, RED, status_of
from drills.reports import index

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def hashed():
    return access.hash_password("a long enough password")


def test_a_password_checks_against_its_scrypt_hash_only(hashed):
    assert hashed.startswith("scrypt$15$8$1$") and "a long enough password" not in hashed
    users = {"marie": access.User("marie", "viewer", password=hashed, sites=("a",))}
    assert access.authenticate(users, "marie", "a long enough password") == users["marie"]
    assert access.authenticate(users, "marie", "a long enough passwor") is None
    assert access.authenticate(users, "nobody", "a long enough password") is None


def test_a_user_without_a_password_cannot_sign_in_with_one():
    users = {"sso": access.User("sso", "admin", email="Sso@Example.org")}
    assert access.authenticate(users, "sso", "") is None
    assert access.user_by_email(users, "sso@example.org") == users["sso"]
    assert access.user_by_email(users, None) is None


def test_each_role_sees_its_scope():
    catalog = SimpleNamespace(sites=[SimpleNamespace(id="a", tenant="t1"), SimpleNamespace(id="b", tenant="t1"),
                                     SimpleNamespace(id="c", tenant="t2")])
    assert access.User("v", "viewer", sites=("b", "zz")).scope(catalog) == {"b"}
    assert access.User("o", "operator", tenants=("t1",)).scope(catalog) == {"a", "b"}
    assert access.User("x", "admin").scope(catalog) == {"a", "b", "c"}


def test_the_users_file_lists_every_problem_with_its_line(tmp_path, hashed):
    path = tmp_path / "users.yaml"
    path.write_text(f"users:\n  - name: marie\n    role: viewer\n    password: '{hashed}'\n"
                    "  - name: paul\n    role: viewer\n    password: plain-text\n    sites: [a]\n"
                    "  - name: ops\n    role: operator\n    password: x\n    colour: red\n")
    with pytest.raises(ConfigError) as raised:
        access.load_users(path)
    message = raised.value.message
    assert ":7: users.1.password: 'plain-text' does not match" in message
    assert ":12: users.2.colour: unknown key" in message
    path.write_text(f"users:\n  - name: marie\n    role: viewer\n    password: '{hashed}'\n")
    with pytest.raises(ConfigError, match="a viewer needs `sites`"):
        access.load_users(path)


def test_the_audit_journal_chain_shows_an_edited_or_deleted_line(tmp_path):
    journal = AuditJournal(tmp_path)
    for user in ("marie", "paul", "ops"):
        journal.record("login.succeeded", user)
    assert journal.verify() == [] and [e["user"] for e in journal.newest()] == ["ops", "paul", "marie"]
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("\n".join([lines[0], lines[1].replace("paul", "mallory"), lines[2]]) + "\n")
    assert journal.verify() == [3], "the line after the edited one no longer links to it"
    journal.path.write_text("\n".join(lines[1:]) + "\n")
    assert journal.verify() == [1], "the first line was deleted"


def summary(sequence, outcome="pass", rto=100.0, started=NOW, reason=None):
    return {"sequence": sequence, "outcome": outcome, "reason": reason, "rto_seconds": rto if outcome == "pass" else None,
            "started_at": started.isoformat(), "backup_taken_at": (started - timedelta(hours=3)).isoformat()}


def test_the_index_catches_up_with_the_reports_and_reads_each_drill_once(tmp_path):
    for sequence in (1, 2, 3):
        (tmp_path / f"{sequence:06d}-d{sequence}.json").write_text(json.dumps({"sequence": sequence, "outcome": "pass"}))
    index.append_line(tmp_path / index.INDEX_NAME, json.dumps({"sequence": 1}) + "\n" + '{"sequence": 2, "cut')
    index.catch_up(tmp_path, sorted(tmp_path.glob("0*.json")))
    assert [entry["sequence"] for entry in index.read_all(tmp_path)] == [1, 2, 3]
    index.catch_up(tmp_path, sorted(tmp_path.glob("0*.json")))
    assert [entry["sequence"] for entry in index.read_all(tmp_path)] == [1, 2, 3], "nothing added twice"


def test_the_newest_summaries_come_from_the_end_of_a_long_index(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "TAIL_BYTES", 200)
    index.append_line(tmp_path / index.INDEX_NAME, "".join(json.dumps(summary(n)) + "\n" for n in range(1, 50)))
    newest = index.read_newest(tmp_path)
    assert newest and newest[-1]["sequence"] == 49 and len(newest) < 49
    assert [e["sequence"] for e in newest] == list(range(newest[0]["sequence"], 50)), "no cut line, none missing"


SITE = SimpleNamespace(id="s", name="S", tenant="t", targets=SimpleNamespace(rto=600, rpo=26 * 3600))


@pytest.mark.parametrize("recent, expected", [
    ([], (NEVER, "never")),
    ([summary(1)], (GREEN, "")),
    ([summary(1), summary(2, "fail", reason="decrypt.corrupt")], (RED, "decrypt.corrupt")),
    ([summary(1), summary(2, "error", reason="error.runtime")], (AMBER, "error.runtime")),
    ([summary(1, rto=900)], (AMBER, "rto.slow")),
    ([summary(1, started=NOW - timedelta(days=3))], (AMBER, "proof.old")),
    ([{**summary(1), "contents_verified": False}], (AMBER, "contents.unverified")),
    ([summary(1), {**summary(2, "fail", reason="backup.stale"), "rto_seconds": 90.0}], (AMBER, "backup.stale")),
    ([summary(1), summary(2, "fail", reason="backup.stale")], (RED, "backup.stale")),  # no RTO: never restored
])
def test_the_status_a_person_reads(recent, expected):
    status = status_of(SITE, recent, NOW)
    assert (status.status, status.why) == expected
    if recent:
        assert status.backup_age_seconds == pytest.approx((NOW - datetime.fromisoformat(
            recent[-1]["backup_taken_at"])).total_seconds())
