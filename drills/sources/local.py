"""Source `local`: a directory or a mounted share; the newest file matching a glob."""

import os
import secrets
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from drills.errors import BackupProblem, InfrastructureError
from drills.sources.backup import Backup
from drills import reasons

MANIFEST_SUFFIXES = (".manifest.json", ".manifest.json.age")  # beside a backup, never one


def backups(settings) -> list[Backup]:
    """Every file matching the pattern, newest first (modification time, then name)."""
    directory = Path(settings.path)
    if not directory.is_dir():
        raise InfrastructureError(reasons.ERROR_SOURCE,
                                  f"the backup directory {directory} does not exist or is not mounted",
                                  hint="check the mount (NFS, SMB) or the site's source.path")
    paths = [path for path in directory.glob(settings.pattern)
             if path.is_file() and not path.name.endswith(MANIFEST_SUFFIXES)]
    if not paths:
        raise BackupProblem(reasons.BACKUP_MISSING, f"no file matches {settings.pattern!r} in {directory}",
                            hint="the backup job did not deliver: check it on the site's side")
    paths.sort(key=lambda path: (path.stat().st_mtime, path.name), reverse=True)
    return [describe(path) for path in paths]


def describe(path: Path) -> Backup:
    status = path.stat()
    return Backup(
        name=path.name,
        size=status.st_size,
        modified=datetime.fromtimestamp(status.st_mtime, timezone.utc),
        open=lambda: open_file(path),
        open_sibling=lambda suffix: open_sibling(path.with_name(path.name + suffix)),
    )


def open_file(path: Path):
    try:
        return open(path, "rb", buffering=0)
    except OSError as error:
        raise InfrastructureError(reasons.ERROR_SOURCE, f"cannot read {path}: {error.strerror}",
                                  hint="the backup vanished or became unreadable between listing and reading: "
                                       "check the mount and the backup job's rotation") from None


def open_sibling(path: Path):
    """A sibling file as a raw stream, None if absent."""
    return open_file(path) if path.is_file() else None


@contextmanager
def writer(settings, name: str):
    directory = Path(settings.path)
    directory.mkdir(parents=True, exist_ok=True)
    draft = directory / f".{name}.{secrets.token_hex(4)}.partial"  # hidden from the pattern while written
    try:
        with open(draft, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(draft, directory / name)
    finally:
        draft.unlink(missing_ok=True)
