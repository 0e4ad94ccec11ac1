"""What a physical PostgreSQL restore does once the data directory is on the tmpfs, whatever put it
there (pgBackRest, a pg_basebackup tar): start the server in archive recovery with our settings
only, wait until it has replayed the WAL to its target and promoted, read the recovery's end point
(the RPO measured), and check every database's heap and indexes with amcheck.

The restored data directory is the backup's, so hostile: its postgresql.auto.conf and whatever
roles and settings its catalog holds. Every setting that could reach out, run a command, load a
library, delay the replay or refuse our connections is set on the server's command line, above
any file of the backup; our own pg_hba.conf lets only the unix socket in this drill's directory in.
"""

import re
import shlex
from datetime import datetime

from drills.checks.findings import FAIL, Finding
from drills.engines.plan import EARLY, WORK_INSIDE, Fact, Plan, Step, data_tmpfs, restore_container
from drills.engines.postgres_server import DATA_DIR, LAST_ERROR
from drills.errors import BackupProblem
from drills.redaction import printable
from drills import reasons

SCRATCH = "/tmp/drill"  # our config files, beside the staged backup on the /tmp tmpfs
CONNECT = ("-h", WORK_INSIDE, "-U", "postgres")
MAX_CORRUPTIONS = 20  # findings kept; the count says how many more
RECOVERY_SETTINGS = {
    "config_file": f"{SCRATCH}/postgresql.conf", "hba_file": f"{SCRATCH}/pg_hba.conf",
    "ident_file": f"{SCRATCH}/pg_ident.conf", "listen_addresses": "", "unix_socket_directories": WORK_INSIDE,
    "ssl": "off", "archive_mode": "off", "archive_command": "", "archive_cleanup_command": "",
    "recovery_end_command": "", "primary_conninfo": "", "primary_slot_name": "", "recovery_min_apply_delay": "0",
    "hot_standby": "off", "recovery_target_action": "promote", "recovery_target_timeline": "latest",
    # Every other target unset: a backup's own (postgresql.auto.conf) would stop the replay early and
    # pass a partial restore as the latest point; ours is recovery_target_time, or none.
    "recovery_target": "", "recovery_target_lsn": "", "recovery_target_name": "", "recovery_target_xid": "",
    "recovery_target_time": "", "recovery_target_inclusive": "on",
    "shared_preload_libraries": "", "session_preload_libraries": "", "local_preload_libraries": "",
    "max_connections": "50", "shared_buffers": "256MB", "maintenance_work_mem": "256MB", "jit": "off",
    "fsync": "off", "synchronous_commit": "off", "autovacuum": "off", "max_wal_senders": "0",
    "logging_collector": "on", "log_directory": "/tmp", "log_filename": "server.log", "log_line_prefix": "%e ",
    "log_error_verbosity": "terse", "log_min_error_statement": "panic", "log_checkpoints": "off",
}
PREPARE = ("sh", "-c", f"mkdir -p {SCRATCH} && : > {SCRATCH}/postgresql.conf && : > {SCRATCH}/pg_ident.conf && "
                       f"echo 'local all all trust' > {SCRATCH}/pg_hba.conf && touch {DATA_DIR}/recovery.signal && "
                       f"rm -f {DATA_DIR}/standby.signal {DATA_DIR}/postmaster.pid")


def settings(restore_command: str, target: datetime | None) -> dict[str, str]:
    aimed = {"recovery_target_time": target.isoformat()} if target else {}  # to the microsecond asked
    return {**RECOVERY_SETTINGS, "restore_command": restore_command, **aimed}


def recovery_steps(restore_command: str, target: datetime | None, timeout: float) -> tuple[Step, ...]:
    """Start the server on the restored data directory, then wait until it has promoted (or stopped)."""
    options = " ".join(f"-c {name}={shlex.quote(value)}" for name, value in settings(restore_command, target).items())
    start = f"pg_ctl -D {DATA_DIR} -s -w -t 60 -l /tmp/startup.log -o {shlex.quote(options)} start"
    promoted = (f"until [ \"$(psql -XAtq {' '.join(CONNECT)} -d postgres -c 'select pg_is_in_recovery()' "
                f"2>/dev/null)\" = f ]; do pg_ctl -D {DATA_DIR} status >/dev/null || exit 1; sleep 0.2; done")
    hint = "the WAL does not replay to the target: check the archive's continuity (`pgbackrest check`, or the " \
           "archive_command's log)"
    return (Step("preparing the recovery", PREPARE, when=EARLY, timeout=30),
            Step("starting the server in recovery", ("sh", "-c", start), when=EARLY, timeout=90, hint=hint),
            Step("replaying the WAL", ("sh", "-c", promoted), when=EARLY, timeout=timeout, hint=hint))


END_POINT = ("psql", "-XAtq", "-F", "|", *CONNECT, "-d", "postgres", "-c",
             "select pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp() at time zone 'UTC', "
             "(select timeline_id from pg_control_checkpoint())")
LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")


def end_point(exit_code: int, output: str) -> tuple[dict | None, list[Finding]]:
    """{end_lsn, end_time, timeline}: the last record replayed and the last transaction's time (the
    point the backup restores to: its RPO), from the promoted server."""
    fields = output.strip().split("|") if exit_code == 0 else []
    if len(fields) != 3 or not LSN.match(fields[0]) or not fields[2].isdigit():
        return None, []
    try:
        end_time = datetime.fromisoformat(fields[1]).isoformat() + "Z" if fields[1] else None
    except ValueError:
        end_time = None
    return {"end_lsn": fields[0], "end_time": end_time, "timeline": int(fields[2])}, []


AMCHECK = {"heapallindexed": ("--heapallindexed",), "heap": ()}  # engine.amcheck -> pg_amcheck's options


def amcheck_step(depth: str, jobs: int) -> Step:
    return Step("pg_amcheck", ("pg_amcheck", *CONNECT, "--all", *AMCHECK[depth], "--install-missing",
                               f"--jobs={max(1, jobs)}"))


# pg_amcheck's lines: `heap table "db.schema.rel", block 0, offset 3:` / `btree index "db.schema.idx":`,
# then the problem in words (structural: amcheck never prints a row's values).
CORRUPTION = re.compile(r'^(heap table|btree index) "([^"\n]{1,300})"(?:, block (\d+))?'
                        r'(?:, offset (\d+))?(?:, attribute (\d+))?:')


def corruptions(exit_code: int, output: str) -> tuple[dict, list[Finding]]:
    """Each corruption pg_amcheck reports: verify.corrupt_data naming the relation and the block."""
    lines = output.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = CORRUPTION.match(line)
        if match:
            detail = lines[index + 1].strip() if index + 1 < len(lines) else ""
            found.append((match.group(1), printable(match.group(2), 120), match.group(3), printable(detail, 160)))
    findings = [Finding("amcheck", relation, FAIL, message=f"{kind} {relation}" + (f", block {block}" if block else "")
                        + f": {detail}", code=reasons.VERIFY_CORRUPT_DATA,
                        hint="the backup holds damaged pages: restore an earlier one (`drill restorable`) and check "
                             "the source's disks") for kind, relation, block, detail in found[:MAX_CORRUPTIONS]]
    if exit_code != 0 and not found:
        findings.append(Finding("amcheck", "cluster", FAIL, message=f"pg_amcheck failed (exit {exit_code}): "
                                f"{printable(' | '.join(lines[-3:]), 300)}", code=reasons.VERIFY_CORRUPT_DATA,
                                hint="amcheck could not read the restored databases"))
    return {"corruptions": len(found), "checked": exit_code in (0, 2)}, findings


def facts(engine) -> tuple[Fact, ...]:
    """The end point, and amcheck as deep as engine.amcheck asks (`off`: none; the report says null)."""
    checked = (Fact("amcheck", amcheck_step(engine.amcheck, engine.jobs), corruptions),) \
        if engine.amcheck in AMCHECK else ()
    return (Fact("recovery", Step("reading the recovery's end point", END_POINT, timeout=30), end_point), *checked)


def wal_gap(segment: str, check: str = "`pgbackrest check`") -> BackupProblem:
    return BackupProblem(reasons.RESTORE_WAL_GAP, f"the WAL archive lacks segment {segment}: the recovery stops "
                                                  "there, before the target",
                         hint="archive_command failed or the segment was deleted: take a new full backup, and "
                              f"check the archiving ({check})")


def plan(site, drill_id: str, work_dir: str, request, restore: tuple[Step, ...], restore_command: str,
         **options) -> Plan:
    """A physical restore's plan: `restore` puts the data directory on its tmpfs (the dump streams
    into one of its steps), then the recovery to the request's target and the checks. `options`:
    the Plan's filters, explain, age."""
    engine = site.engine
    container = restore_container(site, drill_id, work_dir, ["sleep", "infinity"], {
        DATA_DIR: data_tmpfs(site), "/tmp": f"size={engine.tmpfs},mode=1777",
        "/var/run/postgresql": "size=1m,uid=999,gid=999"})
    return Plan(container=container, server="the PostgreSQL server", ready=("pg_isready", "-q", *CONNECT),
                steps=(*restore, *recovery_steps(restore_command, request.target, engine.timeout)),
                data_mounts=(DATA_DIR, "/tmp"), last_error=LAST_ERROR, version=("postgres", "--version"),
                facts=facts(engine), **options)
