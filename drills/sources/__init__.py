"""Where backups are found. One module per source type, each with the same contract:

    backups(settings) -> list[Backup]
        The backups matching the site's settings, newest first (never empty).
        Raises BackupProblem("backup.missing") when the source holds none, and
        InfrastructureError(reasons.ERROR_SOURCE) when the source cannot be reached at all.

    writer(settings, name) -> context manager giving a writable binary file
        What `drill seal` uploads: the object appears under `name` only once the block ends
        without an exception (a temporary name renamed, or a multipart upload completed),
        and nothing is left of it otherwise.

A Backup names the object, its size and modification time, opens its bytes as a raw
binary stream, and opens a sibling object (the manifest) by suffix the same way: None if there is
none (its reader counts and caps what it reads: drills.manifest).
"""

import random
from datetime import datetime

from drills.errors import BackupProblem
from drills.redaction import printable
from drills.sources import local, s3, sftp
from drills.sources.backup import Backup
from drills import reasons

SOURCES = {"local": local, "s3": s3, "sftp": sftp}


def listing(settings, site=None) -> list[Backup]:
    """Every backup of the site, newest first (BackupProblem backup.missing if none): the files its
    source holds (of format basebackup: each with the archived WAL beside it), or with `site` of format
    pgbackrest the sets of its repository there."""
    if site is not None and site.engine.format == "basebackup":
        from drills.sources.walarchive import with_archive

        return with_archive(SOURCES[settings.type].backups(settings), settings, site.engine.wal)
    if site is not None and site.engine.format == "pgbackrest":
        from drills.crypto.identities import identities_from, passphrase_of
        from drills.sources.pgbackrest import Repository

        return Repository(settings, site.engine.stanza, passphrase_of(identities_from(site.decrypt))).backups()
    return SOURCES[settings.type].backups(settings)


def choose(settings, now: datetime, rng: random.Random | None = None, name: str | None = None, site=None,
           before: datetime | None = None) -> Backup:
    """The backup to drill: the one named `name` as the source lists it (an operator's or the
    recovery-point finder's choice), else the newest (taken `before` a point-in-time target), or
    with `pick: random` any backup of the retention window (so that retention is proven too, not
    only the last night)."""
    found = listing(settings, site)
    if name is not None:
        return named(found, name)
    if before is not None:
        return next((backup for backup in found if backup.modified <= before), None) or no_backup_before(before)
    if settings.pick == "newest":
        return found[0]
    kept = [backup for backup in found if (now - backup.modified).total_seconds() <= settings.retention]
    return (rng or random.SystemRandom()).choice(kept or found[:1])


def named(found: list[Backup], name: str) -> Backup:
    """The backup listed as `name`: a name is only ever matched against the listing, never
    turned into a path or a key. backup.missing if the source lists none by that name."""
    matching = [backup for backup in found if backup.name == name]
    if not matching:
        shown = ", ".join(backup.name for backup in found[:5]) + (", ..." if len(found) > 5 else "")
        raise BackupProblem(reasons.BACKUP_MISSING, f"the source lists no backup named {printable(name)!r}",
                            hint=f"`drill backups SITE` lists them; the newest: {shown}")
    if len(matching) > 1:  # an S3 pattern spanning folders: two keys ending alike
        raise BackupProblem(reasons.BACKUP_MISSING, f"{len(matching)} backups are named {printable(name)!r}: "
                                                    "which one is meant cannot be told",
                            hint="narrow the site's source pattern so that names are unique")
    return matching[0]


def no_backup_before(target: datetime):
    raise BackupProblem(reasons.BACKUP_MISSING, f"no backup was taken before {target.isoformat(timespec='seconds')}",
                        hint="`drill backups SITE` lists them: recover to a time after the oldest one")


def writer(settings, name: str):
    """A writable file that becomes the object `name` at the site's source when it closes."""
    return SOURCES[settings.type].writer(settings, name)
