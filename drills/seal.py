"""`drill seal`: the site side. What an editor or IT provider runs as a site's nightly backup job.

PostgreSQL, recommended: drill seal makes the dump itself, in one snapshot with its manifest
(drills.sealing), so that the counts and fingerprints are of the dump's own moment:

    drill seal pharmacie-du-port --dsn 'dbname=lgo' --recipients-file /etc/restore-drill/recipients

Or after the job's own dump (an SQLite file, a documents archive, MariaDB, or a job's manifest):

    drill seal pharmacie-du-port /var/backups/lgo.dump --manifest /var/backups/lgo.manifest.json ...

With a DUMP and --dsn the live database is counted after the dump: writes in between make the
drill red although the backup is good, so the command warns. Either way the manifest and the dump
are encrypted with age to every recipient (the site's own recovery key and the drill service's
key) and uploaded to the site's source (local, S3 or SFTP): the manifest first, then the backup,
each appearing only once whole. Nothing plaintext is written.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

from drills import manifest as manifests
from drills import sources
from drills.sealing import SNAPSHOTS
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


def checked_recipients(recipients: list[str]) -> None:
    if not recipients:
        raise ConfigError("name the recipients: the site's recovery key and the drill service's key",
                          code=reasons.CONFIG_BAD_RECIPIENT,
                          hint="--recipient age1... (repeatable) or --recipients-file")
    for recipient in recipients:
        parse_recipient(recipient)


def uploaded(site, name: str, recipients: list[str], manifest: bytes, dump_chunks) -> dict:
    """The manifest, then the dump, sealed and uploaded as `name` (each appears only once whole)."""
    encrypted_upload(site, name + ".manifest.json.age", recipients, [manifest])
    size = encrypted_upload(site, name, recipients, dump_chunks)
    document = json.loads(manifest)
    return {"site": site.id, "backup": name, "manifest": name + ".manifest.json.age", "bytes": size,
            "tables": len(document.get("tables", {})), "fingerprints": len(document.get("fingerprints", {})),
            "recipients": len(recipients)}


def seal(site, dump: Path, recipients: list[str], dsn: str | None = None, manifest_file: str | None = None,
         taken_at: datetime | None = None) -> dict:
    """Seal and upload `dump` for `site`; what was written."""
    if not dump.is_file():
        raise ConfigError(f"no dump at {dump}", code=reasons.CONFIG_USAGE)
    checked_recipients(recipients)
    manifest = manifest_for(site, dump, dsn, manifest_file, taken_at or datetime.now(timezone.utc))
    return uploaded(site, dump.name + ".age", recipients, manifest, file_chunks(dump))


def seal_snapshot(site, dsn: str, recipients: list[str], dump_format: str | None = None) -> dict:
    """Dump the live database and count and fingerprint it in one snapshot (drills.sealing), then
    seal and upload both: no plaintext file on the site's disk."""
    if site.engine.type not in SNAPSHOTS:
        raise ConfigError(f"drill seal makes the dump itself for {', '.join(SNAPSHOTS)} sites; "
                          f"{site.id} is {site.engine.type}", code=reasons.CONFIG_USAGE,
                          hint="give the DUMP the backup job wrote, with --manifest")
    checked_recipients(recipients)
    snapshot = SNAPSHOTS[site.engine.type](dsn, dump_format)
    try:
        counts, digests = snapshot.counted(site.checks.fingerprints, site.checks.fingerprint_rows)
        manifest = manifests.render(site.id, site.engine.type, snapshot.taken_at, tables=counts, fingerprints=digests,
                                    inexact=snapshot.inexact, columns=snapshot.columns())
        name = f"{site.id}-{snapshot.taken_at:%Y%m%dT%H%M%SZ}.{snapshot.extension}.age"
        return uploaded(site, name, recipients, manifest.encode(), snapshot.dump())
    finally:
        snapshot.close()
