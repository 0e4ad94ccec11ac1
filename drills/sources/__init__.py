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
binary stream, and reads a small sibling object (the manifest) by suffix.
"""

import random
from datetime import datetime

from drills.sources import local, s3, sftp
from drills.sources.backup import Backup

SOURCES = {"local": local, "s3": s3, "sftp": sftp}


def choose(settings, now: datetime, rng: random.Random | None = None) -> Backup:
    """The backup to drill: the newest, or with `pick: random` any backup of the retention
    window (so that retention is proven too, not only the last night)."""
    found = SOURCES[settings.type].backups(settings)
    if settings.pick == "newest":
        return found[0]
    kept = [backup for backup in found if (now - backup.modified).total_seconds() <= settings.retention]
    return (rng or random.SystemRandom()).choice(kept or found[:1])


def writer(settings, name: str):
    """A writable file that becomes the object `name` at the site's source when it closes."""
    return SOURCES[settings.type].writer(settings, name)
