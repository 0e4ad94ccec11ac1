"""Signing in with a password, without Streamlit: the name checked before anything is
journaled, failures slowed down per name and per address before scrypt runs, on a clock the
test moves."""

import threading
import time
from types import SimpleNamespace

import pytest

from drills import access
from drills.audit import AuditJournal
from drills.commands.verification import check_journal
from drills.signin import FORGET_AFTER, PER_NAME, Admission, Backoff, SignInLimiter, sign_in

PASSWORD = "correct horse battery staple"
OFFICE = "203.0.113.7"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def scrypt_runs(monkeypatch):
    """password_matches stood in for by a fast fake that counts its runs (scrypt is tested in
    test_dashboard_data)."""
    runs = []

    def password_matches(stored: str, password: str) -> bool:
        runs.append(password)
        return stored == f"fake${password}"

    monkeypatch.setattr(access, "password_matches", password_matches)
    return runs


@pytest.fixture
def users():
    return {"marie": access.User("marie", "viewer", password=f"fake${PASSWORD}", sites=("a",)),
            "paul": access.User("paul", "viewer", password="fake$another one", sites=("b",))}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def attempt(users, clock, tmp_path, scrypt_runs):
    limiter, journal = SignInLimiter(clock), AuditJournal(tmp_path)
    return lambda name, password, address=None: sign_in(users, name, password, address, limiter, journal)


def journaled(tmp_path) -> list[dict]:
    return AuditJournal(tmp_path).newest()[::-1]


def test_the_delay_doubles_after_four_free_failures_up_to_five_minutes():
    assert [PER_NAME.delay(failures) for failures in range(1, 11)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert PER_NAME.delay(40) == 300


def test_the_tenth_wrong_password_in_a_row_waits_without_running_scrypt(attempt, clock, scrypt_runs, tmp_path):
    for _ in range(9):
        clock.advance(PER_NAME.longest)  # each of the nine after its wait: all are checked
        result = attempt("marie", "guess")
        assert result.user is None and result.wait_seconds == 0
    assert len(scrypt_runs) == 9
    refused = attempt("marie", PASSWORD)
    assert refused.user is None and refused.wait_seconds == 16, "the right password too must wait"
    clock.advance(15.5)
    assert attempt("marie", "guess").wait_seconds == 0.5
    assert len(scrypt_runs) == 9, "no scrypt while the name must wait"
    clock.advance(0.5)
    assert attempt("marie", PASSWORD).user.name == "marie"
    assert attempt("marie", "typo").wait_seconds == 0 and attempt("marie", PASSWORD).user, "the count starts again"
    reasons = [(event["event"], event.get("reason"), event.get("wait_seconds")) for event in journaled(tmp_path)]
    assert reasons[4:11] == [("login.refused", "wrong_password", 1), ("login.refused", "wrong_password", 2),
                             ("login.refused", "wrong_password", 4), ("login.refused", "wrong_password", 8),
                             ("login.refused", "wrong_password", 16), ("login.refused", "backoff", 16),
                             ("login.succeeded", None, None)], "one journal line for the wait, not one per try"


def test_the_address_limit_applies_across_names(attempt, scrypt_runs):
    for number in range(20):
        assert attempt(f"guess{number}", "guess", OFFICE).wait_seconds == 0
    assert attempt("paul", "guess", OFFICE).wait_seconds == 0  # the 21st failure from the office
    refused = attempt("marie", PASSWORD, OFFICE)
    assert refused.user is None and refused.wait_seconds == 1 and len(scrypt_runs) == 21
    assert attempt("marie", PASSWORD, "198.51.100.4").user.name == "marie", "another address is not slowed down"


def test_a_good_password_does_not_reset_the_address_count(attempt, clock):
    for number in range(21):
        attempt(f"guess{number}", "guess", OFFICE)
    clock.advance(1)
    assert attempt("marie", PASSWORD, OFFICE).user
    clock.advance(1)
    assert attempt("guess", "guess", OFFICE).wait_seconds == 0 and attempt("x", "y", OFFICE).wait_seconds == 2


def test_addresses_of_one_ipv6_subscriber_count_together(attempt):
    for number in range(21):
        attempt(f"guess{number}", "guess", f"2001:db8:1:2::{number:x}")
    assert attempt("marie", PASSWORD, "2001:db8:1:2:ffff::1").wait_seconds == 1
    assert attempt("marie", PASSWORD, "2001:db8:1:3::1").user, "the next /64 is someone else"


def test_attempts_sent_side_by_side_are_counted_before_any_finishes(clock):
    limiter = SignInLimiter(clock)
    assert [limiter.admit("marie", None).wait_seconds for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_at_most_two_passwords_are_checked_at_once(users, clock, tmp_path, monkeypatch):
    running, most, lock = [0], [0], threading.Lock()

    def slow_password_matches(stored: str, password: str) -> bool:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(access, "password_matches", slow_password_matches)
    limiter, journal = SignInLimiter(clock), AuditJournal(tmp_path)
    threads = [threading.Thread(target=sign_in, args=(users, f"guess{n}", "guess", f"192.0.2.{n}", limiter, journal))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2 and AuditJournal(tmp_path).count() == 8


def test_on_loopback_only_names_are_limited(attempt):
    for number in range(40):
        assert attempt(f"guess{number}", "guess", None).wait_seconds == 0


def test_names_that_cannot_exist_count_against_the_address_and_are_never_looked_up(attempt, scrypt_runs, tmp_path):
    for _ in range(21):
        assert attempt("x" * 10240, PASSWORD, OFFICE).user is None
    assert scrypt_runs == [] and attempt("marie", PASSWORD, OFFICE).wait_seconds == 1
    event = journaled(tmp_path)[0]
    assert (event["user"], event["reason"], event["name_length"], event["address"]) == \
        (None, "invalid_name", 10240, OFFICE)
    assert "xxxx" not in AuditJournal(tmp_path).path.read_text()


def test_a_ten_kilobyte_name_leaves_drill_audit_verify_passing(attempt, tmp_path, capsys):
    attempt("marie", PASSWORD)
    attempt("x" * 10240, PASSWORD)
    attempt("paul", "another one")
    assert check_journal(AuditJournal(tmp_path), SimpleNamespace(json=True)) == 0
    assert '"events": 3, "broken_lines": []' in capsys.readouterr().out


def test_an_unknown_name_is_journaled_without_its_text(attempt, tmp_path):
    attempt("Marie2026", "")  # a password typed in the name field, matching the name pattern
    assert "Marie2026" not in AuditJournal(tmp_path).path.read_text()
    assert journaled(tmp_path)[0]["reason"] == "unknown_name"


def test_a_quiet_name_starts_again_from_zero(clock):
    limiter = SignInLimiter(clock)
    for _ in range(9):
        clock.advance(PER_NAME.longest)
        limiter.admit("marie", None)
    assert limiter.admit("marie", None).wait_seconds == 16
    clock.advance(FORGET_AFTER + 1)
    assert limiter.admit("marie", None) == Admission(), "admitted, and free to fail again"


def test_the_least_recently_failing_are_forgotten_first_beyond_the_limit(clock):
    limiter = SignInLimiter(clock, per_name=Backoff(free=0, first=10, longest=10), max_keys=2)
    for name in ("anne", "bob", "carl"):
        limiter.admit(name, None)
    assert [limiter.admit(name, None).wait_seconds for name in ("carl", "bob", "anne")] == [10, 10, 0]


def test_failures_counted_from_many_threads_are_all_counted(clock):
    limiter = SignInLimiter(clock, per_name=Backoff(free=800, first=1, longest=1))
    threads = [threading.Thread(target=lambda: [limiter.admit("marie", None) for _ in range(100)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.admit("marie", None) == Admission(wait_if_failed=1)
