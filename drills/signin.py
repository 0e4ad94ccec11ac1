"""Signing in to the dashboard with a name and a password: the name checked, failures slowed
down, every attempt journaled.

The order is the point, each step cheaper than the next:
1. the name is checked against the users file's pattern (drills.access.valid_name): a name
   that cannot exist is never looked up, and never journaled (a password typed in the name
   field, or ten kilobytes of anything): the journal says `reason: invalid_name` and its length;
2. the backoff of the client's address and of the name: while either must wait, the attempt is
   refused before scrypt runs (32 MiB and ~0.1 s each), so a flood costs a dictionary look-up;
   an attempt let through counts as a failure at once, so attempts sent side by side do not
   all slip through before the first is counted;
3. scrypt (drills.access.authenticate), two checks at most at once in the process; then the
   journal, and a success forgets the name's failures.
An unknown name is refused like a wrong password, slowed down the same way (the delays do not
tell which names exist) and journaled without its text too: a password typed in the name
field often matches the name pattern.

Backoff: `free` failures in a row cost nothing; then each failure makes the next attempt wait,
1 s doubled each time up to a cap: PER_NAME counts the failures on one name from anywhere,
PER_ADDRESS the failures from one client address on any names. A refusal for waiting is not a
failure (the wait does not grow while a person waits) and is journaled once per wait, so a
flood does not flood the journal. A key quiet for FORGET_AFTER starts again from zero.

The client address is Streamlit's `st.context.ip_address`: None on loopback, where nobody
can be told apart, so only names are limited there. Behind a reverse proxy, the proxy must
send X-Forwarded-For and be trusted by the server (uvicorn trusts 127.0.0.1 by default;
FORWARDED_ALLOW_IPS widens it), else every person shares the proxy's address.

State is kept in memory, in the dashboard's process, shared by all its sessions (a new
browser tab does not start the count again). That is enough for one dashboard process, which
is what `drill dashboard` and the compose file run. With N replicas behind a load balancer
each counts on its own: a guesser gets at most N times the attempts, still slowed down; shared
state (Redis, already in the stack) would be needed to hold the exact limits across replicas.
A restart forgets the counts. At most MAX_KEYS names and addresses are remembered, the least
recently failing forgotten first.
"""

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from drills import access
from drills.access import User
from drills.audit import AuditJournal

FORGET_AFTER = 3600.0
MAX_KEYS = 10_000


@dataclass(frozen=True)
class Backoff:
    """After `free` failures in a row, the next attempt waits `first` seconds, doubled with each
    further failure, at most `longest`."""

    free: int
    first: float
    longest: float

    def delay(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.longest, self.first * 2 ** (failures - self.free - 1))


PER_NAME = Backoff(free=4, first=1.0, longest=300.0)  # the 10th attempt in a row waits 16 s
PER_ADDRESS = Backoff(free=20, first=1.0, longest=900.0)  # an office shares an address


@dataclass
class Failures:
    count: int = 0
    last: float = 0.0
    not_before: float = 0.0
    refusal_journaled: bool = False


@dataclass(frozen=True)
class Admission:
    """Whether an attempt may go on: `wait_seconds` 0 if it may, else how long it must wait and
    whether it is the first refused during this wait (the one to journal); `wait_if_failed`,
    the wait the next attempt will have if this one fails."""

    wait_seconds: float = 0.0
    first_refusal: bool = False
    wait_if_failed: float = 0.0


class SignInLimiter:
    """Failures counted per name and per client address, thread-safe; `clock` gives seconds
    (time.monotonic; a test passes its own). An attempt let through is counted as a failure at
    once, until `succeeded` says otherwise: attempts running side by side see each other, so a
    burst of them is cut off like a sequence. At most `checks_at_once` password checks run at
    the same time (`checks`), the others queue: 32 MiB of scrypt each, whatever the flood."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, per_name: Backoff = PER_NAME,
                 per_address: Backoff = PER_ADDRESS, max_keys: int = MAX_KEYS, checks_at_once: int = 2):
        self.clock, self.max_keys = clock, max_keys
        self.backoff = {"name": per_name, "address": per_address}
        self.failures: OrderedDict[tuple[str, str], Failures] = OrderedDict()
        self.lock = threading.Lock()
        self.checks = threading.BoundedSemaphore(checks_at_once)

    def admit(self, name: str | None, address: str | None) -> Admission:
        """Whether an attempt for `name` (None: a name that cannot exist) from `address` (None:
        unknown) may go on now; if it may, it is counted as a failure."""
        with self.lock:
            now = self.clock()
            counted = {key: self.current(key, now) or Failures() for key in keys(name, address)}
            waiting = [failures for failures in counted.values() if failures.not_before > now]
            if waiting:
                first = not all(failures.refusal_journaled for failures in waiting)
                for failures in waiting:
                    failures.refusal_journaled = True
                return Admission(max(failures.not_before for failures in waiting) - now, first)
            for key, failures in counted.items():
                failures.count, failures.last, failures.refusal_journaled = failures.count + 1, now, False
                failures.not_before = now + self.backoff[key[0]].delay(failures.count)
                self.failures[key] = failures
                self.failures.move_to_end(key)
            while len(self.failures) > self.max_keys:
                self.failures.popitem(last=False)
            return Admission(wait_if_failed=max([0.0, *(f.not_before - now for f in counted.values())]))

    def succeeded(self, name: str, address: str | None) -> None:
        """Forget the name's failures; take back the address's failure counted for this attempt
        (only that one: one good account must not reset the count of an address guessing
        others)."""
        with self.lock:
            self.failures.pop(("name", name), None)
            for key in keys(None, address):
                if failures := self.failures.get(key):
                    failures.count = max(0, failures.count - 1)
                    failures.not_before = failures.last + self.backoff["address"].delay(failures.count)

    def current(self, key: tuple[str, str], now: float) -> Failures | None:
        failures = self.failures.get(key)
        if failures and now - failures.last > FORGET_AFTER and now >= failures.not_before:
            del self.failures[key]
            return None
        return failures


def keys(name: str | None, address: str | None) -> list[tuple[str, str]]:
    named = [("name", name)] if name is not None else []
    return named + ([("address", network(address))] if address is not None else [])


def network(address: str) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64 (one subscriber's
    usual allocation: counting each of its 2^64 addresses apart would count nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


@dataclass(frozen=True)
class Attempt:
    """What a sign-in attempt came to: the user, if signed in; else the seconds to wait before
    the next try if it was refused for that (0 for a plain refusal)."""

    user: User | None = None
    wait_seconds: float = 0.0


def sign_in(users: dict[str, User], name: str, password: str, address: str | None,
            limiter: SignInLimiter, journal: AuditJournal) -> Attempt:
    """One attempt to sign in with a password, in the order the module describes."""
    valid = access.valid_name(name)
    known = name if valid and name in users else None
    record = partial(journal.record, **({"address": address} if address else {}))
    admission = limiter.admit(name if valid else None, address)
    if admission.wait_seconds > 0:
        if admission.first_refusal:
            record("login.refused", known, reason="backoff", wait_seconds=math.ceil(admission.wait_seconds))
        return Attempt(wait_seconds=admission.wait_seconds)
    if not valid:
        record("login.refused", None, reason="invalid_name", name_length=len(name))
        return Attempt()
    with limiter.checks:
        user = access.authenticate(users, name, password)
    if user:
        limiter.succeeded(name, address)
        record("login.succeeded", user.name)
        return Attempt(user)
    wait = {"wait_seconds": math.ceil(admission.wait_if_failed)} if admission.wait_if_failed else {}
    record("login.refused", known, reason="wrong_password" if known else "unknown_name", **wait)
    return Attempt()
