"""The dashboard's session cookies (dashboard.cookies): a ticket is good once and briefly, a
cookie opens its session until it expires or is ended, on the server; a forged one never."""

import pytest

from dashboard.cookies import LIFETIME_SECONDS, TICKET_SECONDS, SessionStore, same_origin


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    return SessionStore(clock=clock)


def test_a_ticket_gives_its_cookie_once(store):
    session_id, ticket = store.begin("marie")
    cookie = store.redeem(ticket)
    assert store.resume(cookie) == (session_id, "marie")
    assert store.redeem(ticket) is None
    assert "marie" not in cookie


def test_a_late_ticket_gives_nothing(store, clock):
    _, ticket = store.begin("marie")
    clock.now += TICKET_SECONDS + 1
    assert store.redeem(ticket) is None


def test_a_cookie_opens_its_session_until_it_expires_whatever_the_browser_keeps(store, clock):
    _, ticket = store.begin("marie")
    cookie = store.redeem(ticket)
    clock.now += LIFETIME_SECONDS - 1
    assert store.resume(cookie)
    clock.now += 1
    assert store.resume(cookie) is None


def test_an_ended_session_opens_nothing(store):
    session_id, ticket = store.begin("marie")
    cookie = store.redeem(ticket)
    store.end(session_id)
    assert store.resume(cookie) is None


def test_a_forged_cookie_opens_nothing(store, clock):
    _, ticket = store.begin("marie")
    session_id, expires, mac = store.redeem(ticket).split(".")
    longer = f"{session_id}.{int(expires) + 86400}.{mac}"
    assert store.resume(longer) is None, "an expiry pushed back"
    assert store.resume(f"{session_id}.{expires}.{'A' * len(mac)}") is None
    assert SessionStore(clock=clock).resume(f"{session_id}.{expires}.{mac}") is None, "another process's key"
    for junk in (None, "", "a.b", "a.b.c.d", "x" * 10_000, f"{session_id}.soon.{mac}",
                 f"{session_id}.{expires}.{mac[:-1]}é"):  # not ASCII: refused, not a TypeError
        assert store.resume(junk) is None


def test_only_the_dashboards_own_page_may_trade_a_ticket():
    assert same_origin("http://127.0.0.1:8501", "127.0.0.1:8501")
    assert same_origin("https://drill.example.fr", "drill.example.fr")
    assert not same_origin("https://evil.example", "drill.example.fr")
    assert not same_origin(None, "drill.example.fr") and not same_origin("null", "drill.example.fr")
