"""`drill seal`: the site side. What an editor or IT provider adds to a site's nightly backup job,
right after the dump:

    pg_dump -Fc -f /var/backups/lgo.dump lgo
    drill seal pharmacie-du-port /var/backups/lgo.dump --dsn 'dbname=lgo' --recipients-file /etc/restore-drill/recipients
    rm /var/backups/lgo.dump

It writes the manifest (exact row counts from the live database, a manifest the job wrote, or,
for an SQLite file or a documents archive, read from the file itself),
encrypts the dump and the manifest with age to every recipient (the site's own recovery key and
the drill service's key), and uploads both to the site's source (local, S3 or SFTP): the
manifest first, then the backup, each appearing only once whole. Nothing plaintext is written.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

from drills import manifest as manifests
from drills import sources
from drills.crypto.encrypt import AgeWriter, parse_recipient
from drills.engines import engine_for
from drills.errors import ConfigError
from drills import reasons

CHUNK = 1024 * 1024


def manifest_for(site, dump: Path, dsn: str | None, manifest_file: str | None, taken_at: datetime) -> bytes:
    """The manifest to seal: counted on the live database, the job's own (checked), or read
    from the backup file itself (sqlite, files)."""
    if engine_for(site).manifest == "file" and not manifest_file:
        return manifests.of_backup_file(site.engine.type, dump, site.id, taken_at).encode()
    if dsn:
        return manifests.of_live_database(dsn, site.id, taken_at, engine=site.engine.type).encode()
    if manifest_file:
        data = Path(manifest_file).read_bytes()
        manifests.check_belongs(manifests.parse(data), site)
        return data
    raise ConfigError("a sealed database dump needs its manifest: --dsn (counted now) or --manifest FILE",
                      code=reasons.CONFIG_USAGE)


def encrypted_upload(site, name: str, recipients: list[str], chunks) -> int:
    """Encrypt `chunks` into the object `name` at the site's source; plaintext bytes sent."""
    sent = 0
    with sources.writer(site.source, name) as remote, AgeWriter(remote, recipients) as encrypted:
        for chunk in chunks:
            encrypted.write(chunk)
            sent += len(chunk)
    return sent


def file_chunks(path: Path):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def seal(site, dump: Path, recipients: list[str], dsn: str | None = None, manifest_file: str | None = None,
         taken_at: datetime | None = None) -> dict:
    """Seal and upload `dump` for `site`; what was written."""
    if not dump.is_file():
        raise ConfigError(f"no dump at {dump}", code=reasons.CONFIG_USAGE)
    if not recipients:
        raise ConfigError("name the recipients: the site's recovery key and the drill service's key",
                          code=reasons.CONFIG_BAD_RECIPIENT,
                          hint="--recipient age1... (repeatable) or --recipients-file")
    for recipient in recipients:
        parse_recipient(recipient)
    manifest = manifest_for(site, dump, dsn, manifest_file, taken_at or datetime.now(timezone.utc))
    name = dump.name + ".age"
    encrypted_upload(site, name + ".manifest.json.age", recipients, [manifest])
    size = encrypted_upload(site, name, recipients, file_chunks(dump))
    return {"site": site.id, "backup": name, "manifest": name + ".manifest.json.age", "bytes": size,
            "tables": len(json.loads(manifest)["tables"]), "recipients": len(recipients)}
