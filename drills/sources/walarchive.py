"""The archived WAL beside a site's pg_basebackup tars (engine postgres, format basebackup): a folder
of the site's source (engine.wal, under source.path or the S3 prefix) holding one age-encrypted
file per segment, named by it (000000010000000000000005.age; .gz.age or .zst.age when compressed
before encryption), and each timeline's history file alike (00000002.history.age).

Names are the archive's, so hostile: drills.sources.tree refuses `..` and unprintable ones, and
only regular files directly in the folder, named as a segment or a history file, are ever read;
anything else there (a .partial, a .backup file) is left aside. A drill hands its restore
container the segments from its base backup's start on and every history file, each decrypted
here with the site's identities and decompressed (bounded), as members of a tar; their
ciphertext is hashed in order, for the report.
"""

import hashlib
import io
import re
from dataclasses import dataclass, fields
from typing import Iterator

from drills.crypto import age
from drills.errors import BackupProblem
from drills.sources import wal
from drills.sources.backup import Backup
from drills.sources.tree import tree_of
from drills.streams import PIECE, Meter, decompressed
from drills.tarstream import BLOCK, header, padding
from drills import reasons

FILE = re.compile(r"^(?P<wal>[0-9A-F]{24}|[0-9A-F]{8}\.history)(\.gz|\.zst)?\.age$")
ARCHIVED = re.compile(r"^([0-9A-F]{24}|[0-9A-F]{8}\.history)")  # any file of a WAL archive (.backup, .partial too)
# bytes, decompressed: a file is held whole (a tar header needs its size first), so a bomb costs at
# most this much of the worker's memory; 64 MiB covers wal_segment_size up to 64 MB (16 MB by default)
MAX_FILE = 64 * 1024**2


class WalArchive:
    """The WAL folder of one site's source, listed once; `shipped` accounts for what was handed on."""

    def __init__(self, source, folder: str):
        self.tree, self.folder = tree_of(source), folder.rstrip("/") + "/"
        self.listed: dict | None = None
        self.start: str | None = None  # the base backup's first segment, once its backup_label is read
        self.files = self.bytes = 0
        self.sha256 = None

    def entries(self) -> dict:
        """WAL file name (a segment's, `TTTTTTTT.history`) -> its entry at the source."""
        if self.listed is None:
            self.listed = {}
            for entry in self.tree.list(self.folder):
                match = FILE.match(entry.key[len(self.folder):])
                if match and self.listed.setdefault(match["wal"], entry) is not entry:
                    raise BackupProblem(reasons.RESTORE_FAILED, f"the WAL archive holds two files for {match['wal']}",
                                        hint="keep one file per segment in the archive (engine.wal)")
        return self.listed

    def gap(self) -> str | None:
        """The first segment missing from the archive after the start (which the base tar holds,
        pg_basebackup -X fetch) and before the newest one archived on its timeline."""
        return wal.first_gap([*self.entries(), self.start], self.start)

    def needed(self) -> list[tuple[str, object]]:
        """Every history file, and the segments from the start on (any timeline), in name order."""
        first = wal.parse(self.start)[1]
        return sorted((name, entry) for name, entry in self.entries().items()
                      if name.endswith(".history") or wal.parse(name)[1] >= first)

    def tar(self, under: str, identities, limit: int) -> Iterator[bytes]:
        """The needed files as a tar, each under `under/`, decompressing at most `limit` bytes in all."""
        self.sha256 = hashlib.sha256()
        for name, entry in self.needed():
            content = self.plaintext(name, entry, identities, min(MAX_FILE, limit))
            limit -= len(content)
            yield header(f"{under}/{name}", len(content))
            yield from (content[offset:offset + PIECE] for offset in range(0, len(content), PIECE))
            yield bytes(padding(len(content)))
        yield bytes(2 * BLOCK)

    def plaintext(self, name: str, entry, identities, limit: int) -> bytes:
        meter = Meter(self.tree.open(entry), self.sha256)
        reader = io.BufferedReader(meter, buffer_size=PIECE)
        try:
            content = b"".join(decompressed(age.decrypt(reader, identities), limit))
        except BackupProblem as problem:
            raise BackupProblem(problem.code, f"WAL file {name}: {problem.message}", problem.hint) from None
        finally:
            reader.close()
        self.files, self.bytes = self.files + 1, self.bytes + meter.bytes
        return content

    def described(self) -> dict | None:
        """The report's `recovery.wal`: the start segment, the files handed on, their ciphertext's bytes and sha256."""
        if self.start is None or self.sha256 is None:
            return None
        return {"start": self.start, "files": self.files, "bytes": self.bytes, "sha256": self.sha256.hexdigest()}


@dataclass
class BaseLabel:
    """A pg_basebackup tar's start as its backup_label says it, filled in as the tar passes by."""

    archive: WalArchive
    kind: str = "base"
    lsn_start: str | None = None
    lsn_stop: str | None = None  # not in backup_label

    @property
    def wal(self) -> dict | None:
        return self.archive.described()

    @property
    def stored_until(self):
        """When the storage received the newest WAL file handed on (None before the start is known)."""
        if self.archive.start is None:
            return None
        return max((entry.modified for _, entry in self.archive.needed()), default=None)


@dataclass(frozen=True)
class BaseBackup(Backup):
    physical: BaseLabel | None = None


def with_archive(backups: list[Backup], source, folder: str) -> list[BaseBackup]:
    """The base backups a source lists, each with the archive (a file named as an archive's is none:
    an S3 pattern may reach into the WAL folder)."""
    archive = WalArchive(source, folder)
    found = [BaseBackup(**{field.name: getattr(backup, field.name) for field in fields(backup)},
                        physical=BaseLabel(archive)) for backup in backups if not ARCHIVED.match(backup.name)]
    if not found:
        raise BackupProblem(reasons.BACKUP_MISSING, "the source's pattern matches archived WAL files only",
                            hint="name the base backups apart (source.pattern: e.g. base-*.tar.zst.age)")
    return found
