"""What several commands read from their arguments: the catalog, the trusted keys, the user."""

import getpass
import os
from pathlib import Path

from drills.catalog import load_catalog
from drills.errors import ConfigError
from drills.reports import keys
from drills import reasons


def catalog_path_of(arguments) -> Path:
    """--catalog, else $DRILL_CATALOG, else ./catalog.yaml."""
    return Path(arguments.catalog or os.environ.get("DRILL_CATALOG") or "catalog.yaml")


def catalog_of(arguments):
    return load_catalog(catalog_path_of(arguments))


def signing_key_of(arguments) -> Path:
    """--key if given, else the catalog's signing key."""
    return Path(arguments.key) if arguments.key else catalog_of(arguments).signing_key


def trusted_keys(arguments) -> dict:
    """The keys a report may be signed with: --public-key if given, else the catalog's keyring."""
    if arguments.public_key:
        public_key = keys.load_public(Path(arguments.public_key))
        return {keys.key_id(public_key): public_key}
    return keys.keyring(catalog_of(arguments).signing_key)


def cli_user() -> str:
    """Who ran a command, for the journal: the operating system's user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def recipients_of(arguments) -> list[str]:
    """The age recipients of --recipient flags and --recipients-file files (one a line, # comments)."""
    recipients = list(arguments.recipient or [])
    for recipients_file in arguments.recipients_file or []:
        try:
            lines = Path(recipients_file).read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"cannot read {recipients_file}: {error.strerror}", code=reasons.CONFIG_USAGE) from None
        recipients += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return recipients


def add_recipients(command) -> None:
    command.add_argument("--recipient", action="append", help="an age recipient, age1... (repeatable)")
    command.add_argument("--recipients-file", action="append", help="a file of recipients, one a line")


def usage(message: str) -> ConfigError:
    return ConfigError(message, code=reasons.CONFIG_USAGE)
