"""The API's tokens and the sites' badge tokens: made once, stored hashed, revocable.

A token is 256 random bits (`rdt_` + 43 base64url characters for the API, `rdb_` for a badge),
shown once when it is made. The tokens file keeps only its sha256, with an id to list and
revoke it by (`t-` or `b-` + 8 hex digits): a copy of the file lets nobody in. A revoked token
stays in the file, marked with the time of its revocation, so the audit journal's ids keep a
meaning.

An API token carries a role and a scope, as a dashboard user does (drills.access): `viewer`
(the sites listed), `operator` (every site of the tenants listed), `admin` (every site). A
badge token names one site and reads nothing but that site's badge.

The file is JSON, `tokens.json` beside the users file unless DRILL_TOKENS names it, written
whole (temporary file, fsync, rename; mode 600) under a lock, and read again on every request
by `drill api`: a revocation holds from the next request.
"""

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from drills import reasons
from drills.access import User
from drills.durable import replaced
from drills.errors import ConfigError

TOKEN_PREFIX = {"token": "rdt_", "badge": "rdb_"}
ID_PREFIX = {"token": "t-", "badge": "b-"}
KINDS = {"token": "tokens", "badge": "badges"}


@dataclass(frozen=True)
class Token:
    """One entry of the file: an API token (`role`, `tenants`, `sites`) or a badge (`sites`: its one site)."""

    id: str
    kind: str
    sha256: str
    created_at: str
    role: str = "viewer"
    tenants: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    revoked_at: str | None = None

    def as_user(self) -> User:
        """The user this token stands for, whose scope (drills.access) is the token's."""
        return User(name=f"token:{self.id}", role=self.role, sites=self.sites, tenants=self.tenants)

    def listed(self) -> dict:
        """What `drill tokens list` shows: everything but the hash."""
        scope = {"role": self.role, "tenants": list(self.tenants)} if self.kind == "token" else {}
        return {"id": self.id, **scope, "sites": list(self.sites), "created_at": self.created_at,
                "revoked_at": self.revoked_at}


def tokens_path(users_path: str | None = None) -> Path:
    """$DRILL_TOKENS, else tokens.json beside the users file (--users, $DRILL_USERS, ./users.yaml)."""
    if os.environ.get("DRILL_TOKENS"):
        return Path(os.environ["DRILL_TOKENS"])
    return Path(users_path or os.environ.get("DRILL_USERS") or "users.yaml").parent / "tokens.json"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def entries(self) -> list[Token]:
        """Every token and badge, revoked ones included ([] if the file does not exist yet)."""
        try:
            document = json.loads(self.path.read_text())
            return [Token(**{**entry, "tenants": tuple(entry.get("tenants", ())),
                             "sites": tuple(entry.get("sites", ()))})
                    for kind in KINDS for entry in document.get(KINDS[kind], [])]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError) as error:
            raise ConfigError(f"{self.path}: not a tokens file ({error})", code=reasons.CONFIG_INVALID,
                              hint="it is written by `drill tokens add` and `drill badges add`") from None

    def find(self, kind: str, token: str) -> Token | None:
        """The live (not revoked) entry of `kind` this token is, or None."""
        if not token.startswith(TOKEN_PREFIX[kind]):
            return None
        wanted = digest(token)
        return next((entry for entry in self.entries() if entry.kind == kind and entry.revoked_at is None
                     and hmac.compare_digest(entry.sha256, wanted)), None)

    def add(self, kind: str, role: str = "viewer", tenants=(), sites=()) -> tuple[Token, str]:
        """A new entry and its token (returned once, never stored)."""
        token = TOKEN_PREFIX[kind] + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        entry = Token(id=ID_PREFIX[kind] + secrets.token_hex(4), kind=kind, sha256=digest(token), created_at=now(),
                      role=role, tenants=tuple(tenants), sites=tuple(sites))
        with self.editing() as entries:
            entries.append(entry)
        return entry, token

    def revoke(self, kind: str, which: str) -> list[Token]:
        """Revoke the live entries of `kind` whose id is `which`, or (a badge) whose site is `which`;
        the entries revoked. ConfigError (config.usage) if none is."""
        with self.editing() as entries:
            chosen = [index for index, entry in enumerate(entries) if entry.kind == kind and entry.revoked_at is None
                      and (entry.id == which or (kind == "badge" and which in entry.sites))]
            if not chosen:
                raise ConfigError(f"no live {kind} {which!r} in {self.path}", code=reasons.CONFIG_USAGE,
                                  hint=f"`drill {KINDS[kind]} list` shows them")
            for index in chosen:
                entries[index] = replace(entries[index], revoked_at=now())
        return [entries[index] for index in chosen]

    @contextmanager
    def editing(self):
        """The entries, to change in place; written back whole, atomically, under the file's lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self.entries()
            yield entries
            self.write(entries)

    def write(self, entries: list[Token]) -> None:
        document = {plural: [stored(entry) for entry in entries if entry.kind == kind] for kind, plural in KINDS.items()}
        with replaced(self.path, 0o600) as draft:
            json.dump(document, draft, indent=2)


def stored(entry: Token) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in entry.__dict__.items()}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
