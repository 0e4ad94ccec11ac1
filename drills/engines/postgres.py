"""Engine `postgres`: custom-format (pg_dump -Fc), directory-format (pg_dump -Fd, tarred) and
plain SQL dumps.

The server runs in the container as uid 999, with no network, listening only on a unix
socket in a directory bind-mounted for this drill; its data lives on a size-limited tmpfs.
The restore tools run inside the container too (matching versions, and a hostile dump's
`\\!` runs there, behind the blast wall). The host reaches the server over the socket only.
"""

import re
import shlex

from drills import redaction
from drills.checks import database
from drills.engines.plain_sql import without_privileges
from drills.engines import tools
from drills.engines.tools import WORK_INSIDE, restore_container
from drills.errors import BackupProblem, DrillError, InfrastructureError
from drills.runtimes.docker import ContainerSpec
from drills import reasons

SOCKET_INSIDE = WORK_INSIDE  # the work directory: the server's socket is there
DATA_DIR = "/var/lib/postgresql/data"
DATABASE = "restore"
# Plain SQL runs as this role: not a superuser, owner of the restore database only, so a
# hostile dump's COPY ... TO PROGRAM or untrusted functions are refused by PostgreSQL itself.
RESTORE_ROLE = "restorer"
CREATE_DATABASE = (f"CREATE ROLE {RESTORE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
                   f"CREATE DATABASE {DATABASE} OWNER {RESTORE_ROLE}")  # each its own -c: no transaction
SERVER_SETTINGS = {
    # A throwaway server: durability is worthless here, speed of the restore is everything.
    "listen_addresses": "", "unix_socket_directories": SOCKET_INSIDE, "fsync": "off",
    "full_page_writes": "off", "synchronous_commit": "off", "wal_level": "minimal",
    "max_wal_senders": "0", "max_wal_size": "1GB", "autovacuum": "off",
    "maintenance_work_mem": "256MB", "shared_buffers": "256MB",
    # The server's log stays in the container's memory (its messages quote rows), one SQLSTATE a
    # line first, so a failed restore is reported by its code without its words.
    "logging_collector": "on", "log_directory": "/tmp", "log_filename": "server.log",
    "log_line_prefix": "%e ", "log_error_verbosity": "terse", "log_min_error_statement": "panic",
}
SERVER_LOG = "/tmp/server.log"
LAST_ERROR_CODE = ["sh", "-c", f"grep -oE '^[0-9A-Z]{{5}} (ERROR|FATAL|PANIC)' {SERVER_LOG} | tail -n 1 | cut -c1-5"]
# SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html), in words.
SQLSTATE_CLASSES = {
    "08": "connection exception", "0A": "feature not supported", "22": "data exception",
    "23": "integrity constraint violation", "25": "invalid transaction state", "28": "invalid authorization",
    "2B": "dependent privilege descriptors still exist", "3F": "invalid schema name", "40": "transaction rollback",
    "42": "syntax error or access rule violation", "53": "insufficient resources", "54": "program limit exceeded",
    "55": "object not in prerequisite state", "57": "operator intervention", "58": "system error",
    "P0": "PL/pgSQL error", "XX": "internal error",
}
# The verifier's own sessions: a statement that runs longer is cancelled by the server itself,
# and names resolve in pg_catalog first whatever a restored database's settings say.
VERIFIER_OPTIONS = "-c search_path=pg_catalog -c statement_timeout={milliseconds}"
STATEMENT_GRACE = 30  # seconds
CONNECT = ["-h", SOCKET_INSIDE, "-U", "postgres"]
READY_TIMEOUT = 60
SQLSTATE = re.compile(r"[0-9A-Z]{5}")


def container_spec(site, drill_id: str, socket_dir: str) -> ContainerSpec:
    """The container of one attempt, named after its socket directory (DRILL_ID.TOKEN)."""
    settings = " ".join(f"-c {name}={shlex.quote(value)}" for name, value in SERVER_SETTINGS.items())
    start = (f"initdb -D {DATA_DIR} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null "
             f"&& exec postgres -D {DATA_DIR} {settings}")
    # The data tmpfs sits exactly on the data directory: the official image declares it a VOLUME,
    # which would otherwise become an anonymous volume on the host's disk.
    return restore_container(site, drill_id, socket_dir, ["sh", "-c", start], {
        DATA_DIR: f"size={site.engine.tmpfs},mode=0700,uid=999,gid=999",
        "/tmp": f"size={site.engine.tmpfs},mode=1777", "/var/run/postgresql": "size=1m,uid=999,gid=999"})


def restore_command(engine) -> list[str]:
    """The command that reads the dump on stdin (or from the staged file) inside the container.

    Plain SQL is any SQL at all, so it runs as the unprivileged RESTORE_ROLE. A custom-format
    dump is restored by pg_restore as the superuser: dumps of real sites hold extensions only a
    superuser may create, and the container (no network, no capability, non-root) is the wall."""
    if engine.format == "plain":  # query results to /dev/null; an error is its SQLSTATE and input line only
        return ["psql", "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=sqlstate",
                "-h", SOCKET_INSIDE, "-U", RESTORE_ROLE, "-d", DATABASE, "-f", "-"]  # -f: errors name their input line
    common = ["pg_restore", "--exit-on-error", "--no-owner", "--no-acl", *CONNECT, "-d", DATABASE]
    if engine.format == "directory":  # the folder holding toc.dat, wherever the tar put it
        return ["sh", "-c", " ".join(map(shlex.quote, [*common, f"--jobs={engine.jobs}", "-Fd"])) +
                f' "$(dirname "$(find {STAGED_DIRECTORY} -name toc.dat | head -n 1)")"']
    if engine.jobs > 1:
        return [*common, f"--jobs={engine.jobs}", STAGED_DUMP]
    return common


STAGED_DUMP, STAGED_DIRECTORY = "/tmp/backup.dump", "/tmp/backup.d"
STAGE_COMMANDS = {  # how a dump is put in the container's /tmp when pg_restore needs a file or a folder
    "custom": ["sh", "-c", f"cat > {STAGED_DUMP}"],
    "directory": ["sh", "-c", f"mkdir -p {STAGED_DIRECTORY} && tar -x -C {STAGED_DIRECTORY} -f - "
                              f"&& test -n \"$(find {STAGED_DIRECTORY} -name toc.dat)\" || "
                              "{ echo 'no toc.dat in the archive: not a pg_dump -Fd directory'; exit 1; }"],
}


def wait_ready(runtime, container_id: str) -> None:
    """Until the server accepts connections, then create the database restored into and its role."""
    tools.wait_until_ready(runtime, container_id, ["pg_isready", "-q", *CONNECT], "the PostgreSQL server",
                           "check the restore image (engine.image) and the container logs", timeout=READY_TIMEOUT)
    statements = [argument for statement in CREATE_DATABASE for argument in ("-c", statement)]
    created = runtime.run(container_id, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *CONNECT, "-d", "postgres",
                                         *statements], timeout=30)
    if created.exit_code != 0:
        raise InfrastructureError(reasons.ERROR_RUNTIME,
                                  f"cannot create the restore database: {created.output.strip()}")


def restore(runtime, container_id: str, engine, plaintext, ready=lambda: None) -> None:
    """Stream the dump into the container and restore it; BackupProblem if it does not restore.
    A dump staged for pg_restore is staged while the server starts (initdb takes seconds)."""
    if engine.format == "directory" or (engine.format == "custom" and engine.jobs > 1):
        staged = runtime.run(container_id, STAGE_COMMANDS[engine.format], input=plaintext, timeout=engine.timeout)
        if staged.exit_code != 0:
            raise BackupProblem(reasons.RESTORE_FAILED, f"cannot stage the dump in the container: "
                                                        f"{redaction.tool_output(staged.output)}",
                                hint="the dump is damaged, or larger than engine.tmpfs")
        plaintext = None
    ready()
    if engine.format == "plain":
        plaintext = without_privileges(plaintext)
    result = runtime.run(container_id, restore_command(engine), input=plaintext, timeout=engine.timeout)
    if result.exit_code != 0:
        tool = "psql" if engine.format == "plain" else "pg_restore"
        raise BackupProblem(reasons.RESTORE_FAILED, f"{tool} failed (exit {result.exit_code}): "
                                                    f"{redaction.tool_output(result.output)}{last_error(runtime, container_id)}",
                            hint="the dump does not restore: check the backup job's pg_dump and its log")


def last_error(runtime, container_id: str) -> str:
    """The SQLSTATE of the server's last error, in words (` (SQLSTATE 22P02: data exception)`),
    read from its log inside the container; '' if there is none."""
    try:
        code = runtime.run(container_id, LAST_ERROR_CODE, timeout=10).output.strip()
    except DrillError:
        return ""
    if not SQLSTATE.fullmatch(code):
        return ""
    return f" (SQLSTATE {code}: {SQLSTATE_CLASSES.get(code[:2], 'error')})"


def attach_dsn(socket_dir: str, database: str = DATABASE) -> str:
    return f"host={socket_dir} user=postgres dbname={database}"


def verify(work_dir: str, site, manifest, started_at, watchdog):
    # A backstop past the drill's own deadline: the watchdog stops the drill first, and says why.
    options = VERIFIER_OPTIONS.format(milliseconds=int((watchdog.remaining() + STATEMENT_GRACE) * 1000))
    return database.verify_database(database.POSTGRES, f"{attach_dsn(work_dir)} options='{options}'", site, manifest,
                                    started_at, watchdog)
