"""`drill users add`: the dashboard's users file, edited safely."""

import argparse
import os
import sys
from pathlib import Path

from drills.commands.common import usage


def register(add) -> None:
    command = add("users add", add_user, "add or replace a user (asks for the password)", common=False, json=False)
    command.add_argument("name")
    command.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    command.add_argument("--site", action="append", help="a viewer's site (repeat for several)")
    command.add_argument("--tenant", action="append", help="an operator's tenant (repeat for several)")
    command.add_argument("--email", help="matched when signing in through OpenID Connect")
    command.add_argument("--users", help="the users file (default: $DRILL_USERS, else ./users.yaml)")
    command.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    command.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_user(arguments) -> int:
    """Add a dashboard user (or replace one of that name); the password is read, never an argument."""
    import getpass

    import yaml

    from drills.access import hash_password, load_users
    from drills.durable import replaced

    path = Path(arguments.users or os.environ.get("DRILL_USERS") or "users.yaml")
    password = sys.stdin.readline().rstrip("\n") if arguments.password_stdin else getpass.getpass("password: ")
    if not arguments.password_stdin and getpass.getpass("again: ") != password:
        raise usage("the two passwords differ")
    if len(password) < 12:
        raise usage("a password needs at least 12 characters")
    document = yaml.safe_load(path.read_text()) if path.exists() else None
    entries = [entry for entry in (document or {}).get("users", []) if entry.get("name") != arguments.name]
    entry = {"name": arguments.name, "role": arguments.role, "password": hash_password(password)}
    entry.update({key: value for key, value in (("sites", arguments.site), ("tenants", arguments.tenant),
                                                 ("email", arguments.email)) if value})
    with replaced(path.resolve(), 0o600) as draft:
        yaml.safe_dump({"users": [*entries, entry]}, draft, sort_keys=False)
        draft.flush()
        load_users(draft.name)  # never write a file the dashboard would refuse
    print(f"{path}: user {arguments.name} ({arguments.role}) saved")
    return 0
