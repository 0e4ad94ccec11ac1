"""Engine `postgres`, format `basebackup`: the tar `pg_basebackup -D - -Ft -X fetch` writes (plain,
gzip or zstd, age-encrypted like any backup) and the site's archived WAL (drills.sources.walarchive),
replayed inside the restore container to the latest point or to a time (drills.engines.physical
does the recovery and the checks).

The base tar streams into the data directory through GNU tar. A filter reads its first member as
it passes, bounded and parsed without trust: pg_basebackup writes backup_label first, naming the
WAL segment the recovery starts at; a tar without it is refused before the rest streams. When
the base tar ends, the filter appends a second tar, which GNU tar reads on past the first one's
end (--ignore-zeros): the archived segments from the start on, decrypted and decompressed here,
into a folder of the data directory named with this attempt's token (a backup cannot plant it);
restore_command copies from there. The data tmpfs holds both: no copy from one tmpfs to another.
"""

import re
import tarfile
from pathlib import Path

from drills.engines import physical
from drills.engines.plan import EARLY, Step
from drills.engines.postgres_server import DATA_DIR
from drills.errors import BackupProblem
from drills import reasons

LABEL = "backup_label"
MAX_LABEL = 64 * 1024  # bytes; pg_basebackup's is about 250
START = re.compile(r"^START WAL LOCATION: ([0-9A-F]{1,8}/[0-9A-F]{1,8}) \(file ([0-9A-F]{24})\)$", re.MULTILINE)
NOT_A_BASE = "not a pg_basebackup -Ft tar: backup_label is not its first member"
HINT = "the backup job must write `pg_basebackup -D - -Ft -X fetch` (one tar on stdout), then compress and encrypt it"
EXTRACT = ("tar", "-x", "--ignore-zeros", "--no-same-owner", "-C", DATA_DIR, "-f", "-")


def start_of(head: bytes, ended: bool = False) -> tuple[str, str] | None:
    """(start LSN, start segment) from the tar's first member, None while more bytes are needed;
    restore.failed if the first member is not a backup_label naming them."""
    if len(head) >= tarfile.BLOCKSIZE:
        try:
            first = tarfile.TarInfo.frombuf(head[:tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
        except tarfile.HeaderError:
            raise not_a_base(NOT_A_BASE) from None
        if first.name != LABEL or not first.isreg() or first.size > MAX_LABEL:
            raise not_a_base(NOT_A_BASE)
        if len(head) >= tarfile.BLOCKSIZE + first.size:
            found = START.search(head[tarfile.BLOCKSIZE:tarfile.BLOCKSIZE + first.size].decode("ascii", "replace"))
            if not found:
                raise not_a_base("not a pg_basebackup -Ft tar: its backup_label names no START WAL LOCATION")
            return found.group(1), found.group(2)
    if ended:
        raise not_a_base(NOT_A_BASE)
    return None


def not_a_base(message: str) -> BackupProblem:
    return BackupProblem(reasons.RESTORE_FAILED, message, hint=HINT)


def with_wal(label, identities, under: str, limit: int, latest: bool):
    """The filter: the base tar as it is, its start read on the way, then the archived WAL's tar.
    A gap in the archive is restore.wal_gap before anything streams when the target is the latest."""
    archive = label.archive

    def filtered(chunks):
        chunks, head, start = iter(chunks), b"", None
        while start is None:
            chunk = next(chunks, None)
            head += chunk or b""
            start = start_of(head, ended=chunk is None)
        label.lsn_start, archive.start = start
        if latest and (gap := archive.gap()):
            raise physical.wal_gap(gap, check="archive_command's log")
        passed = len(head)
        yield head
        for chunk in chunks:
            passed += len(chunk)
            yield chunk
        yield from archive.tar(under, identities, limit - passed)

    return filtered


def plan(site, drill_id: str, work_dir: str, request):
    engine, label = site.engine, request.backup.physical
    folder = f".drill-wal-{Path(work_dir).name.rsplit('.', 1)[-1]}"  # the attempt's token: DRILL_ID.TOKEN
    extract = Step("extracting the base backup", EXTRACT, when=EARLY, dump=True,
                   hint="the base backup does not extract, or it and its WAL do not fit in engine.tmpfs")

    def explain(problem: BackupProblem) -> BackupProblem:
        gap = label.archive.gap() if label.archive.start else None
        return physical.wal_gap(gap, check="archive_command's log") if gap and \
            problem.code == reasons.RESTORE_FAILED else problem

    return physical.plan(site, drill_id, work_dir, request, (extract,), f'cp {DATA_DIR}/{folder}/%f "%p"',
                         filters=(with_wal(label, request.identities, folder, engine.max_decompressed,
                                           request.target is None),), explain=explain)
