"""A plan's dump written by the host into the work directory (Plan.receive), where the container
reads it: the plaintext does not cross the container engine's exec stream (dockerd copies it at
about 300 MB/s on the benchmark host, a tenth of a 1 GB PostgreSQL drill; a write to the memory
filesystem is several times faster).

The work directory is bind-mounted into the container, whose user owns it and could plant a link
there, so the file is made new through the directory's descriptor (O_EXCL | O_NOFOLLOW: never over
what is there, never through a link), owned by that user, mode 0600. What is written is capped at
engine.tmpfs (a decompression bomb stops there: the container's tmpfs no longer bounds it) and
counts against the host's memory, not the container's limit; the directory must be a memory
filesystem (plaintext never on a disk).
"""

import os
import time
from contextlib import contextmanager
from pathlib import Path

from drills.engines.tools import capped
from drills.errors import InfrastructureError
from drills.runtimes.spec import timed_out
from drills.workdir import CONTAINER_UID, memory_filesystem
from drills import reasons


def receive(directory: Path, name: str, chunks, limit: int, timeout: float) -> None:
    """Write `chunks` into `directory`/`name`, at most `limit` bytes (restore.too_large past it),
    within `timeout` seconds (restore.timeout); error.run_dir if the directory is not in memory,
    already holds `name`, or fills up."""
    if not memory_filesystem(directory):
        raise run_dir_problem(directory, "is not on a memory filesystem: the plaintext would reach a disk")
    deadline = time.monotonic() + timeout
    with host_errors(directory):
        out = open_new(directory, name)
    with out:
        for chunk in capped(chunks, limit):
            if time.monotonic() > deadline:
                raise timed_out(timeout)
            view = memoryview(chunk)
            while view:
                with host_errors(directory):
                    view = view[out.write(view):]


def open_new(directory: Path, name: str):
    """A new file `name` in `directory`, for writing, owned by the container's user."""
    directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=directory_fd)
    finally:
        os.close(directory_fd)
    if os.geteuid() == 0:
        os.fchown(fd, CONTAINER_UID, CONTAINER_UID)
    return open(fd, "wb", buffering=0)


@contextmanager
def host_errors(directory: Path):
    """The host's own failures (a full or missing directory, a name already taken) as error.run_dir."""
    try:
        yield
    except OSError as error:
        raise run_dir_problem(directory, f"failed: {error.strerror or error}") from None


def run_dir_problem(directory: Path, what: str) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_RUN_DIR, f"the work directory {directory} {what}",
                               hint="point DRILL_RUN_DIR at a tmpfs with room for engine.tmpfs per drill at once")
