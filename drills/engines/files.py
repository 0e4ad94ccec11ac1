"""Engine `files`: a tar archive (plain, gzip or zstd) of a documents tree.

GNU tar extracts it inside a throwaway container, as an unprivileged user with no capability,
into the work directory (a memory filesystem, capped at engine.tmpfs): members naming `..` or
links out of the tree are refused by tar itself, absolute names are brought under the root,
device files cannot be made. What tar refused is kept (`tar.log`) and becomes a finding. The
host then walks the restored tree without following links: every file of the manifest present
with its size and sha256, links escaping the tree, and signs of ransomware.
"""

from pathlib import Path

from drills.checks.files import tree_findings
from drills.engines import tools
from drills.errors import BackupProblem
from drills import reasons

ROOT, LOG, EXIT = "root", "tar.log", "tar.exit"
END_MARKER = 1024  # two 512-byte blocks of zeros end every tar archive
# What tar says when it refuses a member: the archive is unsafe, not unreadable.
REFUSALS = ("Member name contains '..'", "Removing leading", "Cannot mknod", "Cannot hard link",
            "Cannot create symlink", "Cannot open: Permission denied", "Not a directory",
            "Exiting with failure status due to previous errors")
EXTRACT = (f"mkdir -p {tools.WORK_INSIDE}/{ROOT} && LC_ALL=C tar -x -C {tools.WORK_INSIDE}/{ROOT} "
           f"--no-same-owner --no-same-permissions -f - 2> {tools.WORK_INSIDE}/{LOG}; "
           f"echo $? > {tools.WORK_INSIDE}/{EXIT}; cat {tools.WORK_INSIDE}/{LOG}")


container_spec = tools.idle_container  # an idle tools container receives the plaintext
wait_ready = tools.wait_ready


def restore(runtime, container_id: str, engine, plaintext, ready=lambda: None) -> None:
    ready()
    ending = bytearray()
    output = tools.receive(runtime, container_id, engine, remembering_end(plaintext, ending), ["sh", "-c", EXTRACT])
    if ending.count(0) != END_MARKER:
        raise BackupProblem(reasons.RESTORE_FAILED,
                            "the archive ends without tar's end-of-archive blocks: it is truncated",
                            hint="the upload or the backup job was cut short: check it at the source")
    exit_code = runtime.run(container_id, ["cat", f"{tools.WORK_INSIDE}/{EXIT}"], timeout=30).output.strip()
    errors = [line for line in output.splitlines() if line.strip() and not refusal(line)]
    if exit_code != "0" and errors:
        raise BackupProblem(reasons.RESTORE_FAILED,
                            f"tar could not extract the archive: {tools.last_lines(chr(10).join(errors))}",
                            hint="the archive is damaged or not a tar file: check the backup job")


def remembering_end(chunks, ending: bytearray):
    """The chunks, keeping their last END_MARKER bytes in `ending` (tar writes two zero blocks last)."""
    for chunk in chunks:
        ending[:] = (bytes(ending) + chunk)[-END_MARKER:]
        yield chunk


def refusal(line: str) -> bool:
    return any(marker in line for marker in REFUSALS)


def refused_entries(log: str) -> list[str]:
    """tar's refusals, one a member, in words."""
    entries = []
    for line in log.splitlines():
        if "Exiting with failure" in line or not refusal(line):
            continue
        entries.append("absolute paths (extracted under the root)" if "Removing leading" in line
                       else line.removeprefix("tar: "))
    return entries


def verify(work_dir: str, site, manifest, started_at, watchdog):
    work = Path(work_dir)
    log = (work / LOG).read_text(errors="replace") if (work / LOG).exists() else ""
    return tree_findings(work / ROOT, manifest.files if manifest else None, refused_entries(log),
                         site.checks.may_be_empty), None
