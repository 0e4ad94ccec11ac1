"""What every runtime takes and gives, as plain data: nothing here needs a container engine.

Contract of a runtime (drills.runtimes.docker is the real one, drills.runtimes.stub the
scripted one for unit tests; tests/integration/test_runtime_conformance.py holds both to it):
    start(spec) -> container id           starts a container from a ContainerSpec (named spec.name)
    run(id, command, input=None, stdout=None, timeout) -> ExecResult
        runs a command inside, streaming `input` (an iterator of byte chunks) to its stdin, every
        chunk consumed even if the command stops reading, and, if given, its stdout to
        `stdout.write`; raises BackupProblem("restore.timeout") past the timeout
    oom_killed(id) -> bool                whether its memory limit killed a process in it
    free_bytes(id, path) -> int | None    room left on the filesystem at `path` inside (statvfs)
    remove(id or name)                    removes it and its anonymous volumes (a missing one is
                                          fine); InfrastructureError if it stays after retries
    labelled() -> [container id]          every container carrying the drill label
    image(id) -> {id, repo_digests}      the image it runs: its id (sha256:..., None if unknown) and
                                          its registry digests (NAME@sha256:..., none if built locally)
Failures of the runtime itself raise InfrastructureError(reasons.ERROR_RUNTIME): the site is not blamed.
"""

from dataclasses import dataclass, field

from drills.errors import BackupProblem
from drills import reasons

DRILL_LABEL = "io.restore-drill.drill"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything about a restore container, as plain data (unit-tested without an engine)."""

    name: str  # known before the start, so teardown can remove a container whose start was interrupted
    image: str
    command: list[str]
    user: str
    labels: dict[str, str]
    tmpfs: dict[str, str]
    binds: dict[str, str]  # host directory -> path inside
    memory: int
    pids: int = 512
    cpus: float = 2.0
    read_only: bool = True
    cap_add: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


def timed_out(timeout: float | None) -> BackupProblem:
    limit = f" of {timeout:.0f} s" if timeout else ""
    return BackupProblem(reasons.RESTORE_TIMEOUT, f"the restore did not finish within the time limit{limit}",
                         hint="a backup much larger than usual, or a dump that hangs: raise engine.timeout "
                              "only if the data really grew")
