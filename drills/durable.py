"""Writes that survive a crash or a full disk in a known state: the evidence store's reports and
the audit journal's lines share these."""

import os
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
