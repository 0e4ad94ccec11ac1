"""`drill certificate` and `drill evidence sync`: evidence handed to third parties and to the
replica. Whatever leaves is written in the audit journal."""

import json
from pathlib import Path

from drills.audit import AuditJournal
from drills.commands.common import catalog_of, cli_user, trusted_keys
from drills.commands.output import emit
from drills.errors import ConfigError
from drills import finder
from drills.reports import anchors
from drills.reports.evidence import EvidenceStore
from drills.reports.signing import read_signature
from drills import reasons


def register(add) -> None:
    certificate_command = add("certificate", certificate, "reversibility certificate of a passed drill: PDF and "
                                                          "HTML, French and English, the report attached")
    certificate_command.add_argument("drill_id", metavar="DRILL_ID")
    certificate_command.add_argument("--lang", choices=["fr", "en"], help="one language only (default: both)")
    certificate_command.add_argument("--output", default=".", help="where to write the files (default: here)")
    certificate_command.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    add("evidence sync", sync, "copy to the replica every report, finder answer and journal anchor it lacks")


def certificate(arguments) -> int:
    from drills.certificates import certificate_files

    catalog = catalog_of(arguments)
    path = EvidenceStore(catalog.evidence).find(arguments.drill_id)
    languages = (arguments.lang,) if arguments.lang else ("fr", "en")
    files = certificate_files(path.read_bytes(), read_signature(path), path.name, trusted_keys(arguments), languages)
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (output / name).write_bytes(content)
    AuditJournal(catalog.evidence).record("certificate.issued", cli_user(), site=path.parent.name,
                                          report=path.name, files=sorted(files))
    written = [str(output / name) for name in files]
    print(json.dumps({"drill_id": arguments.drill_id, "report": str(path), "files": written}) if arguments.json
          else "\n".join(written))
    return 0


def sync(arguments) -> int:
    catalog = catalog_of(arguments)
    store = EvidenceStore.of(catalog)
    if store.replica is None:
        raise ConfigError("the catalog has no evidence_replica", code=reasons.CONFIG_USAGE,
                          hint="see `drill schema`: evidence_replica")
    finder_folders = [finder.folder(site.id) for site in catalog.sites if finder.answers(store.root, site.id)]
    copied = store.sync([*(site.id for site in catalog.sites), anchors.FOLDER, *finder_folders])
    emit(arguments, copied, "\n".join(f"{folder}: {count} {'anchor' if folder == anchors.FOLDER else 'document'}(s) "
                                       "copied" for folder, count in copied.items()))
    return 0
