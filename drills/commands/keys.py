"""`drill keys init|rotate|export-public`: the key that signs reports."""

from drills.audit import AuditJournal
from drills.commands.common import catalog_of, cli_user, signing_key_of
from drills.reports import keys


def register(add) -> None:
    for action, function, help_text in (
            ("init", init, "create the report signing key"),
            ("rotate", rotate, "replace the signing key; reports signed before still verify"),
            ("export-public", export_public, "print every public key ever used, for third parties")):
        command = add(f"keys {action}", function, help_text, json=False)
        command.add_argument("--key", help="the signing key file (default: the catalog's signing_key)")


def init(arguments) -> int:
    private_path = signing_key_of(arguments)
    public_key = keys.init(private_path)
    print(f"signing key {keys.key_id(public_key)} written to {private_path} (public half: "
          f"{keys.public_path(private_path)})")
    return 0


def rotate(arguments) -> int:
    catalog = None if arguments.key else catalog_of(arguments)
    private_path = signing_key_of(arguments)
    old_id, public_key = keys.rotate(private_path)
    if catalog:
        AuditJournal(catalog.evidence).record("key.rotated", cli_user(), retired=old_id,
                                              signing=keys.key_id(public_key))
    print(f"signing key rotated: {old_id} retired (its public key stays in {keys.keyring_path(private_path)}), "
          f"{keys.key_id(public_key)} signs from now on")
    return 0


def export_public(arguments) -> int:
    for identifier, public_key in keys.keyring(signing_key_of(arguments)).items():
        print(f"# {identifier}\n{keys.public_pem(public_key).decode()}", end="")
    return 0
