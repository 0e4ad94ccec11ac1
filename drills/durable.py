"""Writes that survive a crash or a full disk in a known state: the evidence store's reports, the
audit journal's lines, the files rewritten whole (index baselines, users, tokens) share these."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def write_all(descriptor: int, data: bytes) -> None:
    """Every byte of `data`; should the disk take only part of a write (nearly full), the rest
    follows at once, so a writer holding a lock never leaves another's line in between."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def sync_directory(directory: Path) -> None:
    """fsync a directory, so that a name linked or created in it survives a power loss."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def replaced(path: Path, mode: int = 0o644):
    """A text draft beside `path` for the block to write (its `.name` is the draft's path); once the
    block ends, flushed to disk, given `mode` and renamed over `path`, the directory synced: a
    reader sees the old file or the new one, never part of one. A failed block leaves `path` as it was."""
    path = Path(path)
    descriptor, draft = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(descriptor)
    try:
        with open(draft, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(draft, mode)
        os.replace(draft, path)
        sync_directory(path.parent)
    finally:
        Path(draft).unlink(missing_ok=True)
