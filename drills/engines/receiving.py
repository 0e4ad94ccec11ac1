"""A plan's dump written by the host into the work directory (Plan.receive), where the container
reads it: the plaintext does not cross the container engine's exec stream (dockerd copies it at
about 300 MB/s on the benchmark host, a tenth of a 1 GB PostgreSQL drill; a write to the memory
filesystem is several times faster).

The work directory is bind-mounted into the container, whose user owns it and could plant a link
there, so the file is made new through the directory's descriptor (O_EXCL | O_NOFOLLOW: never over
what is there, never through a link), owned by that user, mode 0600. What is written is capped at
engine.tmpfs (a decompression bomb stops there: the container's tmpfs no longer bounds it) and
counts against the host's memory, not the container's limit (the work directory is on a memory
filesystem: drills.workdir makes none elsewhere).
"""

import os
import time
from contextlib import contextmanager
from pathlib import Path

from drills.durable import write_all
from drills.engines.tools import capped
from drills.errors import InfrastructureError
from drills.runtimes.spec import timed_out
from drills.workdir import CONTAINER_UID
from drills import reasons


def receive(directory: Path, name: str, chunks, limit: int, timeout: float) -> None:
    """Write `chunks` into `directory`/`name`, at most `limit` bytes (restore.too_large past it),
    within `timeout` seconds (restore.timeout); error.run_dir if the directory already holds `name`
    or fills up."""
    deadline = time.monotonic() + timeout
    with host_errors(directory):
        descriptor = open_new(directory, name)
    try:
        for chunk in capped(chunks, limit):
            if time.monotonic() > deadline:
                raise timed_out(timeout)
            with host_errors(directory):
                write_all(descriptor, chunk)
    finally:
        os.close(descriptor)


def open_new(directory: Path, name: str) -> int:
    """A new file `name` in `directory`, for writing, owned by the container's user: its descriptor."""
    directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=directory_fd)
    finally:
        os.close(directory_fd)
    try:
        if os.geteuid() == 0:
            os.fchown(fd, CONTAINER_UID, CONTAINER_UID)
    except OSError:
        os.close(fd)
        raise
    return fd


@contextmanager
def host_errors(directory: Path):
    """The host's own failures (a full or missing directory, a name already taken) as error.run_dir."""
    try:
        yield
    except OSError as error:
        raise InfrastructureError(reasons.ERROR_RUN_DIR, f"the work directory {directory} failed: "
                                                         f"{error.strerror or error}",
                                  hint="point DRILL_RUN_DIR at a tmpfs with room for engine.tmpfs per drill at once"
                                  ) from None
