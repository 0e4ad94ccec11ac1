"""Who may see what: the users file, password checks, and each user's scope of sites.

Roles: `viewer` (a pharmacist: the sites listed), `operator` (an IT provider or editor: every
site of the tenants listed), `admin` (everything, and the audit journal). The scope is
computed here, on the server side, and every read of the dashboard goes through it
(drills.fleet): hiding a widget is never what keeps a site's data from a user.

Passwords are stored as scrypt hashes (memory-hard: 32 MiB and ~0.1 s per check), written by
`drill users add`. A user signing in through OpenID Connect is matched by e-mail address.
"""

import base64
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from drills.catalog.loader import load_validated
from drills.catalog.schema import SITE_ID_PATTERN
from drills.options import Choice, ListOf, Record, Text

ROLES = ("viewer", "operator", "admin")
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
HASH_PREFIX = "scrypt"
NAME_MAX_CHARS = 64
NAME_PATTERN = rf"[A-Za-z0-9._@-]{{1,{NAME_MAX_CHARS}}}"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password: str | None = None  # the scrypt hash
    email: str | None = None
    sites: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()

    def scope(self, catalog) -> frozenset[str]:
        """The ids of the sites this user may see."""
        if self.role == "admin":
            return frozenset(site.id for site in catalog.sites)
        if self.role == "operator":
            return frozenset(site.id for site in catalog.sites if site.tenant in self.tenants)
        return frozenset(site.id for site in catalog.sites if site.id in self.sites)


def build_user(**values) -> User:
    return User(**{**values, "sites": tuple(values["sites"]), "tenants": tuple(values["tenants"])})


USERS = Record("The dashboard's users.", {
    "users": ListOf("The users.", Record("One user.", {
        "name": Text("Login name.", pattern=NAME_PATTERN, required=True, example="marie"),
        "role": Choice("What the user sees.", ROLES, required=True, example="viewer"),
        "password": Text("scrypt hash written by `drill users add` (never the password itself).",
                         pattern=rf"{HASH_PREFIX}\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+"),
        "email": Text("E-mail address matched when signing in through OpenID Connect.",
                      example="marie@pharmacie-du-port.fr"),
        "sites": ListOf("A viewer's sites.", Text("Site id.", pattern=SITE_ID_PATTERN), default=[]),
        "tenants": ListOf("An operator's tenants.", Text("Tenant id.", pattern=SITE_ID_PATTERN), default=[]),
    }, build=build_user), required=True),
}, required=True)


def check_users(values: dict, ctx) -> None:
    seen = set()
    for index, user in enumerate(values["users"]):
        where = ("users", index)
        if user.name in seen:
            ctx.problem(where, f"user {user.name!r} is listed twice")
        seen.add(user.name)
        if user.role == "viewer" and not user.sites:
            ctx.problem(where, "a viewer needs `sites`")
        if user.role == "operator" and not user.tenants:
            ctx.problem(where, "an operator needs `tenants`")
        if not user.password and not user.email:
            ctx.problem(where, "give `password` (drill users add) or `email` (OpenID Connect)")


def load_users(path: str | Path) -> dict[str, User]:
    values = load_validated(path, USERS, "users file", across_fields=check_users,
                            hint="give it with --users or DRILL_USERS; add users with `drill users add`")
    return {user.name: user for user in values["users"]}


def valid_name(name: str) -> bool:
    """Whether a typed name could be in the users file at all (its pattern)."""
    return len(name) <= NAME_MAX_CHARS and re.fullmatch(NAME_PATTERN, name) is not None


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = kdf(salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P).derive(password.encode())
    return "$".join([HASH_PREFIX, str(SCRYPT_LOG2_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(key).decode()])


def password_matches(stored: str, password: str) -> bool:
    _, log2_n, r, p, salt, key = stored.split("$")
    try:
        kdf(base64.b64decode(salt), int(log2_n), int(r), int(p)).verify(password.encode(), base64.b64decode(key))
        return True
    except InvalidKey:
        return False


def kdf(salt: bytes, log2_n: int, r: int, p: int) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p)


@cache
def decoy_hash() -> str:
    return hash_password(base64.b64encode(os.urandom(12)).decode())


def authenticate(users: dict[str, User], name: str, password: str) -> User | None:
    """The user if the password is theirs. An unknown name costs the same scrypt run, so the
    time taken does not tell which names exist."""
    user = users.get(name)
    stored = user.password if user and user.password else decoy_hash()
    matches = password_matches(stored, password)
    return user if matches and user is not None and user.password else None


def user_by_email(users: dict[str, User], email: str | None) -> User | None:
    """The user an OpenID Connect identity stands for (compared without case)."""
    if not email:
        return None
    return next((user for user in users.values()
                 if user.email and hmac.compare_digest(user.email.lower(), email.lower())), None)
