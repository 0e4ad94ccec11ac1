"""Engine `files`: a tar archive (plain, gzip or zstd) of a documents tree.

GNU tar extracts it inside a throwaway container, as an unprivileged user with no capability,
into the work directory (a memory filesystem, capped at engine.tmpfs): members naming `..` or
links out of the tree are refused by tar itself, absolute names are brought under the root,
device files cannot be made. What tar refused is kept (`tar.log`) and becomes a finding. The
host then walks the restored tree without following links: every file of the manifest present
with its size and sha256, links escaping the tree, and signs of ransomware.
"""

import shlex
from pathlib import Path

from drills.engines.plan import WORK_INSIDE, Engine, Plan, Step, Tree
from drills.engines.tools import file_options, file_plan, last_lines
from drills.errors import BackupProblem
from drills import reasons

ROOT, LOG, ERRORS = "root", "tar.log", "tar.errors"
END_MARKER = 1024  # two 512-byte blocks of zeros end every tar archive
# What tar says when it refuses a member: the archive is unsafe, not unreadable.
REFUSALS = ("Member name contains '..'", "Removing leading", "Cannot mknod", "Cannot hard link",
            "Cannot create symlink", "Cannot open: Permission denied", "Not a directory",
            "Exiting with failure status due to previous errors")
# tar's refusals become a finding (its log is read by the host); any other error of tar fails the restore.
EXTRACT = (f"mkdir -p {WORK_INSIDE}/{ROOT} || exit 1; LC_ALL=C tar -x -C {WORK_INSIDE}/{ROOT} "
           f"--no-same-owner --no-same-permissions -f - 2> {WORK_INSIDE}/{LOG}; status=$?; "
           f"grep -v -F {' '.join(f'-e {shlex.quote(refusal)}' for refusal in REFUSALS)} {WORK_INSIDE}/{LOG} "
           f"> {WORK_INSIDE}/{ERRORS}; if [ $status -ne 0 ] && grep -q '[^[:space:]]' {WORK_INSIDE}/{ERRORS}; "
           f"then cat {WORK_INSIDE}/{ERRORS}; exit $status; fi")


def plan(site, drill_id: str, work_dir: str, request=None) -> Plan:
    return file_plan(site, drill_id, work_dir, (
        Step("tar", ("sh", "-c", EXTRACT), dump=True, output=last_lines,
             hint="the archive is damaged or not a tar file: check the backup job"),
    ), filters=(ending_as_tar_does,), version=("tar", "--version"))


def ending_as_tar_does(chunks):
    """The chunks, refused with restore.failed at their end unless they end with tar's two zero blocks."""
    ending = b""
    for chunk in chunks:
        ending = (ending + chunk)[-END_MARKER:]
        yield chunk
    if ending.count(0) != END_MARKER:
        raise BackupProblem(reasons.RESTORE_FAILED,
                            "the archive ends without tar's end-of-archive blocks: it is truncated",
                            hint="the upload or the backup job was cut short: check it at the source")


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


def refused(work_dir: str) -> list[str]:
    log = Path(work_dir) / LOG
    return refused_entries(log.read_text(errors="replace") if log.exists() else "")


OPTIONS = file_options("files", "A tar archive of documents (plain, gzip or zstd): every file of the manifest "
                                "with its size and sha256, no entry escaping the tree, no sign of ransomware.", "tar")
ENGINE = Engine("files", OPTIONS, plan, Tree(ROOT, refused), manifest="file")
