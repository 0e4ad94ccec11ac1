"""Engine `postgres`, format `pgbackrest`: a backup set of a pgBackRest repository, restored by
`pgbackrest restore` inside the restore container, then recovered to the latest point or to a
time (drills.engines.physical does the recovery and the checks).

The host hands the container the repository's files the set needs (drills.sources.pgbackrest),
as a tar stream onto the /tmp tmpfs; a filter puts pgbackrest.conf first, with the repository's
passphrase: the secret is in the container's memory only, never in a command line, an
environment, a log or the stream's hash. pgBackRest decrypts, decompresses and checks every file
against the set's manifest; its restore_command reads the staged WAL.
"""

import re
from itertools import chain

from drills.engines import physical
from drills.engines.plan import EARLY, WORK_INSIDE, Plan, Step
from drills.engines.postgres_server import DATA_DIR
from drills.errors import BackupProblem
from drills.redaction import masked, printable
from drills.tarstream import header, padding
from drills import reasons

STAGE = "/tmp/stage"  # the tar lands here: pgbackrest.conf, then repo/ (drills.sources.pgbackrest.STAGED)
CONFIG = f"{STAGE}/pgbackrest.conf"
PGBACKREST_LINE = re.compile(r"\b(ERROR|WARN): \[\d{3}\]")


def config(stanza: str, passphrase: bytes, encrypted: bool) -> bytes:
    cipher = ["repo1-cipher-type=aes-256-cbc", f"repo1-cipher-pass={passphrase.decode()}"] if encrypted else []
    return "\n".join(["[global]", f"repo1-path={STAGE}/repo", *cipher, "log-level-console=warn", "log-level-stderr=off",
                      "log-level-file=off", "lock-path=/tmp/pgbackrest", "spool-path=/tmp/pgbackrest-spool",
                      "archive-async=n",
                      f"[{stanza}]", f"pg1-path={DATA_DIR}", f"pg1-socket-path={WORK_INSIDE}", ""]).encode()


def with_config(content: bytes):
    """A filter putting pgbackrest.conf first in the tar stream (after the meter: never hashed)."""
    member = header("pgbackrest.conf", len(content)) + content + bytes(padding(len(content)))
    return lambda chunks: chain([member], chunks)


def restore_command(stanza: str) -> str:
    return f"pgbackrest --config={CONFIG} --stanza={stanza} archive-get %f \"%p\""


def pgbackrest_output(output: str) -> str:
    """pgBackRest's own error lines (ERROR: [055]: unable to open missing file ...): file names and
    codes, never rows; quoted spans masked all the same."""
    kept = [printable(masked(line[match.start():].strip()), 240) for line in output.splitlines()
            if (match := PGBACKREST_LINE.search(line))]
    return " | ".join(kept[-3:]) or "no output"


def plan(site, drill_id: str, work_dir: str, request) -> Plan:
    from drills.crypto.identities import passphrase_of  # the catalog imports the engines

    engine, backup = site.engine, request.backup
    passphrase = passphrase_of(request.identities)
    encrypted = backup.physical.encrypted
    gap = backup.wal_gap()
    if gap and request.target is None:
        raise physical.wal_gap(gap)  # a recovery to the latest point would stop there without an error
    stage = Step("staging the repository",
                 ("sh", "-c", f"mkdir -p {STAGE} && tar -x -C {STAGE} -f - && test -s {CONFIG}"),
                 when=EARLY, dump=True, hint="the repository's files do not fit in engine.tmpfs, or changed meanwhile")
    restore = Step("pgbackrest restore", ("pgbackrest", f"--config={CONFIG}", f"--stanza={engine.stanza}",
                                          f"--set={backup.name}", "--type=none", f"--process-max={engine.jobs}",
                                          "restore"),
                   when=EARLY, output=pgbackrest_output,
                   hint="pgBackRest could not restore the set: a file is missing or damaged in the repository")

    def explain(problem: BackupProblem) -> BackupProblem:
        return physical.wal_gap(gap) if gap and problem.code == reasons.RESTORE_FAILED else problem

    return physical.plan(site, drill_id, work_dir, request, (stage, restore), restore_command(engine.stanza),
                         filters=(with_config(config(engine.stanza, passphrase, encrypted)),), age=False,
                         explain=explain)


