"""Engine `postgres`: custom-format (pg_dump -Fc), directory-format (pg_dump -Fd, tarred) and
plain SQL dumps.

The server runs in the container as uid 999, with no network, listening only on a unix
socket in a directory bind-mounted for this drill; its data lives on a size-limited tmpfs.
The restore tools run inside the container too (matching versions, and a hostile dump's
`\\!` runs there, behind the blast wall). The host reaches the server over the socket only.
"""

import shlex
from dataclasses import dataclass

from drills.checks.dialects import POSTGRES, POSTGRES_TEXT_FORM
from drills.engines import basebackup, pgbackrest
from drills.engines.postgres_server import DATA_DIR, LAST_ERROR, SERVER_LOG
from drills.engines.plain_sql import without_privileges
from drills.engines.plan import (
    EARLY, SETUP, WORK_INSIDE, Database, Engine, Plan, Step, common_options, data_tmpfs, restore_container,
)
from drills.options import Choice, Number, Record, Text
from drills.runtimes.spec import ContainerSpec

DEFAULT_POSTGRES_IMAGE = "restore-drill/postgres:15-bookworm"
SOCKET_INSIDE = WORK_INSIDE  # the work directory: the server's socket is there
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
# The verifier's own sessions: a statement that runs longer is cancelled by the server itself,
# and names resolve in pg_catalog first whatever a restored database's settings say.
VERIFIER_OPTIONS = " ".join(["-c search_path=pg_catalog", *(f"-c {name}={value}" for name, value in
                                                             POSTGRES_TEXT_FORM.items()),
                             "-c statement_timeout={milliseconds}"])
WAL_FOLDER = r"^(?!(.*/)?\.\.?(/|$))[A-Za-z0-9_.-]{1,64}(/[A-Za-z0-9_.-]{1,64}){0,7}/?$"  # relative, no . or ..
STATEMENT_GRACE = 30  # seconds
CONNECT = ["-h", SOCKET_INSIDE, "-U", "postgres"]
READY_TIMEOUT = 60


def container_spec(site, drill_id: str, socket_dir: str) -> ContainerSpec:
    """The container of one attempt, named after its socket directory (DRILL_ID.TOKEN)."""
    settings = " ".join(f"-c {name}={shlex.quote(value)}" for name, value in SERVER_SETTINGS.items())
    start = (f"initdb -D {DATA_DIR} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null "
             f"&& exec postgres -D {DATA_DIR} {settings}")
    # The data tmpfs sits exactly on the data directory: the official image declares it a VOLUME,
    # which would otherwise become an anonymous volume on the host's disk.
    return restore_container(site, drill_id, socket_dir, ["sh", "-c", start], {
        DATA_DIR: data_tmpfs(site),
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


# format -> its plan: the data directory itself is restored
PHYSICAL = {"pgbackrest": pgbackrest.plan, "basebackup": basebackup.plan}
# pg_restore --jobs needs a file it can seek: the host writes the dump into the work directory
# (drills.engines.receiving) while the server starts; a directory-format tar is extracted in the
# container's /tmp (tar's paths meet the container's walls, not the host's).
RECEIVED_DUMP, STAGED_DIRECTORY = "backup.dump", "/tmp/backup.d"
STAGED_DUMP = f"{WORK_INSIDE}/{RECEIVED_DUMP}"
STAGE_DIRECTORY = ("sh", "-c", f"mkdir -p {STAGED_DIRECTORY} && tar -x -C {STAGED_DIRECTORY} -f - "
                               f"&& test -n \"$(find {STAGED_DIRECTORY} -name toc.dat)\" || "
                               "{ echo 'no toc.dat in the archive: not a pg_dump -Fd directory'; exit 1; }")


CREATE = Step("creating the restore database", ("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *CONNECT, "-d", "postgres",
                                                *(part for statement in CREATE_DATABASE for part in ("-c", statement))),
              when=SETUP, timeout=30)


def received(engine) -> bool:
    """Whether pg_restore needs the dump as a file (written into the work directory while the server starts)."""
    return engine.format == "custom" and engine.jobs > 1


def plan(site, drill_id: str, work_dir: str, request=None) -> Plan:
    engine = site.engine
    if engine.format in PHYSICAL:
        return PHYSICAL[engine.format](site, drill_id, work_dir, request)
    staging = (Step("staging the dump in the container", STAGE_DIRECTORY, when=EARLY, dump=True,
                    hint="the dump is damaged, or larger than engine.tmpfs"),) if engine.format == "directory" else ()
    restoring = Step("psql" if engine.format == "plain" else "pg_restore", tuple(restore_command(engine)),
                     dump=not received(engine) and engine.format != "directory",
                     hint="the dump does not restore: check the backup job's pg_dump and its log")
    return Plan(container=container_spec(site, drill_id, work_dir), server="the PostgreSQL server",
                ready=("pg_isready", "-q", *CONNECT), ready_timeout=READY_TIMEOUT, steps=(*staging, CREATE, restoring),
                filters=(without_privileges,) if engine.format == "plain" else (),
                receive=RECEIVED_DUMP if received(engine) else None,
                data_mounts=(DATA_DIR, "/tmp"), last_error=LAST_ERROR,
                version=("postgres", "--version"))


def attach_dsn(socket_dir: str, database: str = DATABASE) -> str:
    return f"host={socket_dir} user=postgres dbname={database}"


def verifier_target(site, work_dir: str, seconds_left: float) -> str:
    """The verifier's session: a statement running past the drill's deadline (plus a grace) is
    cancelled by the server itself, a backstop to the watchdog that stops the drill first. A
    physical backup's database is the site's own (engine.database); a dump's is restored as DATABASE."""
    options = VERIFIER_OPTIONS.format(milliseconds=int((seconds_left + STATEMENT_GRACE) * 1000))
    return f"{attach_dsn(work_dir, restored_database(site.engine))} options='{options}'"


def restored_database(engine) -> str:
    """The database a drill reads and exports: a physical backup's own (engine.database), or DATABASE."""
    return engine.database if engine.format in PHYSICAL else DATABASE


@dataclass(frozen=True)
class Settings:
    type: str
    format: str
    image: str
    jobs: int
    memory: int
    tmpfs: int
    timeout: int
    max_decompressed: int
    stanza: str
    database: str
    wal: str
    amcheck: str


OPTIONS = Record(
    "PostgreSQL, restored in a throwaway container with no network.",
    {
        "type": Choice("Engine plug-in.", ("postgres",), required=True, example="postgres"),
        "format": Choice("Backup format: pg_dump -Fc (custom), pg_dump -Fd tarred (directory: restored with "
                         "jobs in parallel), plain SQL (.sql, .sql.gz, .sql.zst), or physical, with point-in-time "
                         "recovery (docs/physical-backups.md): a pgBackRest repository (pgbackrest), or a "
                         "`pg_basebackup -D - -Ft -X fetch` tar and its archived WAL (basebackup).",
                         ("custom", "directory", "plain", "pgbackrest", "basebackup"), default="custom",
                         example="custom"),
        "stanza": Text("pgbackrest: the repository's stanza.", pattern=r"^[A-Za-z0-9_.-]{1,64}$", default="main",
                       example="pharmacie"),
        "database": Text("pgbackrest, basebackup: the restored cluster's database the checks read (every "
                         "database is checked with amcheck).", pattern=r"^[A-Za-z0-9_$-]{1,63}$", default="postgres",
                         example="officine"),
        "amcheck": Choice("pgbackrest, basebackup: how deep pg_amcheck checks every restored database: "
                          "heapallindexed (heap, indexes, and every heap tuple found in its indexes), heap (heap "
                          "and indexes, faster), or off. On the 1 GB demo pharmacy the drill took 14.5 s, 10.0 s and "
                          "8.4 s, against 34.6 s from its custom dump (docs/benchmarks.md).",
                          ("heapallindexed", "heap", "off"), default="heapallindexed", example="heap"),
        "wal": Text("basebackup: the folder of the archived WAL, under source.path (local) or the S3 prefix: "
                    "one age-encrypted file per segment named by it (000000010000000000000005.age, or .gz.age, "
                    ".zst.age), history files alike. Source local or s3.",
                    pattern=WAL_FOLDER, default="wal", example="wal/"),
        "image": Text("Restore image; the official postgres image in real deployments.",
                      default=DEFAULT_POSTGRES_IMAGE, example="postgres:15"),
        "jobs": Number("pg_restore parallel jobs (custom format). Above 1 the host first writes the dump into "
                       "the drill's work directory while the server starts (the host's memory, DRILL_RUN_DIR, at most "
                       "engine.tmpfs; not the container's memory limit); 1 streams it straight into pg_restore. With "
                       "2 a 1 GB dump restored and verified in about 0.8 of the time of a one-job pg_restore pipe on "
                       "2 cores (docs/benchmarks.md).",
                       minimum=1, default=2, example=4),
        **common_options("Size of the tmpfs holding the restored database."),
    },
    build=Settings,
)

ENGINE = Engine("postgres", OPTIONS, plan, Database(POSTGRES, verifier_target), manifest="live", exports=True)

