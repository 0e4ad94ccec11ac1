"""Sign-ins that survive a reload: a session cookie, HttpOnly, signed, expiring, ended at sign-out.

A Streamlit script cannot set a cookie (it talks to the browser over a websocket), and a cookie
set by the page's JavaScript cannot be HttpOnly. So a sign-in hands the page a ticket: random,
good once, for TICKET_SECONDS; the page posts it to the server's own route (dashboard/server.py),
which answers with the cookie. The cookie holds a random session id, its expiry, and an HMAC of
both; the session itself (user, expiry) is kept here, in the dashboard's process. So:
- the password never leaves the sign-in form: neither the cookie nor the ticket derives from it;
- the key is made at random when the process starts, never the reports' signing key, never
  written anywhere;
- expiry is enforced here (LIFETIME_SECONDS after the sign-in), whatever the browser keeps;
- signing out ends the session here: the cookie, even copied, no longer opens anything;
- a restart ends every session (everyone signs in again), as it already forgets the sign-in
  limiter's counts. With several replicas, a browser must stay on one (Streamlit's websocket
  needs that already).
docs/threat-model.md says why a cookie and not a token in the URL.
"""

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

COOKIE = "restore_drill_session"
OPEN_PATH = "/session/open"  # where the page trades its ticket for the cookie
LIFETIME_SECONDS = 8 * 3600  # a working day
TICKET_SECONDS = 60
MAX_SESSIONS = 10_000  # the oldest ended first
TOKEN_MAX_CHARS = 200  # longer is not ours: refused unread


@dataclass(frozen=True)
class Session:
    user: str
    expires: int  # Unix time


class SessionStore:
    """Sessions and tickets, thread-safe (the server's route and the scripts' threads share it);
    `clock` gives Unix seconds (a test passes its own)."""

    def __init__(self, key: bytes | None = None, clock=time.time, lifetime: int = LIFETIME_SECONDS):
        self.key, self.clock, self.lifetime = key or secrets.token_bytes(32), clock, lifetime
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self.tickets: dict[str, tuple[str, float]] = {}  # ticket -> (session id, good until)
        self.lock = threading.Lock()

    def begin(self, user: str) -> tuple[str, str]:
        """A new session of `user`: (its id, the ticket the browser trades once for its cookie)."""
        session_id, ticket, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self.lock:
            self.forget_expired(now)
            self.sessions[session_id] = Session(user, int(now) + self.lifetime)
            self.tickets[ticket] = (session_id, now + TICKET_SECONDS)
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
        return session_id, ticket

    def redeem(self, ticket: str) -> str | None:
        """The cookie's value for the ticket's session, once; None for a ticket unknown, used or late."""
        with self.lock:
            session_id, good_until = self.tickets.pop(ticket, (None, 0.0))
            session = self.sessions.get(session_id) if session_id and self.clock() <= good_until else None
        return f"{session_id}.{session.expires}.{self.mac(session_id, session.expires)}" if session else None

    def resume(self, cookie: str | None) -> tuple[str, str] | None:
        """(session id, user) of a cookie whose signature holds and whose session is open and not expired."""
        if not cookie or len(cookie) > TOKEN_MAX_CHARS or not cookie.isascii() or cookie.count(".") != 2:
            return None
        session_id, expires, mac = cookie.split(".")
        if not expires.isdigit() or not hmac.compare_digest(mac, self.mac(session_id, int(expires))):
            return None
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session.expires != int(expires) or self.clock() >= session.expires:
                return None
        return session_id, session.user

    def end(self, session_id: str | None) -> None:
        with self.lock:
            self.sessions.pop(session_id, None)

    def mac(self, session_id: str, expires: int) -> str:
        digest = hmac.new(self.key, f"{session_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def forget_expired(self, now: float) -> None:
        self.tickets = {ticket: entry for ticket, entry in self.tickets.items() if entry[1] >= now}
        for session_id in [key for key, session in self.sessions.items() if session.expires <= now]:
            del self.sessions[session_id]


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a request comes from the dashboard's own page: its Origin names the host it was
    sent to (a page of another site cannot trade a ticket, even one it stole)."""
    return bool(origin and host) and origin.split("://", 1)[-1] == host


STORE = SessionStore()  # one per dashboard process
