"""Where backups are found. One module per source type, each with the same contract:

    latest(settings) -> Backup
        The newest backup matching the site's settings.
        Raises BackupProblem("backup.missing") when the source holds none, and
        InfrastructureError("error.source") when the source cannot be reached at all.

A Backup names the object, its size and modification time, opens its bytes as a raw
binary stream, and reads a small sibling object (the manifest) by suffix.
"""

from drills.sources import local
from drills.sources.backup import Backup

SOURCES = {"local": local}


def latest(settings) -> Backup:
    return SOURCES[settings.type].latest(settings)
