"""What the file engines (sqlite, files) share: an idle container of the tools image that
receives the plaintext into the work directory and runs the engine's own checker inside.

The work directory lies on a memory filesystem (drills.workdir); what is written there is
capped at engine.tmpfs, so a restore can neither fill the host's memory nor its disk.
"""

import time
from pathlib import Path

from drills.errors import BackupProblem, InfrastructureError
from drills.runtimes.docker import DRILL_LABEL, ContainerSpec
from drills import reasons

WORK_INSIDE = "/run/drill"
USER = "999:999"
READY_TIMEOUT = 30


def restore_container(site, drill_id: str, work_dir: str, command: list[str], tmpfs: dict[str, str]) -> ContainerSpec:
    """Every engine's container: named after its work directory (DRILL_ID.TOKEN, known before it
    starts), labelled for the reaper, uid 999, the work directory at WORK_INSIDE."""
    return ContainerSpec(
        name=f"restore-drill-{Path(work_dir).name}",
        image=site.engine.image,
        command=command,
        user=USER,
        labels={DRILL_LABEL: drill_id, "io.restore-drill.site": site.id},
        tmpfs=tmpfs,
        binds={work_dir: WORK_INSIDE},
        memory=site.engine.memory,
    )


def idle_container(site, drill_id: str, work_dir: str) -> ContainerSpec:
    """A container that waits (no network, read-only root) for the restore's commands."""
    return restore_container(site, drill_id, work_dir, ["sleep", "infinity"], {"/tmp": "size=64m,mode=1777"})


def wait_until_ready(runtime, container_id: str, probe: list[str], what: str, hint: str,
                     timeout: float = READY_TIMEOUT, interval: float = 0.1) -> None:
    """Run `probe` in the container until it succeeds: every engine waits for its server this
    way. error.runtime if `what` is not ready within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while runtime.run(container_id, probe, timeout=10).exit_code != 0:
        if time.monotonic() > deadline:
            raise InfrastructureError(reasons.ERROR_RUNTIME, f"{what} did not start within {timeout:g} s", hint=hint)
        time.sleep(interval)


def wait_ready(runtime, container_id: str) -> None:
    wait_until_ready(runtime, container_id, ["true"], "the restore container", "check the tools image (engine.image)")


def capped(chunks, limit: int):
    """The chunks, refused with restore.too_large past `limit` bytes in all."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise BackupProblem(reasons.RESTORE_TOO_LARGE, f"the restored data exceeds engine.tmpfs ({limit:,} bytes)",
                                hint="a decompression bomb, or a real backup larger than engine.tmpfs: raise it "
                                     "if the site's data is that big")
        yield chunk


def receive(runtime, container_id: str, engine, plaintext, command: list[str]) -> str:
    """Stream the plaintext (capped at engine.tmpfs) into `command` inside; its output.
    BackupProblem("restore.failed") if the command fails."""
    result = runtime.run(container_id, command, input=capped(plaintext, engine.tmpfs), timeout=engine.timeout)
    if result.exit_code != 0:
        raise BackupProblem(reasons.RESTORE_FAILED, f"{command[0]} failed (exit {result.exit_code}): "
                                                    f"{last_lines(result.output)}",
                            hint="the backup does not restore: check the backup job and its log")
    return result.output


def last_lines(output: str, count: int = 5) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no output"
