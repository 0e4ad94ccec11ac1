"""Each drill attempt's private directory on the host: the restored server's socket, or the
restored files themselves (SQLite, archives), bind-mounted into the container and removed at
teardown. It lies on a memory filesystem whenever the host has one, so restored patient data
never reaches the host's disk.
"""

import os
import secrets
import tempfile
from pathlib import Path

from drills.errors import InfrastructureError
from drills import reasons

CONTAINER_UID = 999  # the restore containers' user (as in the official postgres and mariadb images)
MEMORY_FILESYSTEMS = ("tmpfs", "ramfs")


def memory_filesystem(path: Path) -> bool:
    """Whether `path` lies on tmpfs or ramfs (its longest mount point in /proc/mounts)."""
    resolved, best, kind = str(Path(path).resolve()), "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount_point, filesystem = line.split()[:3]
        if (resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")) and len(mount_point) > len(best):
            best, kind = mount_point, filesystem
    return kind in MEMORY_FILESYSTEMS


def default_run_dir() -> str:
    """/run/restore-drill where /run is in memory (as on most hosts), else /dev/shm/restore-drill."""
    for base in ("/run", "/dev/shm"):
        if os.access(base, os.W_OK) and memory_filesystem(Path(base)):
            return f"{base}/restore-drill"
    return os.path.join(tempfile.gettempdir(), "restore-drill")


def run_dir() -> Path:
    return Path(os.environ.get("DRILL_RUN_DIR") or default_run_dir())


def prepare_run_dir(owner: int = CONTAINER_UID) -> Path:
    """Make the run directory private to `owner` (mode 0700), whoever made it: Docker makes a
    missing bind-mount source as root, mode 0755, where no worker can write. Needs root."""
    base = run_dir()
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    os.chown(base, owner, owner)
    return base


def run_dir_usable() -> bool:
    """Whether this process can make work directories in the run directory (making it if need be)."""
    base = run_dir()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(base, os.W_OK | os.X_OK)


def make_work_dir(drill_id: str) -> Path:
    """A private directory for this attempt, owned by the container's user; error.run_dir if the
    run directory is not on a memory filesystem (restored files, the dump `pg_restore --jobs`
    reads and the manifest's spool would reach a disk).

    Named DRILL_ID.TOKEN: a redelivered drill keeps its id, and the reaper finds the drill
    from the name."""
    base = run_dir()
    base.mkdir(parents=True, exist_ok=True)
    if not memory_filesystem(base):
        raise InfrastructureError(reasons.ERROR_RUN_DIR, f"the run directory {base} is not on a memory filesystem: "
                                                         "restored data would reach a disk",
                                  hint="point DRILL_RUN_DIR at a tmpfs (/dev/shm/restore-drill, say)")
    path = base / f"{drill_id}.{secrets.token_hex(3)}"
    path.mkdir(mode=0o700)
    os.chown(path, CONTAINER_UID, CONTAINER_UID)
    return path


def inputs_dir(work_dir: Path) -> Path:
    """Where the drill keeps what the restore is judged against (the manifest's files): beside the
    work directory, never mounted into the container, whose user may share the worker's uid; named
    DRILL_ID.TOKEN.inputs so that the reaper's rule finds its drill."""
    return work_dir.with_name(work_dir.name + ".inputs")
