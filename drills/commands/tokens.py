"""`drill tokens` (the API's tokens, per tenant and role) and `drill badges` (a site's status
badge behind an unguessable token): add (the token is printed once), list, revoke."""

import re

from drills.commands.common import catalog_of, usage
from drills.commands.output import emit, table
from drills import reasons
from drills.errors import ConfigError

ROLES = ("viewer", "operator", "admin")


def register(add) -> None:
    command = add("tokens add", add_token, "make an API token (printed once, stored hashed)")
    command.add_argument("--role", required=True, choices=ROLES)
    command.add_argument("--tenant", action="append", help="an operator's tenant (repeat for several)")
    command.add_argument("--site", action="append", help="a viewer's site (repeat for several)")
    add_file_option(command)
    add_file_option(add("tokens list", list_tokens, "list the API tokens (never the tokens themselves)"))
    command = add("tokens revoke", revoke_token, "revoke an API token by its id (t-...)")
    command.add_argument("id")
    add_file_option(command)
    command = add("badges add", add_badge, "make a status badge token for a site (printed once, stored hashed)")
    command.add_argument("site")
    add_file_option(command)
    add_file_option(add("badges list", list_badges, "list the badges (never their tokens)"))
    command = add("badges revoke", revoke_badge, "revoke a badge by its id (b-...), or every badge of a site")
    command.add_argument("which", metavar="SITE_OR_ID")
    add_file_option(command)


def add_file_option(command) -> None:
    command.add_argument("--tokens", help="the tokens file (default: $DRILL_TOKENS, else tokens.json beside "
                                          "the users file: --users, $DRILL_USERS, ./users.yaml)")
    command.add_argument("--users", help="the users file, to find the tokens file beside it")


def token_file(arguments):
    from drills.tokens import TokenFile, tokens_path

    return TokenFile(arguments.tokens or tokens_path(arguments.users))


def add_token(arguments) -> int:
    from drills.catalog.schema import SITE_ID_PATTERN

    tenants, sites = arguments.tenant or [], arguments.site or []
    if arguments.role == "operator" and not tenants:
        raise usage("an operator token needs --tenant")
    if arguments.role == "viewer" and not sites:
        raise usage("a viewer token needs --site")
    if arguments.role == "admin" and (tenants or sites):
        raise usage("an admin token sees every site: give no --tenant or --site")
    for name in tenants + sites:
        if not re.fullmatch(SITE_ID_PATTERN, name):
            raise usage(f"{name!r} is not a tenant or site id")
    known = {site.id for site in catalog_of(arguments).sites}
    if unknown := sorted(set(sites) - known):
        raise usage_unknown(unknown)
    entry, token = token_file(arguments).add("token", arguments.role, tenants, sites)
    emit(arguments, {**entry.listed(), "token": token},
         f"token {entry.id} ({entry.role}): {token}\n"
         f"It is shown only now (the tokens file keeps its hash): send it as `Authorization: Bearer {token[:8]}…`.")
    return 0


def add_badge(arguments) -> int:
    if arguments.site not in {site.id for site in catalog_of(arguments).sites}:
        raise usage_unknown([arguments.site])
    entry, token = token_file(arguments).add("badge", sites=(arguments.site,))
    paths = {"svg": f"/badges/{token}.svg", "json": f"/badges/{token}.json"}
    emit(arguments, {**entry.listed(), "token": token, "paths": paths},
         f"badge {entry.id} of {arguments.site}: {paths['svg']}  (JSON: {paths['json']})\n"
         "Put it after the API's public address; it is shown only now (the tokens file keeps its hash).")
    return 0


def list_tokens(arguments) -> int:
    return list_entries(arguments, "token")


def list_badges(arguments) -> int:
    return list_entries(arguments, "badge")


def list_entries(arguments, kind: str) -> int:
    entries = [entry.listed() for entry in token_file(arguments).entries() if entry.kind == kind]
    rows = [{"id": entry["id"], **({"role": entry["role"], "tenants": ",".join(entry["tenants"]) or "-"}
                                   if kind == "token" else {}),
             "sites": ",".join(entry["sites"]) or "-", "created_at": entry["created_at"],
             "revoked_at": entry["revoked_at"] or "-"} for entry in entries]
    emit(arguments, entries, table(rows))
    return 0


def revoke_token(arguments) -> int:
    return revoke(arguments, "token", arguments.id)


def revoke_badge(arguments) -> int:
    return revoke(arguments, "badge", arguments.which)


def revoke(arguments, kind: str, which: str) -> int:
    revoked = token_file(arguments).revoke(kind, which)
    emit(arguments, [entry.listed() for entry in revoked],
         "\n".join(f"{kind} {entry.id} revoked" for entry in revoked))
    return 0


def usage_unknown(sites: list[str]) -> ConfigError:
    return ConfigError(f"no site {', '.join(sites)} in the catalog", code=reasons.CONFIG_UNKNOWN_SITE,
                       hint="`drill sites` lists them")
