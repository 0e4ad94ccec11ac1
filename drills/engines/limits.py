"""A failed restore that was a resource limit, said so: the container's memory limit (the
runtime's own OOM signal) or its full tmpfs."""

from drills.errors import BackupProblem
from drills import reasons

# How a full tmpfs shows in a restore's (redacted) message: the system's words, PostgreSQL's
# SQLSTATE disk_full, MariaDB's "table is full" and "disk full".
DISK_FULL = ("No space left on device", "SQLSTATE 53100", "ERROR 1114 ", "ERROR 1021 ")


def resource_limit_hit(problem: BackupProblem, runtime, container_id: str, engine) -> BackupProblem:
    """A failed restore that was the container's memory limit or full tmpfs, said so."""
    if problem.code != reasons.RESTORE_FAILED:
        return problem
    if runtime.oom_killed(container_id):
        return BackupProblem(reasons.RESTORE_OUT_OF_MEMORY, f"the restore was killed by the container's memory limit "
                                                            f"({engine.memory:,} bytes): {problem.message}",
                             hint="raise engine.memory if the site's data really needs it")
    if any(sign in problem.message for sign in DISK_FULL):
        return BackupProblem(reasons.RESTORE_TOO_LARGE,
                             f"the restored data outgrew engine.tmpfs ({engine.tmpfs:,} bytes): "
                             f"{problem.message}",
                             hint="raise engine.tmpfs if the site's data is that big")
    return problem
